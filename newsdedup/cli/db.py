"""``newsdedup db upgrade`` and ``newsdedup db check``: the schema's Alembic migrations.

The migrations ship inside the package (``storage/migrations``), so both work from an installed wheel
without ``alembic.ini``. Every process also upgrades the schema when it first opens the database;
``db upgrade`` does it up front (a deploy step), ``db check`` only looks.
"""

from __future__ import annotations

from typing import Any

import click
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine
from sqlalchemy.types import TypeEngine

from config import load_settings
from newsdedup.cli.errors import CLIError
from storage.db import (
    create_db_engine,
    current_revisions,
    migrate,
    script_directory,
    unknown_revisions,
)
from storage.models import Base


def pending_migrations(connection: Connection) -> list[str]:
    """One line per migration the database has not had yet, oldest first."""
    script = script_directory()
    current = current_revisions(connection)
    unknown = unknown_revisions(connection)
    if unknown:
        return unknown
    applied: set[str] = set()
    for revision in current:
        applied.update(r.revision for r in script.iterate_revisions(revision, "base"))
    pending = [r for r in script.walk_revisions("base", "heads") if r.revision not in applied]
    return [f"pending migration {r.revision}: {r.doc}" for r in reversed(pending)]


def drift(connection: Connection) -> list[str]:
    """One line per difference between the models and the database's schema (Alembic autogenerate)."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [describe(diff) for diff in _flatten(compare_metadata(context, Base.metadata))]


def _flatten(diffs: list[Any]) -> list[tuple[Any, ...]]:
    # Alembic groups the changes of one column in a list; each is a difference of its own here.
    flat: list[tuple[Any, ...]] = []
    for diff in diffs:
        flat.extend(diff if isinstance(diff, list) else [diff])
    return flat


_WHERE = {"add": "in the models but not in the database", "remove": "in the database but not in the models"}


def describe(diff: tuple[Any, ...]) -> str:
    """A difference from ``compare_metadata`` in words."""
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


def _engine() -> Engine:
    return create_db_engine(load_settings().database_url)


@click.group()
def db() -> None:
    """The database schema: apply the migrations, check the schema against the models."""


@db.command()
def upgrade() -> None:
    """Apply the pending migrations (Alembic), bringing the schema to the newest revision."""
    engine = _engine()
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
def check() -> None:
    """Report migrations not yet applied and differences between the models and the database; exit status 1
    if there are any. (The models are compared only once the database is at the newest revision.)"""
    engine = _engine()
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
