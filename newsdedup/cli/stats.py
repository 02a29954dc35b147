"""``newsdedup stats``: per source (crawl runs, pages, errors, articles, clusters opened, last run), the
cluster-size distribution, and the totals. ``--json`` prints the same as one JSON object."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from newsdedup.cli.context import reads
from newsdedup.service.report import Statistics, statistics
from newsdedup.service.runtime import Runtime
from storage.stats import SourceStats

SOURCE_COLUMNS = ("runs", "pages", "errors", "articles", "clusters")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@reads
def stats(runtime: Runtime, as_json: bool) -> None:
    """Per source: crawl runs, pages fetched, errors, articles stored, clusters it opened (its article
    was the first of the cluster), last run and its duration; cluster sizes; totals and index size."""
    figures = statistics(runtime)
    if as_json:
        click.echo(json.dumps(as_document(figures), sort_keys=True))
        return
    console = Console()
    if figures.sources:
        console.print(sources_table(figures.sources))
    console.print(sizes_table(figures.sizes))
    console.print(totals_table(figures.totals))


def as_document(figures: Statistics) -> dict[str, Any]:
    """What --json prints: {"sources": [...], "cluster_sizes": {...}, "totals": {...}}."""
    rows = [{**asdict(s), "last_run": _iso(s.last_run)} for s in figures.sources]
    return {"sources": rows, "cluster_sizes": figures.sizes, "totals": figures.totals}


def sources_table(sources: list[SourceStats]) -> Table:
    table = Table(show_edge=False)
    table.add_column("source")
    for column in SOURCE_COLUMNS:
        table.add_column(column, justify="right")
    table.add_column("last run")
    table.add_column("duration", justify="right")
    for s in sources:
        table.add_row(
            s.source,
            *(str(getattr(s, column)) for column in SOURCE_COLUMNS),
            s.last_run.strftime("%Y-%m-%d %H:%M:%S") if s.last_run else "-",
            f"{s.duration_seconds:.1f} s" if s.duration_seconds is not None else "-",
        )
    return table


def sizes_table(sizes: dict[str, int]) -> Table:
    table = Table(show_edge=False)
    table.add_column("cluster size", justify="right")
    table.add_column("clusters", justify="right")
    for label, count in sizes.items():
        table.add_row(label, str(count))
    return table


def totals_table(totals: dict[str, int]) -> Table:
    table = Table(show_header=False, show_edge=False)
    for name, value in totals.items():
        table.add_row(name.replace("_", " "), str(value))
    return table


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
