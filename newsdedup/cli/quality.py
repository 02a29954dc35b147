"""``newsdedup eval CORPUS...``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from newsdedup.cli.errors import SetupError
from newsdedup.corpora import SPLIT_SEED, CorpusError, corpora


@click.command("eval")
@click.argument("corpus", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--seed",
    type=int,
    default=SPLIT_SEED,
    show_default=True,
    help="Seed of the split of the stories into a tuning and a test half.",
)
def evaluate(corpus: tuple[Path, ...], seed: int) -> None:
    """Score newsdedup's clusters of each CORPUS beside a naive MinHash baseline's, and with two or more
    corpora those of their union ingested together; each on all its stories and on the tuning and the
    test half of them. A CORPUS is a folder holding docs.jsonl (an ingest file) and truth.jsonl (one
    {"url", "stories", "role", "transform", "language"} per line), or the two files, DOCS TRUTH.

    Runs in temporary SQLite databases; the configured database is not touched.
    """
    from newsdedup.quality import run  # its naive baseline imports datasketch: only this command needs it

    try:
        parts = corpora(corpus)
    except CorpusError as e:
        raise SetupError(str(e)) from e
    run(parts, Console(), seed)
