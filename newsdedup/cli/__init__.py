"""The ``newsdedup`` command line for operators.

Every option can also be set by an environment variable: ``NEWSDEDUP_<COMMAND>_<OPTION>``
(``--help`` shows each one's name).
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from config import ConfigError
from config.logs import LogFormat, formatter
from config.redact import install_log_redaction
from newsdedup import __version__
from newsdedup.cli.context import Invocation
from newsdedup.cli.errors import OperatorErrors, excepthook

# Each command's module is imported when the command is looked up (to run it, or by --help), not at
# start-up: `newsdedup ingest` does not import the other commands' code (the crawler and Scrapy, the
# quality benchmark's baseline, ...). Command name -> (module, attribute).
COMMANDS = {
    "demo": ("newsdedup.cli.demo", "demo"),
    "sources": ("newsdedup.cli.crawl", "sources"),
    "crawl": ("newsdedup.cli.crawl", "crawl_command"),
    "ingest": ("newsdedup.cli.ingest", "ingest"),
    "clusters": ("newsdedup.cli.clusters", "clusters"),
    "articles": ("newsdedup.cli.articles", "articles"),
    "eval": ("newsdedup.cli.quality", "evaluate"),
    "stats": ("newsdedup.cli.stats", "stats"),
    "worker": ("newsdedup.cli.service", "worker"),
    "beat": ("newsdedup.cli.service", "beat"),
    "index": ("newsdedup.cli.service", "index"),
    "reindex": ("newsdedup.cli.reindex", "reindex"),
    "spool": ("newsdedup.cli.spool", "spool"),
    "dead-letters": ("newsdedup.cli.dead_letters", "dead_letters"),
    "db": ("newsdedup.cli.db", "db"),
    "health": ("newsdedup.cli.health", "health"),
    "schedule": ("newsdedup.cli.schedule", "schedule"),
}


class Commands(OperatorErrors):
    """The root group, whose commands are imported on first lookup (click's lazy group pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)  # as click lists the commands of a group: by name

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            module, attribute = COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return self.commands[cmd_name]

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in COMMANDS:
            # A name that is no command: click's error suggests the loaded commands that are close to
            # it, so all of them are loaded (only on this error path).
            for name in COMMANDS:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


@click.group(cls=Commands, context_settings={"show_default": True, "auto_envvar_prefix": "NEWSDEDUP"})
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
    if not verbose:
        handler.addFilter(_without_traceback)  # one line an error; -v shows where it came from
    # Each invocation reads the settings anew, once, on first use (tests run many in one process).
    invocation = ctx.ensure_object(Invocation)
    ctx.call_on_close(invocation.close)
    handler.setFormatter(formatter(_log_format(invocation)))  # NEWSDEDUP_LOG_FORMAT: text or json
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler], force=True)
    install_log_redaction()  # no password in any log line (config.redact)


def _without_traceback(record: logging.LogRecord) -> bool:
    """Keep the record, without its traceback (Scrapy logs a refused connection with two)."""
    record.exc_info = None
    record.exc_text = None
    record.stack_info = None
    return True


def _log_format(invocation: Invocation) -> LogFormat:
    """The settings' log format; text while the settings cannot be read (the command reports why)."""
    try:
        return invocation.settings.log_format
    except ConfigError:
        return "text"


def main() -> None:
    sys.excepthook = excepthook  # a bug's traceback too shows no password
    app()
