"""What the operator commands read (``clusters list|show|export``, ``articles find``, ``stats``,
``eval``), one function each: frozen dataclasses and plain values, never ORM rows. What processing reads
and writes is in ``storage.queries``; the crawl runs and the figures per source in ``storage.stats``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from storage._shared import at_url, in_chunks
from storage.models import Article, Cluster, Link, Override, OverrideArticle, Related

_MEMBER_COLUMNS = (
    Article.id,
    Article.url,
    Article.final_url,
    Article.title,
    Article.source,
    Article.language,
    Article.published_at,
    Article.claimed_source_url,
    Article.signature,
)


@dataclass(frozen=True)
class ClusterRow:
    """A cluster with its canonical article, as listings show it."""

    id: int
    size: int
    canonical_url: str | None
    canonical_title: str | None


def list_clusters(session: Session, min_size: int = 1, limit: int | None = None) -> list[ClusterRow]:
    """Clusters of at least ``min_size`` articles, largest first, then by id."""
    query = (
        select(Cluster.id, Cluster.size, Article.url, Article.title)
        .outerjoin(Article, Article.id == Cluster.canonical_article_id)
        .where(Cluster.size >= min_size)
        .order_by(Cluster.size.desc(), Cluster.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [ClusterRow(*row) for row in session.execute(query)]


def count_clusters(session: Session, min_size: int = 1) -> int:
    """How many clusters have at least ``min_size`` articles."""
    return int(session.scalar(select(func.count(Cluster.id)).where(Cluster.size >= min_size)) or 0)


def totals(session: Session) -> dict[str, int]:
    """The totals of ``newsdedup stats``: articles, clusters, those with copies and the articles in
    them, articles too short to sign."""
    articles = session.scalar(select(func.count(Article.id))) or 0
    clusters = session.scalar(select(func.count(Cluster.id)).where(Cluster.size > 0)) or 0
    multi = session.scalar(select(func.count(Cluster.id)).where(Cluster.size > 1)) or 0
    in_multi = session.scalar(select(func.coalesce(func.sum(Cluster.size), 0)).where(Cluster.size > 1)) or 0
    unsigned = session.scalar(select(func.count(Article.id)).where(Article.signature.is_(None))) or 0
    return {
        "articles": int(articles),
        "clusters": int(clusters),
        "clusters_with_copies": int(multi),
        "articles_in_clusters_with_copies": int(in_multi),
        "articles_too_short_to_sign": int(unsigned),
    }


@dataclass(frozen=True)
class MemberRow:
    """A member of a cluster as the inspection shows it. ``signature`` is the stored MinHash (None:
    a text too short to sign)."""

    article_id: int
    url: str
    final_url: str | None
    title: str | None
    source: str | None
    language: str | None
    published_at: datetime | None
    claimed_source_url: str | None
    signature: bytes | None
    # Clusters of the other stories this article carries (a spliced post); empty for most.
    related_clusters: tuple[int, ...] = ()


@dataclass(frozen=True)
class StoredCluster:
    """A cluster as stored: its canonical article's id, its members by id, and the spliced posts of
    other clusters that carry its story too (their URL and cluster id)."""

    id: int
    canonical_article_id: int | None
    members: tuple[MemberRow, ...]
    carriers: tuple[tuple[str, int], ...] = ()


def stored_cluster(session: Session, cluster_id: int) -> StoredCluster | None:
    """One cluster with its members, or None if there is no such cluster."""
    found = session.execute(select(Cluster.canonical_article_id).where(Cluster.id == cluster_id)).first()
    if found is None:
        return None
    rows = session.execute(
        select(*_MEMBER_COLUMNS).where(Article.cluster_id == cluster_id).order_by(Article.id)
    ).all()
    related = _related_clusters(session, [row[0] for row in rows])
    carriers = session.execute(
        select(Article.url, Article.cluster_id)
        .join(Related, Related.article_id == Article.id)
        .where(Related.cluster_id == cluster_id)
        .order_by(Article.id)
    )
    return StoredCluster(
        cluster_id,
        found[0],
        tuple(_member(row, related) for row in rows),
        tuple((url, home) for url, home in carriers if home is not None),
    )


def iter_stored_clusters(session: Session, min_size: int = 1, batch: int = 2000) -> Iterator[StoredCluster]:
    """Every cluster of at least ``min_size`` members, by id, its members streamed from one query."""
    canonical_of: dict[int, int | None] = dict(
        session.execute(
            select(Cluster.id, Cluster.canonical_article_id).where(Cluster.size >= min_size)
        ).all()
    )
    related: dict[int, list[int]] = {}
    carriers: dict[int, list[tuple[str, int]]] = {}
    for article_id, url, home, other in session.execute(
        select(Related.article_id, Article.url, Article.cluster_id, Related.cluster_id)
        .join(Article, Article.id == Related.article_id)
        .order_by(Related.article_id, Related.cluster_id)
    ):
        related.setdefault(article_id, []).append(other)
        if home is not None:
            carriers.setdefault(other, []).append((url, home))
    rows = session.execute(
        select(Article.cluster_id, *_MEMBER_COLUMNS)
        .join(Cluster, Cluster.id == Article.cluster_id)
        .where(Cluster.size >= min_size)
        .order_by(Article.cluster_id, Article.id),
        execution_options={"yield_per": batch},
    )
    for cluster_id, group in groupby(rows, key=lambda row: row[0]):
        if cluster_id is not None:
            yield StoredCluster(
                cluster_id,
                canonical_of.get(cluster_id),
                tuple(_member(row, related) for row in group),
                tuple(carriers.get(cluster_id, ())),
            )


def _member(row: Row[*tuple[Any, ...]], related: dict[int, list[int]]) -> MemberRow:
    """A member from a row with the ``_MEMBER_COLUMNS``."""
    return MemberRow(
        article_id=row.id,
        url=row.url,
        final_url=row.final_url,
        title=row.title,
        source=row.source,
        language=row.language,
        published_at=row.published_at,
        claimed_source_url=row.claimed_source_url,
        signature=row.signature,
        related_clusters=tuple(related.get(row.id, ())),
    )


def _related_clusters(session: Session, article_ids: Iterable[int]) -> dict[int, list[int]]:
    """For each of these articles that carries other stories too, the ids of those clusters."""
    found: dict[int, list[int]] = {}

    def statement(ids: list[int]) -> Select[int, int]:
        return select(Related.article_id, Related.cluster_id).where(Related.article_id.in_(ids))

    for article_id, cluster_id in sorted(in_chunks(session, article_ids, statement)):
        found.setdefault(article_id, []).append(cluster_id)
    return found


def article_text(session: Session, article_id: int) -> str:
    """The clean text of one article ('' if there is no such article; a note if it is archived)."""
    row = session.execute(
        select(Article.text, Article.text_archived_at).where(Article.id == article_id)
    ).first()
    if row is None:
        return ""
    text, archived_at = row
    if text is None:
        return f"[text archived {archived_at:%Y-%m-%d}: `newsdedup db restore-texts` puts it back]"
    return str(text)


@dataclass(frozen=True)
class OverrideRow:
    """An operator override with the URLs it names: of a merge all, of a split the articles split
    off, of a canonical the one chosen."""

    id: int
    kind: str
    cluster_a: int | None
    cluster_b: int | None
    note: str | None
    operator: str | None
    created_at: datetime
    urls: tuple[str, ...]


def overrides_of_cluster(session: Session, cluster_id: int) -> list[OverrideRow]:
    """The overrides that name a member of this cluster, oldest first."""
    found = session.execute(
        select(
            Override.id,
            Override.kind,
            Override.cluster_a,
            Override.cluster_b,
            Override.note,
            Override.operator,
            Override.created_at,
        )
        .join(OverrideArticle, OverrideArticle.override_id == Override.id)
        .join(Article, Article.id == OverrideArticle.article_id)
        .where(Article.cluster_id == cluster_id)
        .distinct()
        .order_by(Override.id)
    ).all()

    def named(ids: list[int]) -> Select[int, str]:
        return (
            select(OverrideArticle.override_id, Article.url)
            .join(Article, Article.id == OverrideArticle.article_id)
            .join(Override, Override.id == OverrideArticle.override_id)
            .where(
                OverrideArticle.override_id.in_(ids), or_(Override.kind == "merge", OverrideArticle.side == 0)
            )
            .order_by(OverrideArticle.override_id, Article.id)
        )

    urls: dict[int, list[str]] = {}
    for override_id, url in in_chunks(session, [row[0] for row in found], named):
        urls.setdefault(override_id, []).append(url)
    return [OverrideRow(*row, urls=tuple(urls.get(row[0], ()))) for row in found]


@dataclass(frozen=True)
class StoredArticle:
    """A stored article and the cluster it is in: the cluster's size and canonical article (None
    when it is in none)."""

    article_id: int
    url: str
    cluster_id: int | None
    cluster_size: int | None
    canonical_article_id: int | None
    canonical_url: str | None

    @property
    def is_canonical(self) -> bool:
        return self.canonical_article_id == self.article_id


def stored_article(session: Session, url: str) -> StoredArticle | None:
    """The stored article fetched at this URL, or redirected to it (the first stored), or None."""
    row = session.execute(_stored_articles().where(at_url(url)).order_by(Article.id).limit(1)).first()
    return None if row is None else StoredArticle(*row)


def stored_articles(session: Session, article_ids: Iterable[int]) -> dict[int, StoredArticle]:
    """Each of these articles that exists, by id."""
    rows = in_chunks(session, article_ids, lambda ids: _stored_articles().where(Article.id.in_(ids)))
    return {row[0]: StoredArticle(*row) for row in rows}


def _stored_articles() -> Select[int, str, int | None, int | None, int | None, str | None]:
    canonical = aliased(Article)
    return (
        select(Article.id, Article.url, Article.cluster_id, Cluster.size, canonical.id, canonical.url)
        .outerjoin(Cluster, Cluster.id == Article.cluster_id)
        .outerjoin(canonical, canonical.id == Cluster.canonical_article_id)
    )


@dataclass(frozen=True)
class CrossLanguageLinks:
    """Links across languages (those with an evidence score): stored, and joined (both ends in one
    cluster)."""

    stored: int
    joined: int


def cross_language_links(session: Session) -> CrossLanguageLinks:
    """How many links across languages are stored, and how many of them are inside a cluster."""
    a, b = aliased(Article), aliased(Article)
    stored = session.scalar(select(func.count()).select_from(Link).where(Link.score.is_not(None)))
    joined = session.scalar(
        select(func.count())
        .select_from(Link)
        .join(a, a.id == Link.article_a)
        .join(b, b.id == Link.article_b)
        .where(Link.score.is_not(None), a.cluster_id == b.cluster_id)
    )
    return CrossLanguageLinks(int(stored or 0), int(joined or 0))
