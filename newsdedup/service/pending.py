"""Pages being stored right now, numbered in the order they announced themselves: which of the
uncommitted articles a page finds in the index it must wait for.

A page being stored puts its article into the candidate index, then announces it (a ticket, from one
counter), then queries the index. If two near-copies are stored at once, the one with the later
ticket queried after the other had indexed, so it finds the other: of any two, the later always
finds the earlier. So a page waits (``storage.locks.wait_for_articles``) for the uncommitted articles
it finds with earlier tickets, then verifies them, committed; those with later tickets (or none yet)
will find it and wait for it. Waits go from later to earlier tickets only, so they never go round in
a circle. A ticket is forgotten once its transaction has ended.

In Redis for workers that share an index; in this process's memory otherwise.
"""

from __future__ import annotations

import itertools
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis import Redis

PENDING_PREFIX = "newsdedup:{pending}"  # one hash slot: the counter and the tickets together
# A ticket outlives any page's transaction; one left by a process killed mid-page expires then.
PENDING_SECONDS = 24 * 3600

_ANNOUNCE = """
local ticket = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], ticket, 'EX', ARGV[1])
return ticket
"""


class Pending(ABC):
    """Tickets of the articles whose transactions are open."""

    @abstractmethod
    def announce(self, article_id: int) -> int:
        """A new ticket for the article, later than every ticket given before."""

    @abstractmethod
    def tickets(self, article_ids: Iterable[int]) -> dict[int, int]:
        """The tickets of those of these articles that are being stored."""

    @abstractmethod
    def forget(self, article_id: int) -> None:
        """The article's transaction has ended."""


class MemoryPending(Pending):
    """Tickets of this process's pages (the embedded mode)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._tickets: dict[int, int] = {}
        self._lock = threading.Lock()

    def announce(self, article_id: int) -> int:
        with self._lock:
            ticket = self._tickets[article_id] = next(self._counter)
        return ticket

    def tickets(self, article_ids: Iterable[int]) -> dict[int, int]:
        with self._lock:
            return {a: self._tickets[a] for a in article_ids if a in self._tickets}

    def forget(self, article_id: int) -> None:
        with self._lock:
            self._tickets.pop(article_id, None)


class RedisPending(Pending):
    """Tickets shared by every worker (the counter and the ticket are set in one script: a page never
    sees a ticket taken but not yet written)."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._announce = client.register_script(_ANNOUNCE)

    @staticmethod
    def _key(article_id: int) -> str:
        return f"{PENDING_PREFIX}:{article_id}"

    def announce(self, article_id: int) -> int:
        keys = [f"{PENDING_PREFIX}:ticket", self._key(article_id)]
        return int(self._announce(keys=keys, args=[PENDING_SECONDS]))

    def tickets(self, article_ids: Iterable[int]) -> dict[int, int]:
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        values = self.client.mget([self._key(a) for a in ids])
        return {a: int(v) for a, v in zip(ids, values, strict=True) if v is not None}

    def forget(self, article_id: int) -> None:
        self.client.delete(self._key(article_id))


def make_pending(client: Redis | None) -> Pending:
    return MemoryPending() if client is None else RedisPending(client)
