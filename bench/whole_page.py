"""Benchmark 2, whole page: python bench/whole_page.py [DOCS.jsonl] [ROUNDS]

Pages per second from raw HTML to a stored cluster assignment (the real ``process_page`` in the
embedded mode, a fresh SQLite file per round), against ``trafilatura.extract`` alone with its
defaults on the same pages, in the same process, alternating, the median of ROUNDS rounds (3).
One warm-up round of each runs first.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import trafilatura

from bench.texts import html_pages
from config import load_settings
from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.runtime import Runtime


def extract_only(pages: list[tuple[str, str]]) -> float:
    started = time.perf_counter()
    for url, html in pages:
        trafilatura.extract(html, url=url)
    return len(pages) / (time.perf_counter() - started)


def whole(pages: list[tuple[str, str]], database: Path, **changed: object) -> float:
    """Pages per second through ``process_page`` into a new SQLite file, with these settings changed."""
    update = {"database_url": f"sqlite:///{database}", "redis_url": None, **changed}
    settings = load_settings().model_copy(update=update)
    runtime = Runtime.from_settings(settings).migrate()
    len(runtime.index)  # schema and empty index outside the timing
    started = time.perf_counter()
    for url, html in pages:
        process_page(Page(url=url, html=html), runtime)
    rate = len(pages) / (time.perf_counter() - started)
    runtime.close()
    return rate


def main(docs: Path | None, rounds: int) -> None:
    pages = html_pages(docs)
    with tempfile.TemporaryDirectory() as tmp:
        extract_only(pages)
        whole(pages, Path(tmp) / "warm-up.db")
        baseline, ours = [], []
        for i in range(rounds):
            baseline.append(extract_only(pages))
            ours.append(whole(pages, Path(tmp) / f"round-{i}.db"))
    b, o = statistics.median(baseline), statistics.median(ours)
    print(f"{len(pages)} pages, median of {rounds} rounds, one process")
    print(f"  trafilatura.extract alone:         {b:7.1f} pages/s ({1000 / b:5.1f} ms a page)")
    print(f"  newsdedup, HTML to stored cluster: {o:7.1f} pages/s ({1000 / o:5.1f} ms a page)")
    print(f"  ratio: {o / b:.2f} (target: 1.0 or more)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
