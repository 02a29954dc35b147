"""Links and clusters in the database: find candidates, verify them into links, re-derive the
clusters.

Finding and verifying only read, and run before a page's transaction and again inside it; storing
links and deriving clusters run inside it, holding the clusters derived (``storage.locks``). The decisions
are the core's (``dedup.pairs``, ``dedup.partition``, ``dedup.overrides``, ``dedup.stable_ids``);
this module reads what they need and writes what they decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Protocol

import numpy as np
from sqlalchemy.orm import Session

from dedup.candidates import CandidateIndex, Entry
from dedup.canonical import choose_canonical
from dedup.crosslang import Span, match
from dedup.document import Document
from dedup.evidence import Evidence
from dedup.overlap import overlap
from dedup.overrides import Constraint, apply, chosen_canonical
from dedup.pairs import PairVerdict, Side, judge_pair
from dedup.partition import Partition, partition
from dedup.shingles import Hashes, shingle_sequence
from dedup.signature import from_bytes, to_bytes
from dedup.stable_ids import keep_ids
from dedup.urls import normalize_url
from newsdedup.service.boilerplate import stored_document
from newsdedup.service.runtime import Runtime
from storage import locks, queries
from storage.archive import TextsArchived, archived_count
from storage.models import Article, Link


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


class Stored(Protocol):
    """What verification reads of a stored article (a ``queries.Comparable`` row or an ``Article``)."""

    @property
    def content_hash(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def shingles(self) -> bytes | None: ...
    @property
    def evidence(self) -> bytes | None: ...


def stored_side(row: Stored, text: str | None = None, runtime: Runtime | None = None) -> Side:
    """A stored article as a side of a pair. Its shingles are the stored ones (in text order); a row
    stored before they were kept is shingled from ``text`` with the runtime's parameters."""
    if row.shingles is None and text is not None and runtime is not None:
        p = runtime.params
        sequence = shingle_sequence(text, p.shingle_words, p.shingle_chars)
    else:
        sequence = from_bytes(row.shingles or b"")
    return Side(
        content_hash=row.content_hash,
        language=row.language,
        published_at=row.published_at,
        sequence=sequence,
        evidence=row.evidence or b"",  # decoded only if a pair across languages reads it
    )


def document_side(document: Document) -> Side:
    return Side(
        content_hash=document.content_hash,
        language=document.language,
        published_at=document.published_at,
        hashes=document.hashes,
        sequence=document.sequence,
        evidence=document.evidence,
    )


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
    """The candidates that tell the same story (``dedup.pairs``), as drafts of links; and the content
    hash of every candidate examined (an id in the index whose row is not committed yet is not
    examined). Reads only."""
    mine = document_side(document)
    drafts = []
    found = queries.comparables(session, ids)
    for other, theirs in sorted(found.items()):
        pair = judge_pair(mine, stored_side(theirs), other in named, runtime.params)
        if pair.cross_language:
            runtime.counts["cross_language_examined"] += 1
            runtime.counts["cross_language_stored"] += pair.kind is not None
        if pair.kind is not None:
            drafts.append(_draft(other, theirs.content_hash, pair))
    return drafts, {other: theirs.content_hash for other, theirs in found.items()}


def _draft(other: int, other_hash: str, pair: PairVerdict) -> Draft:
    assert pair.kind is not None
    if pair.agreement is None:
        assert pair.overlap is not None
        o = pair.overlap
        return Draft(
            other,
            other_hash,
            pair.kind,
            o.shared,
            o.size_a,
            o.size_b,
            None,
            o.jaccard,
            0,
            pair.span_a,
            pair.span_b,
        )
    agreed, score = pair.agreement, pair.score or 0.0
    # Weights in tenths: the partition reads shared / size as the share of each side that is matched.
    return Draft(
        other,
        other_hash,
        pair.kind,
        round(agreed.common * 10),
        round(agreed.total_a * 10),
        round(agreed.total_b * 10),
        score,
        score,
        agreed.matches,
        pair.span_a,
        pair.span_b,
    )


