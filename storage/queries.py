"""What processing reads and writes, one function each (what the operator commands read is in
``storage.views``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, load_only

from dedup.canonical import Member
from dedup.crosslang import Match, Span
from dedup.links import Edge
from dedup.overrides import Constraint
from dedup.signature import Signature, from_bytes
from storage._shared import at_url, chunks, in_chunks
from storage.models import Article, Cluster, Link, Override, OverrideArticle, Related

T = TypeVar("T")
_MEMBER_COLUMNS = (
    Article.id,
    Article.url,
    Article.final_url,
    Article.publisher,
    Article.claimed_source_url,
    Article.published_at,
    Article.fetched_at,
)


def _by_id(session: Session, article_ids: Iterable[int], column: InstrumentedAttribute[T]) -> dict[int, T]:
    """One column of each of these articles that exists, by id."""
    return dict(
        in_chunks(session, article_ids, lambda ids: select(Article.id, column).where(Article.id.in_(ids)))
    )


def find_article(session: Session, url: str) -> Article | None:
    """The stored article fetched at this URL, or redirected to it."""
    return session.scalars(select(Article).where(at_url(url)).order_by(Article.id).limit(1)).first()


def content_hashes(session: Session, article_ids: Iterable[int]) -> dict[int, str]:
    """The content hash of each of these articles that still exists."""
    return _by_id(session, article_ids, Article.content_hash)


def direct_candidates(
    session: Session, content_hash: str, url_key: str, claim_key: str | None
) -> tuple[set[int], set[int]]:
    """Articles with exactly these words, and articles tied to this page by a source link (the one it
    names, and those naming it): all of them, and the source-linked ones."""
    named = Article.claim_key == url_key
    if claim_key:
        named = or_(named, Article.url_key == claim_key)
    rows = session.execute(select(Article.id, named).where(or_(Article.content_hash == content_hash, named)))
    found: set[int] = set()
    linked: set[int] = set()
    for article_id, is_named in rows:
        found.add(article_id)
        if is_named:
            linked.add(article_id)
    return found, linked


@dataclass(frozen=True)
class Comparable:
    """What verification compares of a stored article."""

    content_hash: str
    language: str | None
    shingles: bytes | None
    evidence: bytes | None
    published_at: datetime | None


def comparables(session: Session, article_ids: Iterable[int]) -> dict[int, Comparable]:
    """Content hash, language, shingle set, evidence and publication time of these articles."""
    columns = (
        Article.content_hash,
        Article.language,
        Article.shingles,
        Article.evidence,
        Article.published_at,
    )
    rows = in_chunks(
        session, article_ids, lambda ids: select(Article.id, *columns).where(Article.id.in_(ids))
    )
    return {row[0]: Comparable(*row[1:]) for row in rows}


def links_touching(session: Session, article_ids: Iterable[int]) -> list[Link]:
    """Every link with an end among these articles."""
    rows = in_chunks(
        session,
        article_ids,
        lambda ids: select(Link).where(or_(Link.article_a.in_(ids), Link.article_b.in_(ids))),
    )
    found = {(link.article_a, link.article_b): link for (link,) in rows}
    return [found[k] for k in sorted(found)]


def edge(link: Link) -> Edge:
    """A stored link as ``dedup.partition`` takes it. In one language, ``shared`` and the sizes count
    shingles; across languages (``score`` set) they are evidence weights, in tenths: the common
    subsequence and each text's total."""
    union = link.size_a + link.size_b - link.shared
    span_a = _span(link.span_a_from, link.span_a_to)
    span_b = _span(link.span_b_from, link.span_b_to)
    agreed = Match(link.shared / 10, link.matches, link.size_a / 10, link.size_b / 10, span_a, span_b)
    across = link.score is not None
    return Edge(
        a=link.article_a,
        b=link.article_b,
        jaccard=link.shared / union if union and not across else 0.0,
        a_in_b=link.shared / link.size_a if link.size_a else 0.0,
        b_in_a=link.shared / link.size_b if link.size_b else 0.0,
        score=link.score,
        matches=link.matches,
        span_a=span_a,
        span_b=span_b,
        passage_a=agreed.passage_score("a") if across else 0.0,
        passage_b=agreed.passage_score("b") if across else 0.0,
        claimed=link.kind == "source",
    )


