"""The per-host line counts of ``dedup.boilerplate``: which short lines a host's stored pages repeat.

``host_lines`` holds, per host and line key, the number of distinct stored pages of that host whose text
has the line; each article keeps the keys it counted (``Article.line_keys``, packed by ``pack_keys``).
Storing a page adds its keys, updating it adds the new keys and removes the old ones, deleting it removes
its keys (``count_lines``); ``repeated_lines`` tells which of a page's keys are on enough pages to be
boilerplate. The callers hold the transaction.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import HostLine

_T = TypeVar("_T")

# Keys per IN list, and rows per upsert (three parameters each): under SQLite's oldest limit of 999
# parameters a statement, and short statements on PostgreSQL.
_IN_CHUNK = 500
_UPSERT_CHUNK = 300
_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_KEY = struct.Struct("<q")


def pack_keys(keys: Iterable[int]) -> bytes:
    """Line keys as bytes for ``Article.line_keys``: int64, little-endian, in the order given."""
    values = list(keys)
    return struct.pack(f"<{len(values)}q", *values)


def unpack_keys(data: bytes | None) -> list[int]:
    """The line keys ``pack_keys`` packed; none for NULL (an article whose lines were never counted)."""
    if not data:
        return []
    if len(data) % _KEY.size:
        raise ValueError(f"{len(data)} bytes are not a whole number of int64 line keys")
    return [int(v) for v in struct.unpack(f"<{len(data) // _KEY.size}q", data)]


def repeated_lines(session: Session, host: str, keys: Iterable[int], min_pages: int) -> set[int]:
    """The keys among ``keys`` that at least ``min_pages`` stored pages of the host carry. One query
    (one per 500 keys)."""
    if min_pages < 1:
        raise ValueError(f"min_pages must be at least 1, not {min_pages}")
    found: set[int] = set()
    for chunk in _chunks(list(dict.fromkeys(keys)), _IN_CHUNK):
        found.update(
            session.scalars(
                select(HostLine.line_key).where(
                    HostLine.host == host, HostLine.line_key.in_(chunk), HostLine.pages >= min_pages
                )
            )
        )
    return found


def count_lines(session: Session, host: str, added: Sequence[int], removed: Sequence[int]) -> None:
    """Count one page of the host more for each key of ``added`` and one fewer for each key of ``removed``
    (each key once, however often it is given; a key in both is unchanged); a row that reaches 0 is
    deleted. An upsert (INSERT ... ON CONFLICT DO UPDATE, SQLite and PostgreSQL) in ascending key order,
    so that two transactions counting the same keys lock their rows in the same order."""
    delta: dict[int, int] = dict.fromkeys(set(added), 1)
    for key in set(removed):
        delta[key] = delta.get(key, 0) - 1
    changes = sorted((key, d) for key, d in delta.items() if d)
    if not changes:
        return
    dialect = session.get_bind().dialect.name
    insert = _INSERTS.get(dialect)
    if insert is None:
        raise NotImplementedError(f"counting host lines on {dialect} (SQLite and PostgreSQL are supported)")
    for chunk in _chunks(changes, _UPSERT_CHUNK):
        statement = insert(HostLine).values([{"host": host, "line_key": k, "pages": d} for k, d in chunk])
        statement = statement.on_conflict_do_update(
            index_elements=[HostLine.host, HostLine.line_key],
            set_={"pages": HostLine.pages + statement.excluded.pages},
        )
        session.execute(statement)
    # A key taken back that was never counted (its row was just inserted at -1) goes the same way.
    for keys in _chunks([key for key, d in changes if d < 0], _IN_CHUNK):
        session.execute(
            delete(HostLine)
            .where(HostLine.host == host, HostLine.line_key.in_(keys), HostLine.pages <= 0)
            .execution_options(synchronize_session=False)
        )


def _chunks(items: list[_T], size: int) -> Iterable[list[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
