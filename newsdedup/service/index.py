"""The candidate index of a runtime: in this process's memory (embedded mode) or shared in Redis.

There is one way to fill it: ``rebuild``, under the rebuild lock (Redis) and with every page's
assignment held off (``storage.locks.stop_assignments``), so that no page being stored drops out of
it. Opening a shared index that is missing runs that same rebuild; opening one built with other
parameters refuses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from itertools import islice
from typing import TYPE_CHECKING, cast

from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from dedup.candidates import CandidateIndex, Entry
from dedup.evidence import Evidence
from dedup.index_storage import IndexStorage, make_storage
from dedup.key_index import SharedKeyIndex
from dedup.lsh import LSHIndex, banding
from dedup.shingles import Hashes
from dedup.signature import Signature
from storage import locks, queries

if TYPE_CHECKING:
    # Imported where Redis is used: the embedded mode never loads the client (50 ms of start-up).
    import redis
    from redis.lock import Lock

log = logging.getLogger(__name__)

INDEX_PREFIX = "newsdedup:lsh"
ANCHOR_PREFIX = "newsdedup:anchors"
EVIDENCE_PREFIX = "newsdedup:evidence"
REBUILD_LOCK = "newsdedup:lock:index-rebuild"
# A rebuild holds its lock this long at a time and renews it after every batch of articles, so a
# rebuild of any length keeps it, and the lock of a rebuilder that died frees within this time.
REBUILD_LOCK_SECONDS = 300
# Written last by a rebuild: its absence means the shared index is empty or incomplete.
INDEX_META = f"{INDEX_PREFIX}:meta"
# A rebuild reports its progress after this many articles.
PROGRESS_EVERY = 1000
# Keys an article puts into each index, per LSH band for the LSH index: the means over the
# development corpus (bench/capacity.py prints them). They size the shared index's Redis groups.
KEYS_PER_ARTICLE = {INDEX_PREFIX: 1, ANCHOR_PREFIX: 70, EVIDENCE_PREFIX: 76}
LEADING_BITS = {INDEX_PREFIX: 16, ANCHOR_PREFIX: 0, EVIDENCE_PREFIX: 0}

RebuildProgress = Callable[[int], None]


class IndexMismatch(RuntimeError):
    """The shared index was built with other MinHash parameters than these settings give."""


def empty_index(settings: Settings) -> CandidateIndex:
    """The index these settings describe, opened but not filled (a shared one keeps what it holds)."""
    s = settings
    # The caps apply when querying, not when writing: changing one needs no rebuild.
    return CandidateIndex(
        lsh=LSHIndex(_storage(s, INDEX_PREFIX), s.lsh_threshold, s.num_perm, s.lsh_bucket_cap),
        anchors=SharedKeyIndex(_storage(s, ANCHOR_PREFIX), s.min_shared_anchors, s.anchor_bucket_cap),
        evidence=SharedKeyIndex(_storage(s, EVIDENCE_PREFIX), s.min_shared_evidence, s.anchor_bucket_cap),
    )


def open_index(
    settings: Settings, sessions: sessionmaker[Session], client: redis.Redis | None
) -> CandidateIndex:
    """The index, ready for queries: filled from the database in the embedded mode; in Redis checked
    against these settings, and rebuilt first if it is missing (``ensure``)."""
    if client is None:
        index = empty_index(settings)
        with sessions() as session:
            fill(settings, index, session)
        return index
    meta = {k.decode(): v.decode() for k, v in client.hgetall(INDEX_META).items()}  # type: ignore[union-attr]  # sync client
    expected = index_meta(settings)
    if meta and meta != expected:
        raise IndexMismatch(
            f"the shared index in Redis was built with {meta}, these settings give {expected}: "
            "run `newsdedup index rebuild` to rebuild it with these settings"
        )
    return ensure(settings, sessions, client) or empty_index(settings)


def ensure(settings: Settings, sessions: sessionmaker[Session], client: redis.Redis) -> CandidateIndex | None:
    """If Redis lost the shared index (flushed, or restarted without persistence), rebuild it from the
    database and return it; one process rebuilds, the others wait for it and find it there (None)."""
    if client.exists(INDEX_META):
        return None
    with rebuild_lock(client) as lock:
        if client.exists(INDEX_META):
            return None
        index, count = _rebuild(settings, sessions, client, _renewing(lock, None))
    # An empty database on a new Redis lost nothing: no warning then.
    log.log(
        logging.WARNING if count else logging.INFO,
        "the shared index was missing from Redis: rebuilt it from the database (%d articles)",
        count,
    )
    return index


def rebuild(
    settings: Settings,
    sessions: sessionmaker[Session],
    client: redis.Redis | None,
    progress: RebuildProgress | None = None,
) -> tuple[CandidateIndex, int]:
    """Fill the index anew from the stored signatures; returns it and how many articles it holds.
    ``progress`` is called with the number of articles indexed so far, every ``PROGRESS_EVERY``.

    This is also the repair for a shared index built with another threshold, so it does not check
    the index it replaces.
    """
    with rebuild_lock(client) as lock:
        return _rebuild(settings, sessions, client, _renewing(lock, progress))


def rebuild_lock(client: redis.Redis | None) -> AbstractContextManager[object]:
    """The lock of shared index rebuilds (none in the embedded mode: the index is this process's).
    It lives outside the index's key space: a rebuild clears that space."""
    if client is None:
        return nullcontext()
    # Others wait as long as the rebuild runs (it renews the lock); if the rebuilder dies, the lock
    # expires and one of them rebuilds.
    return cast("Lock", client.lock(REBUILD_LOCK, timeout=REBUILD_LOCK_SECONDS, blocking_timeout=None))


def _rebuild(
    settings: Settings,
    sessions: sessionmaker[Session],
    client: redis.Redis | None,
    progress: RebuildProgress | None,
) -> tuple[CandidateIndex, int]:
    index = empty_index(settings)
    with sessions.begin() as session:
        if client is not None:
            # Pages being assigned now wait: none is indexed between the clear and a read of the
            # signatures that misses it (its transaction still open), so none drops out.
            locks.stop_assignments(session)
        count = fill(settings, index, session, progress)
    if client is not None:
        for name, value in index_meta(settings).items():
            client.hset(INDEX_META, name, value)
    return index, count


def fill(
    settings: Settings, index: CandidateIndex, session: Session, progress: RebuildProgress | None = None
) -> int:
    """Clear the index and insert every stored signed article; returns how many it holds."""
    index.clear()
    done = 0
    entries = (_entry(settings, *row) for row in queries.signatures(session))
    # In batches: one pipeline per index and batch on Redis, where one article at a time costs
    # three round trips (bench/capacity.py measures both).
    while batch := list(islice(entries, PROGRESS_EVERY)):
        done += index.insert_many(batch, batch=PROGRESS_EVERY)
        if progress is not None and len(batch) == PROGRESS_EVERY:
            progress(done)
    if progress is not None:
        progress(done)
    return len(index)


def _entry(
    settings: Settings, article_id: int, signature: Signature, anchors: Hashes, evidence: bytes
) -> Entry:
    """What the index holds of a stored article: its rare evidence terms, not all of them."""
    if signature.shape[0] != settings.num_perm:
        raise IndexMismatch(
            f"stored signatures have {signature.shape[0]} values but num_perm is "
            f"{settings.num_perm}: set NEWSDEDUP_NUM_PERM={signature.shape[0]} "
            "or process the articles again into a new database"
        )
    rare = Evidence.from_bytes(evidence).rare(settings.evidence_min_weight)
    return article_id, signature, anchors, rare


def index_meta(settings: Settings) -> dict[str, str]:
    """What a shared index records of the settings it was built with."""
    s = settings
    bands, rows = banding(s.lsh_threshold, s.num_perm)
    return {
        "num_perm": str(s.num_perm),
        "bands": str(bands),
        "rows": str(rows),
        "anchor_modulus": str(s.anchor_modulus),
        "evidence_min_weight": str(s.evidence_min_weight),
        "index_capacity": str(s.index_capacity),
    }


def _storage(settings: Settings, prefix: str) -> IndexStorage:
    if settings.redis_url is None:
        return make_storage(None, prefix=prefix)
    from dedup.redis_storage import group_bits_for

    bits = group_bits_for(settings.index_capacity, KEYS_PER_ARTICLE[prefix], LEADING_BITS[prefix])
    return make_storage(settings.redis_url, prefix=prefix, group_bits=bits)


def _renewing(lock: object, progress: RebuildProgress | None) -> RebuildProgress | None:
    """The progress callback of a rebuild that also renews its lock (a Redis lock; nothing else)
    after every batch; it raises LockNotOwnedError if the lock was lost, rather than letting two
    rebuilds clear and fill one index."""
    from redis.lock import Lock

    if not isinstance(lock, Lock):
        return progress

    def report(done: int) -> None:
        lock.reacquire()
        if progress is not None:
            progress(done)

    return report
