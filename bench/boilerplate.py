"""Benchmark: the cost of the host boilerplate rule. python -m bench.boilerplate [DOCS.jsonl] [ROUNDS]

Pages per second from raw HTML to a stored cluster assignment (``bench.whole_page.whole``: the real
``process_page``, embedded, a fresh SQLite file per round) with the rule on (BOILERPLATE_MIN_PAGES 5,
the default) against the same pages with it off (0), alternating in one process, the median of ROUNDS
rounds (3) after one warm-up round of each.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from bench.texts import html_pages
from bench.whole_page import whole


def main(docs: Path | None, rounds: int) -> None:
    pages = html_pages(docs)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        whole(pages, folder / "warm-up-off.db", boilerplate_min_pages=0)
        whole(pages, folder / "warm-up-on.db")
        off, on = [], []
        for i in range(rounds):
            off.append(whole(pages, folder / f"off-{i}.db", boilerplate_min_pages=0))
            on.append(whole(pages, folder / f"on-{i}.db"))
    o, n = statistics.median(off), statistics.median(on)
    print(f"{len(pages)} pages, median of {rounds} rounds, one process")
    print(f"  rule off (BOILERPLATE_MIN_PAGES=0): {o:6.1f} pages/s ({1000 / o:5.1f} ms a page)")
    print(f"  rule on (the default, 5):           {n:6.1f} pages/s ({1000 / n:5.1f} ms a page)")
    print(f"  ratio on/off: {n / o:.2f} ({1000 / n - 1000 / o:+.2f} ms a page)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