def _span(start: float | None, end: float | None) -> Span | None:
    return None if start is None or end is None else (start, end)


def clusters_of(session: Session, article_ids: Iterable[int]) -> dict[int, int | None]:
    """The cluster id of each of these articles."""
    return _by_id(session, article_ids, Article.cluster_id)


def cluster_members(session: Session, cluster_ids: Iterable[int]) -> set[int]:
    """The articles of these clusters."""
    return {
        i
        for (i,) in in_chunks(
            session, cluster_ids, lambda ids: select(Article.id).where(Article.cluster_id.in_(ids))
        )
    }


def languages(session: Session, article_ids: Iterable[int]) -> dict[int, str | None]:
    """The language of each of these articles."""
    return _by_id(session, article_ids, Article.language)


def canonical_members(session: Session, article_ids: Iterable[int]) -> dict[int, Member]:
    """What the canonical choice needs of each of these articles."""
    rows = in_chunks(session, article_ids, lambda ids: select(*_MEMBER_COLUMNS).where(Article.id.in_(ids)))
    return {row[0]: Member(*row) for row in rows}


def delete_links(session: Session, article_id: int) -> None:
    session.execute(delete(Link).where(or_(Link.article_a == article_id, Link.article_b == article_id)))


def delete_all_links(session: Session) -> None:
    """Every link and every spliced article's related cluster (before all are derived anew)."""
    session.execute(delete(Related))
    session.execute(delete(Link))


def count_links(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Link)) or 0)


def add_link(
    session: Session,
    a: int,
    b: int,
    kind: str,
    score: float | None,
    shared: int,
    size_a: int,
    size_b: int,
    matches: int,
    span_a: Span | None,
    span_b: Span | None,
) -> None:
    """Store a link between articles ``a`` < ``b``."""
    session.add(
        Link(
            article_a=a,
            article_b=b,
            kind=kind,
            score=score,
            shared=shared,
            size_a=size_a,
            size_b=size_b,
            matches=matches,
            span_a_from=span_a[0] if span_a else None,
            span_a_to=span_a[1] if span_a else None,
            span_b_from=span_b[0] if span_b else None,
            span_b_to=span_b[1] if span_b else None,
        )
    )


def add_article(session: Session, article: Article) -> None:
    """Store a new (or changed) article; its id is set on return."""
    session.add(article)
    session.flush()


def new_cluster(session: Session, article_id: int) -> int:
    """A cluster of this one article, its canonical; returns its id."""
    cluster = Cluster(size=1, canonical_article_id=article_id)
    session.add(cluster)
    session.flush()
    return cluster.id


def article_ids(session: Session) -> list[int]:
    """Every stored article's id, in order."""
    return list(session.scalars(select(Article.id).order_by(Article.id)))


def article(session: Session, article_id: int) -> Article:
    """The stored article with this id (it must exist)."""
    return session.get_one(Article, article_id)


