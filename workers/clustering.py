"""Links and clusters in the database: find candidates, verify them into links, re-derive the
clusters.

Finding and verifying only read, and run before the assignment lock; storing links and deriving
clusters run inside the assignment transaction (``storage.queries.lock_assignment``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dedup.anchors import anchors
from dedup.canonical import choose_canonical
from dedup.crosslang import Match, Span, match, time_factor
from dedup.document import Document
from dedup.evidence import Evidence, evidence
from dedup.overlap import Overlap, Verdict, judge, overlap, spans
from dedup.overrides import Constraint, apply, chosen_canonical
from dedup.params import Params
from dedup.partition import Partition, partition
from dedup.shingles import Hashes, shingle_hashes, shingle_sequence
from dedup.signature import from_bytes, to_bytes
from dedup.urls import normalize_url
from storage import queries
from storage.models import Article, Cluster, Link, Related
from workers.runtime import Runtime


@dataclass(frozen=True)
class Draft:
    """A verified link from the article being stored to ``other``, not yet written. In one language
    ``shared`` and the sizes count shingles; across languages they are evidence weights in tenths."""

    other: int
    other_hash: str
    kind: str
    shared: int
    size_mine: int
    size_other: int
    score: float | None
    similarity: float
    matches: int = 0
    span_mine: Span | None = None
    span_other: Span | None = None


def candidates(
    session: Session, runtime: Runtime, document: Document, url_key: str, claim_key: str | None
) -> tuple[set[int], set[int]]:
    """The stored articles that may tell the document's story, and those of them that a source link
    ties to it (its claimed source, or pages claiming it)."""
    found, named = queries.direct_candidates(session, document.content_hash, url_key, claim_key)
    if document.signature is not None:
        rare = document.evidence.rare(runtime.params.evidence_min_weight)
        found |= runtime.index.query(document.signature, document.anchors, rare) | named
    return found, named


def verify(
    session: Session, runtime: Runtime, document: Document, ids: set[int], named: set[int]
) -> tuple[list[Draft], dict[int, str]]:
    """The candidates that tell the same story, by the exact rules (``dedup.overlap``), and the
    candidates in other languages whose evidence agrees enough to weigh (``dedup.crosslang``), as
    drafts of links; and the content hash of every candidate examined (an id in the index whose row
    is not committed yet is not examined). Reads only: it runs outside the assignment lock."""
    params = runtime.params
    drafts = []
    found = queries.comparables(session, ids)
    for other, theirs in sorted(found.items()):
        if _languages_differ(document.language, theirs.language):
            runtime.counts["cross_language_examined"] += 1
            days = _days_apart(document.published_at, theirs.published_at)
            theirs_evidence = Evidence.from_bytes(theirs.evidence or b"")
            draft = _translation_draft(
                other, theirs.content_hash, document, theirs_evidence, days, other in named, params
            )
            if draft is not None:
                runtime.counts["cross_language_stored"] += 1
                drafts.append(draft)
            continue
        sequence = from_bytes(theirs.shingles or b"")
        o = overlap(document.hashes, np.sort(sequence))
        verdict = judge(o, params, identical=theirs.content_hash == document.content_hash)
        if verdict.kind is not None:
            # Where the two agree: a spliced post is recognised by its passages.
            span_mine, span_other = spans(document.sequence, sequence)
            drafts.append(
                Draft(
                    other,
                    theirs.content_hash,
                    verdict.kind,
                    o.shared,
                    o.size_a,
                    o.size_b,
                    None,
                    o.jaccard,
                    0,
                    span_mine,
                    span_other,
                )
            )
    return drafts, {other: theirs.content_hash for other, theirs in found.items()}


def pair_score(agreed: Match, days_apart: float | None, claimed: bool, params: Params) -> tuple[str, float]:
    """The kind and score of a cross-language pair: its evidence score times the time factor, or, when
    one names the other as its source and their evidence agrees at all, at least ``source_link_score``."""
    score = agreed.score * time_factor(
        days_apart, params.translation_time_grace_days, params.translation_time_scale_days
    )
    if claimed and agreed.score >= params.source_link_min_score:
        return "source", max(score, params.source_link_score)
    return "translation", score


def _translation_draft(
    other: int,
    other_hash: str,
    document: Document,
    theirs: Evidence,
    days_apart: float | None,
    claimed: bool,
    params: Params,
) -> Draft | None:
    agreed = match(document.evidence, theirs)
    kind, score = pair_score(agreed, days_apart, claimed, params)
    if kind != "source" and score < params.evidence_link_min_score:
        return None
    # Weights in tenths: the partition reads shared / size as the share of each side that is matched.
    return Draft(
        other,
        other_hash,
        kind,
        round(agreed.common * 10),
        round(agreed.total_a * 10),
        round(agreed.total_b * 10),
        score,
        score,
        agreed.matches,
        agreed.span_a,
        agreed.span_b,
    )


def store_links(session: Session, article_id: int, drafts: list[Draft]) -> None:
    """Write the drafts as links from the stored article (lower id first in each link)."""
    for d in drafts:
        mine_first = article_id < d.other
        a, b = (article_id, d.other) if mine_first else (d.other, article_id)
        size_a, size_b = (d.size_mine, d.size_other) if mine_first else (d.size_other, d.size_mine)
        span_a, span_b = (d.span_mine, d.span_other) if mine_first else (d.span_other, d.span_mine)
        session.add(
            Link(
                article_a=a,
                article_b=b,
                kind=d.kind,
                score=d.score,
                shared=d.shared,
                size_a=size_a,
                size_b=size_b,
                matches=d.matches,
                span_a_from=span_a[0] if span_a else None,
                span_a_to=span_a[1] if span_a else None,
                span_b_from=span_b[0] if span_b else None,
                span_b_to=span_b[1] if span_b else None,
            )
        )


def link(
    session: Session,
    runtime: Runtime,
    article_id: int,
    document: Document,
    url_key: str,
    claim_key: str | None,
    earlier_only: bool = False,
) -> list[Draft]:
    """Find, verify and store in one go (with ``earlier_only``, only to articles with a lower id)."""
    found, named = candidates(session, runtime, document, url_key, claim_key)
    found = {c for c in found if c < article_id or (c > article_id and not earlier_only)}
    drafts, _ = verify(session, runtime, document, found, named)
    store_links(session, article_id, drafts)
    return drafts


def _languages_differ(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a != b


def _days_apart(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return abs((a.replace(tzinfo=None) - b.replace(tzinfo=None)).total_seconds()) / 86400


@dataclass(frozen=True)
class Comparison:
    """Two stored articles side by side (for ``clusters why``): their exact overlap, the verdict in one
    language, and across languages their evidence match and the pair's kind and score."""

    overlap: Overlap
    verdict: Verdict
    agreement: Match | None
    kind: str | None
    score: float | None


