"""Sending tasks to the broker named by this invocation's settings.

Celery reads its broker URL once, when ``workers.app`` is imported; a command or crawl may run
with other settings than that import saw, so senders open a connection to the URL they are given.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from celery import Task
from kombu import Connection, Producer

from config.defaults import BROKER_TIMEOUT_SECONDS
from workers.app import app


def broker_connection(broker_url: str, timeout: float) -> Connection:
    """A broker connection whose connects and reads give up after ``timeout`` seconds: without
    socket timeouts a publish to a stopped or unreachable Redis blocks for minutes."""
    options = {
        **app.conf.broker_transport_options,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
    }
    return app.connection_for_write(broker_url, transport_options=options)


class Sender:
    """One broker connection, reused for every task sent through it; a send to a broker that does not
    answer fails (kombu's retries, each bounded by ``timeout``) instead of hanging."""

    def __init__(self, broker_url: str, timeout: float = BROKER_TIMEOUT_SECONDS) -> None:
        self.connection: Connection = broker_connection(broker_url, timeout)
        self.producer: Producer = self.connection.Producer()

    def send(self, task: Task[Any, Any], *args: Any, queue: str | None = None) -> None:
        if queue is None:
            task.apply_async(args=args, producer=self.producer)
        else:
            task.apply_async(args=args, producer=self.producer, queue=queue)

    def close(self) -> None:
        self.producer.close()
        self.connection.release()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
