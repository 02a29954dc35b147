"""Process one page: clean, sign, link it to the stored articles that tell its story, re-derive
the clusters around it, store it.

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
from config.logs import current_task_id, page_logger
from dedup.document import Document, NoStoryText, prepare
from dedup.urls import normalize_url
from newsdedup.service.boilerplate import boilerplate_of, host, record_page_lines
from newsdedup.service.clustering import (
    Draft,
    candidates,
    clean_again,
    index,
    neighbours,
    recluster,
    store_links,
    store_signals,
    unindex,
    verify,
)
from newsdedup.service.page import Page
from newsdedup.service.runtime import Runtime
from storage import queries
from storage.models import Article

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
    """Clean and cluster one page, and store the result. Rejects pages without story text. Logs one
    line with the outcome, carrying the page's source and URL (and the task id in a worker)."""
    source = runtime.source_named(page.source) or runtime.source_for_url(page.final_url or page.url)
    outcome = _process(page, runtime, source)
    named = source.name if source else page.source
    fields = page_logger(log, source=named, url=page.url, task_id=current_task_id())
    cluster = f" -> cluster {outcome.cluster_id}" if outcome.cluster_id is not None else ""
    reason = f": {outcome.reason}" if outcome.reason else ""
    fields.info("%s %s%s%s", outcome.status, page.url, cluster, reason)
    return outcome


def _process(page: Page, runtime: Runtime, source: Source | None) -> Outcome:
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
            boilerplate=boilerplate_of(runtime, page),
        )
    except NoStoryText as e:
        return Outcome(page.url, "rejected", reason=f"no story text: {e}")
    url_key = normalize_url(page.final_url or page.url)
    claim_key = normalize_url(document.claimed_source_url) if document.claimed_source_url else None
    # Before the lock: find and verify candidates against what is committed now (reads only).
    with runtime.sessions() as session:
        existing = queries.find_article(session, page.url)
        if existing is not None and existing.content_hash == document.content_hash:
            return Outcome(page.url, "unchanged", existing.id, existing.cluster_id)
        found, named = candidates(session, runtime, document, url_key, claim_key)
        drafts, examined = verify(
            session, runtime, document, found - {existing.id if existing else -1}, named
        )
    with runtime.sessions.begin() as session:
        queries.lock_assignment(session)
        existing = queries.find_article(session, page.url)
        if existing is not None and existing.content_hash == document.content_hash:
            return Outcome(page.url, "unchanged", existing.id, existing.cluster_id)
        drafts = _bring_up_to_date(session, runtime, document, url_key, claim_key, examined, drafts, existing)
        return _store(session, runtime, page, document, existing, source, drafts)


def _bring_up_to_date(
    session: Session,
    runtime: Runtime,
    document: Document,
    url_key: str,
    claim_key: str | None,
    examined: dict[int, str],
    drafts: list[Draft],
    existing: Article | None,
) -> list[Draft]:
    """Under the lock: verify again whatever was stored or changed since the drafts were made (an
    article that was only in the index then, its transaction still open, counts as new), so that two
    copies processed at the same moment by two workers still link: the later one sees the other."""
    now, named = candidates(session, runtime, document, url_key, claim_key)
    now -= {existing.id} if existing is not None else set()
    current = queries.content_hashes(session, now | set(examined))
    unchanged = {i for i, h in examined.items() if current.get(i) == h}
    kept = [d for d in drafts if d.other in unchanged]
    again, _ = verify(session, runtime, document, now - unchanged, named)
    return kept + again


def _store(
    session: Session,
    runtime: Runtime,
    page: Page,
    document: Document,
    existing: Article | None,
    source: Source | None,
    drafts: list[Draft],
) -> Outcome:
    """Store the article, its links, and the clusters that follow from them."""
    start: set[int] = set()
    if existing is not None:
        # The old text's links go; the articles they reached are re-clustered too.
        start = neighbours(session, {existing.id})
        unindex(runtime, existing)
        queries.delete_links(session, existing.id)
    article = existing or Article(url=page.url)
    _fill(article, page, document, source)
    store_signals(article, document)
    queries.add_article(session, article)
    to_clean = record_page_lines(session, runtime.params, host(article), article.id, document.line_keys)
    store_links(session, article.id, drafts)
    # Before commit, under the assignment lock: a concurrent page cannot miss this one. If the
    # commit fails, the id stays in the index without an article and is skipped as a candidate.
    index(runtime, article)
    # The host's earlier pages lose the lines this page made boilerplate (rarely any).
    start |= clean_again(session, runtime, to_clean)
    if start or drafts:
        session.flush()
        recluster(session, runtime, start | {article.id}, moved=article.id)
    else:
        # A new article without links is a story of its own: no other cluster changes.
        article.cluster_id = queries.new_cluster(session, article.id)
    best = max((d.similarity for d in drafts), default=None)
    status: Status = "updated" if existing is not None else ("joined" if drafts else "new")
    return Outcome(page.url, status, article.id, article.cluster_id, None if best is None else round(best, 3))


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
    article.claimed_source_url = document.claimed_source_url
    article.url_key = normalize_url(page.final_url or page.url)
    article.claim_key = normalize_url(document.claimed_source_url) if document.claimed_source_url else None
