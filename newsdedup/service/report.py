"""What the operator commands and the export read, each call in a session of its own.

Clusters canonical first, each member's similarity to the canonical (estimated Jaccard of their
signatures), and the ties of spliced posts: a member that also carries other stories names their
clusters, and a cluster lists the spliced posts of other clusters that carry its story. Besides: the
cluster listing, a cluster's overrides and texts, and the figures of ``stats``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dedup.signature import estimated_jaccard, from_bytes
from newsdedup.service.runtime import Runtime
from storage import views
from storage.stats import SourceStats, size_distribution, source_stats
from storage.views import ClusterRow, MemberRow, OverrideRow, StoredCluster


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


@dataclass(frozen=True)
class ClusterDetail:
    """A cluster as `clusters show` prints it: its view, the canonical article's clean text, and the
    operator overrides that name a member (oldest first)."""

    view: ClusterView
    canonical_text: str
    overrides: tuple[OverrideRow, ...]


@dataclass(frozen=True)
class Statistics:
    """The figures of `stats`: per source, clusters by size, and the totals (with the index's size)."""

    sources: list[SourceStats]
    sizes: dict[str, int]
    totals: dict[str, int]


def cluster_detail(runtime: Runtime, cluster_id: int) -> ClusterDetail | None:
    """One cluster with its members, the canonical's text and its overrides, or None if there is no
    such cluster."""
    with runtime.sessions() as session:
        stored = views.stored_cluster(session, cluster_id)
        if stored is None:
            return None
        view = _view(stored)
        text = views.article_text(session, view.canonical.article_id)
        return ClusterDetail(view, text, tuple(views.overrides_of_cluster(session, cluster_id)))


def cluster_views(runtime: Runtime, cluster_ids: Iterable[int]) -> list[ClusterView]:
    """The clusters of these ids that exist, in this order."""
    with runtime.sessions() as session:
        found = [views.stored_cluster(session, cluster_id) for cluster_id in cluster_ids]
    return [_view(stored) for stored in found if stored is not None]


def iter_cluster_views(runtime: Runtime, min_size: int = 1) -> Iterator[ClusterView]:
    """Every cluster of at least ``min_size`` members, by id, streamed: the session stays open while
    the clusters are taken."""
    with runtime.sessions() as session:
        for stored in views.iter_stored_clusters(session, min_size):
            yield _view(stored)


def cluster_count(runtime: Runtime, min_size: int = 1) -> int:
    """How many clusters have at least ``min_size`` members."""
    with runtime.sessions() as session:
        return views.count_clusters(session, min_size)


def cluster_list(runtime: Runtime, min_size: int = 1, limit: int | None = None) -> list[ClusterRow]:
    """Clusters of at least ``min_size`` members, largest first, then by id."""
    with runtime.sessions() as session:
        return views.list_clusters(session, min_size, limit)


def article_text(runtime: Runtime, article_id: int) -> str:
    """The clean text of one article ('' if there is no such article)."""
    with runtime.sessions() as session:
        return views.article_text(session, article_id)


def totals(runtime: Runtime) -> dict[str, int]:
    """Articles, clusters, clusters with copies and the articles in them, articles too short to sign."""
    with runtime.sessions() as session:
        return views.totals(session)


def statistics(runtime: Runtime) -> Statistics:
    """The figures of `stats`; the index's size without filling it (``Runtime.indexed_articles``)."""
    with runtime.sessions() as session:
        sources = source_stats(session)
        sizes = size_distribution(session)
        counted = views.totals(session)
    return Statistics(sources, sizes, counted | {"indexed_articles": runtime.indexed_articles()})


def _view(stored: StoredCluster) -> ClusterView:
    members = stored.members
    canonical = next((m for m in members if m.article_id == stored.canonical_article_id), members[0])
    reference = from_bytes(canonical.signature) if canonical.signature is not None else None

    def similarity(member: MemberRow) -> float | None:
        if member is canonical:
            return 1.0
        if reference is None or member.signature is None:
            return None
        return round(estimated_jaccard(reference, from_bytes(member.signature)), 3)

    ordered = [canonical] + [m for m in members if m is not canonical]
    return ClusterView(
        stored.id,
        [
            MemberView(
                article_id=m.article_id,
                url=m.url,
                final_url=m.final_url,
                title=m.title,
                source=m.source,
                language=m.language,
                published_at=m.published_at,
                claimed_source_url=m.claimed_source_url,
                is_canonical=m is canonical,
                similarity=similarity(m),
                related_clusters=m.related_clusters,
            )
            for m in ordered
        ],
        stored.carriers,
    )
