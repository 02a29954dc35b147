"""The quality benchmark: our clusters and a naive baseline's on the same documents, scored against
a truth file side by side.

The baseline is what one would write first: the HTML stripped to text, lowercased word 5-grams,
datasketch MinHash with 128 permutations (its default hash), MinHashLSH at threshold 0.5, and the
connected components of the pairs it returns; the earliest published page is its canonical.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

import lxml.html
from datasketch import MinHash, MinHashLSH
from rich.console import Console
from rich.progress import track
from rich.table import Table

from config import load_settings
from dedup.partition import UnionFind
from newsdedup.evaluate import Scores, Truth, load_truth, score
from newsdedup.ingest import Document, read_documents
from newsdedup.report import iter_cluster_views
from workers.processing import process_page
from workers.runtime import Runtime, set_runtime

Clusters = list[tuple[str, list[str]]]
_WORD = re.compile(r"\w+")


def our_clusters(docs: Path) -> Clusters:
    """Every document through the real processing (embedded mode, a temporary SQLite file)."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings().model_copy(
            update={"database_url": f"sqlite:///{tmp}/eval.db", "redis_url": None}
        )
        runtime = Runtime.from_settings(settings)
        set_runtime(runtime)
        try:
            for item in track(list(_documents(docs)), description="newsdedup", console=Console(stderr=True)):
                process_page(item.page, runtime)
            with runtime.sessions() as session:
                return [(v.canonical.url, [m.url for m in v.members]) for v in iter_cluster_views(session)]
        finally:
            set_runtime(None)


def baseline_clusters(docs: Path) -> Clusters:
    """The naive baseline described above."""
    texts: dict[str, str] = {}
    published: dict[str, str] = {}
    for item in _documents(docs):
        html = item.page.html
        texts[item.page.url] = lxml.html.fromstring(html).text_content() if html else (item.page.text or "")
        published[item.page.url] = item.page.published_at.isoformat() if item.page.published_at else "~"
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    minhashes = {}
    for url, text in texts.items():
        words = _WORD.findall(text.lower())
        minhash = MinHash(num_perm=128)
        minhash.update_batch([" ".join(words[i : i + 5]).encode() for i in range(max(1, len(words) - 4))])
        minhashes[url] = minhash
        lsh.insert(url, minhash)
    ids = {url: i for i, url in enumerate(texts)}
    components = UnionFind(ids.values())
    for url, minhash in minhashes.items():
        for other in lsh.query(minhash):
            components.union(ids[url], ids[other])
    groups: dict[int, list[str]] = {}
    for url, i in ids.items():
        groups.setdefault(components.find(i), []).append(url)
    return [(min(members, key=lambda u: (published[u], u)), members) for members in groups.values()]


def _documents(docs: Path) -> Iterable[Document]:
    with docs.open("rb") as f:
        for item in read_documents(f):
            if isinstance(item, Document):
                yield item


def worst_errors(scores: Scores, truth: dict[str, Truth], limit: int = 10) -> list[str]:
    """False merges first (they mislead most), then missed copies of an origin, then other misses."""
    lines = [f"merged, different stories: {a}  +  {b}" for a, b in scores.false_positives]

    def missed(pair: tuple[str, str]) -> tuple[bool, str, str]:
        a, b = pair
        return (not (truth[a].role == "origin" or truth[b].role == "origin"), a, b)

    for a, b in sorted(scores.false_negatives, key=missed):
        repost = b if truth[a].role == "origin" else a
        t = truth[repost]
        lines.append(f"missed ({'+'.join(t.transforms) or t.role}, {t.language}): {a}  ~  {b}")
    return lines[:limit]


def report(console: Console, ours: Scores, baseline: Scores, truth: dict[str, Truth]) -> None:
    """Both scores side by side, recall per transform and language, and our ten worst errors."""
    table = Table(title="pairwise scores on the same documents", title_justify="left")
    table.add_column("figure")
    table.add_column("newsdedup", justify="right")
    table.add_column("baseline", justify="right")
    rows = [
        ("precision", ours.precision, baseline.precision),
        ("recall", ours.recall, baseline.recall),
        ("F1", ours.f1, baseline.f1),
        ("ARI (single-story documents)", ours.ari, baseline.ari),
        ("canonical accuracy", ours.canonical_accuracy, baseline.canonical_accuracy),
    ]
    rows += [
        (f"recall: {k}", v, baseline.recall_by_transform.get(k, 0.0))
        for k, v in ours.recall_by_transform.items()
    ]
    rows += [
        (f"recall: {k}", v, baseline.recall_by_language.get(k, 0.0))
        for k, v in ours.recall_by_language.items()
    ]
    for name, a, b in rows:
        table.add_row(name, f"{a:.3f}", f"{b:.3f}")
    console.print(table)
    console.print("ten worst errors of newsdedup:")
    for line in worst_errors(ours, truth) or ["none"]:
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)


def run(docs: Path, truth_path: Path, console: Console) -> tuple[Scores, Scores]:
    truth = load_truth(truth_path)
    console.print(f"scoring {docs} against {truth_path} ({len(truth)} documents)")
    ours = score(our_clusters(docs), truth)
    baseline = score(baseline_clusters(docs), truth)
    report(console, ours, baseline, truth)
    return ours, baseline
