"""``newsdedup ingest FILE.jsonl``."""

from __future__ import annotations

import io
import sys
from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from newsdedup.cli.context import uses_runtime
from newsdedup.cli.errors import CLIError, SetupError
from newsdedup.cli.render import plural
from newsdedup.service import report
from newsdedup.service.ingest import SNIFF_BYTES, BadLine, binary_kind, read_documents
from newsdedup.service.processing import process_page
from newsdedup.service.runtime import Runtime

if TYPE_CHECKING:
    from config import Settings
    from workers.sender import Sender


# A file whose first this many documents are all bad is not a file of documents: stop.
ALL_BAD_LINES = 20


@click.command()
@click.argument(
    "path", metavar="FILE.jsonl", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option(
    "--enqueue", is_flag=True, help="Send each document to the workers instead of processing it here."
)
@click.option(
    "--source", default=None, help="Attribute every document to this source (default: by URL domain)."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@uses_runtime
def ingest(runtime: Runtime, path: Path, enqueue: bool, source: str | None, quiet: bool) -> None:
    """Process a file of documents, one JSON object per line:
    {"url", "html"?, "text"?, "title"?, "published_at"?, "language"?}.

    Prints one line per bad line (with its number) or rejected page, then a summary. Exits with
    status 1 if any line was bad; the good lines are processed all the same.
    """
    if source is not None and runtime.source_named(source) is None:
        known = ", ".join(s.name for s in runtime.sources) or "none"
        raise SetupError(f"unknown source {source!r}; known sources: {known}")
    if enqueue and runtime.settings.embedded:
        raise SetupError("--enqueue needs the workers' broker: set NEWSDEDUP_REDIS_URL")
    err = Console(stderr=True)
    counts: Counter[str] = Counter()
    total = _count_lines(path)
    sender = _sender(runtime.settings) if enqueue else None
    if sender is None:
        runtime.migrate()  # this command writes
    with (
        sender or nullcontext(),
        _open(path) as stream,
        Progress(
            TextColumn("ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=quiet or total is None or not err.is_terminal,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("ingest", total=total)
        _refuse_binary(path, stream)
        # Bad lines before the first good one are held back: if ALL_BAD_LINES of them come first,
        # the file is not one of documents, and one line says so instead of them.
        held: list[str] | None = []
        for item in read_documents(stream, runtime.settings.crawl_max_page_bytes):
            progress.advance(task)
            if isinstance(item, BadLine):
                counts["bad"] += 1
                message = f"line {item.line}: {item.reason}"
                if held is None:
                    click.echo(message, err=True)
                    continue
                held.append(message)
                if len(held) == ALL_BAD_LINES:
                    raise CLIError(
                        f"{path}: the first {ALL_BAD_LINES} documents are all bad ({message}): "
                        "is it a file of JSON lines? Stopped"
                    )
                continue
            if held:
                click.echo("\n".join(held), err=True)
            held = None
            page = item.page if source is None else item.page.model_copy(update={"source": source})
            if sender is not None:
                sender.send_page(page.model_dump(mode="json", exclude_none=True))
                counts["enqueued"] += 1
                continue
            outcome = process_page(page, runtime)
            counts[outcome.status] += 1
            if outcome.status == "rejected":
                click.echo(f"line {item.line}: {page.url}: {outcome.reason}", err=True)
    if held:
        click.echo("\n".join(held), err=True)
    click.echo(_summary(counts, runtime if not enqueue else None))
    if counts["bad"]:
        raise click.exceptions.Exit(1)


def _sender(settings: Settings) -> Sender:
    """The workers' broker (imported here: only --enqueue needs Celery)."""
    from workers.sender import Sender

    assert settings.redis_url is not None  # checked before
    return Sender(settings.redis_url, settings.broker_timeout_seconds, settings)


def _summary(counts: Counter[str], runtime: Runtime | None) -> str:
    documents = sum(counts.values())
    parts = [
        f"{counts[k]} {k}"
        for k in ("new", "joined", "updated", "unchanged", "rejected", "enqueued", "bad")
        if counts[k]
    ]
    line = f"{plural(documents, 'line')}: " + (", ".join(parts) if parts else "nothing to do")
    if runtime is not None:
        totals = report.totals(runtime)
        line += (
            f"; stored {plural(totals['articles'], 'article')} in {plural(totals['clusters'], 'cluster')} "
            f"({totals['clusters_with_copies']} with copies)"
        )
    return line


def _refuse_binary(path: Path, stream: BinaryIO) -> None:
    """Stop before the first line if the input is compressed or binary (it would be thousands of bad
    lines otherwise)."""
    peek = getattr(stream, "peek", None)
    head: bytes = peek(SNIFF_BYTES)[:SNIFF_BYTES] if peek is not None else b""
    kind = binary_kind(head)
    if kind is not None:
        hint = " (decompress it first: zcat FILE | newsdedup ingest -)" if "compressed" in kind else ""
        raise CLIError(f"{path}: {kind}, not JSON lines{hint}")


def _open(path: Path) -> BinaryIO:
    if str(path) == "-":
        stdin = sys.stdin.buffer
        # Its first bytes are looked at before it is read (_refuse_binary): a stream that cannot
        # show them without consuming them is given a buffer that can.
        if hasattr(stdin, "peek"):
            return stdin
        return io.BufferedReader(cast("io.RawIOBase", stdin))  # any binary stream with readinto will do
    try:
        return path.open("rb")
    except OSError as e:
        raise CLIError(f"{path}: cannot read: {e.strerror}") from e


def _count_lines(path: Path) -> int | None:
    """Lines in the file, for the progress bar (None for stdin)."""
    if str(path) == "-":
        return None
    try:
        with path.open("rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return None
