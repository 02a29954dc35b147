"""``newsdedup eval DOCS TRUTH``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from newsdedup.quality import run

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("eval")
@click.argument("docs", type=_FILE)
@click.argument("truth", type=_FILE)
def evaluate(docs: Path, truth: Path) -> None:
    """Score newsdedup's clusters of DOCS (an ingest file) against TRUTH (one {"url", "stories",
    "role", "transform", "language"} per line), beside a naive MinHash baseline on the same documents.

    Runs in a temporary SQLite database; the configured database is not touched.
    """
    run(docs, truth, Console())
