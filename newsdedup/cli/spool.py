"""``newsdedup spool status`` and ``newsdedup spool replay``: the pages a crawl could not hand to Redis."""

from __future__ import annotations

import click

from config import Settings
from crawler.spool import FILE_NAME, Spool
from newsdedup.cli.context import uses_settings
from newsdedup.cli.errors import CLIError, SetupError
from newsdedup.cli.render import plural


@click.group()
def spool() -> None:
    """Pages spooled by crawls while Redis was away (NEWSDEDUP_SPOOL_DIR)."""


@spool.command("status")
@uses_settings
def status(settings: Settings) -> None:
    """How many pages wait in the spool, and the oldest one's URL."""
    path = settings.spool_dir / FILE_NAME
    if not path.exists():
        click.echo(f"0 pages in {path}")
        return
    with Spool(settings.spool_dir) as pages:
        urls = pages.urls()
    click.echo(f"{plural(len(urls), 'page')} in {path}" + (f"; oldest: {urls[0]}" if urls else ""))


@spool.command("replay")
@uses_settings
def replay(settings: Settings) -> None:
    """Send the spooled pages to the workers, oldest first; each leaves the spool once Redis took it."""
    if settings.redis_url is None:
        raise SetupError("replay needs the workers' broker: set NEWSDEDUP_REDIS_URL")
    path = settings.spool_dir / FILE_NAME
    if not path.exists():
        click.echo(f"replayed 0 pages; 0 left in {path}")
        return
    from crawler.handoff import SpoolingSender  # imports Celery: only replay needs it
    from workers.sender import Sender

    broker = Sender(settings.redis_url, settings.broker_timeout_seconds, settings)
    sender = SpoolingSender(broker, Spool(settings.spool_dir), 0.0)
    try:
        drained = sender.replay(force=True)
        left = len(sender.spool)
    finally:
        sender.close()
    replayed = plural(sender.replayed, "page")
    if not drained:
        raise CLIError(
            f"cannot reach Redis ({sender.last_error}): replayed {replayed}, {left} left in {path}; "
            "check NEWSDEDUP_REDIS_URL and that Redis is up, then replay again"
        )
    click.echo(f"replayed {replayed}; {left} left in {path}")
