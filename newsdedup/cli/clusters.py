"""``newsdedup clusters list|show|export``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from newsdedup.cli.errors import CLIError
from newsdedup.cli.render import cluster_table
from newsdedup.report import cluster_view, iter_cluster_views
from storage import queries
from workers.runtime import get_runtime

_HEAD_CHARS = 600
_MIN_SIZE = click.option(
    "--min-size",
    type=click.IntRange(min=1),
    default=1,
    help="Only clusters with at least this many articles.",
)


@click.group()
def clusters() -> None:
    """Inspect the clusters: one per story."""


@clusters.command("list")
@_MIN_SIZE
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many clusters.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
def list_clusters(min_size: int, limit: int | None, as_json: bool) -> None:
    """Clusters, largest first: id, size, canonical URL and title."""
    with get_runtime().sessions() as session:
        rows = queries.list_clusters(session, min_size=min_size, limit=limit)
    if as_json:
        for row in rows:
            line = {
                "cluster_id": row.id,
                "size": row.size,
                "canonical_url": row.canonical_url,
                "canonical_title": row.canonical_title,
            }
            click.echo(json.dumps(line, ensure_ascii=False))
        return
    table = Table(show_edge=False)
    table.add_column("id", justify="right")
    table.add_column("size", justify="right")
    table.add_column("canonical", overflow="fold")
    table.add_column("title", overflow="fold")
    for row in rows:
        table.add_row(str(row.id), str(row.size), row.canonical_url or "-", row.canonical_title or "-")
    console = Console()
    console.print(table)
    console.print(f"{len(rows)} cluster{'s' if len(rows) != 1 else ''}")


@clusters.command("show")
@click.argument("cluster_id", type=int)
def show(cluster_id: int) -> None:
    """One cluster: the head of the canonical text, and every member with its source link."""
    with get_runtime().sessions() as session:
        view = cluster_view(session, cluster_id)
        if view is None:
            raise CLIError(f"no cluster {cluster_id}: `newsdedup clusters list` shows the ids")
        text = queries.article_text(session, view.canonical.article_id)
    console = Console()
    console.print(cluster_table(view))
    console.print()
    console.print(f"[bold]canonical[/bold] {view.canonical.url}")
    console.print(text[:_HEAD_CHARS] + ("…" if len(text) > _HEAD_CHARS else ""), markup=False)
    claimed = [m for m in view.members if m.claimed_source_url]
    if claimed:
        console.print()
        console.print("[bold]source links[/bold]")
        for member in claimed:
            console.print(f"  {member.url} -> {member.claimed_source_url}", markup=False)


@clusters.command("export")
@click.option(
    "--format", "output_format", type=click.Choice(["jsonl"]), default="jsonl", help="Output format."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of stdout.",
)
@_MIN_SIZE
def export(output_format: str, output: Path | None, min_size: int) -> None:
    """Every cluster as one JSON line: cluster_id, canonical_url, size, members (singletons included)."""
    with get_runtime().sessions() as session:
        if output is None:
            count = _write(sys.stdout, session, min_size)
        else:
            partial = output.with_name(output.name + ".partial")
            with partial.open("w", encoding="utf-8") as f:
                count = _write(f, session, min_size)
            partial.replace(output)  # a reader never sees half a file
    if output is not None:
        click.echo(f"exported {count} clusters to {output}", err=True)


def _write(out: TextIO, session: Session, min_size: int) -> int:
    count = 0
    for view in iter_cluster_views(session, min_size=min_size):
        out.write(json.dumps(view.as_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count
