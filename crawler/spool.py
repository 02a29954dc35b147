"""The spool: pages the broker did not accept, kept on disk until it does.

One SQLite file (``pages.sqlite3`` in ``NEWSDEDUP_SPOOL_DIR``) in WAL mode, shared by every crawler
process of the host. Each page is committed (and fsynced: ``synchronous=FULL``) before ``put``
returns, so a crawler that dies loses nothing it spooled. :meth:`Spool.replay` sends pages oldest
first and removes each only after ``send`` returned, inside one write transaction per page: two
processes replaying at once never send the same page, and a crash between the broker's accept and
the removal sends that page once more at the next replay (harmless: ``process_page`` is idempotent).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

FILE_NAME = "pages.sqlite3"
# Another process holds the write lock for one page's send at most; wait that long, and more.
BUSY_TIMEOUT_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    spooled_at TEXT NOT NULL,
    page TEXT NOT NULL
)
"""


def _switch_to_wal(db: sqlite3.Connection) -> None:
    """Put the file in WAL mode. Two processes that open a new spool at once race for that switch, and
    SQLite may answer one "database is locked" at once, without waiting (a lock upgrade that could
    deadlock is not retried by its busy handler): try again, outside any lock, for as long as any
    other wait for this file."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Spool:
    """A durable first-in first-out queue of pages (JSON objects with a ``url``)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / FILE_NAME
        # Autocommit mode: every statement commits at once unless inside an explicit BEGIN.
        self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        _switch_to_wal(self._db)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def put(self, page: dict[str, Any]) -> None:
        """Keep the page; it is on disk when this returns."""
        self._db.execute(
            "INSERT INTO pages (url, spooled_at, page) VALUES (?, ?, ?)",
            (str(page.get("url")), datetime.now(UTC).isoformat(), json.dumps(page)),
        )

    def __len__(self) -> int:
        count: int = self._db.execute("SELECT count(*) FROM pages").fetchone()[0]
        return count

    def urls(self) -> list[str]:
        """The URLs of the spooled pages, oldest first."""
        return [url for (url,) in self._db.execute("SELECT url FROM pages ORDER BY id")]

    def replay(self, send: Callable[[dict[str, Any]], None], limit: int | None = None) -> int:
        """Send spooled pages oldest first, each removed once ``send`` returned; returns how many.

        Stops at the first page ``send`` raises for (the exception propagates; that page and the
        ones after it stay), when the spool is empty, or after ``limit`` pages.
        """
        sent = 0
        while limit is None or sent < limit:
            self._db.execute("BEGIN IMMEDIATE")  # the write lock: no other process replays this page
            try:
                row = self._db.execute("SELECT id, page FROM pages ORDER BY id LIMIT 1").fetchone()
                if row is None:
                    self._db.execute("COMMIT")
                    return sent
                send(json.loads(row[1]))
                self._db.execute("DELETE FROM pages WHERE id = ?", (row[0],))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            sent += 1
        return sent

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
