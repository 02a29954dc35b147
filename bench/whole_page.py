"""Benchmark 2, whole page: python -m bench.whole_page [DOCS.jsonl ...] [--rounds N]

Pages per second from raw HTML to a stored cluster assignment (the real ``process_page`` in the
embedded mode, a fresh SQLite file per round), against ``trafilatura.extract`` alone with its
defaults on the same pages, in the same process, alternating, the median of N rounds (3). One
warm-up round of each runs first. The pages are those of both shared corpora when they are beside
the checkout (else the demo's fixture pages), or of the files named.

Then, from one more instrumented round, where a page's time goes: each stage's own share (the
stages are the functions named, timed where ``process_page`` calls them, so the shares add up).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import trafilatura

from bench.texts import CORPUS, html_pages
from config import load_settings
from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.runtime import Runtime

CORPORA = (CORPUS, CORPUS.parent.parent / "corpus2" / "docs.jsonl")
# (module, function): where process_page's time goes, timed where they are called from.
STAGES = (
    ("dedup.document", "extract"),
    ("dedup.document", "strip_residue"),
    ("dedup.document", "detect_language"),
    ("dedup.document", "describe"),
    ("newsdedup.service.processing", "candidates"),
    ("newsdedup.service.processing", "verify"),
    ("newsdedup.service.processing", "record_page_lines"),
    ("newsdedup.service.processing", "recluster"),
)


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


@contextmanager
def timed_stages(totals: dict[str, float]) -> Iterator[None]:
    """Time each of STAGES where it is called (its module's name for it is wrapped) while inside."""
    import importlib

    saved: list[tuple[Any, str, Callable[..., Any]]] = []
    for module_name, name in STAGES:
        module = importlib.import_module(module_name)
        original = getattr(module, name)

        def timed(*args: Any, _f: Callable[..., Any] = original, _n: str = name, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                totals[_n] += time.perf_counter() - started

        saved.append((module, name, original))
        setattr(module, name, timed)
    try:
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def main(docs: list[Path], rounds: int) -> None:
    pages = [page for path in docs for page in html_pages(path)] if docs else html_pages()
    with tempfile.TemporaryDirectory() as tmp:
        extract_only(pages)
        whole(pages, Path(tmp) / "warm-up.db")
        baseline, ours = [], []
        for i in range(rounds):
            baseline.append(extract_only(pages))
            ours.append(whole(pages, Path(tmp) / f"round-{i}.db"))
        totals: dict[str, float] = defaultdict(float)
        with timed_stages(totals):
            started = time.perf_counter()
            whole(pages, Path(tmp) / "stages.db")
            elapsed = time.perf_counter() - started
    b, o = statistics.median(baseline), statistics.median(ours)
    source = ", ".join(str(p) for p in docs) or "the demo's fixture pages"
    print(f"{len(pages)} pages ({source}), median of {rounds} rounds, one process")
    print(f"  trafilatura.extract alone:         {b:7.1f} pages/s ({1000 / b:5.1f} ms a page)")
    print(f"  newsdedup, HTML to stored cluster: {o:7.1f} pages/s ({1000 / o:5.1f} ms a page)")
    print(f"  ratio: {o / b:.2f} (target: 1.0 or more)")
    print(
        f"  where a page's time goes (one instrumented round, {1000 * elapsed / len(pages):.1f} ms a page):"
    )
    for _, name in STAGES:
        print(f"    {name:<18} {1000 * totals[name] / len(pages):6.2f} ms  {totals[name] / elapsed:6.1%}")
    rest = elapsed - sum(totals.values())
    print(f"    {'the rest':<18} {1000 * rest / len(pages):6.2f} ms  {rest / elapsed:6.1%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docs", nargs="*", type=Path, help="docs.jsonl files (default: both shared corpora)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    default = [p for p in CORPORA if p.exists()]
    main(args.docs or default, args.rounds)
