"""The Celery app: ``celery -A workers.app worker|beat|inspect ...`` (``newsdedup worker|beat`` wrap it).

Broker: ``NEWSDEDUP_REDIS_URL``. Results are not kept: tasks write what they do to the database.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init

from config import load_settings
from workers.redelivery import redelivery_options, timeout_warnings
from workers.schedule import BEAT_KEY_PREFIX

_settings = load_settings()

app = Celery("newsdedup", include=["workers.tasks"])
app.conf.update(
    broker_url=_settings.redis_url,
    # Redis redelivers an unacknowledged task after this long; it must outlast the longest task.
    broker_transport_options=redelivery_options(_settings.visibility_timeout_seconds),
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    result_expires=None,  # no results to expire: beat adds no celery.backend_cleanup entry
    # Acknowledge after the task ran, and give a task back when its worker dies mid-way: a page
    # is never lost, and processing it twice changes nothing.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_routes={"newsdedup.crawl_source": {"queue": "crawl"}},
    timezone="UTC",
    enable_utc=True,
    # Beat: RedBeat keeps the schedule in Redis and lets one beat at a time send tasks, through a lock
    # renewed at every wake-up; a second beat waits and takes over once the holder's lock expired.
    beat_scheduler="redbeat.RedBeatScheduler",
    beat_max_loop_interval=_settings.beat_max_loop_interval_seconds,
    redbeat_redis_url=_settings.redis_url,
    redbeat_redis_options={},  # RedBeat's client gets none of the broker's transport options
    redbeat_key_prefix=BEAT_KEY_PREFIX,
    redbeat_lock_timeout=_settings.beat_lock_timeout_seconds,
)


@app.on_after_configure.connect
def _schedule_crawls(sender: Celery, **_: Any) -> None:
    from workers.schedule import beat_schedule

    sender.conf.beat_schedule = beat_schedule(_settings)


@worker_init.connect
def _require_redis(**_: Any) -> None:
    if _settings.redis_url is None:
        raise SystemExit("error: NEWSDEDUP_REDIS_URL is not set: workers need Redis as broker and index")
    for warning in timeout_warnings(_settings):
        logging.getLogger(__name__).warning(warning)


@worker_init.connect
def _warm_up_before_fork(**_: Any) -> None:
    """Load the word-frequency tables and the language model (seconds, half a gigabyte) once, in the
    parent, before the pool forks: every pool process, also one started after another was killed, begins
    warm and shares them (frozen out of the garbage collector's reach, so that it does not copy their
    pages)."""
    from dedup.evidence import evidence
    from dedup.language import detect_language

    evidence("warm up", "en")
    detect_language("warm up")
    gc.freeze()


@worker_process_init.connect
def _fresh_runtime_after_fork(**_: Any) -> None:
    from workers.runtime import forget_runtime

    forget_runtime()
