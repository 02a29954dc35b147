"""The Celery tasks. Each is a thin shell around plain code, takes JSON and is idempotent."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import redis
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from redis.exceptions import LockError
from sqlalchemy.exc import OperationalError

from config.logs import page_logger
from config.sources import find_source
from newsdedup.service import processing
from newsdedup.service.page import BadPage, parse_page
from storage import locks
from workers import dead_letters, metrics
from workers.app import app
from workers.names import CRAWL_SOURCE, PROCESS_PAGE, REBUILD_INDEX
from workers.retry import backoff_seconds, retries_for

log = logging.getLogger(__name__)

# A database or Redis that is briefly away: try again later instead of losing the page.
# locks.Busy: another page kept holding a cluster this page needed through all its attempts.
_TRANSIENT = (OperationalError, redis.ConnectionError, redis.TimeoutError, locks.Busy)


class CrawlFailed(RuntimeError):
    """The crawl's child process ended with an error."""


@app.task(bind=True, name=PROCESS_PAGE, max_retries=None)
def process_page(self: Task[Any, Any], page: dict[str, Any]) -> dict[str, Any]:
    """Clean, cluster and store one page (a ``newsdedup.service.page.Page`` as JSON). While the database or
    Redis is away the page is tried again later (``workers.retry``); its message is acknowledged
    only once the page is stored or a retry of it has been sent. A page that times out, fails or
    kills its worker MAX_DELIVERIES times goes to the dead letters (``workers.dead_letters``)."""
    started = time.monotonic()
    runtime = app.runtime
    client, task_id = runtime.redis, str(self.request.id or "")
    count = dead_letters.deliveries(client, task_id) if client is not None and task_id else 0
    url = page.get("url") if isinstance(page, dict) else None
    fields = page_logger(
        log, source=page.get("source") if isinstance(page, dict) else None, url=url, task_id=task_id
    )
    if client is not None and count > runtime.settings.max_deliveries:
        # The deliveries before this one never ended: the page killed its worker (or hit the hard
        # time limit) each time.
        return _bury(
            client,
            task_id,
            page,
            count - 1,
            "never finished: it killed its worker or ran past the time limit",
            started,
        )
    try:
        parsed = parse_page(page)
    except BadPage as e:
        fields.error("rejected page %s: %s", url, e)
        _finished(client, task_id)
        metrics.record_page("rejected", time.monotonic() - started, None)
        return {"url": url, "status": "rejected", "reason": str(e)}
    before = runtime.counts.copy()
    try:
        runtime.ensure_shared_index()
        outcome = processing.process_page(parsed, runtime).as_dict()
    except _TRANSIENT as e:
        _finished(client, task_id)  # the service's outage, not the page's fault: not counted
        settings = runtime.settings
        retries, cap = self.request.retries, settings.retry_backoff_max_seconds
        limit = retries_for(settings.retry_for_seconds, cap)
        if retries >= limit:
            fields.error("gave up on page %s after %d retries: %s", parsed.url, retries, e)
            metrics.record_page("failed", time.monotonic() - started, None)
            raise
        metrics.record_page("retried", time.monotonic() - started, None)
        raise self.retry(exc=e, countdown=backoff_seconds(retries, cap), max_retries=limit) from e
    except Exception as e:
        # A bug, or the soft time limit (SoftTimeLimitExceeded): tried again, up to MAX_DELIVERIES.
        what = "timed out" if isinstance(e, SoftTimeLimitExceeded) else f"failed ({type(e).__name__}: {e})"
        if client is None or count >= runtime.settings.max_deliveries:
            if client is None:
                metrics.record_page("failed", time.monotonic() - started, None)
                raise
            return _bury(client, task_id, page, count, what, started)
        fields.warning(
            "page %s %s, delivery %d of %d: trying again",
            parsed.url,
            what,
            count,
            runtime.settings.max_deliveries,
        )
        metrics.record_page("failed", time.monotonic() - started, None)
        raise self.retry(
            exc=e, countdown=backoff_seconds(count - 1, runtime.settings.retry_backoff_max_seconds)
        ) from e
    _finished(client, task_id)
    # The index size is a Redis round trip: only asked for when the metrics are served.
    index_size = len(runtime.index) if metrics.serving() else None
    metrics.record_page(str(outcome["status"]), time.monotonic() - started, index_size)
    metrics.record_locks(runtime.counts - before)
    return outcome


