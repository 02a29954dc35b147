"""Benchmark 5, scale-out: python bench/scale_out.py [DOCS.jsonl] [COPIES]

The same pages processed by one Celery worker process and then by two (each ``--pool=solo``, on
this machine's cores), on a Redis of the benchmark's own and a fresh PostgreSQL schema each time:
pages per second from the first page enqueued to the last one stored, the ratio, and whether the
two runs store identical clusters. Each worker first processes one warm-up page (loading its
dictionaries), outside the timing. COPIES (default 3) repeats every page on other hosts, as
autoblogs do, so that there is enough work to time. A run ends when the workers' metrics count every
page processed (stored, or rejected: a page may be left without story text by its host's boilerplate).

The lock share is read from each worker's own metrics (``workers.metrics``) before it stops: the
seconds its pages spent blocked by another page's lock (``newsdedup_lock_wait_seconds_total``, by kind
of lock: a lock call that finds the lock free counts nothing there) over the seconds of its
process_page tasks (``newsdedup_page_processing_seconds_sum``); beside it, all the time in lock calls
(``newsdedup_lock_call_seconds_total``) and the page transactions started over
(``newsdedup_assignments_started_over_total``). Target: at most 2 % blocked by locks that pages of
other stories may also need.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from prometheus_client.parser import text_string_to_metric_families

from bench.services import free_port, own_redis, postgres_schema
from bench.texts import html_pages
from config import load_settings
from newsdedup.service.report import iter_cluster_views
from newsdedup.service.runtime import Runtime
from workers.names import PROCESS_PAGE
from workers.sender import Sender

CELERY = [sys.executable, "-m", "celery", "-A", "workers.app", "worker"]
WARM_UP = "Warm-up page. " * 40
WARM_UP_URL = "http://warm-up.example/"
DEADLINE = 1800


def start_workers(count: int, env: dict[str, str], ports: list[int]) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.app",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "-n",
                f"bench{i}@%h",
                "-Q",
                "celery",
            ],
            env={**env, "NEWSDEDUP_METRICS_HOST": "127.0.0.1", "NEWSDEDUP_METRICS_PORT": str(ports[i])},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(count)
    ]


def scrape(port: int) -> Counter[str]:
    """A worker's time blocked by other pages' locks (``blocked:KIND``), time in lock calls
    (``calls:KIND``), restarts, task seconds and pages processed, from its metrics. A retried page is
    not counted as processed: it is counted again when it is."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        body = response.read().decode()
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "newsdedup_lock_wait_seconds_total":
                found[f"blocked:{sample.labels['lock']}"] += sample.value
            elif sample.name == "newsdedup_lock_call_seconds_total":
                found[f"calls:{sample.labels['lock']}"] += sample.value
            elif sample.name == "newsdedup_assignments_started_over_total":
                found["started_over"] += sample.value
            elif sample.name == "newsdedup_page_processing_seconds_sum":
                found["task_seconds"] += sample.value
            elif sample.name == "newsdedup_pages_processed_total" and sample.labels["status"] != "retried":
                found["processed"] += sample.value
    return found


def wait_for(ports: list[int], count: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            if sum(scrape(port)["processed"] for port in ports) >= count:
                return
        except OSError:  # a worker not serving its metrics yet
            pass
        if time.monotonic() > deadline:
            sys.exit(f"not all {count} pages were processed within {DEADLINE} s")
        time.sleep(0.2)


def run(workers: int, pages: list[tuple[str, str]]) -> tuple[float, set[frozenset[str]], Counter[str]]:
    with own_redis() as redis_url, postgres_schema() as database_url:
        env = {**os.environ, "NEWSDEDUP_REDIS_URL": redis_url, "NEWSDEDUP_DATABASE_URL": database_url}
        ports = [free_port() for _ in range(workers)]
        processes = start_workers(workers, env, ports)
        measured: Counter[str] = Counter()
        try:
            with Sender(redis_url) as sender:
                for i in range(workers):
                    sender.send(PROCESS_PAGE, {"url": f"{WARM_UP_URL}{i}", "text": WARM_UP + str(i)})
            wait_for(ports, workers)
            started = time.perf_counter()
            with Sender(redis_url) as sender:
                for url, html in pages:
                    sender.send(PROCESS_PAGE, {"url": url, "html": html})
            wait_for(ports, workers + len(pages))
            elapsed = time.perf_counter() - started
            for port in ports:
                measured += scrape(port)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
        runtime = Runtime(load_settings().model_copy(update={"database_url": database_url}))
        clusters = {
            frozenset(m.url for m in v.members)
            for v in iter_cluster_views(runtime)
            if not v.canonical.url.startswith(WARM_UP_URL)  # one warm-up page per worker
        }
        runtime.close()
    return len(pages) / elapsed, clusters, measured


def on_copy_host(url: str, copy: int) -> str:
    """The URL itself for copy 0; else the same path on host ``copyN-HOST``."""
    if not copy:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"copy{copy}-{parts.netloc}"))


def share(measured: Counter[str], prefix: str, kinds: tuple[str, ...] | None = None) -> float:
    """Seconds of these lock figures over the seconds of the pages' tasks."""
    seconds = sum(
        v for k, v in measured.items() if k.startswith(prefix) and (kinds is None or k.split(":")[1] in kinds)
    )
    return seconds / measured["task_seconds"] if measured["task_seconds"] else 0.0


def lock_report(workers: int, rate: float, measured: Counter[str]) -> str:
    kinds = [k for k in sorted(measured) if k.startswith("blocked:")]
    blocked = ", ".join(f"{k.split(':')[1]} {100 * share(measured, k):.2f} %" for k in kinds) or "never"
    processes = f"{workers} worker process{'es' if workers > 1 else ''}"
    return (
        f"  {processes}: {rate:6.1f} pages/s; blocked by other pages' locks "
        f"{100 * share(measured, 'blocked:'):.2f} % of the pages' time ({blocked}); "
        f"in lock calls {100 * share(measured, 'calls:'):.2f} %; "
        f"{int(measured['started_over'])} transactions started over"
    )


def main(docs: Path | None, copies: int) -> None:
    originals = html_pages(docs)
    pages = [(on_copy_host(url, c), html) for c in range(copies) for url, html in originals]
    print(f"{len(pages)} pages ({len(originals)} x {copies}), Celery workers on Redis and PostgreSQL")
    one, clusters_one, locks_one = run(1, pages)
    print(lock_report(1, one, locks_one), flush=True)
    two, clusters_two, locks_two = run(2, pages)
    print(lock_report(2, two, locks_two))
    # The locks pages of other stories may also need: the assignment lock (exclusive only for a
    # rebuild or a correction) and a host's lines near the boilerplate mark. Page keys share the
    # "assignment" figure; articles and clusters are only ever a page's own story's.
    unrelated = share(locks_two, "blocked:", ("assignment", "host_lines"))
    print(
        f"  ratio: {two / one:.2f} (target: 1.7); blocked by locks that pages of other stories may also "
        f"need, two workers: {100 * unrelated:.2f} % of the pages' time (target: 2 %); "
        f"identical clusters: {clusters_one == clusters_two}"
    )
    for name, only in (
        ("one worker", clusters_one - clusters_two),
        ("two workers", clusters_two - clusters_one),
    ):
        for cluster in sorted(only, key=lambda c: (len(c), sorted(c)))[:10]:
            print(f"  only with {name}: {sorted(cluster)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
