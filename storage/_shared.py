"""What ``storage.queries`` and ``storage.views`` both use: id lists cut into chunks for ``IN (...)``
(the one place they are cut), and the articles a URL names."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select, or_
from sqlalchemy.orm import Session

from storage.models import Article

Ts = TypeVarTuple("Ts")
# Ids go into IN (...) lists this many at a time (SQLite allows 999 parameters in a statement).
CHUNK = 500


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    """The distinct ids (or keys), sorted, in lists of at most ``size``."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def in_chunks(
    session: Session, ids: Iterable[int], statement: Callable[[list[int]], Select[*Ts]]
) -> Iterator[Row[*Ts]]:
    """The rows of ``statement(chunk)`` for the ids, one statement per chunk of ``CHUNK`` ids."""
    for chunk in chunks(ids):
        yield from session.execute(statement(chunk))


def at_url(url: str) -> ColumnElement[bool]:
    """The articles fetched at this URL, or redirected to it."""
    return or_(Article.url == url, Article.final_url == url)
