"""The Celery app: ``celery -A workers.app worker|beat|inspect ...`` (``newsdedup worker|beat`` wrap it).

Broker: ``NEWSDEDUP_REDIS_URL``. Results are not kept: tasks write what they do to the database.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from typing import Any

from celery import Celery
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from config import ConfigError, load_settings
from config.logs import use_format
from workers.redelivery import redelivery_options, timeout_warnings
from workers.schedule import BEAT_KEY_PREFIX

try:
    _settings = load_settings()
except ConfigError as error:
    # Raised while the command line or a worker is importing this module, before any handler of
    # theirs runs: say it in the one line an operator gets for any bad setting (exit status 2).
    print(f"Error: {error}", file=sys.stderr)
    raise SystemExit(2) from None

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
    # The sources' cron schedules run in this zone (TIMEZONE); times inside Celery stay in UTC.
    timezone=_settings.timezone,
    enable_utc=True,
    # Beat: RedBeat keeps the schedule in Redis and lets one beat at a time send tasks, through a lock
    # renewed at every wake-up; a second beat waits and takes over once the holder's lock expired.
    beat_scheduler="redbeat.RedBeatScheduler",
    beat_max_loop_interval=_settings.beat_max_loop_interval_seconds,
    redbeat_redis_url=_settings.redis_url,
    redbeat_redis_options={},  # RedBeat's client gets none of the broker's transport options
    redbeat_key_prefix=BEAT_KEY_PREFIX,
    redbeat_lock_timeout=_settings.beat_lock_timeout_seconds,
    # Task events (received, started, succeeded, ...) for Flower and `celery events`.
    worker_send_task_events=True,
    task_send_sent_event=True,
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


@after_setup_logger.connect
@after_setup_task_logger.connect
def _log_format(logger: logging.Logger, **_: Any) -> None:
    """The worker's and its tasks' log lines in NEWSDEDUP_LOG_FORMAT (config.logs): Celery's text lines
    with the page's source, url and task id appended, or JSON objects."""
    use_format(_settings.log_format, logger)


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    """Prometheus metrics (workers.metrics) on METRICS_HOST:METRICS_PORT, collected from every pool
    process; started in the parent before the pool forks."""
    if _settings.metrics_port:
        from workers import metrics

        try:
            metrics.start(_settings.metrics_host, _settings.metrics_port)
        except OSError as e:  # another worker of the host has the port: this one works on, unmeasured
            logging.getLogger(__name__).warning(
                "no metrics: cannot serve them on %s:%d: %s; give each worker of a host its own "
                "NEWSDEDUP_METRICS_PORT (0: no metrics)",
                _settings.metrics_host,
                _settings.metrics_port,
                e.strerror,
            )


@worker_ready.connect
def _say_where_metrics_are(**_: Any) -> None:
    """Logged once the worker's logging is set up (worker_init comes before it)."""
    from workers import metrics

    if metrics.serving():
        logging.getLogger(__name__).info(
            "metrics on http://%s:%d/metrics", _settings.metrics_host, _settings.metrics_port
        )


@worker_process_shutdown.connect
def _pool_process_exits(pid: int | None = None, **_: Any) -> None:
    from workers import metrics

    metrics.process_exited(pid or os.getpid())


@worker_shutdown.connect
def _stop_metrics(**_: Any) -> None:
    from workers import metrics

    metrics.stop()