def store_links(session: Session, article_id: int, drafts: list[Draft]) -> None:
    """Write the drafts as links from the stored article (lower id first in each link)."""
    for d in drafts:
        mine_first = article_id < d.other
        a, b = (article_id, d.other) if mine_first else (d.other, article_id)
        size_a, size_b = (d.size_mine, d.size_other) if mine_first else (d.size_other, d.size_mine)
        span_a, span_b = (d.span_mine, d.span_other) if mine_first else (d.span_other, d.span_mine)
        queries.add_link(session, a, b, d.kind, d.score, d.shared, size_a, size_b, d.matches, span_a, span_b)


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


def compare(runtime: Runtime, a: Article, b: Article) -> PairVerdict:
    """What verification finds for two stored articles (``clusters why``), with their overlap in
    shingles also when their languages differ."""
    side_a, side_b = stored_side(a, a.text, runtime), stored_side(b, b.text, runtime)
    claimed = (a.claim_key is not None and a.claim_key == b.url_key) or (
        b.claim_key is not None and b.claim_key == a.url_key
    )
    pair = judge_pair(side_a, side_b, claimed, runtime.params)
    if pair.overlap is None:
        pair = PairVerdict(
            pair.kind,
            overlap(side_a.shingle_set(), side_b.shingle_set()),
            None,
            pair.agreement,
            pair.score,
            pair.span_a,
            pair.span_b,
        )
    return pair


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


@dataclass(frozen=True)
class Derivation:
    """The articles derived together, their links and overrides, and the partition the links give
    (before the overrides)."""

    nodes: set[int]
    links: list[Link]
    constraints: list[Constraint]
    partition: Partition
    judges: Judges


def derive(session: Session, runtime: Runtime, start: set[int], scoped: Scope | None = None) -> Derivation:
    """The derivation of the clusters of ``start`` and of the articles around it (``scope``, unless
    ``scoped`` is it, read already)."""
    nodes, links, constraints = scoped or scope(session, start, runtime.params.translation_min_score)
    outside_ends = {end for k in links for end in (k.article_a, k.article_b)} - nodes
    outside = {n: c for n, c in queries.clusters_of(session, outside_ends).items() if c is not None}
    judged = judges(session, nodes)
    derived = partition(
        nodes,
        [queries.edge(k) for k in links],
        runtime.params,
        language=queries.languages(session, nodes | outside_ends),
        leader=judged.leader,
        outside=outside,
        agreement=judged.agreement,
        containment=judged.containment,
    )
    return Derivation(nodes, links, constraints, derived, judged)


def recluster(
    session: Session, runtime: Runtime, start: set[int], moved: int | None, *, hold: bool
) -> set[int]:
    """Derive the clusters of ``start`` and of the articles around it from their links and the
    overrides, and store them: ids (``dedup.stable_ids``; ``moved``, the article just stored, has no
    say), sizes, canonical versions, spliced articles' related clusters. Returns the articles derived.
    With ``hold``, the clusters derived are held first (``hold_scope``); without, the caller has
    stopped all assignments (``storage.locks.stop_assignments``)."""
    d = derive(session, runtime, start, hold_scope(session, runtime, start) if hold else None)
    inside = [
        (k.article_a, k.article_b) for k in d.links if k.article_a in d.nodes and k.article_b in d.nodes
    ]
    result = apply(d.partition, d.constraints, inside)
    ids = keep_ids(result.clusters, queries.clusters_of(session, d.nodes), moved)
    chosen = [chosen_canonical(sorted(members), d.constraints) for members in result.clusters]
    canonicals = [
        c if c is not None else d.judges.leader(m) for c, m in zip(chosen, result.clusters, strict=True)
    ]
    queries.store_clusters(session, d.nodes, result.clusters, ids, canonicals, result.related)
    return d.nodes


Scope = tuple[set[int], list[Link], list[Constraint]]


def hold_scope(session: Session, runtime: Runtime, start: set[int]) -> Scope | None:
    """Hold the clusters that deriving ``start`` reads and writes (``storage.locks.lock_clusters``):
    first those of the articles linked to it, waiting for them; then, with the scope read again under
    them, any it reaches beyond (moved there meanwhile), without waiting. Returns the scope read under
    them all; None on SQLite, where the transaction holds the one write lock already."""
    if not locks.per_page(session):
        return None
    held: set[int] = set()
    reach, found, wait = neighbours(session, start), None, True
    while True:
        clusters = {c for c in queries.clusters_of(session, reach).values() if c is not None} - held
        if found is not None and not clusters:
            return found
        locks.lock_clusters(session, clusters, wait=wait)
        held |= clusters
        wait = False
        found = scope(session, start, runtime.params.translation_min_score)
        reach = found[0]


