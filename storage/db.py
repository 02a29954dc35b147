"""Engine, sessions and schema migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Base

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant will do: it only has to be the same in every process that migrates.
_MIGRATION_LOCK_KEY = 0x6E657773


class DatabaseURLError(ValueError):
    """The database URL cannot be used."""


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer newsdedup: this one does not know its revision."""


def create_db_engine(url: str, **options: Any) -> Engine:
    """An engine for the URL; an SQLite file's folder is created, and SQLite waits for locks."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise DatabaseURLError(f"not a database URL: {url!r}") from e
    if parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
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
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def current_revisions(connection: Connection) -> set[str]:
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
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe when several processes start at once. A schema
    of a newer newsdedup raises SchemaTooNew (Alembic would fail with a traceback)."""
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
