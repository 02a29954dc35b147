"""Everything a process needs to process pages, built once per process from the settings.

Celery's prefork pool forks workers from a parent that must not hold database or Redis
connections, so the runtime is built lazily, on first use, in the process that uses it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, fields
from functools import cached_property
from itertools import islice
from urllib.parse import urlsplit

import redis
from redis.lock import Lock
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Settings, Source, load_settings, load_sources
from dedup.anchors import AnchorIndex
from dedup.candidates import CandidateIndex, Entry
from dedup.evidence import Evidence
from dedup.index_storage import IndexStorage, make_storage
from dedup.lsh import LSHIndex, banding
from dedup.params import Params
from dedup.redis_storage import group_bits_for
from dedup.shingles import Hashes
from dedup.signature import Signature, Signer
from storage import queries
from storage.db import create_db_engine, migrate, session_factory

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

Progress = Callable[[int], None]
# Keys an article puts into each index, per LSH band for the LSH index: the means over the
# development corpus (bench/capacity.py prints them). They size the shared index's Redis groups.
KEYS_PER_ARTICLE = {INDEX_PREFIX: 1, ANCHOR_PREFIX: 70, EVIDENCE_PREFIX: 76}
LEADING_BITS = {INDEX_PREFIX: 16, ANCHOR_PREFIX: 0, EVIDENCE_PREFIX: 0}


class IndexMismatch(RuntimeError):
    """The shared index was built with other MinHash parameters than these settings give."""


@dataclass
class Runtime:
    """Settings, sources, database and index of one process."""

    settings: Settings
    sources: list[Source] = field(default_factory=list)
    # What this process has done, by name (e.g. cross-language pairs examined): ``newsdedup eval`` reads it.
    counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(settings=settings, sources=load_sources(settings.sources))

    @cached_property
    def params(self) -> Params:
        # Every threshold of the core is a setting of the same name (tests/test_config.py holds that).
        return Params(**{f.name: getattr(self.settings, f.name) for f in fields(Params)})

    @cached_property
    def signer(self) -> Signer:
        return Signer(self.settings.num_perm)

    @cached_property
    def engine(self) -> Engine:
        engine = create_db_engine(self.settings.database_url)
        migrate(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @cached_property
    def index(self) -> CandidateIndex:
        """The candidate index: in memory and rebuilt from the database, or shared in Redis."""
        index = self._new_index()
        if self.settings.redis_url is None:
            with self.sessions() as session:
                self._fill(index, session)
        else:
            self._open_shared_index(index)
        return index

    def rebuild_index(self, progress: Progress | None = None) -> int:
        """Fill the index anew from the stored signatures; returns how many articles it holds.
        ``progress`` is called with the number of articles indexed so far, every ``PROGRESS_EVERY``.

        This is also the repair for a shared index built with another threshold, so it does not
        check the index it replaces.
        """
        with self._rebuild_lock() as lock:
            return self._rebuild(_renewing(lock, progress))

    def ensure_shared_index(self) -> None:
        """Service mode, before each page: if Redis lost the shared index (flushed, or restarted
        without persistence), rebuild it from the database first; one process rebuilds, the others
        wait. Without this, pages would be clustered against an empty index until someone noticed."""
        if self.settings.redis_url is None or self.redis.exists(INDEX_META):
            return
        with self._rebuild_lock() as lock:
            if not self.redis.exists(INDEX_META):
                count = self._rebuild(_renewing(lock, None))
                # An empty database on a new Redis lost nothing: no warning then.
                log.log(
                    logging.WARNING if count else logging.INFO,
                    "the shared index was missing from Redis: rebuilt it from the database (%d articles)",
                    count,
                )

    def signed_articles(self) -> int:
        """How many stored articles have a signature (what a rebuild indexes)."""
        with self.sessions() as session:
            totals = queries.counts(session)
        return totals["articles"] - totals["articles_too_short_to_sign"]

    def _rebuild(self, progress: Progress | None = None) -> int:
        index = self._new_index()
        with self.sessions.begin() as session:
            if self.settings.redis_url is not None:
                # Pages being assigned now wait: none is indexed between the clear and a read of the
                # signatures that misses it (its transaction still open), so none drops out.
                queries.lock_assignment(session)
            count = self._fill(index, session, progress)
        self.__dict__["index"] = index
        return count

    def _rebuild_lock(self) -> AbstractContextManager[object]:
        """The lock of shared index rebuilds (none in the embedded mode: the index is this process's)."""
        if self.settings.redis_url is None:
            return nullcontext()
        # Others wait as long as the rebuild runs (it renews the lock); if the rebuilder dies, the
        # lock expires and one of them rebuilds.
        lock: Lock = self.redis.lock(REBUILD_LOCK, timeout=REBUILD_LOCK_SECONDS, blocking_timeout=None)
        return lock

    def _new_index(self) -> CandidateIndex:
        s = self.settings
        return CandidateIndex(
            lsh=LSHIndex(self._storage(INDEX_PREFIX), s.lsh_threshold, s.num_perm),
            anchors=AnchorIndex(self._storage(ANCHOR_PREFIX), s.min_shared_anchors, s.anchor_bucket_cap),
            evidence=AnchorIndex(self._storage(EVIDENCE_PREFIX), s.min_shared_evidence, s.anchor_bucket_cap),
        )

    def _storage(self, prefix: str) -> IndexStorage:
        capacity = self.settings.index_capacity
        bits = group_bits_for(capacity, KEYS_PER_ARTICLE[prefix], LEADING_BITS[prefix])
        return make_storage(self.settings.redis_url, prefix=prefix, group_bits=bits)

    def _fill(self, index: CandidateIndex, session: Session, progress: Progress | None = None) -> int:
        index.clear()
        done = 0
        entries = (self._entry(*row) for row in queries.signatures(session))
        # In batches: one pipeline per index and batch on Redis, where one article at a time costs
        # three round trips (bench/capacity.py measures both).
        while batch := list(islice(entries, PROGRESS_EVERY)):
            done += index.insert_many(batch, batch=PROGRESS_EVERY)
            if progress is not None and len(batch) == PROGRESS_EVERY:
                progress(done)
        self._write_index_meta()
        if progress is not None:
            progress(done)
        return len(index)

    def _entry(self, article_id: int, signature: Signature, anchors: Hashes, evidence: bytes) -> Entry:
        """What the index holds of a stored article: its rare evidence terms, not all of them."""
        if signature.shape[0] != self.settings.num_perm:
            raise IndexMismatch(
                f"stored signatures have {signature.shape[0]} values but num_perm is "
                f"{self.settings.num_perm}: set NEWSDEDUP_NUM_PERM={signature.shape[0]} "
                "or process the articles again into a new database"
            )
        rare = Evidence.from_bytes(evidence).rare(self.settings.evidence_min_weight)
        return article_id, signature, anchors, rare

    def _open_shared_index(self, index: CandidateIndex) -> None:
        client = self.redis
        meta = {k.decode(): v.decode() for k, v in client.hgetall(INDEX_META).items()}  # type: ignore[union-attr]  # sync client
        expected = self._index_meta()
        if meta and meta != expected:
            raise IndexMismatch(
                f"the shared index in Redis was built with {meta}, these settings give {expected}: "
                "run `newsdedup index rebuild` to rebuild it with these settings"
            )
        if not meta:
            # A new or flushed Redis: one process rebuilds, the others wait for it.
            # The lock lives outside the index's key space: a rebuild clears that space.
            with self._rebuild_lock() as lock:
                if not client.exists(INDEX_META):
                    with self.sessions() as session:
                        count = self._fill(index, session, _renewing(lock, None))
                    log.info("rebuilt the shared index from the database: %d articles", count)

    def _index_meta(self) -> dict[str, str]:
        s = self.settings
        bands, rows = banding(s.lsh_threshold, s.num_perm)
        return {
            "num_perm": str(s.num_perm),
            "bands": str(bands),
            "rows": str(rows),
            "anchor_modulus": str(s.anchor_modulus),
            "evidence_min_weight": str(s.evidence_min_weight),
            "index_capacity": str(s.index_capacity),
        }

    def _write_index_meta(self) -> None:
        if self.settings.redis_url is not None:
            for name, value in self._index_meta().items():
                self.redis.hset(INDEX_META, name, value)

    @cached_property
    def redis(self) -> redis.Redis:
        if self.settings.redis_url is None:
            raise RuntimeError("no Redis in the embedded mode: set NEWSDEDUP_REDIS_URL")
        return redis.Redis.from_url(self.settings.redis_url)

    def source_named(self, name: str | None) -> Source | None:
        return next((s for s in self.sources if s.name == name), None) if name else None

    def source_for_url(self, url: str) -> Source | None:
        """The source whose allowed domains cover the URL's host (for pages that name no source)."""
        host = (urlsplit(url).hostname or "").lower()
        for source in self.sources:
            for domain in source.allowed_domains:
                if host == domain or host.endswith("." + domain):
                    return source
        return None

    def close(self) -> None:
        """Release connections (after a fork, or at the end of a command)."""
        if "engine" in self.__dict__:
            self.engine.dispose()
        if "redis" in self.__dict__:
            self.redis.close()


_current: Runtime | None = None


def get_runtime() -> Runtime:
    """This process's runtime, built from the settings on first use."""
    global _current
    if _current is None:
        _current = Runtime.from_settings(load_settings())
    return _current


def set_runtime(runtime: Runtime | None) -> None:
    """Install the runtime this process uses (a command's, a test's), or None to build anew."""
    global _current
    if _current is not None and _current is not runtime:
        _current.close()
    _current = runtime


def forget_runtime() -> None:
    """After a fork: drop the parent's runtime without closing connections the parent still uses."""
    global _current
    if _current is not None and "engine" in _current.__dict__:
        _current.engine.dispose(close=False)
    _current = None


def _renewing(lock: object, progress: Progress | None) -> Progress | None:
    """The progress callback of a rebuild that also renews its lock (a Redis lock; nothing else)
    after every batch; it raises LockNotOwnedError if the lock was lost, rather than letting two
    rebuilds clear and fill one index."""
    if not isinstance(lock, Lock):
        return progress

    def report(done: int) -> None:
        lock.reacquire()
        if progress is not None:
            progress(done)

    return report
