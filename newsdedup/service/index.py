"""The candidate index of a runtime: in this process's memory (embedded mode) or shared in Redis.

There is one way to fill it: ``rebuild``, under the rebuild lock (Redis). A shared index that is
there is rebuilt beside itself while pages go on being assigned: into the next generation's keys,
which every page's transaction writes to as well from the moment the build is announced, then made
current in one step, then the old generation's keys go (``_rebuild_beside``). A shared index that is
missing (Redis flushed) and the embedded process's own are filled in place, with every page's
assignment held off (``storage.locks.stop_assignments``), so that no page being stored drops out of
it. Opening a shared index that is missing runs that rebuild; opening one built with other
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
    from redis.cluster import RedisCluster
    from redis.lock import Lock

    # The shared index's Redis: a standalone server or a Redis Cluster (``dedup.index_storage.connect``).
    IndexRedis = redis.Redis | RedisCluster

log = logging.getLogger(__name__)

INDEX_PREFIX = "newsdedup:lsh"
ANCHOR_PREFIX = "newsdedup:anchors"
EVIDENCE_PREFIX = "newsdedup:evidence"
# The shared index's generation (absent: 0, whose keys are the prefixes above; generation N's are
# "newsdedup:gN:lsh" and so on), and the generation a rebuild is building, while it builds.
GENERATION = "newsdedup:index:generation"
BUILDING = "newsdedup:index:building"
REBUILD_LOCK = "newsdedup:lock:index-rebuild"
# A rebuild holds its lock this long at a time and renews it after every batch of articles, so a
# rebuild of any length keeps it, and the lock of a rebuilder that died frees within this time.
REBUILD_LOCK_SECONDS = 300
# A rebuild reports its progress after this many articles.
PROGRESS_EVERY = 1000
# Keys an article puts into each index, per LSH band for the LSH index: the means over the
# development corpus (bench/capacity.py prints them). They size the shared index's Redis groups.
KEYS_PER_ARTICLE = {INDEX_PREFIX: 1, ANCHOR_PREFIX: 70, EVIDENCE_PREFIX: 76}
LEADING_BITS = {INDEX_PREFIX: 16, ANCHOR_PREFIX: 0, EVIDENCE_PREFIX: 0}

RebuildProgress = Callable[[int], None]


class IndexMismatch(RuntimeError):
    """The shared index was built with other MinHash parameters than these settings give."""


class Rebuilding(CandidateIndex):
    """The current index, whose writes also go to the next generation, being built beside it."""

    def __init__(self, current: CandidateIndex, building: CandidateIndex) -> None:
        super().__init__(current.lsh, current.anchors, current.evidence)
        self.building = building

    def insert(self, article_id: int, signature: Signature, anchors: Hashes, evidence: Hashes) -> None:
        super().insert(article_id, signature, anchors, evidence)
        self.building.insert(article_id, signature, anchors, evidence)

    def remove(self, article_id: int, signature: Signature, anchors: Hashes, evidence: Hashes) -> None:
        super().remove(article_id, signature, anchors, evidence)
        self.building.remove(article_id, signature, anchors, evidence)


def prefix(part: str, generation: int) -> str:
    """The key prefix of an index part (``INDEX_PREFIX``, ...) in a generation of the shared index."""
    return part if generation == 0 else part.replace("newsdedup:", f"newsdedup:g{generation}:", 1)


def meta_key(generation: int) -> str:
    """Where a generation records the settings it was built with; written last by its build."""
    return f"{prefix(INDEX_PREFIX, generation)}:meta"


def generations(client: IndexRedis) -> tuple[int, int | None]:
    """The shared index's current generation, and the one being built (None if no build runs)."""
    from redis.cluster import RedisCluster

    if isinstance(client, RedisCluster):
        # Two slots, so two reads, in the order opposite to the swap's writes (``_rebuild_beside``):
        # whoever reads no build going on then reads the generation it made current.
        building = client.get(BUILDING)
        current = client.get(GENERATION)
    else:
        current, building = client.mget([GENERATION, BUILDING])
    return int(current or 0), None if building is None else int(building)


def empty_index(settings: Settings, generation: int = 0, client: IndexRedis | None = None) -> CandidateIndex:
    """The index these settings describe, opened but not filled (a shared one, in the Redis of
    ``client``, keeps what it holds; without a client the index is in this process's memory)."""
    s = settings

    def storage(part: str) -> IndexStorage:
        return _storage(s, part, generation, client)

    # The caps apply when querying, not when writing: changing one needs no rebuild.
    return CandidateIndex(
        lsh=LSHIndex(storage(INDEX_PREFIX), s.lsh_threshold, s.num_perm, s.lsh_bucket_cap),
        anchors=SharedKeyIndex(storage(ANCHOR_PREFIX), s.min_shared_anchors, s.anchor_bucket_cap),
        evidence=SharedKeyIndex(storage(EVIDENCE_PREFIX), s.min_shared_evidence, s.anchor_bucket_cap),
    )


def current_index(
    settings: Settings, client: IndexRedis, state: tuple[int, int | None] | None = None
) -> CandidateIndex:
    """The shared index pages use now: the current generation, writing to the next one as well while
    a rebuild builds it. A page's transaction opens it after taking the assignment lock (shared), so a
    rebuild that has announced itself and waited for the pages before (``_rebuild_beside``) misses
    none of the pages after. ``state``: ``generations`` if just read."""
    current, building = state or generations(client)
    index = empty_index(settings, current, client)
    return index if building is None else Rebuilding(index, empty_index(settings, building, client))


