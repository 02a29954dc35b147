"""Everything a process needs to process pages, built once per process from the settings.

Celery's prefork pool forks workers from a parent that must not hold database or Redis
connections, so the runtime is built lazily, on first use, in the process that uses it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Settings, Source, load_settings, load_sources
from dedup.anchors import AnchorIndex
from dedup.candidates import CandidateIndex
from dedup.evidence import Evidence
from dedup.index_storage import make_storage
from dedup.lsh import LSHIndex, banding
from dedup.params import Params
from dedup.signature import Signer
from storage import queries
from storage.db import create_db_engine, migrate, session_factory

log = logging.getLogger(__name__)

INDEX_PREFIX = "newsdedup:lsh"
ANCHOR_PREFIX = "newsdedup:anchors"
EVIDENCE_PREFIX = "newsdedup:evidence"
REBUILD_LOCK = "newsdedup:lock:index-rebuild"


class IndexMismatch(RuntimeError):
    """The shared index was built with other MinHash parameters than these settings give."""


@dataclass
class Runtime:
    """Settings, sources, database and index of one process."""

    settings: Settings
    sources: list[Source] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(settings=settings, sources=load_sources(settings.sources))

    @cached_property
    def params(self) -> Params:
        s = self.settings
        return Params(
            num_perm=s.num_perm,
            lsh_threshold=s.lsh_threshold,
            anchor_modulus=s.anchor_modulus,
            min_shared_anchors=s.min_shared_anchors,
            anchor_bucket_cap=s.anchor_bucket_cap,
            min_jaccard=s.min_jaccard,
            min_containment=s.min_containment,
            splice_max_overlap=s.splice_max_overlap,
            splice_max_evidence=s.splice_max_evidence,
            splice_max_evidence_across=s.splice_max_evidence_across,
            translations=s.translations,
            evidence_min_weight=s.evidence_min_weight,
            min_shared_evidence=s.min_shared_evidence,
            translation_min_score=s.translation_min_score,
            translation_min_matches=s.translation_min_matches,
            source_link_score=s.source_link_score,
            source_link_min_score=s.source_link_min_score,
            shingle_words=s.shingle_words,
            shingle_chars=s.shingle_chars,
            min_shingles=s.min_shingles,
            min_text_chars=s.min_text_chars,
        )

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
            self._fill(index)
        else:
            self._open_shared_index(index)
        return index

    def rebuild_index(self) -> int:
        """Fill the index anew from the stored signatures; returns how many articles it holds.

        This is also the repair for a shared index built with another threshold, so it does not
        check the index it replaces.
        """
        index = self._new_index()
        count = self._fill(index)
        self.__dict__["index"] = index
        return count

    def _new_index(self) -> CandidateIndex:
        s = self.settings
        return CandidateIndex(
            lsh=LSHIndex(make_storage(s.redis_url, prefix=INDEX_PREFIX), s.lsh_threshold, s.num_perm),
            anchors=AnchorIndex(
                make_storage(s.redis_url, prefix=ANCHOR_PREFIX), s.min_shared_anchors, s.anchor_bucket_cap
            ),
            evidence=AnchorIndex(
                make_storage(s.redis_url, prefix=EVIDENCE_PREFIX), s.min_shared_evidence, s.anchor_bucket_cap
            ),
        )

    def _fill(self, index: CandidateIndex) -> int:
        index.clear()
        with self.sessions() as session:
            for article_id, signature, anchors, evidence in queries.signatures(session):
                if signature.shape[0] != self.settings.num_perm:
                    raise IndexMismatch(
                        f"stored signatures have {signature.shape[0]} values but num_perm is "
                        f"{self.settings.num_perm}: set NEWSDEDUP_NUM_PERM={signature.shape[0]} "
                        "or process the articles again into a new database"
                    )
                rare = Evidence.from_bytes(evidence).rare(self.settings.evidence_min_weight)
                index.insert(article_id, signature, anchors, rare)
        self._write_index_meta()
        return len(index)

    def _open_shared_index(self, index: CandidateIndex) -> None:
        client = self.redis
        meta = {k.decode(): v.decode() for k, v in client.hgetall(f"{INDEX_PREFIX}:meta").items()}  # type: ignore[union-attr]  # sync client
        expected = self._index_meta()
        if meta and meta != expected:
            raise IndexMismatch(
                f"the shared index in Redis was built with {meta}, these settings give {expected}: "
                "run `newsdedup index rebuild` to rebuild it with these settings"
            )
        if not meta:
            # A new or flushed Redis: one process rebuilds, the others wait for it.
            # The lock lives outside the index's key space: a rebuild clears that space.
            with client.lock(REBUILD_LOCK, timeout=3600, blocking_timeout=3600):
                if not client.exists(f"{INDEX_PREFIX}:meta"):
                    count = self._fill(index)
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
        }

    def _write_index_meta(self) -> None:
        if self.settings.redis_url is not None:
            for name, value in self._index_meta().items():
                self.redis.hset(f"{INDEX_PREFIX}:meta", name, value)

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
