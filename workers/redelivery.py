"""When Redis hands an unacknowledged task to another worker: soon after its worker died, never while
its worker lives.

A task is acknowledged after it ran (``task_acks_late``). Kombu's Redis transport keeps every
delivered, unacknowledged message in its ``unacked`` hash, indexed by delivery time in
``unacked_index``; a live worker's sweep puts back on its queue every message older than the
visibility timeout. Left alone, that would hand a long crawl, or a page waiting for its retry, to a
second worker while the first still runs it, so the timeout used to be two hours, and a dead
worker's pages waited that long.

Here each worker renews the delivery time of every message it holds (``KeepDeliveriesAlive``), every
third of the visibility timeout: a live worker's messages never age past it, whatever the task, and
a dead worker's come back one visibility timeout after it died (30 s by default), plus one sweep.
Kombu sweeps every ``unacked_restore_interval * unacked_restore_throttle`` seconds: a tenth of the
visibility timeout here (at least 1 s, at most kombu's own 100 s).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import bootsteps
from kombu.transport.redis import Channel

log = logging.getLogger(__name__)

# Kombu's own sweep: every 10 s, a scan at every 10th.
_INTERVAL = 10
_LONGEST_SWEEP = 100


def redelivery_options(visibility_timeout: int) -> dict[str, int]:
    """Celery's ``broker_transport_options`` for the Redis transport."""
    sweep = max(1, min(_LONGEST_SWEEP, visibility_timeout // 10))
    interval = min(_INTERVAL, sweep)
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": interval,
        "unacked_restore_throttle": max(1, sweep // interval),
    }


def renewal_seconds(visibility_timeout: int) -> float:
    """How often a worker renews its messages: three times per visibility timeout, so that a late
    renewal or two (a busy event loop) still comes in time."""
    return visibility_timeout / 3


def renew(channel: Channel) -> int:
    """Set the delivery time of every message this channel holds unacknowledged to now; how many."""
    # The delivery tags of this channel's unacknowledged messages (acknowledged ones may linger until
    # kombu's next flush: ``xx`` only updates members still in the index, and never adds one back).
    for _ in range(3):
        try:
            tags = list(channel.qos._delivered or ())
            break
        except RuntimeError:  # changed while copied (Celery's timer thread, outside an event loop)
            continue
    else:
        return 0
    if not tags:
        return 0
    with channel.conn_or_acquire() as client:
        client.zadd(channel.unacked_index_key, dict.fromkeys(tags, time.time()), xx=True)
    return len(tags)


class KeepDeliveriesAlive(bootsteps.StartStopStep):
    """A consumer step: while the worker consumes, renew its messages (``renew``) on Celery's timer."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry: Any = None

    def start(self, parent: Any) -> None:
        channel = parent.task_consumer.channel
        if not hasattr(channel, "unacked_index_key"):  # not the Redis transport: nothing to renew
            return
        seconds = renewal_seconds(int(channel.visibility_timeout))
        self.timer_entry = parent.timer.call_repeatedly(seconds, self._renew, (channel,))

    @staticmethod
    def _renew(channel: Channel) -> None:
        try:
            renew(channel)
        except Exception:  # a broken connection: the consumer reconnects, and restarts this step
            log.warning("could not renew this worker's messages in Redis", exc_info=True)

    def stop(self, parent: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    shutdown = stop