def open_index(
    settings: Settings, sessions: sessionmaker[Session], client: IndexRedis | None
) -> CandidateIndex:
    """The index, ready for queries: filled from the database in the embedded mode; in Redis checked
    against these settings, and rebuilt first if it is missing (``ensure``)."""
    if client is None:
        index = empty_index(settings)
        with sessions() as session:
            fill(settings, index, session)
        return index
    state = generations(client)
    meta = {k.decode(): v.decode() for k, v in client.hgetall(meta_key(state[0])).items()}  # type: ignore[union-attr]  # sync client
    expected = index_meta(settings)
    if meta and meta != expected:
        raise IndexMismatch(
            f"the shared index in Redis was built with {meta}, these settings give {expected}: "
            "run `newsdedup index rebuild` to rebuild it with these settings"
        )
    ensure(settings, sessions, client)  # a missing index is filled in place: the generations stay
    return current_index(settings, client, state)


def ensure(settings: Settings, sessions: sessionmaker[Session], client: IndexRedis) -> CandidateIndex | None:
    """If Redis lost the shared index (flushed, or restarted without persistence), rebuild it from the
    database and return it; one process rebuilds, the others wait for it and find it there (None)."""
    if client.exists(meta_key(generations(client)[0])):
        return None
    with rebuild_lock(client) as lock:
        if client.exists(meta_key(generations(client)[0])):
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
    client: IndexRedis | None,
    progress: RebuildProgress | None = None,
) -> tuple[CandidateIndex, int]:
    """Fill the index anew from the stored signatures; returns it and how many articles it holds.
    ``progress`` is called with the number of articles indexed so far, every ``PROGRESS_EVERY``.

    This is also the repair for a shared index built with another threshold, so it does not check
    the index it replaces. A shared index that is there is rebuilt beside itself, pages going on
    (``_rebuild_beside``); a missing one, and the embedded one, in place.
    """
    with rebuild_lock(client) as lock:
        renewing = _renewing(lock, progress)
        if client is not None and client.exists(meta_key(generations(client)[0])):
            return _rebuild_beside(settings, sessions, client, renewing)
        return _rebuild(settings, sessions, client, renewing)


def rebuild_lock(client: IndexRedis | None) -> AbstractContextManager[object]:
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
    client: IndexRedis | None,
    progress: RebuildProgress | None,
) -> tuple[CandidateIndex, int]:
    """Fill the current generation in place (a missing shared index, or the embedded one)."""
    generation = generations(client)[0] if client is not None else 0
    index = empty_index(settings, generation, client)
    with sessions.begin() as session:
        if client is not None:
            # Pages being assigned now wait: none is indexed between the clear and a read of the
            # signatures that misses it (its transaction still open), so none drops out.
            locks.stop_assignments(session)
        count = fill(settings, index, session, progress)
    if client is not None:
        _write_meta(client, generation, settings)
    return index, count


def _rebuild_beside(
    settings: Settings,
    sessions: sessionmaker[Session],
    client: IndexRedis,
    progress: RebuildProgress | None,
) -> tuple[CandidateIndex, int]:
    """Build the next generation while pages go on being assigned, then make it current.

    Announced first (``BUILDING``): every page's transaction that starts after it writes to both
    generations (``current_index``). Then the pages whose transactions began before, which may not
    have seen it, are waited for (the assignment lock, taken exclusively for an instant): whatever
    they store is committed before the build reads the signatures. So every page is in the new
    generation, read or written. Made current in one step; the old generation goes once the pages
    that may still be reading it have ended. An article whose text changes during the build may
    leave its old entry behind as well (a candidate more, which verification turns down).
    """
    current, _ = generations(client)
    target = current + 1
    index = empty_index(settings, target, client)
    index.clear()  # what a build that died left behind
    client.set(BUILDING, target)
    try:
        _wait_for_pages_in_flight(sessions)
        with sessions() as session:
            count = fill(settings, index, session, progress, clear=False)
        _write_meta(client, target, settings)
        # In this order: see ``generations``.
        client.set(GENERATION, target)
        client.delete(BUILDING)
    except BaseException:
        client.delete(BUILDING)
        raise
    _wait_for_pages_in_flight(sessions)
    empty_index(settings, current, client).clear()
    return index, count


def _write_meta(client: IndexRedis, generation: int, settings: Settings) -> None:
    """Written last: until it is there, the generation is incomplete."""
    for name, value in index_meta(settings).items():
        client.hset(meta_key(generation), name, value)


def _wait_for_pages_in_flight(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        locks.stop_assignments(session)


def fill(
    settings: Settings,
    index: CandidateIndex,
    session: Session,
    progress: RebuildProgress | None = None,
    clear: bool = True,
) -> int:
    """Clear the index (unless told not to) and insert every stored signed article; returns how many
    it holds."""
    if clear:
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


def _storage(settings: Settings, part: str, generation: int, client: IndexRedis | None) -> IndexStorage:
    if client is None:
        return make_storage(None, prefix=part)
    from dedup.redis_storage import group_bits_for

    bits = group_bits_for(settings.index_capacity, KEYS_PER_ARTICLE[part], LEADING_BITS[part])
    return make_storage(
        client, prefix(part, generation), group_bits=bits, cluster_tags=settings.index_redis_hash_tags
    )


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
