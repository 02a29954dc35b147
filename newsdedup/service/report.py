"""Clusters as operators and the export read them: canonical first, each member's similarity
to the canonical (estimated Jaccard of their signatures), and the ties of spliced posts: a member
that also carries other stories names their clusters, and a cluster lists the spliced posts of
other clusters that carry its story."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dedup.signature import estimated_jaccard, from_bytes
from storage import queries
from storage.models import Article, Cluster, Related


@dataclass(frozen=True)
class MemberView:
    article_id: int
    url: str
    final_url: str | None
    title: str | None
    source: str | None
    language: str | None
    published_at: datetime | None
    claimed_source_url: str | None
    is_canonical: bool
    # Estimated Jaccard similarity to the canonical; None when either text is too short to sign.
    similarity: float | None
    # Clusters of the other stories this article carries (a spliced post); empty for most.
    related_clusters: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "similarity": self.similarity,
            "language": self.language,
            "is_canonical": self.is_canonical,
            "title": self.title,
            "source": self.source,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "claimed_source_url": self.claimed_source_url,
            "final_url": self.final_url,
            "article_id": self.article_id,
            "related_clusters": list(self.related_clusters),
        }


@dataclass(frozen=True)
class ClusterView:
    id: int
    members: list[MemberView]
    # Spliced posts of other clusters that carry this cluster's story too: (url, their cluster id).
    related: tuple[tuple[str, int], ...] = ()

    @property
    def canonical(self) -> MemberView:
        return self.members[0]

    def as_dict(self) -> dict[str, Any]:
        """The export line: ``{"cluster_id", "canonical_url", "size", "members": [...]}``."""
        return {
            "cluster_id": self.id,
            "canonical_url": self.canonical.url,
            "size": len(self.members),
            "members": [m.as_dict() for m in self.members],
            "related": [{"url": url, "cluster_id": cluster_id} for url, cluster_id in self.related],
        }


def cluster_view(session: Session, cluster_id: int) -> ClusterView | None:
    """One cluster with its members, or None if there is no such cluster."""
    cluster = session.get(Cluster, cluster_id)
    if cluster is None:
        return None
    articles = list(
        session.scalars(select(Article).where(Article.cluster_id == cluster_id).order_by(Article.id))
    )
    related_of = queries.related_clusters(session, [a.id for a in articles])
    carriers = tuple(
        (a.url, a.cluster_id)
        for a in queries.related_articles(session, cluster_id)
        if a.cluster_id is not None
    )
    return _view(cluster.id, cluster.canonical_article_id, articles, related_of, carriers)


def iter_cluster_views(session: Session, min_size: int = 1, batch: int = 2000) -> Iterator[ClusterView]:
    """Every cluster of at least ``min_size`` members, by id, streamed from one query."""
    canonical_of: dict[int, int | None] = dict(
        session.execute(
            select(Cluster.id, Cluster.canonical_article_id).where(Cluster.size >= min_size)
        ).all()
    )
    rows = session.scalars(
        select(Article)
        .join(Cluster, Cluster.id == Article.cluster_id)
        .where(Cluster.size >= min_size)
        .order_by(Article.cluster_id, Article.id),
        execution_options={"yield_per": batch},
    )
    related_of: dict[int, list[int]] = {}
    carriers: dict[int, list[tuple[str, int]]] = {}
    for article_id, url, home, other in session.execute(
        select(Related.article_id, Article.url, Article.cluster_id, Related.cluster_id)
        .join(Article, Article.id == Related.article_id)
        .order_by(Related.article_id, Related.cluster_id)
    ):
        related_of.setdefault(article_id, []).append(other)
        if home is not None:
            carriers.setdefault(other, []).append((url, home))
    for cluster_id, articles in groupby(rows, key=lambda a: a.cluster_id):
        if cluster_id is not None:
            group = list(articles)
            yield _view(
                cluster_id,
                canonical_of.get(cluster_id),
                group,
                related_of,
                tuple(carriers.get(cluster_id, ())),
            )


def _view(
    cluster_id: int,
    canonical_id: int | None,
    articles: list[Article],
    related_of: dict[int, list[int]],
    carriers: tuple[tuple[str, int], ...],
) -> ClusterView:
    canonical = next((a for a in articles if a.id == canonical_id), articles[0])
    reference = from_bytes(canonical.signature) if canonical.signature is not None else None

    def similarity(article: Article) -> float | None:
        if article is canonical:
            return 1.0
        if reference is None or article.signature is None:
            return None
        return round(estimated_jaccard(reference, from_bytes(article.signature)), 3)

    ordered = [canonical] + [a for a in articles if a is not canonical]
    members = [
        MemberView(
            article_id=a.id,
            url=a.url,
            final_url=a.final_url,
            title=a.title,
            source=a.source,
            language=a.language,
            published_at=a.published_at,
            claimed_source_url=a.claimed_source_url,
            is_canonical=a is canonical,
            similarity=similarity(a),
            related_clusters=tuple(related_of.get(a.id, ())),
        )
        for a in ordered
    ]
    return ClusterView(cluster_id, members, carriers)
