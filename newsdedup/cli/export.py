"""The formats of `clusters export`, and its progress bar.

A crawled URL may carry a password (user:pw@host): no output of the command line shows one, so every
line and every cell goes through ``redact_text``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from config.redact import redact_text
from newsdedup.service.report import ClusterView

CSV_COLUMNS = (
    "cluster_id",
    "canonical_url",
    "size",
    "url",
    "similarity",
    "language",
    "is_canonical",
    "title",
    "source",
    "published_at",
)

Advance = Callable[[], None]


def write_jsonl(out: TextIO, views: Iterable[ClusterView], advance: Advance) -> int:
    """One JSON line per cluster (``ClusterView.as_dict``). Returns the number of clusters."""
    count = 0
    for view in views:
        out.write(redact_text(json.dumps(view.as_dict(), ensure_ascii=False)) + "\n")
        count += 1
        advance()
    return count


def write_csv(out: TextIO, views: Iterable[ClusterView], advance: Advance) -> int:
    """A header, then one row per member of every cluster, canonical first (``CSV_COLUMNS``; empty
    cells for unknown values, ``true``/``false`` for is_canonical). Returns the number of clusters."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for view in views:
        for m in view.members:
            row = {
                "cluster_id": view.id,
                "canonical_url": view.canonical.url,
                "size": len(view.members),
                "url": m.url,
                "similarity": "" if m.similarity is None else m.similarity,
                "language": m.language or "",
                "is_canonical": "true" if m.is_canonical else "false",
                "title": m.title or "",
                "source": m.source or "",
                "published_at": m.published_at.isoformat() if m.published_at else "",
            }
            writer.writerow([redact_text(str(row[c])) for c in CSV_COLUMNS])
        count += 1
        advance()
    return count


@contextmanager
def export_progress(total: int, to_terminal: bool) -> Iterator[Advance]:
    """A progress bar on stderr when it is a terminal and the export does not go to that terminal;
    otherwise nothing."""
    err = Console(stderr=True)
    columns = (TextColumn("export"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=to_terminal or not err.is_terminal, transient=True) as bar:
        task = bar.add_task("export", total=total)
        yield lambda: bar.advance(task)
