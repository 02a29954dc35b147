"""A host's boilerplate (``dedup.boilerplate``) as processing uses it: which lines of a page the host's
other stored pages repeat, which stored pages a page's arrival leaves to be cleaned, and a stored page's
text without the lines its host repeats.

A line is the host's boilerplate once BOILERPLATE_MIN_PAGES other pages of the host carry it. A page
processed after that is stored without it. The pages stored before were not: the page that brings the
line to BOILERPLATE_MIN_PAGES + 1 pages names them (``record_page_lines``), and they are cleaned too, so
the host's early pages do not stay joined by their shared chrome.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from dedup.boilerplate import drop_lines, host_of, line_keys, lines_made_boilerplate, lines_to_record
from dedup.document import Document, describe
from dedup.params import Params
from newsdedup.service.page import Page
from newsdedup.service.runtime import Runtime
from storage import locks, queries
from storage.archive import TextsArchived
from storage.boilerplate import carriers, line_pages, record_lines
from storage.models import Article


def host(article: Article) -> str:
    """The host whose lines the article's are counted with."""
    return host_of(article.final_url or article.url)


def repeated_lines(
    session: Session, params: Params, host: str, keys: Sequence[int], exclude: int | None
) -> set[int]:
    """The keys that BOILERPLATE_MIN_PAGES stored pages of the host carry, besides the article
    ``exclude`` (the page's own stored version)."""
    least = params.boilerplate_min_pages
    if not least or not keys:
        return set()
    return {key for key, pages in line_pages(session, host, keys, exclude).items() if pages >= least}


def boilerplate_of(runtime: Runtime, page: Page) -> Callable[[Sequence[int]], set[int]] | None:
    """For ``dedup.document.prepare``: which of the page's line keys its host repeats (a short read of
    its own, before the page's transaction); None when the rule is off."""
    if not runtime.params.boilerplate_min_pages:
        return None

    def repeated(keys: Sequence[int]) -> set[int]:
        with runtime.sessions() as session:
            stored = queries.find_article(session, page.url)
            exclude = stored.id if stored is not None else None
            return repeated_lines(session, runtime.params, host_of(page.final_url or page.url), keys, exclude)

    return repeated


def record_page_lines(
    session: Session, params: Params, host: str, article_id: int, keys: Sequence[int]
) -> set[int]:
    """Record the lines of a page just stored (``keys``: all its short lines, the boilerplate it left
    out included) and return the host's stored pages to clean: those that carry a line this page has
    made boilerplate. Empty most of the time: a line reaches that mark once."""
    least = params.boilerplate_min_pages
    elsewhere = line_pages(session, host, keys, exclude=article_id) if least and keys else {}
    # The lines whose count this page may change are held (``storage.locks``) and counted again: two
    # pages of a host stored at once must not both count a line one short of the mark and neither
    # name its carriers. A line past the mark already is no page's to change: left free, so the
    # host's pages do not wait for each other over their shared navigation.
    open_lines = lines_to_record(keys, elsewhere, least) if least else []
    if locks.lock_host_lines(session, host, open_lines):
        elsewhere = {**elsewhere, **line_pages(session, host, open_lines, exclude=article_id)}
    record_lines(session, host, article_id, lines_to_record(keys, elsewhere, least))
    known = lines_made_boilerplate(keys, elsewhere, least) if least else []
    return carriers(session, host, known) if known else set()


def stored_document(session: Session, runtime: Runtime, article: Article) -> Document:
    """A stored article's document: its text without the lines its host now repeats, described as
    processing describes a page."""
    p = runtime.params
    text = article.text
    if text is None:
        raise TextsArchived(
            f"article {article.id}'s text is archived: `newsdedup db restore-texts` puts it back"
        )
    keys = line_keys(text, p.boilerplate_max_chars) if p.boilerplate_min_pages else []
    repeated = repeated_lines(session, p, host(article), keys, article.id)
    return describe(
        runtime.signer,
        p,
        drop_lines(text, repeated, p.boilerplate_max_chars),
        language=article.language,
        title=article.title,
        published_at=article.published_at,
        claimed_source_url=article.claimed_source_url,
    )
