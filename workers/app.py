"""The Celery app: ``celery -A workers.app worker|beat|inspect ...`` (``newsdedup worker|beat`` wrap it).

Broker: ``NEWSDEDUP_REDIS_URL``. Results are not kept: tasks write what they do to the database.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any

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

from config import ConfigError, Settings, load_settings
from config.logs import use_format
from workers.names import CRAWL_SOURCE, PROCESS_PAGE
from workers.redelivery import KeepDeliveriesAlive, redelivery_options
from workers.schedule import BEAT_KEY_PREFIX

if TYPE_CHECKING:
    # Imported where used: a process that only sends tasks (a crawler, `ingest --enqueue`) needs none of it.
    from newsdedup.service.runtime import Runtime


class Worker(Celery):
    """The Celery app, with the newsdedup settings it was configured from (read on first use, not at
    import: a crawler or command that only sends tasks never reads them twice) and the runtime of this
    process, built when a pool process starts (Celery's ``worker_process_init``)."""

    _runtime: Runtime | None = None

    @cached_property
    def settings(self) -> Settings:
        try:
            return load_settings()
        except ConfigError as error:
            # Raised while Celery configures itself, before any handler of ours runs: say it in the one
            # line an operator gets for any bad setting (exit status 2).
            print(f"Error: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def use_settings(self, settings: Settings) -> None:
        """Configure from these settings (a caller that has read them already), unless configured."""
        # Celery reads ``settings`` when it first reads its configuration: before that, these take
        # their place; after it, the settings read then stay.
        self.__dict__.setdefault("settings", settings)

    @property
    def runtime(self) -> Runtime:
        """This process's runtime (built here when no pool process start built it: the solo pool)."""
        if self._runtime is None:
            from newsdedup.service.runtime import Runtime

            self._runtime = Runtime.from_settings(self.settings)
        return self._runtime

    def start_runtime(self, runtime: Runtime | None) -> None:
        """Install the runtime this process's tasks use (None: build one from the settings on first use)."""
        if self._runtime is not None and self._runtime is not runtime:
            self._runtime.close()
        self._runtime = runtime


def configuration(settings: Settings) -> dict[str, Any]:
    """Celery's configuration from the newsdedup settings."""
    return {
        "broker_url": settings.redis_url,
        # Redis gives a dead worker's unacknowledged tasks to another worker after this long (a live
        # worker renews its own: KeepDeliveriesAlive, below).
        "broker_transport_options": redelivery_options(settings.visibility_timeout_seconds),
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        # A page's message carries its HTML (up to CRAWL_MAX_PAGE_BYTES): compressed, corpus2's pages
        # take 0.33 of their size in Redis, base64 included (workers.messages reads them back).
        "task_compression": "gzip",
        "task_ignore_result": True,
        "result_expires": None,  # no results to expire: beat adds no celery.backend_cleanup entry
        # Acknowledge after the task ran, and give a task back when its worker dies mid-way: a page
        # is never lost, and processing it twice changes nothing.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # A page killed at the hard time limit goes back too (Celery would acknowledge it as failed,
        # and it would be lost); its deliveries are counted, and the last one is a dead letter.
        "task_acks_on_timeout": False,
        "worker_prefetch_multiplier": 1,
        "task_routes": {CRAWL_SOURCE: {"queue": "crawl"}},
        # A page that never ends: interrupted (SoftTimeLimitExceeded), then its pool process killed.
        "task_annotations": {
            PROCESS_PAGE: {
                "soft_time_limit": settings.page_soft_time_limit_seconds,
                "time_limit": settings.page_time_limit_seconds,
            }
        },
        # The sources' cron schedules run in this zone (TIMEZONE); times inside Celery stay in UTC.
        "timezone": settings.timezone,
        "enable_utc": True,
        # Beat: RedBeat keeps the schedule in Redis and lets one beat at a time send tasks, through a
        # lock renewed at every wake-up; a second beat waits and takes over once the holder's lock expired.
        "beat_scheduler": "redbeat.RedBeatScheduler",
        "beat_max_loop_interval": settings.beat_max_loop_interval_seconds,
        "redbeat_redis_url": settings.redis_url,
        "redbeat_redis_options": {},  # RedBeat's client gets none of the broker's transport options
        "redbeat_key_prefix": BEAT_KEY_PREFIX,
        "redbeat_lock_timeout": settings.beat_lock_timeout_seconds,
        # Task events (received, started, succeeded, ...) for Flower and `celery events`.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
    }


app = Worker("newsdedup", include=["workers.tasks"])
app.steps["consumer"].add(KeepDeliveriesAlive)
# Evaluated when Celery first reads its configuration, not at import.
app.add_defaults(lambda: configuration(app.settings))


@app.on_after_configure.connect
def _schedule_crawls(sender: Celery, **_: Any) -> None:
    from workers.schedule import beat_schedule

    sender.conf.beat_schedule = beat_schedule(app.settings)


@worker_init.connect
def _require_redis_and_migrate(**_: Any) -> None:
    """A worker needs Redis; it brings the schema to the newest revision once, in the parent, before
    its pool processes open the database."""
    from newsdedup.service.runtime import Runtime

    settings = app.settings
    if settings.redis_url is None:
        raise SystemExit("error: NEWSDEDUP_REDIS_URL is not set: workers need Redis as broker and index")
    runtime = Runtime.from_settings(settings).migrate()
    runtime.close()


@worker_init.connect
def _warm_up_before_fork(**_: Any) -> None:
    """Open the built tables (word rarities, the language model, the Chinese and Japanese glossaries)
    once, in the parent, before the pool forks; the first time on a machine this builds them into the
    cache folder (seconds). They are memory-mapped: every pool process, also one started after another
    was killed, inherits the mappings and shares their pages instead of reading its own copy; the
    Python objects made meanwhile are frozen out of the garbage collector's reach, so that it does not
    touch (and so copy) their pages."""
    from dedup import cache_folder, glossary
    from dedup.evidence import evidence
    from dedup.language import detect_language

    cache_folder.use(app.settings.cache_dir)
    evidence("warm up", "en")
    detect_language("warm up")
    glossary.chinese()
    glossary.japanese()
    gc.freeze()


@worker_process_init.connect
def _runtime_of_the_pool_process(**_: Any) -> None:
    """Each pool process builds its own runtime (connections are opened on first use, here); one
    inherited from the parent is dropped without closing the parent's connections."""
    inherited = app._runtime
    app._runtime = inherited.after_fork() if inherited is not None else None


@after_setup_logger.connect
@after_setup_task_logger.connect
def _log_format(logger: logging.Logger, **_: Any) -> None:
    """The worker's and its tasks' log lines in NEWSDEDUP_LOG_FORMAT (config.logs): Celery's text lines
    with the page's source, url and task id appended, or JSON objects."""
    use_format(app.settings.log_format, logger)


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    """Prometheus metrics (workers.metrics) on METRICS_HOST:METRICS_PORT, collected from every pool
    process; started in the parent before the pool forks."""
    if app.settings.metrics_port:
        from workers import metrics

        try:
            metrics.start(app.settings.metrics_host, app.settings.metrics_port)
        except OSError as e:  # another worker of the host has the port: this one works on, unmeasured
            logging.getLogger(__name__).warning(
                "no metrics: cannot serve them on %s:%d: %s; give each worker of a host its own "
                "NEWSDEDUP_METRICS_PORT (0: no metrics)",
                app.settings.metrics_host,
                app.settings.metrics_port,
                e.strerror,
            )


@worker_ready.connect
def _say_where_metrics_are(**_: Any) -> None:
    """Logged once the worker's logging is set up (worker_init comes before it)."""
    from workers import metrics

    if metrics.serving():
        logging.getLogger(__name__).info(
            "metrics on http://%s:%d/metrics", app.settings.metrics_host, app.settings.metrics_port
        )


@worker_process_shutdown.connect
def _pool_process_exits(pid: int | None = None, **_: Any) -> None:
    from workers import metrics

    metrics.process_exited(pid or os.getpid())


@worker_shutdown.connect
def _stop_metrics(**_: Any) -> None:
    from workers import metrics

    metrics.stop()
