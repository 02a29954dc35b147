"""The quality benchmark: our clusters and a naive baseline's on the same documents, scored against
the truth side by side: on each corpus alone, on the union of all of them ingested together, and on
the tuning and the test half of their stories (``newsdedup.corpora``).

The baseline is what one would write first: the HTML stripped to text, lowercased word 5-grams,
datasketch MinHash with 128 permutations (its default hash), MinHashLSH at threshold 0.5, and the
connected components of the pairs it returns; the earliest published page is its canonical.

Chance matches between languages grow with the square of the number of articles, so the union run
also counts the cross-language pairs examined, stored and joined, after the first half of its
documents and after all of them.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lxml.html
from datasketch import MinHash, MinHashLSH
from rich.console import Console
from rich.progress import track
from rich.table import Table

from config import load_settings
from dedup.graph import UnionFind
from newsdedup.corpora import SPLIT_SEED, Corpus, halves, interleaved, union_truth
from newsdedup.evaluate import Scores, Truth, score
from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.report import iter_cluster_views
from newsdedup.service.runtime import Runtime
from storage import views

Clusters = list[tuple[str, list[str]]]
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class CrossLanguage:
    """Cross-language candidate pairs after some documents: verified, stored as links (their evidence
    weighs), and joined (both ends ended in one cluster)."""

    documents: int
    examined: int
    stored: int
    joined: int


@dataclass
class Run:
    """One ingest of a stream of pages: the clusters, and the cross-language counts along the way."""

    clusters: Clusters
    counts: list[CrossLanguage] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    """The scores of one run on its whole truth and on its two halves, with the baseline's."""

    label: str
    truth: dict[str, Truth]
    ours: Scores
    baseline: Scores
    halves: tuple[Scores, Scores]
    baseline_halves: tuple[Scores, Scores]
    counts: list[CrossLanguage]


def our_clusters(pages: list[Page], checkpoints: Iterable[int] = ()) -> Run:
    """Every page through the real processing (embedded mode, a temporary SQLite file), counting the
    cross-language pairs after each checkpoint (a number of pages) and at the end."""
    marks = set(checkpoints)
    with tempfile.TemporaryDirectory() as tmp:
        runtime = embedded_runtime(Path(tmp) / "eval.db")
        try:
            run = Run(clusters=[])
            for done, page in enumerate(
                track(pages, description="newsdedup", console=Console(stderr=True)), 1
            ):
                process_page(page, runtime)
                if done in marks or done == len(pages):
                    run.counts.append(_cross_language(runtime, done))
            run.clusters = [
                (v.canonical.url, [m.url for m in v.members]) for v in iter_cluster_views(runtime)
            ]
            return run
        finally:
            runtime.close()


def embedded_runtime(database: Path, **settings: Any) -> Runtime:
    """A runtime, embedded (no Redis) on a fresh SQLite file, migrated, with these settings over
    the configured ones; the configured database is not touched."""
    update = {"database_url": f"sqlite:///{database}", "redis_url": None, **settings}
    return Runtime.from_settings(load_settings().model_copy(update=update)).migrate()


def _cross_language(runtime: Runtime, documents: int) -> CrossLanguage:
    with runtime.sessions() as session:
        links = views.cross_language_links(session)
    return CrossLanguage(documents, runtime.counts["cross_language_examined"], links.stored, links.joined)


def baseline_clusters(pages: list[Page]) -> Clusters:
    """The naive baseline described above."""
    texts: dict[str, str] = {}
    published: dict[str, str] = {}
    for page in pages:
        html = page.html
        texts[page.url] = lxml.html.fromstring(html).text_content() if html else (page.text or "")
        published[page.url] = page.published_at.isoformat() if page.published_at else "~"
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


def evaluate(label: str, pages: list[Page], truth: dict[str, Truth], seed: int) -> Report:
    """Our clusters and the baseline's of these pages, scored on the truth and on its halves."""
    run = our_clusters(pages, checkpoints=[len(pages) // 2])
    base = baseline_clusters(pages)
    first, second = halves(truth, seed)
    return Report(
        label=label,
        truth=truth,
        ours=score(run.clusters, truth),
        baseline=score(base, truth),
        halves=(score(run.clusters, truth, first), score(run.clusters, truth, second)),
        baseline_halves=(score(base, truth, first), score(base, truth, second)),
        counts=run.counts,
    )


def run(parts: list[Corpus], console: Console, seed: int = SPLIT_SEED) -> list[Report]:
    """Each corpus alone, then (with two or more) their union; every report printed as it is ready."""
    reports = []
    for corpus in parts:
        console.print(f"scoring {corpus.docs} ({len(corpus.truth)} documents)")
        reports.append(evaluate(corpus.name, corpus.pages(), corpus.truth, seed))
        show(console, reports[-1], seed)
    if len(parts) > 1:
        label = " + ".join(c.name for c in parts)
        truth = union_truth(parts)
        console.print(f"scoring the union {label} ({len(truth)} documents, ingested together)")
        reports.append(evaluate(f"union {label}", list(interleaved(parts, seed)), truth, seed))
        show(console, reports[-1], seed)
    return reports


def show(console: Console, report: Report, seed: int) -> None:
    """A report as a table (ours on the whole, the tuning and the test half; the baseline on the
    whole), then the cross-language counts and our ten worst errors."""
    table = Table(
        title=f"{report.label}: pairwise scores (halves: its stories split by seed {seed})",
        title_justify="left",
    )
    table.add_column("figure")
    for name in ("newsdedup", "tuning half", "test half", "baseline"):
        table.add_column(name, justify="right")
    scores = (report.ours, *report.halves, report.baseline)
    rows: list[tuple[str, list[float | None]]] = [
        ("precision", [s.precision for s in scores]),
        ("recall", [s.recall for s in scores]),
        ("F1", [s.f1 for s in scores]),
        ("ARI (single-story documents)", [s.ari for s in scores]),
        ("canonical accuracy", [s.canonical_accuracy for s in scores]),
    ]
    for key in report.ours.recall_by_transform:
        rows.append((f"recall: {key}", [s.recall_by_transform.get(key) for s in scores]))
    for key in report.ours.recall_by_language:
        rows.append((f"recall: {key}", [s.recall_by_language.get(key) for s in scores]))
    for name, values in rows:
        table.add_row(name, *("-" if v is None else f"{v:.3f}" for v in values))
    console.print(table)
    for c in report.counts:
        console.print(
            f"cross-language pairs after {c.documents} documents: {c.examined} examined, {c.stored} stored"
            f" (evidence weighs), {c.joined} joined (both ends in one cluster)"
        )
    console.print("ten worst errors of newsdedup:")
    for line in worst_errors(report.ours, report.truth) or ["none"]:
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)


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
