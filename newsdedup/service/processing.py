"""Process one page: clean, sign, link it to the stored articles that tell its story, re-derive
the clusters around it, store it.

The Celery task ``process_page``, the embedded crawl and ``newsdedup ingest`` all run this.
Processing the same page twice changes nothing.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from config import Source
from config.logs import current_task_id, page_logger
from dedup.document import Document, NoStoryText, prepare
from dedup.urls import normalize_url
from newsdedup.service.boilerplate import boilerplate_of, host, record_page_lines
from newsdedup.service.clustering import (
    Draft,
    IndexChanges,
    candidates,
    clean_again,
    neighbours,
    recluster,
    store_links,
    store_signals,
    unindex,
    verify,
)
from newsdedup.service.page import Page
from newsdedup.service.runtime import Runtime
from storage import locks, queries
from storage.models import Article

log = logging.getLogger(__name__)

Status = Literal["new", "joined", "updated", "unchanged", "rejected"]

# A page whose transaction found a cluster held by a page that may wait for it starts over this many
# times at most (``storage.locks.Busy``, or a deadlock PostgreSQL broke), after a random pause of up
# to START_OVER_SECONDS times the attempt; then the page fails, and its task is tried again later.
ASSIGN_ATTEMPTS = 8
START_OVER_SECONDS = 0.01


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
    # Before the transaction: find and verify candidates against what is committed now (reads only,
    # most of the work); the transaction verifies again only what changed since.
    with runtime.sessions() as session:
        existing = queries.find_article(session, page.url)
        if existing is not None and existing.content_hash == document.content_hash:
            return Outcome(page.url, "unchanged", existing.id, existing.cluster_id)
        found, named = candidates(session, runtime, document, url_key, claim_key)
        drafts, examined = verify(
            session, runtime, document, found - {existing.id if existing else -1}, named
        )
    for attempt in range(1, ASSIGN_ATTEMPTS + 1):
        try:
            return _assign(runtime, page, document, source, (url_key, claim_key), examined, drafts)
        except (locks.Busy, DBAPIError) as e:
            if attempt == ASSIGN_ATTEMPTS or not locks.start_over(e):
                raise
            runtime.counts["assignments_started_over"] += 1
            log.debug("starting the transaction of %s over (%s)", page.url, e)
            time.sleep(random.uniform(0, START_OVER_SECONDS * attempt))
    raise AssertionError("unreachable")  # the last attempt returns or raises


def _assign(
    runtime: Runtime,
    page: Page,
    document: Document,
    source: Source | None,
    keys: tuple[str, str | None],
    examined: dict[int, str],
    drafts: list[Draft],
) -> Outcome:
    """The page's transaction: the page stored and in the index, linked and clustered, taking the
    locks of ``storage.locks`` in their order. What it changed in the index is undone if it fails."""
    url_key, claim_key = keys
    changes = IndexChanges()
    announced: int | None = None
    session = runtime.sessions()
    try:
        with session, session.begin():
            page_keys = [page.url, document.content_hash, url_key, *([claim_key] if claim_key else [])]
            locks.begin_assignment(session, page_keys)
            runtime.follow_index()
            existing = queries.find_article(session, page.url)
            if existing is not None and existing.content_hash == document.content_hash:
                return Outcome(page.url, "unchanged", existing.id, existing.cluster_id)
            # A changed article is written only after the waits below: a row written now would be
            # locked against pages this one may wait for.
            article = existing or _new_article(session, page, document, source)
            locks.claim_article(session, article.id)
            if existing is not None:
                unindex(runtime, existing, changes)
            if document.signature is not None:
                rare = document.evidence.rare(runtime.params.evidence_min_weight)
                changes.insert(runtime.index, (article.id, document.signature, document.anchors, rare))
            ticket = runtime.pending.announce(announced := article.id)
            drafts = _bring_up_to_date(session, runtime, document, keys, examined, drafts, article.id, ticket)
            changed = existing is not None
            return _store(session, runtime, page, document, article, changed, source, drafts, changes)
    except BaseException:
        changes.undo(runtime.index)
        raise
    finally:
        if announced is not None:
            runtime.pending.forget(announced)
        runtime.counts.update({f"lock_seconds:{k}": v for k, v in locks.waits(session).items()})


def _new_article(session: Session, page: Page, document: Document, source: Source | None) -> Article:
    article = Article(url=page.url)
    _fill(article, page, document, source)
    store_signals(article, document)
    queries.add_article(session, article)
    return article


def _bring_up_to_date(
    session: Session,
    runtime: Runtime,
    document: Document,
    keys: tuple[str, str | None],
    examined: dict[int, str],
    drafts: list[Draft],
    article_id: int,
    ticket: int,
) -> list[Draft]:
    """In the transaction, the page indexed and announced: its candidates now. It waits for those
    that pages announced before it are storing (``newsdedup.service.pending``), then verifies again
    whatever was stored or changed since the drafts were made. So two copies stored at the same moment
    by two workers still link: the later-announced one waits for the other and verifies it."""
    now, named = candidates(session, runtime, document, *keys)
    now.discard(article_id)
    earlier = [other for other, t in runtime.pending.tickets(now).items() if t < ticket]
    locks.wait_for_articles(session, earlier)
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
    article: Article,
    changed: bool,
    source: Source | None,
    drafts: list[Draft],
    changes: IndexChanges,
) -> Outcome:
    """Store the article, its links, and the clusters that follow from them."""
    start: set[int] = set()
    if changed:
        # The old text's links go; the articles they reached are re-clustered too.
        start = neighbours(session, {article.id})
        queries.delete_links(session, article.id)
        _fill(article, page, document, source)
        store_signals(article, document)
        queries.add_article(session, article)
    to_clean = record_page_lines(session, runtime.params, host(article), article.id, document.line_keys)
    store_links(session, article.id, drafts)
    # The host's earlier pages lose the lines this page made boilerplate (rarely any).
    start |= clean_again(session, runtime, to_clean, changes)
    if start or drafts:
        session.flush()
        recluster(session, runtime, start | {article.id}, moved=article.id, hold=True)
    else:
        # A new article without links is a story of its own: no other cluster changes.
        article.cluster_id = queries.new_cluster(session, article.id)
    best = max((d.similarity for d in drafts), default=None)
    status: Status = "updated" if changed else ("joined" if drafts else "new")
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