def compare(runtime: Runtime, a: Article, b: Article) -> Comparison:
    """What verification finds for two stored articles."""
    params = runtime.params
    o = overlap(
        shingle_hashes(a.text, params.shingle_words, params.shingle_chars),
        shingle_hashes(b.text, params.shingle_words, params.shingle_chars),
    )
    verdict = judge(o, params, identical=a.content_hash == b.content_hash)
    if not _languages_differ(a.language, b.language):
        return Comparison(o, verdict, None, verdict.kind, None)
    agreed = match(Evidence.from_bytes(a.evidence or b""), Evidence.from_bytes(b.evidence or b""))
    claimed = (a.claim_key is not None and a.claim_key == b.url_key) or (
        b.claim_key is not None and b.claim_key == a.url_key
    )
    kind, score = pair_score(agreed, _days_apart(a.published_at, b.published_at), claimed, params)
    return Comparison(o, verdict, agreed, kind, score)


@dataclass(frozen=True)
class Judges:
    """What the derivation asks of the articles themselves (``dedup.partition``): the canonical
    article of a set, and how much two articles agree in evidence and share in shingles."""

    leader: Callable[[frozenset[int]], int]
    agreement: Callable[[int, int], float]
    containment: Callable[[int, int], float]


def judges(session: Session, nodes: set[int]) -> Judges:
    """The judges of these articles, from one read of each (decoded only for the pairs asked about)."""
    members = queries.canonical_members(session, nodes)
    info = queries.comparables(session, nodes)

    def leader(articles: frozenset[int]) -> int:
        return choose_canonical([members[n] for n in sorted(articles)]).id

    @cache
    def evidence_of(x: int) -> Evidence:
        return Evidence.from_bytes(info[x].evidence or b"")

    @cache
    def shingles_of(x: int) -> Hashes:
        return np.sort(from_bytes(info[x].shingles or b""))

    @cache
    def agreed(x: int, y: int) -> float:
        return match(evidence_of(x), evidence_of(y)).score

    def containment(x: int, y: int) -> float:
        o = overlap(shingles_of(x), shingles_of(y))
        return max(o.a_in_b, o.b_in_a)

    return Judges(leader, lambda x, y: agreed(min(x, y), max(x, y)), containment)


