"""Sending tasks to the broker named by the caller's settings: the one sender of the command line
(``ingest --enqueue``, ``crawl --enqueue``), the crawler's hand-off and the spool's replay.

Tasks are sent by name, so a sender needs neither the tasks' code nor the worker's configuration.
A send gives up within seconds: each connect and read is bounded by ``timeout``, and a failed publish
is tried once more after half a second; then it raises BrokerDown (a crawler spools the page, the
command line says so in one line). Without socket timeouts a publish to a stopped or unreachable
Redis blocks for minutes.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import redis
from kombu import Connection, Producer
from kombu.exceptions import OperationalError

from config import Settings
from config.defaults import BROKER_TIMEOUT_SECONDS
from workers.app import app
from workers.names import PROCESS_PAGE

# What a broker that is away (refused, reset, silent) raises through kombu and redis-py.
BROKER_ERRORS = (OperationalError, redis.ConnectionError, redis.TimeoutError, OSError)
# One more try after half a second: a broker that is away for longer than that is away for a while.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0.5, "interval_step": 0.5, "interval_max": 0.5}


class BrokerDown(RuntimeError):
    """The broker did not accept a task in time."""


class Sender:
    """One broker connection, reused for every task sent through it."""

    def __init__(
        self, broker_url: str, timeout: float = BROKER_TIMEOUT_SECONDS, settings: Settings | None = None
    ) -> None:
        if settings is not None:
            app.use_settings(settings)  # Celery's own options (redelivery, serializer) from these
        options = {
            **app.conf.broker_transport_options,
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
        }
        self.connection: Connection = app.connection_for_write(broker_url, transport_options=options)
        self.producer: Producer = self.connection.Producer()

    def send(self, task: str, *args: Any, queue: str | None = None) -> None:
        """One message for the task named ``task``, accepted by the broker when this returns."""
        routing: dict[str, Any] = {"queue": queue} if queue is not None else {}
        try:
            app.send_task(
                task,
                args=args,
                producer=self.producer,
                retry=True,
                retry_policy=RETRY_POLICY,
                # No time limits in the message: the worker's own settings set them (a message's
                # would win over the worker's, and the sender's settings may be another host's).
                time_limit=None,
                soft_time_limit=None,
                **routing,
            )
        except BROKER_ERRORS as e:
            raise BrokerDown(str(e) or type(e).__name__) from e

    def send_page(self, page: dict[str, Any]) -> None:
        """One ``process_page`` message for the page (a ``newsdedup.service.page.Page`` as JSON)."""
        self.send(PROCESS_PAGE, page)

    def close(self) -> None:
        self.producer.close()
        self.connection.release()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
