"""Process one page: clean, sign, find its story among the stored articles, store it.

The Celery task ``process_page``, the embedded crawl and ``newsdedup ingest`` all run this.
Processing the same page twice changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.orm import Session

from config import Source
from dedup.canonical import choose_canonical
from dedup.document import Document, NoStoryText, prepare
from dedup.match import verify
from dedup.signature import from_bytes, to_bytes
from storage import queries
from storage.models import Article, Cluster
from workers.page import Page
from workers.runtime import Runtime

log = logging.getLogger(__name__)

Status = Literal["new", "joined", "updated", "unchanged", "rejected"]


@dataclass(frozen=True)
class Outcome:
    """What processing did with a page; JSON-able, it is also the task's result."""

    url: str
    status: Status
    article_id: int | None = None
    cluster_id: int | None = None
    similarity: float | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def process_page(page: Page, runtime: Runtime) -> Outcome:
    """Clean and cluster one page, and store the result. Rejects pages without story text."""
    source = runtime.source_named(page.source) or runtime.source_for_url(page.final_url or page.url)
    try:
        document = prepare(
            runtime.signer,
            runtime.params,
            url=page.final_url or page.url,
            html=page.html,
            text=page.text,
            title=page.title,
            published_at=page.published_at,
            language=page.language,
            language_hint=source.language if source else None,
        )
    except NoStoryText as e:
        return Outcome(page.url, "rejected", reason=f"no story text: {e}")
    with runtime.sessions.begin() as session:
        queries.lock_assignment(session)
        existing = queries.find_article(session, page.url)
        if existing is not None and existing.content_hash == document.content_hash:
            return Outcome(page.url, "unchanged", existing.id, existing.cluster_id)
        outcome = _assign(session, runtime, page, document, existing, source)
    log.info("%s %s -> cluster %s", outcome.status, page.url, outcome.cluster_id)
    return outcome


def _assign(
    session: Session,
    runtime: Runtime,
    page: Page,
    document: Document,
    existing: Article | None,
    source: Source | None,
) -> Outcome:
    """Store the document in the cluster of its best match, or in a new cluster."""
    old_cluster_id = existing.cluster_id if existing is not None else None
    if existing is not None and existing.signature is not None:
        runtime.index.remove(existing.id, from_bytes(existing.signature))
    signature = document.signature
    matches = []
    if signature is not None:
        found = runtime.index.query(signature) - ({existing.id} if existing is not None else set())
        matches = verify(signature, queries.candidates(session, found), runtime.params.similarity_threshold)
    cluster = _target_cluster(session, matches[0].cluster_id if matches else None, existing)
    article = existing or Article(url=page.url)
    _fill(article, page, document, source)
    article.cluster_id = cluster.id
    session.add(article)
    session.flush()
    if old_cluster_id != cluster.id:
        cluster.size += 1
        if old_cluster_id is not None:
            _shrink(session, old_cluster_id)
    _choose_canonical(session, cluster)
    if signature is not None:
        # Before commit, under the assignment lock: a concurrent page cannot miss this one. If the
        # commit fails, the id stays in the index unverifiable and is skipped by `candidates`.
        runtime.index.insert(article.id, signature)
    status: Status = "updated" if existing is not None else ("joined" if matches else "new")
    return Outcome(page.url, status, article.id, cluster.id, matches[0].similarity if matches else None)


def _target_cluster(session: Session, matched: int | None, existing: Article | None) -> Cluster:
    """The matched cluster; else the article's own cluster if it is alone there; else a new one."""
    if matched is not None:
        return session.get_one(Cluster, matched)
    if existing is not None:
        own = session.get_one(Cluster, existing.cluster_id)
        if own.size == 1:
            return own
    cluster = Cluster(size=0)
    session.add(cluster)
    session.flush()
    return cluster


def _fill(article: Article, page: Page, document: Document, source: Source | None) -> None:
    article.final_url = page.final_url if page.final_url and page.final_url != page.url else None
    article.source = source.name if source else page.source
    article.publisher = bool(source and source.publisher)
    article.title = document.title
    article.text = document.text
    article.language = document.language
    article.published_at = document.published_at
    article.fetched_at = page.fetched_at or datetime.now(UTC)
    article.content_hash = document.content_hash
    article.shingle_count = document.shingle_count
    article.signature = to_bytes(document.signature) if document.signature is not None else None
    article.claimed_source_url = document.claimed_source_url


def _shrink(session: Session, cluster_id: int) -> None:
    """One article left this cluster: drop the cluster if it is empty, else choose again."""
    cluster = session.get_one(Cluster, cluster_id)
    cluster.size -= 1
    if cluster.size == 0:
        session.delete(cluster)
    else:
        _choose_canonical(session, cluster)


def _choose_canonical(session: Session, cluster: Cluster) -> None:
    cluster.canonical_article_id = choose_canonical(queries.members(session, cluster.id)).id
