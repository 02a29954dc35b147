"""The Celery app: ``celery -A workers.app worker|beat|inspect ...`` (``newsdedup worker|beat`` wrap it).

Broker: ``NEWSDEDUP_REDIS_URL``. Results are not kept: tasks write what they do to the database.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init

from config import load_settings

_settings = load_settings()

app = Celery("newsdedup", include=["workers.tasks"])
app.conf.update(
    broker_url=_settings.redis_url,
    # Redis redelivers an unacknowledged task after this long; it must outlast the longest task.
    broker_transport_options={"visibility_timeout": _settings.visibility_timeout_seconds},
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    # Acknowledge after the task ran, and give a task back when its worker dies mid-way: a page
    # is never lost, and processing it twice changes nothing.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_routes={"newsdedup.crawl_source": {"queue": "crawl"}},
    timezone="UTC",
    enable_utc=True,
)


@app.on_after_configure.connect
def _schedule_crawls(sender: Celery, **_: Any) -> None:
    from workers.schedule import beat_schedule

    sender.conf.beat_schedule = beat_schedule(_settings)


@worker_init.connect
def _require_redis(**_: Any) -> None:
    if _settings.redis_url is None:
        raise SystemExit("error: NEWSDEDUP_REDIS_URL is not set: workers need Redis as broker and index")


@worker_process_init.connect
def _fresh_runtime_after_fork(**_: Any) -> None:
    from workers.runtime import forget_runtime

    forget_runtime()
