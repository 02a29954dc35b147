"""Engine, sessions and schema migrations.

Alembic is imported only when a migration is to be run or listed: a process whose database is at
the newest revision (nearly every start) learns that from the migration files' revision lines and
one query, without the import (about a fifth of a second of ``newsdedup ingest``'s start).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Base

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant will do: it only has to be the same in every process that migrates.
_MIGRATION_LOCK_KEY = 0x6E657773
# A migration file's own revision and the one it follows, as Alembic's template writes them.
_REVISION_LINE = re.compile(r"^(revision|down_revision) = (?:\"([^\"]*)\"|None)$", re.MULTILINE)
_VERSION_TABLE = "alembic_version"


class DatabaseURLError(ValueError):
    """The database URL cannot be used."""


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer newsdedup: this one does not know its revision."""


# The databases newsdedup runs on.
BACKENDS = ("sqlite", "postgresql")


def create_db_engine(url: str, **options: Any) -> Engine:
    """An engine for the URL (SQLite or PostgreSQL); SQLite waits for locks. Nothing is created: an
    SQLite file and its folder appear when the schema is migrated (``migrate``)."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise DatabaseURLError(f"not a database URL: {url!r}") from e
    if parsed.get_backend_name() not in BACKENDS:
        raise DatabaseURLError(
            f"NEWSDEDUP_DATABASE_URL: {parsed.get_backend_name()!r} databases are not supported: "
            "newsdedup runs on sqlite:///FILE and postgresql://HOST/DATABASE"
        )
    if parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        options.setdefault("connect_args", {}).setdefault("timeout", 60)
        engine = create_engine(parsed, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **options)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers (the CLI) never wait for the writer (a crawl); the writer waits for writers.
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs at checkpoints, not at every commit: a power cut may lose the last
    # commits (pages that are then crawled again), never corrupt the file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def current_revisions(connection: Connection) -> set[str]:
    from alembic.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


def unknown_revisions(connection: Connection) -> list[str]:
    """One line per revision of the database that these migrations do not have (a newer newsdedup's)."""
    known = {r.revision for r in script_directory().walk_revisions()}
    return [
        f"the database is at revision {r}, which this version of newsdedup does not have "
        "(a newer version migrated it): upgrade newsdedup"
        for r in sorted(current_revisions(connection) - known)
    ]


def pending_revisions(connection: Connection) -> list[Script]:
    """The migrations the database has not had yet, oldest first (all of them for an empty database).
    A database migrated by a newer newsdedup raises SchemaTooNew."""
    unknown = unknown_revisions(connection)
    if unknown:
        raise SchemaTooNew(unknown[0])
    script = script_directory()
    applied: set[str] = set()
    for revision in current_revisions(connection):
        applied.update(r.revision for r in script.iterate_revisions(revision, "base"))
    return [r for r in reversed(list(script.walk_revisions("base", "heads"))) if r.revision not in applied]


def model_differences(connection: Connection) -> list[Any]:
    """The differences between the models and the database's schema, as Alembic's autogenerate lists
    them (the changes of one column grouped in a list)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def sqlite_file(engine: Engine) -> Path | None:
    """The file of an SQLite database (None for PostgreSQL and an in-memory SQLite)."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision, creating an SQLite file's folder first; safe when
    several processes start at once. A schema of a newer newsdedup raises SchemaTooNew (Alembic
    would fail with a traceback)."""
    path = sqlite_file(engine)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if at_newest_revision(engine):
        return
    from alembic import command

    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Held until this transaction ends: the other processes wait, then find nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        unknown = unknown_revisions(connection)
        if unknown:
            raise SchemaTooNew(unknown[0])
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def newest_revision() -> str | None:
    """The revision of the newest migration file, read from the files' ``revision`` and
    ``down_revision`` lines (the one that no other file follows); None unless exactly one is newest
    (then Alembic decides)."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        lines = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in lines:
            return None
        revisions.add(lines["revision"])
        followed.add(lines.get("down_revision", ""))
    heads = revisions - followed
    return heads.pop() if len(heads) == 1 else None


def at_newest_revision(engine: Engine) -> bool:
    """Whether the database's schema is at the newest migration: nothing to migrate."""
    newest = newest_revision()
    if newest is None:
        return False
    with engine.connect() as connection:
        if not inspect(connection).has_table(_VERSION_TABLE):
            return False
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return list(found) == [newest]
