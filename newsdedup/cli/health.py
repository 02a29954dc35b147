"""``newsdedup health``: can this process reach what it needs? The container HEALTHCHECK of every role.

It opens a connection to the database (``SELECT 1``; it does not create or migrate the schema) and, in
service mode (``NEWSDEDUP_REDIS_URL`` set), pings Redis. One line on stdout, exit status 0 when both
answer, 1 when one does not.
"""

from __future__ import annotations

import click
import redis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from config import Settings
from config.redact import redact_text
from newsdedup.cli.context import uses_settings
from storage.db import create_db_engine

# A health check answers within the container's HEALTHCHECK timeout (10 s) even when a server hangs.
TIMEOUT_SECONDS = 5


def database_problem(url: str) -> str | None:
    """Why the database cannot be queried, or None when it can."""
    connect_args = (
        {"timeout": TIMEOUT_SECONDS} if url.startswith("sqlite") else {"connect_timeout": TIMEOUT_SECONDS}
    )
    engine = create_db_engine(url, connect_args=connect_args, pool_pre_ping=False)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as e:
        orig = getattr(e, "orig", None)
        return _first_line(orig if orig is not None else e)
    finally:
        engine.dispose()
    return None


def redis_problem(url: str, broker: bool = True) -> str | None:
    """Why Redis does not answer a PING (or, as the broker, is a Redis Cluster node, which Celery
    cannot use), or None when it answers."""
    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    try:
        client.ping()
        if broker and client.info("cluster").get("cluster_enabled"):
            return (
                "a Redis Cluster node: the broker needs a standalone Redis "
                "(a cluster can hold the index: NEWSDEDUP_INDEX_REDIS_URL)"
            )
    except redis.RedisError as e:
        return _first_line(e)
    finally:
        client.close()
    return None


def problems(settings: Settings) -> list[str]:
    """One entry per service that does not answer, named: ``database: …``, ``redis: …``."""
    found = []
    database = database_problem(settings.database_url)
    if database is not None:
        found.append(f"database: {database}")
    if settings.redis_url is not None:
        broker = redis_problem(settings.redis_url)
        if broker is not None:
            found.append(f"redis: {broker}")
    if settings.index_redis_url is not None:
        index = redis_problem(settings.index_redis_url, broker=False)
        if index is not None:
            found.append(f"index redis: {index}")
    return found


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


@click.command()
@uses_settings
def health(settings: Settings) -> None:
    """Check that the database (and, with NEWSDEDUP_REDIS_URL and NEWSDEDUP_INDEX_REDIS_URL, Redis)
    answer: one line, exit status 0 or 1."""
    found = problems(settings)
    if found:
        click.echo(redact_text("unhealthy: " + "; ".join(found)))
        raise click.exceptions.Exit(1)
    redis_names = ", redis" if settings.redis_url is not None else ""
    redis_names += ", index redis" if settings.index_redis_url is not None else ""
    click.echo("healthy: database" + redis_names)
