"""Crawl runs and the numbers of ``newsdedup stats``: per source, and the sizes of the clusters.

Per source: ``runs``, ``pages`` (fetched) and ``errors`` are sums over its crawl runs (the
``crawl_runs`` table); ``last_run`` and ``duration_seconds`` are those of its latest run. ``articles``
counts the stored articles of the source, and ``clusters`` the clusters the source opened: those whose
first stored article (the lowest article id of the cluster) is the source's, the stories it brought in
first. Sources without a run or without an article show 0 for what they lack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Article, Cluster, CrawlRun

# The cluster sizes stats counts together: (label, smallest, largest or None).
SIZE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1),
    ("2", 2, 2),
    ("3-5", 3, 5),
    ("6-10", 6, 10),
    ("11+", 11, None),
)
NO_SOURCE = "-"


@dataclass(frozen=True)
class SourceStats:
    source: str
    runs: int = 0
    pages: int = 0
    errors: int = 0
    articles: int = 0
    clusters: int = 0
    last_run: datetime | None = None
    duration_seconds: float | None = None


def record_crawl_run(session: Session, source: str, summary: Mapping[str, Any]) -> CrawlRun:
    """Add the run of one source from its crawl summary (``crawler.run.summary``)."""
    dropped = summary.get("dropped", {})
    run = CrawlRun(
        source=source,
        started_at=summary["started_at"],
        finished_at=summary["finished_at"],
        pages=int(summary.get("pages", 0)),
        errors=int(summary.get("errors", 0)),
        new=int(summary.get("new", 0)),
        joined=int(summary.get("joined", 0)),
        enqueued=int(summary.get("enqueued", 0)),
        dropped=sum(dropped.values()) if isinstance(dropped, Mapping) else int(dropped),
        finish_reason=str(summary.get("finish_reason") or "") or None,
    )
    session.add(run)
    return run


def source_stats(session: Session) -> list[SourceStats]:
    """One row per source that has a crawl run or a stored article, by name (no source: ``-`` last)."""
    rows: dict[str, dict[str, Any]] = {}

    def row(name: str | None) -> dict[str, Any]:
        return rows.setdefault(name or NO_SOURCE, {})

    runs = select(
        CrawlRun.source, func.count(), func.sum(CrawlRun.pages), func.sum(CrawlRun.errors)
    ).group_by(CrawlRun.source)
    for name, count, pages, errors in session.execute(runs):
        row(name).update(runs=int(count), pages=int(pages or 0), errors=int(errors or 0))
    for run in _latest_runs(session):
        row(run.source).update(
            last_run=run.started_at, duration_seconds=(run.finished_at - run.started_at).total_seconds()
        )
    articles = select(Article.source, func.count()).group_by(Article.source)
    for article_source, count in session.execute(articles):
        row(article_source).update(articles=int(count))
    first = (
        select(func.min(Article.id).label("id"))
        .where(Article.cluster_id.is_not(None))
        .group_by(Article.cluster_id)
        .subquery()
    )
    opened = select(Article.source, func.count()).join(first, first.c.id == Article.id)
    for opener, count in session.execute(opened.group_by(Article.source)):
        row(opener).update(clusters=int(count))
    order = sorted(rows, key=lambda name: (name == NO_SOURCE, name))
    return [SourceStats(name, **rows[name]) for name in order]


def _latest_runs(session: Session) -> list[CrawlRun]:
    latest = select(func.max(CrawlRun.id)).group_by(CrawlRun.source).scalar_subquery()
    return list(session.scalars(select(CrawlRun).where(CrawlRun.id.in_(latest))))


def size_distribution(session: Session) -> dict[str, int]:
    """How many clusters have each bucket's size (SIZE_BUCKETS), every bucket present."""
    counts = dict.fromkeys((label for label, _, _ in SIZE_BUCKETS), 0)
    sizes = select(Cluster.size, func.count()).where(Cluster.size > 0).group_by(Cluster.size)
    for size, count in session.execute(sizes):
        label = next(b for b, low, high in SIZE_BUCKETS if size >= low and (high is None or size <= high))
        counts[label] += int(count)
    return counts
