"""Why two stored articles are, or are not, in one cluster: every figure, and the rule that decided.

The clusters around the two are derived again (read-only, ``newsdedup.service.clustering.derive``), and the
derivation says how they came about: a direct link or a chain in one language, the translation ties
that joined their groups (each with its score and margin), a splice, or an operator override.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from dedup.attachment import Tie
from dedup.evidence import terms
from dedup.lsh import band_keys, banding
from dedup.pairs import PairVerdict
from dedup.params import Params
from dedup.partition import Partition
from dedup.signature import estimated_jaccard, from_bytes
from newsdedup.service.clustering import compare, derive
from newsdedup.service.runtime import Runtime
from storage import queries
from storage.models import Article


class UnknownArticle(LookupError):
    """No stored article has this URL."""


@dataclass(frozen=True)
class ExplainedArticle:
    """One of the two articles: where it is stored, and in which language."""

    id: int
    url: str
    cluster_id: int | None
    language: str | None


@dataclass(frozen=True)
class Explanation:
    a: ExplainedArticle
    b: ExplainedArticle
    estimated_jaccard: float | None
    lsh_would_propose: bool
    shared_anchors: int
    comparison: PairVerdict  # with the shingle overlap also across languages
    shared_terms: list[str]  # across languages: the weightiest evidence terms both have
    rule: str  # how the clusters follow, in words
    overridden: bool  # an operator override, not the links, decided


def explain(runtime: Runtime, url_a: str, url_b: str) -> Explanation:
    """Why the stored articles at these URLs are, or are not, in one cluster. Raises UnknownArticle
    for a URL that no stored article has."""
    with runtime.sessions() as session:
        return _explain(session, runtime, url_a, url_b)


def _explain(session: Session, runtime: Runtime, url_a: str, url_b: str) -> Explanation:
    a, b = (_article(session, url) for url in (url_a, url_b))
    estimate = None
    collides = False
    if a.signature is not None and b.signature is not None:
        sig_a, sig_b = from_bytes(a.signature), from_bytes(b.signature)
        estimate = estimated_jaccard(sig_a, sig_b)
        # The bands these settings give: the index itself need not be opened to compare two signatures.
        bands = banding(runtime.params.lsh_threshold, runtime.params.num_perm)
        collides = bool(set(band_keys(sig_a, *bands)) & set(band_keys(sig_b, *bands)))
    shared_anchors = int(np.intersect1d(from_bytes(a.anchors or b""), from_bytes(b.anchors or b"")).shape[0])
    comparison = compare(runtime, a, b)
    shared_terms: list[str] = []
    if comparison.agreement is not None:
        # An archived text has no terms to show (its evidence still decided the pair).
        weights = dict(terms(a.text or "", a.language))
        other = {key for key, _ in terms(b.text or "", b.language)}
        shared_terms = sorted(other & set(weights), key=lambda k: (-weights[k], k))[:12]
    d = derive(session, runtime, {a.id, b.id})
    links, constraints, derived = d.links, d.constraints, d.partition
    kinds = {c.kind for c in constraints if c.kind != "canonical" and {a.id, b.id} & c.articles}
    same = a.cluster_id == b.cluster_id
    together = _together(derived, a.id, b.id)
    overridden = bool(kinds) and same != together
    if overridden:
        rule = (
            f"same cluster {a.cluster_id}: held together by an operator merge (`clusters show` lists it)"
            if same
            else f"different clusters ({a.cluster_id}, {b.cluster_id}): kept apart by an operator split"
            " (`clusters show` lists it)"
        )
    else:
        direct = {(k.article_a, k.article_b): k.kind for k in links}
        rule = _rule(derived, a, b, direct, runtime.params)
    return Explanation(
        _explained(a),
        _explained(b),
        estimate,
        collides,
        shared_anchors,
        comparison,
        shared_terms,
        rule,
        overridden,
    )


def _article(session: Session, url: str) -> Article:
    article = queries.find_article(session, url)
    if article is None:
        raise UnknownArticle(f"no stored article has the URL {url!r}")
    return article


def _explained(article: Article) -> ExplainedArticle:
    return ExplainedArticle(article.id, article.url, article.cluster_id, article.language)


def _together(derived: Partition, a: int, b: int) -> bool:
    return any(a in c and b in c for c in derived.clusters)


def _rule(
    derived: Partition, a: Article, b: Article, direct: dict[tuple[int, int], str], params: Params
) -> str:
    """How the links make the two one cluster, or keep them apart."""
    bar = params.translation_min_score
    same = a.cluster_id == b.cluster_id
    where = f"same cluster {a.cluster_id}" if same else f"different clusters ({a.cluster_id}, {b.cluster_id})"
    for spliced, other in ((a, b), (b, a)):
        if spliced.id in derived.spliced:
            home = "joined" if same else "did not join"
            return (
                f"{where}: article {spliced.id} is a spliced post (two passages, each matching another"
                f" story); it joined the story that accounts for most of it, so it {home}"
                f" article {other.id}'s, and a splice never merges the stories it carries"
            )
    ga, gb = derived.group_of.get(a.id), derived.group_of.get(b.id)
    kind = direct.get((min(a.id, b.id), max(a.id, b.id)))
    if ga is not None and ga == gb:
        if kind is not None and kind not in ("translation", "source"):
            return f"{where}: linked directly ({kind})"
        return f"{where}: linked through other copies in one language"
    ties = {(t.group_a, t.group_b): t for t in derived.ties}
    if same and ga is not None and gb is not None:
        path = _tie_path([t for t in derived.ties if t.merged], ga, gb)
        if path:
            steps = "; ".join(_tie_words(t) for t in path)
            return f"{where}: their groups joined by accepted translation ties, leader to leader: {steps}"
    if ga is None or gb is None:
        return f"{where}: not linked"
    tie = ties.get((min(ga, gb), max(ga, gb)))
    if tie is None:
        return f"{where}: no translation tie between their groups" if not same else f"{where}"
    if not tie.accepted:
        if tie.score < bar:
            return f"{where}: the translation tie abstains: score {_below(tie.score, bar)} below {bar}"
        if tie.matches < params.translation_min_matches:
            return (
                f"{where}: the translation tie abstains: score {tie.score:.3f} over only {tie.matches}"
                f" terms (a translation needs {params.translation_min_matches})"
            )
        return (
            f"{where}: the translation tie abstains: score {tie.score:.3f} does not stand out from the"
            f" background {tie.background:.3f} (margin {tie.margin:.1f}, a translation needs"
            f" {params.translation_margin})"
        )
    return (
        f"{where}: the translation tie ({tie.score:.3f}, margin {_margin(tie)}) was accepted, but the"
        " clusters' leaders (their canonical groups) do not match, so it does not merge them"
    )


def _tie_path(ties: list[Tie], start: int, goal: int) -> list[Tie]:
    """The merged ties from group ``start`` to group ``goal`` (breadth first), or none."""
    by_group: dict[int, list[Tie]] = {}
    for t in ties:
        by_group.setdefault(t.group_a, []).append(t)
        by_group.setdefault(t.group_b, []).append(t)
    previous: dict[int, Tie | None] = {start: None}
    queue = deque([start])
    while queue and goal not in previous:
        group = queue.popleft()
        for t in sorted(by_group.get(group, []), key=lambda t: (t.group_a, t.group_b)):
            nxt = t.group_b if t.group_a == group else t.group_a
            if nxt not in previous:
                previous[nxt] = t
                queue.append(nxt)
    if goal not in previous:
        return []
    path: list[Tie] = []
    group = goal
    while (step := previous[group]) is not None:
        path.append(step)
        group = step.group_a if step.group_b == group else step.group_b
    return path[::-1]


def _below(score: float, bar: float) -> str:
    """A score under the bar, with as many decimals as it takes to show that it is under."""
    return f"{score:.3f}" if round(score, 3) < bar else f"{score:.4f}"


def _tie_words(t: Tie) -> str:
    return f"article {t.a} ~ article {t.b}, score {t.score:.3f}, margin {_margin(t)}"


def _margin(t: Tie) -> str:
    return "no background" if t.background <= 0 else f"{t.margin:.1f} over background {t.background:.3f}"
