"""Everything a process needs to process pages and read clusters, built once at each entry point
from the settings and passed down: the CLI's root command, a Celery pool process, the crawl's
pipeline. Nothing here is global.

Connections are opened lazily, on first use, in the process that uses them: Celery's prefork pool
forks workers from a parent that must not hold database or Redis connections.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Settings, Source, load_sources
from dedup import cache_folder
from dedup.candidates import CandidateIndex
from dedup.params import Params
from dedup.signature import Signer
from newsdedup.service import index as candidate_index
from newsdedup.service.index import RebuildProgress
from newsdedup.service.pending import Pending, make_pending
from storage import views
from storage.db import (
    at_newest_revision,
    create_db_engine,
    migrate,
    pending_revisions,
    session_factory,
    sqlite_file,
)

if TYPE_CHECKING:
    from redis import Redis  # imported when a Redis URL is set: the embedded mode never loads it
    from redis.cluster import RedisCluster


class SchemaNotCurrent(RuntimeError):
    """A command that only reads found a database that needs migrating first."""


@dataclass
class Runtime:
    """Settings, sources, database, Redis and candidate index of one process."""

    settings: Settings
    sources: list[Source] = field(default_factory=list)
    # What this process has done, by name (e.g. cross-language pairs examined): ``newsdedup eval`` reads it.
    counts: Counter[str] = field(default_factory=Counter)
    # The shared index's generations the index above was opened for (``follow_index``).
    _generations: tuple[int, int | None] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        cache_folder.use(settings.cache_dir)  # the core's built tables (dedup.cache_folder)
        return cls(settings=settings, sources=load_sources(settings.sources))

    @cached_property
    def params(self) -> Params:
        return self.settings.params

    @cached_property
    def signer(self) -> Signer:
        return Signer(self.settings.num_perm)

    @cached_property
    def engine(self) -> Engine:
        return create_db_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    def migrate(self) -> Runtime:
        """Bring the schema to the newest revision (commands and processes that write call this)."""
        migrate(self.engine)
        return self

    def require_current_schema(self) -> Runtime:
        """For commands that only read: raise SchemaNotCurrent, in one line, if the database needs
        migrating (they never migrate it themselves), or if its SQLite file is not there (connecting
        would create an empty one)."""
        path = sqlite_file(self.engine)
        if path is not None and not path.is_file():
            raise SchemaNotCurrent(
                f"no database at {path}: check NEWSDEDUP_DATABASE_URL "
                "(the commands that store pages create it)"
            )
        if at_newest_revision(self.engine):
            return self
        with self.engine.connect() as connection:
            pending = pending_revisions(connection)
        if pending:
            raise SchemaNotCurrent(
                f"the database ({self.engine.url.render_as_string(hide_password=True)}) needs "
                f"{len(pending)} migration{'s' if len(pending) != 1 else ''} "
                "(or holds no newsdedup data yet): run `newsdedup db upgrade`"
            )
        return self

    @cached_property
    def redis(self) -> Redis | None:
        """The shared Redis, or None in the embedded mode."""
        url = self.settings.redis_url
        if url is None:
            return None
        from redis import Redis

        return Redis.from_url(url)

    @cached_property
    def index_redis(self) -> Redis | RedisCluster | None:
        """The Redis of the shared index (``INDEX_REDIS_URL``, else the shared Redis; a Redis Cluster
        client if it names a cluster node), or None in the embedded mode."""
        url = self.settings.index_redis_url
        if url is None:
            return self.redis
        from dedup.index_storage import connect

        return connect(url)

    def require_redis(self) -> Redis:
        if self.redis is None:
            raise RuntimeError("no Redis in the embedded mode: set NEWSDEDUP_REDIS_URL")
        return self.redis

    @cached_property
    def index(self) -> CandidateIndex:
        """The candidate index: in memory and filled from the database, or shared in Redis."""
        return candidate_index.open_index(self.settings, self.sessions, self.index_redis)

    @cached_property
    def pending(self) -> Pending:
        """Tickets of the pages being stored (``newsdedup.service.pending``): in Redis if the index is."""
        return make_pending(self.redis)

    def rebuild_index(self, progress: RebuildProgress | None = None) -> int:
        """Fill the index anew from the stored signatures; returns how many articles it holds."""
        index, count = candidate_index.rebuild(self.settings, self.sessions, self.index_redis, progress)
        self.__dict__["index"] = index
        return count

    def follow_index(self) -> None:
        """Service mode, at the start of a page's transaction: the shared index as it is now (the next
        generation once a rebuild has made it current; writing to it as well while one builds it)."""
        if self.index_redis is not None:
            state = candidate_index.generations(self.index_redis)
            if state != self._generations:
                self.__dict__["index"] = candidate_index.current_index(self.settings, self.index_redis, state)
                self._generations = state

    def ensure_shared_index(self) -> None:
        """Service mode, before each page: if Redis lost the shared index, rebuild it from the database
        first (one process rebuilds, the others wait). Without this, pages would be clustered against
        an empty index until someone noticed."""
        if self.index_redis is not None:
            rebuilt = candidate_index.ensure(self.settings, self.sessions, self.index_redis)
            if rebuilt is not None:
                self.__dict__["index"] = rebuilt

    def indexed_articles(self) -> int:
        """How many articles the index holds, without filling it: in Redis its count; in the embedded
        mode, the stored signed articles (what this process's index is filled with)."""
        if self.index_redis is not None:
            return len(candidate_index.current_index(self.settings, self.index_redis))
        return self.signed_articles()

    def signed_articles(self) -> int:
        """How many stored articles have a signature (what a rebuild indexes)."""
        with self.sessions() as session:
            totals = views.totals(session)
        return totals["articles"] - totals["articles_too_short_to_sign"]

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

    def after_fork(self) -> Runtime:
        """The runtime a forked child builds: the same settings and sources, none of the parent's
        connections (closed in the child without disturbing the parent's)."""
        if "engine" in self.__dict__:
            self.engine.dispose(close=False)
        return Runtime(self.settings, self.sources)

    def close(self) -> None:
        """Release connections (at the end of a command or a crawl)."""
        if "engine" in self.__dict__:
            self.engine.dispose()
        if self.__dict__.get("redis") is not None:
            self.__dict__["redis"].close()
