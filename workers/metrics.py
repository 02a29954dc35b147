"""Prometheus metrics of the workers, served by each ``newsdedup worker`` at
``http://METRICS_HOST:METRICS_PORT/metrics`` (``METRICS_PORT`` 0: off).

The prefork pool runs tasks in child processes, so the metrics use prometheus_client's multiprocess
mode: :func:`start` (in the worker's parent, before the pool forks) makes a fresh folder, names it in
``PROMETHEUS_MULTIPROC_DIR`` and serves what every process wrote there; each pool process writes its
values to files of its own, marked dead when it exits (:func:`process_exited`); :func:`stop` removes the
folder. prometheus_client decides at import whether it runs in multiprocess mode, so nothing imports it
before :func:`start` (this module imports it only inside its functions).

- ``newsdedup_pages_processed_total{status}``: process_page tasks by outcome (new, joined, updated,
  unchanged, rejected, failed — failed: given up after its retries, or a bug).
- ``newsdedup_page_processing_seconds``: histogram of a process_page task's time.
- ``newsdedup_clusters_created_total``: pages that opened a cluster of their own (status new).
- ``newsdedup_index_articles``: articles in the shared candidate index (after the latest page).
- ``newsdedup_lock_wait_seconds_total{lock}``: time pages spent blocked because another page held a
  lock they needed, by kind (``storage.locks``: assignment, articles, host_lines, clusters); against
  ``newsdedup_page_processing_seconds_sum``, the share of the pages' time lost to each other.
- ``newsdedup_lock_call_seconds_total{lock}``: all the time spent in lock calls, free locks included
  (a round trip each).
- ``newsdedup_assignments_started_over_total``: page transactions started over for a cluster another
  page held (``storage.locks.Busy``) or a deadlock PostgreSQL broke.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections import Counter  # the annotation's; the metrics' Counter is prometheus_client's

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class Metrics:
    pages: Any
    seconds: Any
    clusters: Any
    index_size: Any
    lock_waits: Any
    lock_calls: Any
    started_over: Any


# Set in the worker's parent by start(); the pool processes inherit it when they fork.
_folder: str | None = None
_metrics: Metrics | None = None
_server: Any = None


def start(host: str, port: int) -> str:
    """Make the multiprocess folder and serve the metrics of every process on host:port; returns the
    folder. Call once, in the parent, before the pool forks and before prometheus_client is imported."""
    global _folder, _server
    _folder = tempfile.mkdtemp(prefix="newsdedup-metrics-")
    os.environ[MULTIPROC_ENV] = _folder
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=_folder)  # type: ignore[no-untyped-call]  # untyped upstream
    try:
        _server, _ = start_http_server(port, addr=host, registry=registry)
    except OSError:
        stop()  # the folder goes; the caller reports the error
        raise
    return _folder


def serving() -> bool:
    """True in a worker whose metrics are served (and in its pool processes)."""
    return _folder is not None


def stop() -> None:
    """Stop serving and remove the folder (in the parent, at shutdown)."""
    global _folder, _server
    if _server is not None:
        _server.shutdown()
        _server = None
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)
        os.environ.pop(MULTIPROC_ENV, None)
        _folder = None


def process_exited(pid: int) -> None:
    """A pool process ends: its live gauges leave the sums (prometheus_client's mark_process_dead)."""
    if _folder is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, _folder)  # type: ignore[no-untyped-call]  # untyped upstream


def record_page(status: str, seconds: float, index_size: int | None) -> None:
    """Count one processed page (nothing when the metrics are off)."""
    metrics = _get()
    if metrics is None:
        return
    metrics.pages.labels(status=status).inc()
    metrics.seconds.observe(seconds)
    if status == "new":
        metrics.clusters.inc()
    if index_size is not None:
        metrics.index_size.set(index_size)


def record_locks(counts: Counter[str]) -> None:
    """Add a page's lock waits and restarts (its ``Runtime.counts`` while it was processed)."""
    metrics = _get()
    if metrics is None:
        return
    for name, value in counts.items():
        if name.startswith("lock_seconds:blocked:"):
            metrics.lock_waits.labels(lock=name.rpartition(":")[2]).inc(value)
        elif name.startswith("lock_seconds:calls:"):
            metrics.lock_calls.labels(lock=name.rpartition(":")[2]).inc(value)
    if counts["assignments_started_over"]:
        metrics.started_over.inc(counts["assignments_started_over"])


def _get() -> Metrics | None:
    global _metrics
    if _folder is None:
        return None
    if _metrics is None:
        from prometheus_client import Counter, Gauge, Histogram

        _metrics = Metrics(
            pages=Counter(
                "newsdedup_pages_processed", "process_page tasks by outcome", ["status"], registry=None
            ),
            seconds=Histogram(
                "newsdedup_page_processing_seconds",
                "time of a process_page task",
                buckets=BUCKETS,
                registry=None,
            ),
            clusters=Counter(
                "newsdedup_clusters_created", "pages that opened a cluster of their own", registry=None
            ),
            index_size=Gauge(
                "newsdedup_index_articles",
                "articles in the shared candidate index",
                multiprocess_mode="mostrecent",
                registry=None,
            ),
            lock_waits=Counter(
                "newsdedup_lock_wait_seconds",
                "time pages were blocked by other pages' locks",
                ["lock"],
                registry=None,
            ),
            lock_calls=Counter(
                "newsdedup_lock_call_seconds", "time pages spent in lock calls", ["lock"], registry=None
            ),
            started_over=Counter(
                "newsdedup_assignments_started_over",
                "page transactions started over for another page's locks",
                registry=None,
            ),
        )
    return _metrics