def derive(
    session: Session, runtime: Runtime, start: set[int]
) -> tuple[set[int], list[Link], list[Constraint], Partition]:
    """The articles whose clusters are derived together with ``start``, their links and overrides,
    and the partition the links give (before the overrides)."""
    nodes, links, constraints = scope(session, start, runtime.params.translation_min_score)
    outside_ends = {end for k in links for end in (k.article_a, k.article_b)} - nodes
    outside = {n: c for n, c in queries.clusters_of(session, outside_ends).items() if c is not None}
    language = queries.languages(session, nodes | outside_ends)
    judged = judges(session, nodes)
    derived = partition(
        nodes,
        [queries.partition_link(k) for k in links],
        runtime.params,
        language=language,
        leader=judged.leader,
        outside=outside,
        agreement=judged.agreement,
        containment=judged.containment,
    )
    return nodes, links, constraints, derived


def recluster(session: Session, runtime: Runtime, start: set[int], moved: int) -> set[int]:
    """Derive the clusters of ``start`` and of the articles around it (``scope``) from their links,
    and store them: sizes, canonical versions, spliced articles' related clusters. Returns the
    articles derived.

    A cluster keeps its id while it keeps most of its members; ``moved``, the article just stored,
    has no say in that (a changed article that leaves its story does not take the story's id along).
    """
    nodes, links, constraints, derived = derive(session, runtime, start)
    inside = [(k.article_a, k.article_b) for k in links if k.article_a in nodes and k.article_b in nodes]
    result = apply(derived, constraints, inside)
    articles = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(sorted(nodes))))}
    before = {a.cluster_id for a in articles.values() if a.cluster_id is not None}

    cluster_ids: list[int] = [0] * len(result.clusters)
    taken: set[int] = set()
    for i in sorted(
        range(len(result.clusters)), key=lambda i: (-len(result.clusters[i]), min(result.clusters[i]))
    ):
        held = Counter(
            c
            for n in result.clusters[i]
            if n != moved and (c := articles[n].cluster_id) is not None and c not in taken
        )
        if held:
            cluster_ids[i] = min(held, key=lambda c: (-held[c], c))
        else:
            cluster = Cluster(size=0)
            session.add(cluster)
            session.flush()
            cluster_ids[i] = cluster.id
        taken.add(cluster_ids[i])

    for i, members in enumerate(result.clusters):
        for n in members:
            if articles[n].cluster_id != cluster_ids[i]:
                articles[n].cluster_id = cluster_ids[i]
    session.execute(delete(Related).where(Related.article_id.in_(sorted(nodes))))
    session.flush()
    for i, members in enumerate(result.clusters):
        cluster = session.get_one(Cluster, cluster_ids[i])
        cluster.size = len(members)
        chosen = chosen_canonical(sorted(members), constraints)
        cluster.canonical_article_id = (
            chosen if chosen is not None else choose_canonical(queries.members(session, cluster.id)).id
        )
    for article_id, others in sorted(result.related.items()):
        for i in sorted(others):
            session.add(Related(article_id=article_id, cluster_id=cluster_ids[i]))
    for gone in sorted(before - taken):
        session.delete(session.get_one(Cluster, gone))
    return nodes


