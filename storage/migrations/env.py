"""Alembic environment: runs on the connection that ``storage.db.migrate`` hands over, or on the
URL in the Alembic config (``alembic -c alembic.ini ...`` from the repository root)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from storage.db import create_db_engine
from storage.models import Base

config = context.config


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from config import load_settings

        url = load_settings().database_url
    engine = create_db_engine(url)
    with engine.begin() as connection:
        run(connection)


main()
