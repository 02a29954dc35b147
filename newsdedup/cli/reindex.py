"""Rebuilding the candidate index from the database with progress (``newsdedup index rebuild``), and
``newsdedup reindex``, its alias from before the ``index`` group (kept: scripts and units call it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from newsdedup.cli.context import writes
from newsdedup.service.index import RebuildProgress as ProgressCallback
from newsdedup.service.runtime import Runtime

# Without a terminal, a plain line after this many articles (a log keeps a trace of a long rebuild).
PLAIN_EVERY = 100_000


@click.command()
@writes
def reindex(runtime: Runtime) -> None:
    """Alias of `newsdedup index rebuild`: rebuild the candidate index from the stored signatures."""
    rebuild_index(runtime)


def rebuild_index(runtime: Runtime) -> None:
    """Rebuild the index of this invocation's runtime, reporting progress on stdout."""
    console = Console()
    with _progress(console, runtime.signed_articles()) as report:
        count = runtime.rebuild_index(report)
    click.echo(f"indexed {count} articles")


@contextmanager
def _progress(console: Console, total: int) -> Iterator[ProgressCallback]:
    """A callback taking the number of articles indexed so far: a rich bar on a terminal, plain lines
    every PLAIN_EVERY articles otherwise."""
    if not console.is_terminal:
        shown = 0

        def plain(done: int) -> None:
            nonlocal shown
            if done - shown >= PLAIN_EVERY and done < total:
                shown = done
                click.echo(f"indexed {done} of {total} articles")

        yield plain
        return
    columns = (TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("indexing", total=total)

        def update(done: int) -> None:
            bar.update(task, completed=done, total=max(total, done))

        yield update