def scope(session: Session, start: set[int], bar: float) -> tuple[set[int], list[Link], list[Constraint]]:
    """The articles whose clusters are derived together with ``start``: whatever a change there can
    move. That is every article linked to ``start``, the members of their clusters, and, closed over,
    every article that a link in one language, a cross-language link scoring at least ``bar`` (one the
    derivation may accept) or an operator override (``dedup.overrides``) ties to those; with every
    link touching them (links to articles beyond count only towards backgrounds) and the overrides."""
    nodes: set[int] = set()
    links: dict[tuple[int, int], Link] = {}
    constraints: dict[int, Constraint] = {}
    frontier = neighbours(session, start)
    while frontier:
        clusters = {c for c in queries.clusters_of(session, frontier).values() if c is not None}
        fresh = (frontier | queries.cluster_members(session, clusters)) - nodes
        nodes |= fresh
        # Every node's links and overrides are read once, when it joins: together they are all of
        # the scope's.
        touching = queries.links_touching(session, fresh)
        links.update(((k.article_a, k.article_b), k) for k in touching)
        named = queries.constraints(session, fresh)
        constraints.update((c.id, c) for c in named)
        tied = {
            end for k in touching if k.score is None or k.score >= bar for end in (k.article_a, k.article_b)
        }
        frontier = (tied | set().union(*(c.articles for c in named))) - nodes
    return nodes, [links[k] for k in sorted(links)], [constraints[i] for i in sorted(constraints)]


def neighbours(session: Session, article_ids: set[int]) -> set[int]:
    """These articles and every article linked to them."""
    found = set(article_ids)
    for k in queries.links_touching(session, article_ids):
        found.update((k.article_a, k.article_b))
    return found


def store_signals(article: Article, document: Document) -> None:
    """Write what the indexes and verification read back: shingle count, signature, anchors, evidence."""
    signed = document.signature is not None
    article.shingle_count = document.shingle_count
    article.shingles = to_bytes(document.sequence)
    article.signature = to_bytes(document.signature) if document.signature is not None else None
    article.anchors = to_bytes(document.anchors) if signed else None
    article.evidence = document.evidence.to_bytes()


def index(runtime: Runtime, article: Article) -> None:
    """Put a stored, signed article into the candidate index."""
    if article.signature is not None:
        rare = Evidence.from_bytes(article.evidence or b"").rare(runtime.params.evidence_min_weight)
        runtime.index.insert(
            article.id, from_bytes(article.signature), from_bytes(article.anchors or b""), rare
        )


def unindex(runtime: Runtime, article: Article) -> None:
    """Take an article out of the candidate index (before its text changes)."""
    if article.signature is not None:
        rare = Evidence.from_bytes(article.evidence or b"").rare(runtime.params.evidence_min_weight)
        runtime.index.remove(
            article.id, from_bytes(article.signature), from_bytes(article.anchors or b""), rare
        )


def relink_all(session: Session, runtime: Runtime) -> int:
    """Compute every article's links anew from the stored texts and derive all clusters again (after
    a change of thresholds or shingling, or for a database from before links existed). Returns the
    number of links. The index is rebuilt on the way."""
    params = runtime.params
    queries.lock_assignment(session)
    session.execute(delete(Related))
    session.execute(delete(Link))
    runtime.index.clear()
    ids = list(session.scalars(select(Article.id).order_by(Article.id)))
    for article_id in ids:
        article = session.get_one(Article, article_id)
        sequence = shingle_sequence(article.text, params.shingle_words, params.shingle_chars)
        hashes = np.sort(sequence)
        document = Document(
            title=article.title,
            text=article.text,
            language=article.language,
            published_at=article.published_at,
            canonical_url=None,
            claimed_source_url=article.claimed_source_url,
            content_hash=article.content_hash,
            hashes=hashes,
            sequence=sequence,
            anchors=anchors(hashes, params.anchor_modulus),
            signature=runtime.signer.sign(hashes) if hashes.shape[0] >= params.min_shingles else None,
            evidence=evidence(article.text, article.language, params.evidence_lower_case_weight)
            if params.translations
            else Evidence.empty(),
        )
        store_signals(article, document)
        article.url_key = normalize_url(article.final_url or article.url)
        article.claim_key = normalize_url(article.claimed_source_url) if article.claimed_source_url else None
        session.flush()
        # Each pair is linked once, when its later article comes: the index holds the earlier ones.
        link(session, runtime, article_id, document, article.url_key, article.claim_key, earlier_only=True)
        index(runtime, article)
        session.flush()
    done: set[int] = set()
    for article_id in ids:
        if article_id not in done:
            done |= recluster(session, runtime, {article_id}, moved=-1)
    return int(session.scalar(select(func.count()).select_from(Link)) or 0)
