"""Cost of the cross-language stage: python bench/crosslang.py DOCS.jsonl [ROUNDS]

Processes the same documents (the real process_page, embedded mode, a fresh SQLite file per run)
with translations off and on, alternating, after one warm-up run, and prints the time per page of
each and the ratio. The one-off cost of loading the dictionaries and frequency lists in a new
process is measured and printed on its own.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from config import load_settings
from dedup import glossary
from dedup.evidence import evidence
from newsdedup.service.ingest import PageLine, read_documents
from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.runtime import Runtime


def pages(docs: Path) -> list[Page]:
    with docs.open("rb") as f:
        return [item.page for item in read_documents(f) if isinstance(item, PageLine)]


def run(batch: list[Page], translations: bool, workdir: Path, name: str) -> float:
    """Seconds per page for the whole batch, on a fresh database."""
    settings = load_settings().model_copy(
        update={
            "database_url": f"sqlite:///{workdir}/{name}.db",
            "redis_url": None,
            "translations": translations,
        }
    )
    runtime = Runtime.from_settings(settings).migrate()
    len(runtime.index)  # open the schema and the empty index outside the timing
    started = time.perf_counter()
    for page in batch:
        process_page(page, runtime)
    elapsed = time.perf_counter() - started
    runtime.close()
    return elapsed / len(batch)


def main(docs: Path, rounds: int) -> None:
    batch = pages(docs)
    started = time.perf_counter()
    glossary.chinese()
    glossary.japanese()
    evidence("warm up the frequency lists: Vienna 2021 Berlin", "en")
    loaded = time.perf_counter() - started
    print(f"one-off per process: dictionaries and frequency lists loaded in {loaded:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        run(batch, True, work, "warm-up")
        off: list[float] = []
        on: list[float] = []
        for i in range(rounds):
            off.append(run(batch, False, work, f"off-{i}"))
            on.append(run(batch, True, work, f"on-{i}"))
    base, full = statistics.median(off), statistics.median(on)
    print(f"{len(batch)} pages, median of {rounds} rounds each")
    print(f"  per page without the cross-language stage: {base * 1000:7.2f} ms")
    print(f"  per page with it:                          {full * 1000:7.2f} ms")
    print(f"  ratio with/without: {full / base:.3f} (+{(full / base - 1) * 100:.1f} %)")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python bench/crosslang.py DOCS.jsonl [ROUNDS]")
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) == 3 else 3)