def scope(session: Session, start: set[int], bar: float) -> Scope:
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


@dataclass
class IndexChanges:
    """What a transaction has changed in the candidate index, which is not transactional: undone if
    the transaction rolls back, so the index keeps matching the database."""

    done: list[tuple[bool, Entry]] = field(default_factory=list)

    def insert(self, index: CandidateIndex, entry: Entry) -> None:
        index.insert(*entry)
        self.done.append((True, entry))

    def remove(self, index: CandidateIndex, entry: Entry) -> None:
        index.remove(*entry)
        self.done.append((False, entry))

    def undo(self, index: CandidateIndex) -> None:
        for inserted, entry in reversed(self.done):
            (index.remove if inserted else index.insert)(*entry)
        self.done.clear()


def entry(runtime: Runtime, article: Article) -> Entry | None:
    """What the candidate index holds of a stored article (None if it is too short to sign)."""
    if article.signature is None:
        return None
    rare = Evidence.from_bytes(article.evidence or b"").rare(runtime.params.evidence_min_weight)
    return article.id, from_bytes(article.signature), from_bytes(article.anchors or b""), rare


def index(runtime: Runtime, article: Article, changes: IndexChanges | None = None) -> None:
    """Put a stored, signed article into the candidate index."""
    if (e := entry(runtime, article)) is not None:
        (changes or IndexChanges()).insert(runtime.index, e)


def unindex(runtime: Runtime, article: Article, changes: IndexChanges | None = None) -> None:
    """Take an article out of the candidate index (before its text changes)."""
    if (e := entry(runtime, article)) is not None:
        (changes or IndexChanges()).remove(runtime.index, e)


def clean_again(
    session: Session, runtime: Runtime, article_ids: set[int], changes: IndexChanges | None = None
) -> set[int]:
    """Stored articles some of whose lines their host has since repeated (``newsdedup.service.boilerplate``):
    their text without those lines, and their signals, index entries and links anew. Returns the articles
    whose clusters follow: those changed and those they were linked to (to be re-derived by the caller).
    Raises ``storage.locks.Busy`` if a page is storing one of them."""
    if not locks.try_claim_articles(session, article_ids):
        raise locks.Busy(f"a page is storing one of articles {sorted(article_ids)}")
    changed: set[int] = set()
    for article_id in sorted(article_ids):
        article = queries.article(session, article_id)
        if article.text is None:
            continue  # archived: its signals stay as they were cleaned
        document = stored_document(session, runtime, article)
        if document.text == article.text:
            continue
        changed |= neighbours(session, {article_id})
        unindex(runtime, article, changes)
        queries.delete_links(session, article_id)
        article.text, article.content_hash = document.text, document.content_hash
        store_signals(article, document)
        session.flush()
        url_key = normalize_url(article.final_url or article.url)
        link(session, runtime, article_id, document, url_key, article.claim_key)
        index(runtime, article, changes)
    return changed


def relink_all(session: Session, runtime: Runtime) -> int:
    """Compute every article's links anew from the stored texts and derive all clusters again (after
    a change of thresholds or shingling, or for a database from before links existed). Returns the
    number of links. The index is rebuilt on the way."""
    archived = archived_count(session)
    if archived:
        raise TextsArchived(
            f"{archived} articles have their text archived and a relink needs every text: "
            "put them back first (`newsdedup db restore-texts FILE`)"
        )
    locks.stop_assignments(session)
    queries.delete_all_links(session)
    runtime.index.clear()
    ids = queries.article_ids(session)
    for article_id in ids:
        article = queries.article(session, article_id)
        # The stored text is the cleaned story (without the lines its host repeats by now): its
        # signals are derived as processing derives them.
        document = stored_document(session, runtime, article)
        article.text, article.content_hash = document.text, document.content_hash
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
            done |= recluster(session, runtime, {article_id}, moved=None, hold=False)
    return queries.count_links(session)
