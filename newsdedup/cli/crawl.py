"""``newsdedup sources list`` and ``newsdedup crawl``."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from config import Settings
from config.redact import redact_text
from config.sources import find_source
from newsdedup.cli.context import uses_runtime
from newsdedup.cli.errors import SetupError
from newsdedup.service.runtime import Runtime

if TYPE_CHECKING:
    from crawler.progress import CrawlProgress


@click.group()
def sources() -> None:
    """The sources in the sources file (NEWSDEDUP_SOURCES)."""


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@uses_runtime
def list_sources(runtime: Runtime, as_json: bool) -> None:
    """Every source: name, kind, schedule, language hint, publisher flag, start URLs."""
    if as_json:
        for s in runtime.sources:
            line = {
                "name": s.name,
                "kind": s.kind,
                "schedule": s.schedule,
                "language": s.language,
                "publisher": s.publisher,
                "start_urls": list(s.start_urls),
            }
            click.echo(redact_text(json.dumps(line, ensure_ascii=False)))
        return
    table = Table(show_edge=False)
    for column in ("name", "kind", "schedule", "lang", "publisher", "start urls"):
        table.add_column(column, overflow="fold")
    for s in runtime.sources:
        table.add_row(
            s.name,
            s.kind,
            s.schedule,
            s.language or "-",
            "yes" if s.publisher else "no",
            "\n".join(s.start_urls),
        )
    console = Console()
    console.print(table)
    console.print(f"{len(runtime.sources)} sources from {runtime.settings.sources}")


@click.command("crawl")
@click.argument("names", nargs=-1, metavar="[SOURCE]...")
@click.option("--enqueue", is_flag=True, help="Send one crawl task per source to the workers instead.")
@uses_runtime
def crawl_command(runtime: Runtime, names: tuple[str, ...], enqueue: bool) -> None:
    """Crawl sources now, in this process (default: all sources)."""
    chosen = [find_source(runtime.sources, n) for n in names] if names else list(runtime.sources)
    if not chosen:
        raise SetupError(f"no sources in {runtime.settings.sources}: add [[source]] tables")
    if enqueue:
        if runtime.settings.redis_url is None:
            raise SetupError("--enqueue needs the workers' broker: set NEWSDEDUP_REDIS_URL")
        from workers.names import CRAWL_SOURCE
        from workers.sender import Sender

        settings = runtime.settings
        assert settings.redis_url is not None  # checked above
        with Sender(settings.redis_url, settings.broker_timeout_seconds, settings) as sender:
            for source in chosen:
                sender.send(CRAWL_SOURCE, source.name, queue="crawl")
        click.echo(f"enqueued {len(chosen)} crawl task{'s' if len(chosen) != 1 else ''}")
        return
    from crawler.run import crawl  # Scrapy and Twisted: imported by the commands that crawl, only

    summaries = crawl(
        chosen, runtime.settings, install_root_handler=False, progress=progress_for(runtime.settings)
    )
    Console().print(summary_table(summaries))
    failed = [name for name, s in summaries.items() if failed_crawl(s)]
    if failed:
        click.echo(
            f"{len(failed)} of {len(summaries)} sources failed ({', '.join(failed)}): "
            "errors, or no page and HTTP errors; -v shows the details",
            err=True,
        )
        raise click.exceptions.Exit(1)


def progress_for(settings: Settings) -> CrawlProgress | None:
    """A live display when stderr is a terminal; otherwise lines every CRAWL_PROGRESS_SECONDS (0: none)."""
    from crawler.progress import LogProgress, TerminalProgress

    if sys.stderr.isatty():
        return TerminalProgress(Console(stderr=True))
    if settings.crawl_progress_seconds > 0:
        return LogProgress(sys.stderr, settings.crawl_progress_seconds)
    return None


def failed_crawl(summary: dict[str, Any]) -> bool:
    """A source's crawl failed if it logged errors, or stored no page and met HTTP errors (a start URL
    that is gone)."""
    return bool(summary.get("errors")) or (not summary.get("pages") and bool(summary.get("http_errors")))


def summary_table(summaries: dict[str, dict[str, Any]]) -> Table:
    """One row per crawled source: pages, and what processing made of them (all-zero columns left out);
    below them, with several sources, their totals."""
    counted = (
        *("new", "joined", "updated", "unchanged", "rejected", "enqueued", "spooled", "replayed"),
        *("robots_forbidden", "refused_private", "dropped", "http_errors", "errors"),
    )
    # The pages the crawl's bounds stopped, all reasons together (the log names each).
    rows = {name: {**s, "dropped": sum(s.get("dropped", {}).values())} for name, s in summaries.items()}
    columns = ["pages", *(c for c in counted if any(s.get(c) for s in rows.values()))]
    table = Table(show_edge=False)
    table.add_column("source")
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")
    table.add_column("finished")
    for name, summary in rows.items():
        table.add_row(name, *(str(summary[c]) for c in columns), str(summary["finish_reason"]))
    if len(rows) > 1:
        table.add_section()
        totals = (sum(summary[c] for summary in rows.values()) for c in columns)
        table.add_row(f"{len(rows)} sources", *(str(t) for t in totals), "")
    return table
