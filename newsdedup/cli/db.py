"""``newsdedup db upgrade`` and ``newsdedup db check``: the schema's Alembic migrations; ``db archive-texts``
and ``db restore-texts``: old articles' texts out of the database and back (``storage.archive``).

The migrations ship inside the package (``storage/migrations``), so both work from an installed wheel
without ``alembic.ini``. The commands that write (ingest, crawl, demo, corrections, index rebuild)
and a worker's start upgrade the schema too; the commands that only read refuse a database that needs
it. ``db upgrade`` does it up front (a deploy step), ``db check`` only looks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection, Engine
from sqlalchemy.types import TypeEngine

from config import Settings
from newsdedup.cli.context import uses_settings, writes
from newsdedup.cli.errors import CLIError
from newsdedup.service.runtime import Runtime
from storage.archive import archive_texts, restore_texts
from storage.db import (
    SchemaTooNew,
    create_db_engine,
    current_revisions,
    migrate,
    model_differences,
    pending_revisions,
    unknown_revisions,
)


def pending_migrations(connection: Connection) -> list[str]:
    """One line per migration the database has not had yet, oldest first."""
    try:
        pending = pending_revisions(connection)
    except SchemaTooNew as e:
        return [str(e)]
    return [f"pending migration {r.revision}: {r.doc}" for r in pending]


def drift(connection: Connection) -> list[str]:
    """One line per difference between the models and the database's schema (Alembic autogenerate)."""
    return [describe(diff) for diff in _flatten(model_differences(connection))]


def _flatten(diffs: list[Any]) -> list[tuple[Any, ...]]:
    # Alembic groups the changes of one column in a list; each is a difference of its own here.
    flat: list[tuple[Any, ...]] = []
    for diff in diffs:
        flat.extend(diff if isinstance(diff, list) else [diff])
    return flat


_WHERE = {"add": "in the models but not in the database", "remove": "in the database but not in the models"}


def describe(diff: tuple[Any, ...]) -> str:
    """A difference from ``model_differences`` (Alembic's ``compare_metadata``) in words."""
    kind = diff[0]
    action, _, what = kind.partition("_")
    if kind in ("add_table", "remove_table"):
        return f"table {diff[1].name} is {_WHERE[action]}"
    if kind in ("add_column", "remove_column"):
        return f"column {diff[2]}.{diff[3].name} is {_WHERE[action]}"
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        columns = ", ".join(c.name for c in index.columns)
        return f"index {index.name} on {index.table.name} ({columns}) is {_WHERE[action]}"
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = diff[1]
        return f"constraint {constraint.name or '(unnamed)'} on {constraint.table.name} is {_WHERE[action]}"
    if action == "modify":
        _, _, table, column, _, database, models = diff
        change = what.replace("_", " ")
        where = f"{_show(database)} in the database, {_show(models)} in the models"
        return f"column {table}.{column}: {change} is {where}"
    return f"difference: {diff!r}"


def _show(value: Any) -> str:
    return str(value) if isinstance(value, TypeEngine) else repr(value)


def _engine(settings: Settings) -> Engine:
    return create_db_engine(settings.database_url)


@click.group()
def db() -> None:
    """The database: apply the migrations, check the schema against the models, archive old texts."""


@db.command()
@uses_settings
def upgrade(settings: Settings) -> None:
    """Apply the pending migrations (Alembic), bringing the schema to the newest revision."""
    engine = _engine(settings)
    try:
        with engine.connect() as connection:
            unknown = unknown_revisions(connection)
            before = len(pending_migrations(connection))
        if unknown:
            raise CLIError(unknown[0])
        migrate(engine)
        with engine.connect() as connection:
            revisions = ", ".join(sorted(current_revisions(connection)))
    finally:
        engine.dispose()
    click.echo(f"applied {before} migrations; the database is at {revisions} (head)")


@db.command()
@uses_settings
def check(settings: Settings) -> None:
    """Report migrations not yet applied and differences between the models and the database; exit status 1
    if there are any. (The models are compared only once the database is at the newest revision.)"""
    engine = _engine(settings)
    try:
        with engine.connect() as connection:
            found = pending_migrations(connection) or drift(connection)
    finally:
        engine.dispose()
    for line in found:
        click.echo(line)
    if found:
        raise click.exceptions.Exit(1)
    click.echo("no drift: the database is at the newest migration and matches the models")


# A progress line after this many articles.
PROGRESS_EVERY = 100_000


def _report(verb: str) -> Any:
    shown = 0

    def report(done: int) -> None:
        nonlocal shown
        if done - shown >= PROGRESS_EVERY:
            shown = done
            click.echo(f"{verb} {done} texts so far", err=True)

    return report


@db.command("archive-texts")
@click.option(
    "--before",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Archive the texts of the articles fetched before this day (UTC).",
)
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write: a new gzipped JSON-lines file (one id, url and text a line).",
)
@writes
def archive_texts_command(runtime: Runtime, before: datetime, output: Path) -> None:
    """Move old articles' texts out of the database into a file, keeping what clusters them (shingle
    sets, signatures, anchors, evidence). Each batch is on disk before its texts are emptied."""
    if output.exists():
        raise CLIError(f"{output}: exists; name a new archive file")
    if not output.parent.is_dir():
        raise CLIError(f"{output.parent}: no such folder")
    count = archive_texts(runtime.sessions, before.replace(tzinfo=UTC), output, progress=_report("archived"))
    if count == 0:
        output.unlink()
        click.echo(f"no texts of articles fetched before {before:%Y-%m-%d} left to archive; wrote no file")
        return
    click.echo(f"archived {count} texts of articles fetched before {before:%Y-%m-%d} into {output}")


@db.command("restore-texts")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@writes
def restore_texts_command(runtime: Runtime, archive: Path) -> None:
    """Put the texts of an archive file (from `db archive-texts`) back into the database."""
    try:
        restored, skipped = restore_texts(runtime.sessions, archive, progress=_report("restored"))
    except (OSError, EOFError, ValueError) as e:
        raise CLIError(f"{archive}: not a text archive ({e})") from None
    click.echo(
        f"restored {restored} texts from {archive}"
        + (f"; {skipped} had a text or are gone" if skipped else "")
    )
