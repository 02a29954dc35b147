"""Why two stored articles are, or are not, in one cluster: every figure and the rule that decided."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from dedup.evidence import Agreement, terms
from dedup.overlap import Overlap, Verdict
from dedup.signature import estimated_jaccard, from_bytes
from storage import queries
from storage.models import Article, Link
from workers.clustering import verdict_between
from workers.runtime import Runtime


class UnknownArticle(LookupError):
    """No stored article has this URL."""


@dataclass(frozen=True)
class Explanation:
    a: Article
    b: Article
    estimated_jaccard: float | None
    lsh_would_propose: bool
    shared_anchors: int
    overlap: Overlap
    verdict: Verdict
    agreement: Agreement | None  # across languages: how their evidence agrees
    shared_terms: list[str]  # across languages: the weightiest evidence terms both have
    linked: bool
    path: list[Article]  # a chain of links from a to b, when they are in one cluster without a direct link
    related: bool  # one is a spliced post that carries the other's story


def explain(session: Session, runtime: Runtime, url_a: str, url_b: str) -> Explanation:
    a, b = (_article(session, url) for url in (url_a, url_b))
    estimate = None
    collides = False
    if a.signature is not None and b.signature is not None:
        sig_a, sig_b = from_bytes(a.signature), from_bytes(b.signature)
        estimate = estimated_jaccard(sig_a, sig_b)
        lsh = runtime.index.lsh
        collides = any(x == y for x, y in zip(lsh.band_keys(sig_a), lsh.band_keys(sig_b), strict=True))
    shared_anchors = int(np.intersect1d(from_bytes(a.anchors or b""), from_bytes(b.anchors or b"")).shape[0])
    o, verdict, agreed = verdict_between(runtime, a, b)
    shared_terms: list[str] = []
    if agreed is not None:
        weights = dict(terms(a.text, a.language))
        other = {key for key, _ in terms(b.text, b.language)}
        shared_terms = sorted(other & set(weights), key=lambda k: (-weights[k], k))[:12]
    nodes, links = queries.component(session, {a.id})
    linked = any({k.article_a, k.article_b} == {a.id, b.id} for k in links)
    path = _path(session, a.id, b.id, links) if b.id in nodes and not linked else []
    related = bool(
        set(queries.related_clusters(session, [a.id]).get(a.id, [])) & {b.cluster_id}
        or set(queries.related_clusters(session, [b.id]).get(b.id, [])) & {a.cluster_id}
    )
    return Explanation(
        a, b, estimate, collides, shared_anchors, o, verdict, agreed, shared_terms, linked, path, related
    )


def _article(session: Session, url: str) -> Article:
    article = queries.find_article(session, url)
    if article is None:
        raise UnknownArticle(f"no stored article has the URL {url!r}")
    return article


def _path(session: Session, start: int, goal: int, links: list[Link]) -> list[Article]:
    """The shortest chain of links from start to goal (breadth first), as articles."""
    neighbours: dict[int, list[int]] = {}
    for k in links:
        neighbours.setdefault(k.article_a, []).append(k.article_b)
        neighbours.setdefault(k.article_b, []).append(k.article_a)
    previous: dict[int, int] = {start: start}
    frontier = [start]
    while frontier and goal not in previous:
        reached = []
        for node in frontier:
            for n in sorted(neighbours.get(node, [])):
                if n not in previous:
                    previous[n] = node
                    reached.append(n)
        frontier = reached
    if goal not in previous:
        return []
    chain = [goal]
    while chain[-1] != start:
        chain.append(previous[chain[-1]])
    return [session.get_one(Article, n) for n in reversed(chain)]
