"""The queries the service runs, one function each."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from dedup.canonical import Member
from dedup.match import Candidate
from dedup.signature import Signature, from_bytes
from storage.models import Article, AssignmentLock, Cluster


def lock_assignment(session: Session) -> None:
    """Take the assignment lock until this transaction ends (see ``AssignmentLock``)."""
    session.execute(
        update(AssignmentLock).where(AssignmentLock.id == 1).values(version=AssignmentLock.version + 1)
    )


def find_article(session: Session, url: str) -> Article | None:
    """The stored article fetched at this URL, or redirected to it."""
    return session.scalars(
        select(Article).where(or_(Article.url == url, Article.final_url == url)).order_by(Article.id).limit(1)
    ).first()


def candidates(session: Session, article_ids: Iterable[int]) -> list[Candidate]:
    """The signed articles among these ids (ids the index knows but the database does not are skipped)."""
    ids = sorted(set(article_ids))
    found: list[Candidate] = []
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Article.id, Article.cluster_id, Article.signature).where(
                Article.id.in_(ids[start : start + 500]), Article.signature.is_not(None)
            )
        )
        found.extend(Candidate(i, c, from_bytes(s)) for i, c, s in rows if s is not None)
    return found


def members(session: Session, cluster_id: int) -> list[Member]:
    """What the canonical choice needs of every article in the cluster."""
    rows = session.execute(
        select(
            Article.id,
            Article.url,
            Article.final_url,
            Article.publisher,
            Article.claimed_source_url,
            Article.published_at,
            Article.fetched_at,
        ).where(Article.cluster_id == cluster_id)
    )
    return [Member(*row) for row in rows]


def signatures(session: Session, batch: int = 10_000) -> Iterator[tuple[int, Signature]]:
    """Every stored signature, by article id, streamed (to rebuild the index)."""
    rows = session.execute(
        select(Article.id, Article.signature).where(Article.signature.is_not(None)).order_by(Article.id),
        execution_options={"yield_per": batch},
    )
    for article_id, data in rows:
        if data is not None:
            yield article_id, from_bytes(data)


@dataclass(frozen=True)
class ClusterRow:
    """A cluster with its canonical article, as listings show it."""

    id: int
    size: int
    canonical_url: str | None
    canonical_title: str | None
    updated_at: object


def list_clusters(session: Session, min_size: int = 1, limit: int | None = None) -> list[ClusterRow]:
    """Clusters of at least ``min_size`` articles, largest first, then by id."""
    query = (
        select(Cluster.id, Cluster.size, Article.url, Article.title, Cluster.updated_at)
        .outerjoin(Article, Article.id == Cluster.canonical_article_id)
        .where(Cluster.size >= min_size)
        .order_by(Cluster.size.desc(), Cluster.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [ClusterRow(*row) for row in session.execute(query)]


def cluster_articles(session: Session, cluster_id: int) -> list[Article]:
    """The articles of one cluster, in the order they were stored."""
    return list(session.scalars(select(Article).where(Article.cluster_id == cluster_id).order_by(Article.id)))


def counts(session: Session) -> dict[str, int]:
    """Totals for ``newsdedup stats``."""
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


def article_text(session: Session, article_id: int) -> str:
    """The clean text of one article ('' if there is no such article)."""
    return session.scalar(select(Article.text).where(Article.id == article_id)) or ""
