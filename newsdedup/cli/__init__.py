"""The ``newsdedup`` command line for operators.

Every option can also be set by an environment variable: ``NEWSDEDUP_<COMMAND>_<OPTION>``
(``--help`` shows each one's name).
"""

from __future__ import annotations

import logging
import sys

import click

from config import ConfigError
from config.logs import LogFormat, formatter
from config.redact import install_log_redaction
from newsdedup import __version__
from newsdedup.cli import (
    articles,
    clusters,
    crawl,
    db,
    demo,
    health,
    ingest,
    quality,
    reindex,
    schedule,
    service,
    spool,
    stats,
)
from newsdedup.cli.context import Invocation
from newsdedup.cli.errors import OperatorErrors, excepthook


@click.group(cls=OperatorErrors, context_settings={"show_default": True, "auto_envvar_prefix": "NEWSDEDUP"})
@click.option("-v", "--verbose", is_flag=True, help="Log progress and error details to stderr.")
@click.version_option(__version__, prog_name="newsdedup")
@click.pass_context
def app(ctx: click.Context, verbose: bool) -> None:
    """Find every copy of a news story: crawl sources, cluster copies, inspect the clusters.

    Settings come from NEWSDEDUP_* environment variables over the settings file
    (NEWSDEDUP_CONFIG, default config/newsdedup.toml) over defaults.
    """
    handler = logging.StreamHandler()
    handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # Each invocation reads the settings anew, once, on first use (tests run many in one process).
    invocation = ctx.ensure_object(Invocation)
    ctx.call_on_close(invocation.close)
    handler.setFormatter(formatter(_log_format(invocation)))  # NEWSDEDUP_LOG_FORMAT: text or json
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler], force=True)
    install_log_redaction()  # no password in any log line (config.redact)


app.add_command(demo.demo)
app.add_command(crawl.sources)
app.add_command(crawl.crawl_command)
app.add_command(ingest.ingest)
app.add_command(clusters.clusters)
app.add_command(articles.articles)
app.add_command(quality.evaluate)
app.add_command(stats.stats)
app.add_command(service.worker)
app.add_command(service.beat)
app.add_command(service.index)
app.add_command(reindex.reindex)
app.add_command(spool.spool)
app.add_command(db.db)
app.add_command(health.health)
app.add_command(schedule.schedule)


def _log_format(invocation: Invocation) -> LogFormat:
    """The settings' log format; text while the settings cannot be read (the command reports why)."""
    try:
        return invocation.settings.log_format
    except ConfigError:
        return "text"


def main() -> None:
    sys.excepthook = excepthook  # a bug's traceback too shows no password
    app()
