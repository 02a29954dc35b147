"""The short lines of the stored pages, by host (``dedup.boilerplate``): one row per page and line key.

A page's rows are written when it is stored (``record_lines``) and go with it. The caller records only a
page's lines not yet past the mark of boilerplate (``dedup.boilerplate.lines_to_record``): the pages
after that leave the line out and record no row for it, so a line's rows stop at BOILERPLATE_MIN_PAGES
+ 1, and counting them (``line_pages``) costs as little for a line on every one of a host's million
pages as for one on two.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from storage._shared import chunks
from storage.models import HostLine

# Rows per INSERT (three parameters each: under SQLite's 999).
_ROWS_PER_INSERT = 300


def record_lines(session: Session, host: str, article_id: int, keys: Iterable[int]) -> None:
    """The stored article's short lines are these, on this host: its earlier rows go."""
    session.execute(delete(HostLine).where(HostLine.article_id == article_id))
    for chunk in chunks(keys, _ROWS_PER_INSERT):
        rows = [{"host": host, "line_key": key, "article_id": article_id} for key in chunk]
        session.execute(insert(HostLine), rows)


def line_pages(
    session: Session, host: str, keys: Iterable[int], exclude: int | None = None
) -> dict[int, int]:
    """For each of the keys that a stored page of the host carries (other than the article
    ``exclude``), how many pages carry it. Keys no page carries are absent."""
    found: dict[int, int] = {}
    for chunk in chunks(keys):
        query = select(HostLine.line_key, func.count()).where(
            HostLine.host == host, HostLine.line_key.in_(chunk)
        )
        if exclude is not None:
            query = query.where(HostLine.article_id != exclude)
        found.update((key, pages) for key, pages in session.execute(query.group_by(HostLine.line_key)))
    return found


def carriers(session: Session, host: str, keys: Iterable[int]) -> set[int]:
    """The stored pages of the host that carry any of these lines."""
    found: set[int] = set()
    for chunk in chunks(keys):
        found.update(
            session.scalars(
                select(HostLine.article_id).where(HostLine.host == host, HostLine.line_key.in_(chunk))
            )
        )
    return found
