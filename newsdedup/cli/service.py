"""``newsdedup worker``, ``beat`` and ``index rebuild`` (``stats`` is in ``newsdedup.cli.stats``)."""

from __future__ import annotations

import os
import sys

import click

from config import Settings
from config.sources import load_sources
from newsdedup.cli.context import uses_settings, writes
from newsdedup.cli.errors import SetupError
from newsdedup.cli.reindex import rebuild_index
from newsdedup.service import corrections
from newsdedup.service.runtime import Runtime

CELERY_APP = "workers.app"
_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


@click.command(context_settings=_PASS_THROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@uses_settings
def worker(settings: Settings, celery_args: tuple[str, ...]) -> None:
    """Start a Celery worker: `celery -A workers.app worker -Q celery,crawl [CELERY_ARGS]`."""
    queues = [] if "-Q" in celery_args or "--queues" in celery_args else ["-Q", "celery,crawl"]
    _exec_celery(settings, "worker", [*queues, *celery_args])


@click.command(context_settings=_PASS_THROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@uses_settings
def beat(settings: Settings, celery_args: tuple[str, ...]) -> None:
    """Start the beat scheduler: `celery -A workers.app beat [CELERY_ARGS]` with RedBeat (schedule and a
    lock in Redis): several may run, one sends the tasks and another takes over when it stops."""
    _exec_celery(settings, "beat", list(celery_args))


def _exec_celery(settings: Settings, command: str, args: list[str]) -> None:
    load_sources(settings.sources)  # a broken sources file fails here, in one line, not in Celery
    if settings.redis_url is None:
        raise SetupError("NEWSDEDUP_REDIS_URL is not set: workers and beat need Redis")
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        CELERY_APP,
        command,
        "--loglevel",
        settings.log_level,
        *args,
    ]
    sys.stdout.flush()
    os.execv(sys.executable, argv)


@click.group()
def index() -> None:
    """The LSH index of signatures."""


@index.command("rebuild")
@click.option(
    "--links",
    "relink",
    is_flag=True,
    help="Also compute every link anew from the stored texts and derive all clusters again.",
)
@writes
def rebuild(runtime: Runtime, relink: bool) -> None:
    """Rebuild the index from the stored signatures (after Redis lost it, or a settings change).

    With --links, after a change of thresholds or shingles, or on a database from before links
    existed: links and clusters are derived anew from the stored texts (cluster ids are kept where
    their members stay together)."""
    if relink:
        count = corrections.relink(runtime)
        click.echo(f"linked {count} pairs; indexed {len(runtime.index)} articles")
        return
    rebuild_index(runtime)
