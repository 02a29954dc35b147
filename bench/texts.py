"""Texts and pages for the benchmarks: the development corpus when it is beside the checkout,
else the project's own fixture stories and demo sites."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "docs.jsonl"


def html_pages(path: Path | None = None) -> list[tuple[str, str]]:
    """(url, html) of every page: the corpus's documents, or the demo's fixture article pages."""
    path = path or CORPUS
    if path.exists():
        with path.open(encoding="utf-8") as f:
            return [(d["url"], d["html"]) for d in map(json.loads, f) if d.get("html")]
    sites = ROOT / "newsdedup" / "demo" / "sites"
    pages = []
    for file in sorted(sites.rglob("index.html")):
        html = file.read_bytes().decode("utf-8", errors="replace")
        if 'content="article"' in html:
            host = file.relative_to(sites).parts[0]
            pages.append((f"http://{host}/{file.parent.relative_to(sites / host)}/", html))
    return pages


def word_windows(texts: list[str], words: int, count: int) -> list[str]:
    """``count`` texts of ``words`` words each, cut from the given texts in turn."""
    pool = " ".join(texts).split()
    if not pool:
        raise ValueError("no words to cut texts from")
    out: list[str] = []
    start = 0
    while len(out) < count:
        window = [pool[(start + i) % len(pool)] for i in range(words)]
        out.append(" ".join(window))
        start += words // 2 + 7  # overlapping windows: some near-copies, as in a real stream
    return out
