"""Handing pages to the workers when Redis may be away: to the broker if it answers, else to the spool.

A send that fails goes to the spool and the broker is left alone for ``NEWSDEDUP_SPOOL_RETRY_SECONDS``
(pages meanwhile go straight to the spool). While the spool holds pages, it is replayed before a new
page is sent, so pages reach the broker in the order they were crawled.
"""

from __future__ import annotations

import time
from typing import Any

from crawler.spool import Spool
from workers.sender import BrokerDown, Sender


class SpoolingSender:
    """Sends pages through the sender, spooling those the broker does not take."""

    def __init__(self, sender: Sender, spool: Spool, retry_seconds: float) -> None:
        self.sender = sender
        self.spool = spool
        self.retry_seconds = retry_seconds
        self.retry_at = 0.0  # the broker is not tried before this time (time.monotonic seconds)
        self.replayed = 0
        self.last_error: str | None = None

    def hand_off(self, page: dict[str, Any]) -> str:
        """``enqueued`` if the broker took the page, ``spooled`` if it is in the spool."""
        if self.replay():
            try:
                self.sender.send_page(page)
                return "enqueued"
            except BrokerDown as e:
                self._broker_down(e)
        self.spool.put(page)
        return "spooled"

    def replay(self, force: bool = False) -> bool:
        """Send the spooled pages, oldest first, unless the broker failed less than ``retry_seconds``
        ago (``force`` tries anyway). True if the broker may be tried: the spool is empty or was
        drained; False when the broker is held to be away."""
        if not force and time.monotonic() < self.retry_at:
            return False
        if not len(self.spool):
            return True
        try:
            self.spool.replay(self._send_spooled)
        except BrokerDown as e:
            self._broker_down(e)
            return False
        return True

    def _send_spooled(self, page: dict[str, Any]) -> None:
        self.sender.send_page(page)
        self.replayed += 1

    def _broker_down(self, error: BrokerDown) -> None:
        self.last_error = str(error)
        self.retry_at = time.monotonic() + self.retry_seconds

    def close(self) -> None:
        self.sender.close()
        self.spool.close()
