"""Scoring clusters against a truth file (``truth.jsonl`` of the development corpus).

Pairwise precision, recall and F1 over same-story document pairs; a spliced post (two stories)
is right in either story's cluster, so its pairs with the story it was not put with are left out
of both counts. ARI over the documents that tell one story. Recall per transform and per
language; canonical accuracy over clusters with copies.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from math import comb
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Truth:
    """What the truth file says of one document."""

    url: str
    stories: frozenset[str]
    role: str
    transforms: tuple[str, ...]
    language: str


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    ari: float
    canonical_accuracy: float
    recall_by_transform: dict[str, float] = field(default_factory=dict)
    recall_by_language: dict[str, float] = field(default_factory=dict)
    false_negatives: list[tuple[str, str]] = field(default_factory=list)
    false_positives: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not isinstance(v, list)}


def load_truth(path: Path) -> dict[str, Truth]:
    truth: dict[str, Truth] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                truth[d["url"]] = Truth(
                    d["url"], frozenset(d["stories"]), d["role"], tuple(d.get("transform", [])), d["language"]
                )
    return truth


def load_clusters(path: Path) -> list[tuple[str, list[str]]]:
    """(canonical URL, member URLs) of each line of a ``clusters export`` file."""
    clusters = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                clusters.append((d["canonical_url"], [m["url"] for m in d["members"]]))
    return clusters


def score(
    clusters: Iterable[tuple[str, list[str]]], truth: dict[str, Truth], only: set[str] | None = None
) -> Scores:
    """How well the clusters (canonical URL, member URLs) match the truth. With ``only`` (a set of
    URLs, e.g. the documents of half the stories), only pairs with at least one document in it count,
    ARI is over those documents and canonical accuracy over clusters whose majority story they tell:
    a false merge of one of them with any other document still counts."""
    clusters = list(clusters)
    cluster_of: dict[str, int] = {}
    for number, (_, members) in enumerate(clusters):
        for url in members:
            if url in truth:
                cluster_of[url] = number
    missing = sorted(set(truth) - set(cluster_of))
    for url in missing:  # an unstored document counts as a cluster of its own
        cluster_of[url] = -1 - len(cluster_of)
    story_of = _placed_story(truth, cluster_of)

    tp = fp = fn = 0
    false_negatives: list[tuple[str, str]] = []
    false_positives: list[tuple[str, str]] = []
    found_by: dict[str, Counter[str]] = defaultdict(Counter)
    for a, b in combinations(sorted(truth), 2):
        if only is not None and a not in only and b not in only:
            continue
        ta, tb = truth[a], truth[b]
        together = cluster_of[a] == cluster_of[b]
        shared = ta.stories & tb.stories
        if shared and not (story_of[a] in tb.stories and story_of[b] in ta.stories):
            continue  # a spliced post, placed with its other story: neither right nor wrong
        if shared:
            for t in (ta, tb):
                if t.role != "origin":
                    for key in (*(f"t:{x}" for x in t.transforms), f"l:{t.language}"):
                        found_by[key]["all"] += 1
                        found_by[key]["found"] += together
            if together:
                tp += 1
            else:
                fn += 1
                false_negatives.append((a, b))
        elif together:
            fp += 1
            false_positives.append((a, b))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    by = {k: v["found"] / v["all"] for k, v in found_by.items() if v["all"]}
    return Scores(
        precision=precision,
        recall=recall,
        f1=f1,
        ari=_ari(truth if only is None else {u: t for u, t in truth.items() if u in only}, cluster_of),
        canonical_accuracy=_canonical_accuracy(clusters, truth, only),
        recall_by_transform={k[2:]: v for k, v in sorted(by.items()) if k.startswith("t:")},
        recall_by_language={k[2:]: v for k, v in sorted(by.items()) if k.startswith("l:")},
        false_negatives=false_negatives,
        false_positives=false_positives,
        missing=missing,
    )


def _placed_story(truth: dict[str, Truth], cluster_of: dict[str, int]) -> dict[str, str]:
    """Each document's story; for a spliced post, the one most of its cluster-mates tell."""
    mates: dict[int, Counter[str]] = defaultdict(Counter)
    for url, t in truth.items():
        if len(t.stories) == 1:
            mates[cluster_of[url]].update(t.stories)
    placed = {}
    for url, t in truth.items():
        counts = mates[cluster_of[url]]
        placed[url] = max(sorted(t.stories), key=lambda s: counts[s])
    return placed


def _ari(truth: dict[str, Truth], cluster_of: dict[str, int]) -> float:
    """Adjusted Rand index over the documents that tell one story."""
    urls = [u for u, t in truth.items() if len(t.stories) == 1]
    if len(urls) < 2:
        return 1.0
    joint = Counter((next(iter(truth[u].stories)), cluster_of[u]) for u in urls)
    rows = Counter(next(iter(truth[u].stories)) for u in urls)
    cols = Counter(cluster_of[u] for u in urls)
    index = sum(comb(n, 2) for n in joint.values())
    a = sum(comb(n, 2) for n in rows.values())
    b = sum(comb(n, 2) for n in cols.values())
    expected = a * b / comb(len(urls), 2)
    maximum = (a + b) / 2
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)


def _canonical_accuracy(
    clusters: list[tuple[str, list[str]]], truth: dict[str, Truth], only: set[str] | None = None
) -> float:
    """Share of clusters with copies whose canonical is the origin of their majority story."""
    origin = {s: u for u, t in truth.items() if t.role == "origin" for s in t.stories}
    judged = right = 0
    for canonical, members in clusters:
        known = [truth[u] for u in members if u in truth]
        if len(known) < 2:
            continue
        stories = Counter(s for t in known for s in t.stories)
        top = max(sorted(stories), key=lambda s: stories[s])
        if only is not None and origin.get(top) not in only:
            continue
        judged += 1
        right += canonical == origin.get(top)
    return right / judged if judged else 1.0
