"""The locks of cluster assignment: pages are stored side by side, and only pages that may touch the
same articles wait for each other (PostgreSQL advisory locks, each held until its transaction ends).

A page being stored takes, in this order (one order for every page, so no two wait for each other):

1. the assignment lock, shared (``begin_assignment``): only a rebuild of the index or an operator's
   correction takes it exclusively (``stop_assignments``), waiting for the pages being stored and
   holding off new ones;
2. its page keys, sorted (``begin_assignment``): its URL, words (content hash), URL key and claimed
   source. Two copies with the same words, or a page and the page it names, are stored one after the
   other, so the later finds the earlier committed;
3. its own article (``claim_article``). A page that finds another's article in the index before that
   article is committed waits for it (``wait_for_articles``) if that page announced itself first
   (``newsdedup.service.pending`` says why that is enough and cannot go round in a circle);
4. the lines of its host whose page count it may change (``lock_host_lines``), sorted;
5. the clusters its links reach (``lock_clusters``): sorted and waiting; clusters found only after
   those are held (their articles moved meanwhile) are tried without waiting, and if another page
   holds one, this page starts over (``Busy``).

On SQLite a database file has one writer at a time: the first of these takes the write lock (the
``AssignmentLock`` row), and the others have nothing left to do.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable

import xxhash
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage.models import AssignmentLock

# Advisory lock keys. The assignment lock is one 64-bit key; page keys and host lines are 64-bit
# hashes of their text (a collision only makes two pages wait for each other). Articles and clusters
# use the two-integer form, which PostgreSQL keeps apart from the 64-bit one: (namespace, id).
ASSIGNMENT_KEY = 0x6E64_6173_7369_676E
_ARTICLE = 1
_CLUSTER = 2
# Where a session keeps the seconds its lock calls took (``waits``).
_WAITS = "newsdedup_lock_waits"
# unnest returns an array's elements in order: the locks are taken in that (sorted) order.
_LOCK_ALL = "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k"
_TRY_ALL = "SELECT bool_and(pg_try_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k"


class Busy(Exception):
    """A cluster this page needs is held by a page that may be waiting for this one: the transaction
    is to be rolled back and started over."""


def start_over(error: BaseException) -> bool:
    """Whether a page's transaction failed only for another page's locks: ``Busy``, or a deadlock
    PostgreSQL broke by failing this transaction (row locks are not in the order above)."""
    if isinstance(error, Busy):
        return True
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == "40P01"


def waits(session: Session) -> Counter[str]:
    """What this session's lock calls cost, in seconds, by kind of lock (``assignment``: the
    assignment lock and page keys, or SQLite's write lock; ``articles``, ``host_lines``,
    ``clusters``): ``blocked:KIND``, the time spent waiting because another page held one, and
    ``calls:KIND``, all the time spent in the calls (taking a free lock costs a round trip too)."""
    found: Counter[str] = session.info.get(_WAITS, Counter())
    return found


def _count(session: Session, name: str, seconds: float) -> None:
    session.info.setdefault(_WAITS, Counter())[name] += seconds


def _take(
    session: Session, kind: str, attempt: str, wait: tuple[str, ...], params: dict[str, object]
) -> None:
    """Run ``attempt`` (it takes the locks if they are free and says whether it got them all); if it
    did not, ``wait``, which takes them waiting. Counts both (``waits``)."""
    started = time.perf_counter()
    if not session.scalar(text(attempt), params):
        blocked = time.perf_counter()
        for statement in wait:
            session.execute(text(statement), params)
        _count(session, f"blocked:{kind}", time.perf_counter() - blocked)
    _count(session, f"calls:{kind}", time.perf_counter() - started)


def per_page(session: Session) -> bool:
    """Whether pages take the locks of their own stories here (PostgreSQL), rather than the one write
    lock of the database (SQLite)."""
    return _postgres(session)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _write_lock(session: Session) -> None:
    """SQLite: the database's write lock, taken by the first write, held until the transaction ends."""
    session.execute(
        update(AssignmentLock).where(AssignmentLock.id == 1).values(version=AssignmentLock.version + 1)
    )