def store_clusters(
    session: Session,
    nodes: set[int],
    clusters: Sequence[frozenset[int]],
    ids: Sequence[int | None],
    canonicals: Sequence[int],
    related: Mapping[int, Iterable[int]],
) -> list[int]:
    """Write the derived clusters of ``nodes``: cluster ``i`` has the members ``clusters[i]``, the id
    ``ids[i]`` (None: a new cluster) and the canonical article ``canonicals[i]``; ``related`` names, per
    spliced article, the indexes of the other clusters it carries. The clusters the nodes held that
    keep no member go. Returns the clusters' ids."""
    # Only the column written: the rest of a row (text, shingles, evidence) is large and not needed.
    only_cluster = load_only(Article.id, Article.cluster_id)
    articles = {
        a.id: a
        for a in session.scalars(select(Article).options(only_cluster).where(Article.id.in_(sorted(nodes))))
    }
    before = {a.cluster_id for a in articles.values() if a.cluster_id is not None}
    kept = {i for i in ids if i is not None}
    # One read of the clusters kept and of those that may go, not one per cluster.
    held = {c.id: c for c in session.scalars(select(Cluster).where(Cluster.id.in_(sorted(kept | before))))}
    final: list[int] = []
    for members, cluster_id, canonical in zip(clusters, ids, canonicals, strict=True):
        cluster = held[cluster_id] if cluster_id is not None else Cluster(size=0)
        if cluster_id is None:
            session.add(cluster)
            session.flush()
        cluster.size = len(members)
        cluster.canonical_article_id = canonical
        final.append(cluster.id)
        for n in members:
            if articles[n].cluster_id != cluster.id:
                articles[n].cluster_id = cluster.id
    session.execute(delete(Related).where(Related.article_id.in_(sorted(nodes))))
    session.flush()
    for article_id, others in sorted(related.items()):
        for i in sorted(others):
            session.add(Related(article_id=article_id, cluster_id=final[i]))
    for gone in sorted(before - set(final)):
        session.delete(held[gone])
    return final


def signatures(session: Session, batch: int = 10_000) -> Iterator[tuple[int, Signature, Signature, bytes]]:
    """Every stored signature, anchor set and evidence, by article id, streamed (to rebuild the
    indexes)."""
    rows = session.execute(
        select(Article.id, Article.signature, Article.anchors, Article.evidence)
        .where(Article.signature.is_not(None))
        .order_by(Article.id),
        execution_options={"yield_per": batch},
    )
    for article_id, signature, anchors, evidence in rows:
        if signature is not None:
            yield article_id, from_bytes(signature), from_bytes(anchors or b""), evidence or b""


def add_override(
    session: Session,
    kind: str,
    sides: Sequence[Iterable[int]],
    clusters: Sequence[int],
    note: str | None = None,
    operator: str | None = None,
) -> Override:
    """Store an override: the article ids of each side (``OverrideArticle.side``), and the clusters it
    was made on (for display)."""
    override = Override(
        kind=kind,
        cluster_a=clusters[0] if clusters else None,
        cluster_b=clusters[1] if len(clusters) > 1 else None,
        note=note,
        operator=operator,
    )
    session.add(override)
    session.flush()
    for side, ids in enumerate(sides):
        for article_id in sorted(set(ids)):
            session.add(OverrideArticle(override_id=override.id, article_id=article_id, side=side))
    session.flush()
    return override


def constraints(session: Session, article_ids: Iterable[int]) -> list[Constraint]:
    """The overrides that name any of these articles, as the derivation takes them: a merge holds all
    its articles together, a split takes out its side 0 (apart from its side 1), a canonical names its
    side 0."""
    touching: set[int] = set()
    for chunk in chunks(article_ids):
        touching.update(
            session.scalars(select(OverrideArticle.override_id).where(OverrideArticle.article_id.in_(chunk)))
        )
    if not touching:
        return []
    kinds = dict(
        session.execute(select(Override.id, Override.kind).where(Override.id.in_(sorted(touching)))).all()
    )
    named: dict[int, set[int]] = {i: set() for i in kinds}
    apart: dict[int, set[int]] = {i: set() for i in kinds}
    for override_id, article_id, side in session.execute(
        select(OverrideArticle.override_id, OverrideArticle.article_id, OverrideArticle.side).where(
            OverrideArticle.override_id.in_(sorted(touching))
        )
    ):
        if kinds[override_id] == "merge" or side == 0:
            named[override_id].add(article_id)
        else:
            apart[override_id].add(article_id)
    return [Constraint(i, kinds[i], frozenset(named[i]), frozenset(apart[i])) for i in sorted(kinds)]