def _finished(client: redis.Redis | None, task_id: str) -> None:
    if client is not None and task_id:
        dead_letters.finished(client, task_id)


def _bury(
    client: redis.Redis, task_id: str, page: dict[str, Any], count: int, what: str, started: float
) -> dict[str, Any]:
    """Put the page among the dead letters and end its task (acknowledged: not delivered again)."""
    url = page.get("url") if isinstance(page, dict) else None
    reason = f"{what}, {count} deliveries"
    dead_letters.bury(client, task_id, page, reason, count)
    dead_letters.finished(client, task_id)
    page_logger(log, url=url, task_id=task_id).error(
        "page %s went to the dead letters: %s (`newsdedup dead-letters replay %s` sends it again)",
        url,
        reason,
        task_id,
    )
    metrics.record_page("dead_lettered", time.monotonic() - started, None)
    return {"url": url, "status": "dead-lettered", "reason": reason}


# A running crawl holds this lock (plus the source's name), so that beat or an operator does not start
# a second crawl of the source. It lives for half the visibility timeout and the crawl renews it every
# third of that: when the crawl's worker dies, the lock is gone before its crawl_source comes back to
# another worker (workers.redelivery), and the crawl runs there.
CRAWL_LOCK = "newsdedup:lock:crawl:"


@app.task(bind=True, name=CRAWL_SOURCE)
def crawl_source(self: Task[Any, Any], name: str) -> dict[str, Any]:
    """Crawl one source in a child process (a Twisted reactor cannot restart inside a worker); while
    another crawl of the source runs, skip it and return the status ``already running``. A crawl
    given back after its worker died (redelivered) that finds the lock held is tried once more after
    the lock's life: the lock may be the dead crawl's own, not yet expired."""
    runtime = app.runtime
    find_source(runtime.sources, name)  # an unknown name fails here, with the known names
    timeout = runtime.settings.crawl_timeout_seconds + 60
    if runtime.settings.redis_url is None:
        return _crawl_child(name, timeout)
    life = runtime.settings.visibility_timeout_seconds / 2
    lock = runtime.require_redis().lock(CRAWL_LOCK + name, timeout=life, blocking=False)
    if not lock.acquire():
        if (self.request.delivery_info or {}).get("redelivered") and not self.request.retries:
            log.warning(
                "crawl of %s given back while its lock is held: tried again in %.0f s", name, life + 1
            )
            raise self.retry(countdown=life + 1, max_retries=1)
        log.warning("crawl of %s skipped: already running (lock %s is held)", name, lock.name)
        return {"source": name, "status": "already running"}

    def renew() -> None:
        try:
            lock.reacquire()
        except (LockError, redis.RedisError) as e:  # the crawl goes on; a second one may start meanwhile
            log.warning("could not renew the crawl lock of %s: %s", name, e)

    try:
        return _crawl_child(name, timeout, renew, every=life / 3)
    finally:
        try:
            lock.release()  # only if it is still this crawl's (the token is checked)
        except LockError:
            log.warning("the crawl lock of %s expired before the crawl ended", name)


def _crawl_child(
    name: str, timeout: int, renew: Callable[[], None] = lambda: None, every: float = 60
) -> dict[str, Any]:
    """Run ``python -m crawler --parent PID NAME``, calling ``renew`` every ``every`` seconds while it
    runs and killing it after ``timeout`` (it stops by itself if this process dies), and return its
    summary (the last line of its stdout). Its log (stderr) goes to the worker's own stderr, so that
    the crawl's lines are in the worker's log."""
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--parent", str(os.getpid()), name],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            stdout, _ = child.communicate(timeout=max(0.0, min(every, deadline - time.monotonic())))
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                child.kill()
                child.communicate()
                raise subprocess.TimeoutExpired(child.args, timeout) from None
            renew()
    if child.returncode != 0:
        raise CrawlFailed(f"crawl of {name} exited with {child.returncode}: its log is in the worker's log")
    lines = stdout.strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1])[name] if lines else {}
    page_logger(log, source=name).info("crawled %s: %s", name, result)
    return result


@app.task(name=REBUILD_INDEX)
def rebuild_index() -> int:
    """Rebuild the shared LSH index from the stored signatures."""
    runtime = app.runtime
    runtime.migrate()
    return runtime.rebuild_index()
