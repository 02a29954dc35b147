"""Handing pages to the workers when Redis may be away: to the broker if it answers, else to the spool.

A send that fails goes to the spool and the broker is left alone for ``NEWSDEDUP_SPOOL_RETRY_SECONDS``
(pages meanwhile go straight to the spool). While the spool holds pages, it is replayed before a new
page is sent, so pages reach the broker in the order they were crawled.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from kombu import Connection, Producer
from kombu.exceptions import OperationalError

from crawler.spool import Spool
from workers.enqueue import broker_connection
from workers.tasks import process_page

# What a broker that is away (refused, reset, silent) raises through kombu and redis-py.
BROKER_ERRORS = (OperationalError, redis.ConnectionError, redis.TimeoutError, OSError)
# One more try after half a second: a broker that is away for longer than that is away for a while.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0.5, "interval_step": 0.5, "interval_max": 0.5}


class BrokerDown(RuntimeError):
    """The broker did not accept a page in time."""


class Publisher:
    """One broker connection that gives up within seconds: ``send`` raises BrokerDown, never hangs.

    Unlike ``workers.enqueue.Sender`` (whose callers have nowhere else to put a task), it sets socket
    timeouts (a stopped or unreachable Redis would otherwise block a publish for minutes) and tries
    twice, not four times.
    """

    def __init__(self, broker_url: str, timeout: float) -> None:
        self.connection: Connection = broker_connection(broker_url, timeout)
        self.producer: Producer = self.connection.Producer()

    def send(self, page: dict[str, Any]) -> None:
        """One ``process_page`` message for the page, accepted by the broker when this returns."""
        try:
            process_page.apply_async(
                args=(page,), producer=self.producer, retry=True, retry_policy=RETRY_POLICY
            )
        except BROKER_ERRORS as e:
            raise BrokerDown(str(e) or type(e).__name__) from e

    def close(self) -> None:
        self.producer.close()
        self.connection.release()


class SpoolingSender:
    """Sends pages through the publisher, spooling those the broker does not take."""

    def __init__(self, publisher: Publisher, spool: Spool, retry_seconds: float) -> None:
        self.publisher = publisher
        self.spool = spool
        self.retry_seconds = retry_seconds
        self.retry_at = 0.0  # the broker is not tried before this time (time.monotonic seconds)
        self.replayed = 0
        self.last_error: str | None = None

    def hand_off(self, page: dict[str, Any]) -> str:
        """``enqueued`` if the broker took the page, ``spooled`` if it is in the spool."""
        if self.replay():
            try:
                self.publisher.send(page)
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
        self.publisher.send(page)
        self.replayed += 1

    def _broker_down(self, error: BrokerDown) -> None:
        self.last_error = str(error)
        self.retry_at = time.monotonic() + self.retry_seconds

    def close(self) -> None:
        self.publisher.close()
        self.spool.close()
