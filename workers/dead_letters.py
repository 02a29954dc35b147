"""Dead letters: pages that were delivered ``MAX_DELIVERIES`` times without finishing, kept in Redis
for an operator to look at and send again (``newsdedup dead-letters list | replay``).

A page that kills its pool process (or is killed at the hard time limit) is given back by the broker
and delivered again, forever if nothing counts: ``deliveries`` counts the deliveries of a task id that
have not finished (kept a day), ``finished`` forgets them once one ends (stored, rejected, or sent to
retry while the database or Redis is away), and the delivery past the cap ``bury``\\ s the page
instead of processing it.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

DEAD_LETTERS = "newsdedup:dead-letters"
DELIVERIES = "newsdedup:deliveries:"
# How long a task's unfinished deliveries are remembered.
DELIVERIES_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class DeadLetter:
    task_id: str
    url: str | None
    reason: str
    deliveries: int
    at: str
    page: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """Everything but the page itself (its HTML can be megabytes)."""
        return {
            "task_id": self.task_id,
            "url": self.url,
            "reason": self.reason,
            "deliveries": self.deliveries,
            "at": self.at,
        }


def deliveries(client: redis.Redis, task_id: str) -> int:
    """Count one more delivery of the task; returns the count of its unfinished deliveries."""
    key = DELIVERIES + task_id
    with client.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, DELIVERIES_TTL_SECONDS)
        count, _ = pipe.execute()
    return int(count)


def finished(client: redis.Redis, task_id: str) -> None:
    """The delivery ended: forget the count."""
    client.delete(DELIVERIES + task_id)


def bury(client: redis.Redis, task_id: str, page: dict[str, Any], reason: str, count: int) -> None:
    """Keep the page among the dead letters (compressed: it holds the HTML)."""
    packed = base64.b64encode(zlib.compress(json.dumps(page).encode())).decode()
    entry = {
        "task_id": task_id,
        "url": page.get("url") if isinstance(page, dict) else None,
        "reason": reason,
        "deliveries": count,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "page": packed,
    }
    client.rpush(DEAD_LETTERS, json.dumps(entry))


def dead_letters(client: redis.Redis) -> list[DeadLetter]:
    """Every dead letter, oldest first."""
    return [_letter(raw) for raw in client.lrange(DEAD_LETTERS, 0, -1)]


def take(client: redis.Redis, task_ids: set[str] | None = None) -> list[DeadLetter]:
    """Remove the dead letters of these task ids (all of them for None) and return them, oldest first,
    for sending again. Each is removed by its exact entry, so one buried meanwhile stays."""
    taken = []
    entries: list[bytes] = client.lrange(DEAD_LETTERS, 0, -1)  # type: ignore[assignment]  # sync client
    for raw in entries:
        letter = _letter(raw)
        wanted = task_ids is None or letter.task_id in task_ids
        if wanted and client.lrem(DEAD_LETTERS, 1, raw):  # type: ignore[arg-type]  # bytes are sent as they are
            taken.append(letter)
    return taken


def _letter(raw: bytes | str) -> DeadLetter:
    entry = json.loads(raw)
    page = json.loads(zlib.decompress(base64.b64decode(entry["page"])))
    return DeadLetter(
        entry["task_id"], entry["url"], entry["reason"], int(entry["deliveries"]), entry["at"], page
    )
