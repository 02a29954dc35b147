"""The ``newsdedup`` command line for operators.

Every option can also be set by an environment variable: ``NEWSDEDUP_<COMMAND>_<OPTION>``
(``--help`` shows each one's name).
"""

from __future__ import annotations

import logging
import sys

import click

from config import ConfigError, load_settings
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
from newsdedup.cli.errors import OperatorErrors, excepthook
from workers.runtime import set_runtime


@click.group(cls=OperatorErrors, context_settings={"show_default": True, "auto_envvar_prefix": "NEWSDEDUP"})
@click.option("-v", "--verbose", is_flag=True, help="Log progress and error details to stderr.")
@click.version_option(__version__, prog_name="newsdedup")
def app(verbose: bool) -> None:
    """Find every copy of a news story: crawl sources, cluster copies, inspect the clusters.

    Settings come from NEWSDEDUP_* environment variables over the settings file
    (NEWSDEDUP_CONFIG, default config/newsdedup.toml) over defaults.
    """
    handler = logging.StreamHandler()
    handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    handler.setFormatter(formatter(_log_format()))  # NEWSDEDUP_LOG_FORMAT: text or json (config.logs)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler], force=True)
    install_log_redaction()  # no password in any log line (config.redact)
    # Each invocation reads the settings anew (tests run many invocations in one process).
    set_runtime(None)


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


def _log_format() -> LogFormat:
    """The settings' log format; text while the settings cannot be read (the command reports why)."""
    try:
        return load_settings().log_format
    except ConfigError:
        return "text"


def main() -> None:
    sys.excepthook = excepthook  # a bug's traceback too shows no password
    app()