def key_of(value: str) -> int:
    """A text as a signed 64-bit advisory lock key."""
    return int.from_bytes(xxhash.xxh64_digest(value.encode("utf-8")), "big", signed=True)


def stop_assignments(session: Session) -> None:
    """Wait for every page being stored and hold off new ones until this transaction ends (a rebuild
    of the index, an operator's correction, a relink)."""
    if _postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ASSIGNMENT_KEY})
    else:
        _write_lock(session)


def begin_assignment(session: Session, page_keys: Iterable[str]) -> None:
    """The start of a page's transaction: the assignment lock, shared, and its page keys."""
    if not _postgres(session):
        started = time.perf_counter()
        _write_lock(session)
        _count(session, "calls:assignment", time.perf_counter() - started)
        return
    # Tried in one statement; if any is taken, taken in order, waiting (a lock already got by the
    # attempt is taken again: advisory locks count, and all go at the end of the transaction).
    _take(
        session,
        "assignment",
        "SELECT pg_try_advisory_xact_lock_shared(:key) AND (SELECT bool_and(pg_try_advisory_xact_lock(k)) "
        "FROM unnest(CAST(:keys AS bigint[])) AS k)",
        ("SELECT pg_advisory_xact_lock_shared(:key)", _LOCK_ALL),
        {"key": ASSIGNMENT_KEY, "keys": sorted({key_of(k) for k in page_keys})},
    )


def claim_article(session: Session, article_id: int) -> None:
    """Hold the article being stored: pages that found it in the index wait for its commit."""
    if _postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, :id)"), {"ns": _ARTICLE, "id": article_id})


def try_claim_articles(session: Session, article_ids: Iterable[int]) -> bool:
    """Hold these stored articles too (a host's pages to clean of a line), if no page is storing them."""
    ids = sorted(set(article_ids))
    if not ids or not _postgres(session):
        return True
    held = session.scalar(
        text("SELECT bool_and(pg_try_advisory_xact_lock(:ns, a)) FROM unnest(CAST(:ids AS integer[])) AS a"),
        {"ns": _ARTICLE, "ids": ids},
    )
    return bool(held)


def wait_for_articles(session: Session, article_ids: Iterable[int]) -> None:
    """Wait until no page holds these articles (their transactions ended), holding nothing after."""
    if not _postgres(session):
        return
    for article_id in sorted(set(article_ids)):
        # Taken and given back at once (a session lock, shared): waiting must not hold the article,
        # or a page waiting for it would wait for this one.
        _take(
            session,
            "articles",
            "SELECT CASE WHEN pg_try_advisory_lock_shared(:ns, :id) "
            "THEN pg_advisory_unlock_shared(:ns, :id) ELSE false END",
            ("SELECT pg_advisory_lock_shared(:ns, :id), pg_advisory_unlock_shared(:ns, :id)",),
            {"ns": _ARTICLE, "id": article_id},
        )


def lock_host_lines(session: Session, host: str, line_keys: Iterable[int]) -> bool:
    """Hold these lines of the host (their page counts) until this transaction ends. True if anything
    was locked: counts read before are to be read again."""
    keys = sorted({key_of(f"{host}\n{line}") for line in line_keys})
    if not keys or not _postgres(session):
        return False
    _take(session, "host_lines", _TRY_ALL, (_LOCK_ALL,), {"keys": keys})
    return True


def lock_clusters(session: Session, cluster_ids: Iterable[int], wait: bool) -> None:
    """Hold these clusters until this transaction ends: waiting for them (sorted), or, with ``wait``
    false, trying each and raising ``Busy`` if another page holds one."""
    ids = sorted(set(cluster_ids))
    if not ids or not _postgres(session):
        return
    attempt = "SELECT bool_and(pg_try_advisory_xact_lock(:ns, c)) FROM unnest(CAST(:ids AS integer[])) AS c"
    if wait:
        lock = "SELECT count(pg_advisory_xact_lock(:ns, c)) FROM unnest(CAST(:ids AS integer[])) AS c"
        _take(session, "clusters", attempt, (lock,), {"ns": _CLUSTER, "ids": ids})
    elif not session.scalar(text(attempt), {"ns": _CLUSTER, "ids": ids}):
        raise Busy(f"a page is storing into one of clusters {ids}")
