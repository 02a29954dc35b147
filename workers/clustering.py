"""Links and clusters in the database: find candidates, verify them into links, re-derive the
clusters.

Finding and verifying only read, and run before the assignment lock; storing links and deriving
clusters run inside the assignment transaction (``storage.queries.lock_assignment``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dedup.anchors import anchors
from dedup.canonical import choose_canonical
from dedup.document import Document
from dedup.evidence import Agreement, Evidence, agreement, evidence, stored_agreement
from dedup.overlap import Overlap, Verdict, judge, overlap
from dedup.overrides import Constraint, apply, chosen_canonical
from dedup.partition import partition
from dedup.shingles import Hashes, shingle_hashes
from dedup.signature import from_bytes, to_bytes
from dedup.translation import judge_translation
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
    """The candidates that tell the same story, by the exact rules (``dedup.overlap``,
    ``dedup.translation``), as drafts of links; and the content hash of every candidate examined
    (an id in the index whose row is not committed yet is not examined). Reads only: it runs
    outside the assignment lock."""
    params = runtime.params
    drafts = []
    found = queries.comparables(session, ids)
    for other, theirs in sorted(found.items()):
        o = overlap(document.hashes, from_bytes(theirs.shingles or b""))
        verdict = judge(o, params, identical=theirs.content_hash == document.content_hash)
        if verdict.kind is not None:
            drafts.append(
                Draft(other, theirs.content_hash, verdict.kind, o.shared, o.size_a, o.size_b, None, o.jaccard)
            )
        elif _languages_differ(document.language, theirs.language) and theirs.evidence:
            agreed = agreement(document.evidence, Evidence.from_bytes(theirs.evidence))
            verdict, carried = judge_translation(agreed.score, agreed.matches, other in named, params)
            if verdict.kind is not None:
                # Weights in tenths: the partition reads shared / size as the coverage of each side.
                drafts.append(
                    Draft(
                        other,
                        theirs.content_hash,
                        verdict.kind,
                        round(agreed.common * 10),
                        round(agreed.total_a * 10),
                        round(agreed.total_b * 10),
                        carried,
                        carried,
                    )
                )
    return drafts, {other: theirs.content_hash for other, theirs in found.items()}


def store_links(session: Session, article_id: int, drafts: list[Draft]) -> None:
    """Write the drafts as links from the stored article (lower id first in each link)."""
    for d in drafts:
        a, b = sorted((article_id, d.other))
        size_a, size_b = (d.size_mine, d.size_other) if a == article_id else (d.size_other, d.size_mine)
        session.add(
            Link(
                article_a=a,
                article_b=b,
                kind=d.kind,
                score=d.score,
                shared=d.shared,
                size_a=size_a,
                size_b=size_b,
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


def verdict_between(runtime: Runtime, a: Article, b: Article) -> tuple[Overlap, Verdict, Agreement | None]:
    """The exact overlap of two stored articles, their evidence agreement when their languages
    differ, and the verdict the linking rules give (for `clusters why`)."""
    params = runtime.params
    o = overlap(
        shingle_hashes(a.text, params.shingle_words, params.shingle_chars),
        shingle_hashes(b.text, params.shingle_words, params.shingle_chars),
    )
    verdict = judge(o, params, identical=a.content_hash == b.content_hash)
    if verdict.kind is not None or not _languages_differ(a.language, b.language):
        return o, verdict, None
    agreed = agreement(Evidence.from_bytes(a.evidence or b""), Evidence.from_bytes(b.evidence or b""))
    claimed = (a.claim_key is not None and a.claim_key == b.url_key) or (
        b.claim_key is not None and b.claim_key == a.url_key
    )
    return o, judge_translation(agreed.score, agreed.matches, claimed, params)[0], agreed


def recluster(session: Session, runtime: Runtime, start: set[int], moved: int) -> None:
    """Derive the clusters of every article linked, directly or not, to ``start`` from their links,
    and store them: sizes, canonical versions, spliced articles' related clusters.

    A cluster keeps its id while it keeps most of its members; ``moved``, the article just stored,
    has no say in that (a changed article that leaves its story does not take the story's id along).
    """
    params = runtime.params
    nodes, links, constraints = scope(session, start)
    info = queries.comparables(session, nodes)

    # The partition asks about the same pairs again and again (every container of both): decode
    # each article once and judge each pair once.
    @cache
    def shingles_of(x: int) -> Hashes:
        return from_bytes(info[x].shingles or b"")

    def agreed(x: int, y: int) -> float:
        return stored_agreement(info[x].evidence or b"", info[y].evidence or b"").score

    @cache
    def judged_disjoint(x: int, y: int) -> bool:
        if _languages_differ(info[x].language, info[y].language):
            return agreed(x, y) < params.splice_max_evidence_across
        # In one language, disjoint in words and in evidence: two machine translations of one story
        # share few shingles, but their names and numbers agree. Words first: they are cheaper.
        o = overlap(shingles_of(x), shingles_of(y))
        apart = max(o.a_in_b, o.b_in_a) < params.splice_max_overlap
        return apart and agreed(x, y) < params.splice_max_evidence

    def disjoint(x: int, y: int) -> bool:
        return judged_disjoint(min(x, y), max(x, y))

    derived = partition(
        nodes,
        [queries.partition_link(k) for k in links],
        disjoint,
        params.min_containment,
        params.translation_min_score,
    )
    result = apply(derived, constraints, [(k.article_a, k.article_b) for k in links])
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


def scope(session: Session, start: set[int]) -> tuple[set[int], list[Link], list[Constraint]]:
    """The articles whose clusters are derived together with ``start``: those reachable over links
    and over the operator overrides that name them (``dedup.overrides``); the links among them and
    the overrides."""
    nodes = set(start)
    while True:
        nodes, links = queries.component(session, nodes)
        constraints = queries.constraints(session, nodes)
        named = set().union(*(c.articles for c in constraints)) - nodes
        if not named:
            return nodes, links, constraints
        nodes |= named


def store_signals(article: Article, document: Document) -> None:
    """Write what the indexes and verification read back: shingle count, signature, anchors, evidence."""
    signed = document.signature is not None
    article.shingle_count = document.shingle_count
    article.shingles = to_bytes(document.hashes)
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
        hashes = shingle_hashes(article.text, params.shingle_words, params.shingle_chars)
        document = Document(
            title=article.title,
            text=article.text,
            language=article.language,
            published_at=article.published_at,
            canonical_url=None,
            claimed_source_url=article.claimed_source_url,
            content_hash=article.content_hash,
            hashes=hashes,
            anchors=anchors(hashes, params.anchor_modulus),
            signature=runtime.signer.sign(hashes) if hashes.shape[0] >= params.min_shingles else None,
            evidence=evidence(article.text, article.language) if params.translations else Evidence.empty(),
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
            nodes, _, _ = scope(session, {article_id})
            recluster(session, runtime, nodes, moved=-1)
            done |= nodes
    return int(session.scalar(select(func.count()).select_from(Link)) or 0)
