"""Development corpora for scoring: a folder with ``docs.jsonl`` and ``truth.jsonl``, or the two files.

Several corpora are scored alone and ingested together (their *union*), with each corpus's story ids
prefixed by its name so that two corpora's "s0001" stay two stories. Thresholds are chosen on one
half of the stories and reported on the other: ``halves`` splits the stories of a truth by a seeded
hash of their ids, so the split is the same on every machine and does not depend on file order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import xxhash

from newsdedup.evaluate import Truth, load_truth
from newsdedup.service.ingest import PageLine, read_documents
from newsdedup.service.page import Page

#: The seed of the split into a tuning and a test half (the defaults were chosen on the tuning half).
SPLIT_SEED = 20261202


class CorpusError(ValueError):
    """A corpus argument that names no docs.jsonl and truth.jsonl."""


@dataclass(frozen=True)
class Corpus:
    """A corpus: its name, its documents file and its truth (story ids as in the file)."""

    name: str
    docs: Path
    truth: dict[str, Truth]

    def pages(self) -> list[Page]:
        """Every valid document of the docs file, in file order."""
        with self.docs.open("rb") as f:
            return [item.page for item in read_documents(f) if isinstance(item, PageLine)]


def corpora(arguments: Iterable[Path]) -> list[Corpus]:
    """Corpora from the command line: folders holding docs.jsonl and truth.jsonl, or pairs of files
    (DOCS.jsonl TRUTH.jsonl)."""
    found: list[Corpus] = []
    pending: Path | None = None
    for path in arguments:
        if path.is_dir():
            docs, truth = path / "docs.jsonl", path / "truth.jsonl"
            if not (docs.is_file() and truth.is_file()):
                raise CorpusError(f"{path}: a corpus folder holds docs.jsonl and truth.jsonl")
            found.append(Corpus(path.resolve().name, docs, load_truth(truth)))
        elif pending is None:
            pending = path
        else:
            found.append(Corpus(pending.resolve().parent.name or pending.stem, pending, load_truth(path)))
            pending = None
    if pending is not None:
        raise CorpusError(f"{pending}: a documents file needs its truth file after it")
    if not found:
        raise CorpusError("no corpus given")
    names = [c.name for c in found]
    return [replace(c, name=f"{c.name}-{i}") if names.count(c.name) > 1 else c for i, c in enumerate(found)]


def union_truth(parts: Iterable[Corpus]) -> dict[str, Truth]:
    """The truths of several corpora as one, each story id prefixed by its corpus's name."""
    merged: dict[str, Truth] = {}
    for corpus in parts:
        for url, t in corpus.truth.items():
            merged[url] = replace(t, stories=frozenset(f"{corpus.name}:{s}" for s in t.stories))
    return merged


def halves(truth: dict[str, Truth], seed: int = SPLIT_SEED) -> tuple[set[str], set[str]]:
    """The documents of a tuning and of a test half of the stories: a story goes to the tuning half
    when a seeded hash of its id is even. A document goes with its stories; a spliced post whose two
    stories fall in different halves is in neither (it is right with either story, which one half
    alone cannot tell). Score a half with ``newsdedup.evaluate.score(..., only=half)``."""

    def tuning(story: str) -> bool:
        return xxhash.xxh32_intdigest(story.encode(), seed=seed) % 2 == 0

    first = {u for u, t in truth.items() if all(tuning(s) for s in t.stories)}
    second = {u for u, t in truth.items() if not any(tuning(s) for s in t.stories)}
    return first, second


def interleaved(parts: list[Corpus], seed: int = SPLIT_SEED) -> Iterator[Page]:
    """The pages of several corpora as one stream, in an order fixed by the seed (the documents of a
    real crawl do not arrive corpus by corpus)."""
    pages = [page for corpus in parts for page in corpus.pages()]
    yield from sorted(pages, key=lambda p: xxhash.xxh64_intdigest(p.url.encode(), seed=seed))
