"""Benchmark 5, scale-out: python bench/scale_out.py [DOCS.jsonl] [COPIES]

The same pages processed by one Celery worker process and then by two (each ``--pool=solo``, on
this machine's cores), on a Redis of the benchmark's own and a fresh PostgreSQL schema each time:
pages per second from the first page enqueued to the last one stored, the ratio, and whether the
two runs store identical clusters. Each worker first processes one warm-up page (loading its
dictionaries), outside the timing. COPIES (default 3) repeats every page under other URLs, as
autoblogs do, so that there is enough work to time.

The lock share is read from each worker's own metrics (``workers.metrics``) before it stops: the
seconds its pages spent waiting for locks (``newsdedup_lock_wait_seconds_total``, by kind of lock)
over the seconds of its process_page tasks (``newsdedup_page_processing_seconds_sum``), and the page
transactions started over (``newsdedup_assignments_started_over_total``). Target: at most 2 %.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bench.services import own_redis, postgres_schema
from bench.texts import html_pages
from config import load_settings
from newsdedup.service.report import iter_cluster_views
from newsdedup.service.runtime import Runtime
from storage.db import create_db_engine
from storage.models import Article
from workers.names import PROCESS_PAGE
from workers.sender import Sender

CELERY = [sys.executable, "-m", "celery", "-A", "workers.app", "worker"]
WARM_UP = "Warm-up page. " * 40
WARM_UP_URL = "http://warm-up.example/"
DEADLINE = 1800


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    """A worker's lock waits (``lock:KIND``), restarts and task seconds, from its metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        body = response.read().decode()
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "newsdedup_lock_wait_seconds_total":
                found[f"lock:{sample.labels['lock']}"] += sample.value
            elif sample.name == "newsdedup_assignments_started_over_total":
                found["started_over"] += sample.value
            elif sample.name == "newsdedup_page_processing_seconds_sum":
                found["task_seconds"] += sample.value
    return found


def stored(database_url: str) -> int:
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count(Article.id))).scalar_one())
    except Exception:
        return 0
    finally:
        engine.dispose()


def wait_for(database_url: str, count: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while stored(database_url) < count:
        if time.monotonic() > deadline:
            sys.exit(f"not all {count} pages were stored within {DEADLINE} s")
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
            wait_for(database_url, workers)
            started = time.perf_counter()
            with Sender(redis_url) as sender:
                for url, html in pages:
                    sender.send(PROCESS_PAGE, {"url": url, "html": html})
            wait_for(database_url, workers + len(pages))
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


def lock_share(workers: int, rate: float, measured: Counter[str]) -> str:
    waits = {k.partition(":")[2]: v for k, v in sorted(measured.items()) if k.startswith("lock:")}
    total = measured["task_seconds"]
    share = sum(waits.values()) / total if total else 0.0
    kinds = ", ".join(f"{kind} {100 * v / total:.2f} %" for kind, v in waits.items()) if total else "none"
    return (
        f"  {workers} worker process{'es' if workers > 1 else ''}: {rate:6.1f} pages/s; waiting for locks "
        f"{100 * share:.2f} % of the pages' time ({kinds}); "
        f"{int(measured['started_over'])} transactions started over"
    )


def main(docs: Path | None, copies: int) -> None:
    originals = html_pages(docs)
    pages = [(f"{url}?copy={c}" if c else url, html) for c in range(copies) for url, html in originals]
    print(f"{len(pages)} pages ({len(originals)} x {copies}), Celery workers on Redis and PostgreSQL")
    one, clusters_one, locks_one = run(1, pages)
    print(lock_share(1, one, locks_one), flush=True)
    two, clusters_two, locks_two = run(2, pages)
    print(lock_share(2, two, locks_two))
    share = sum(v for k, v in locks_two.items() if k.startswith("lock:")) / (locks_two["task_seconds"] or 1)
    print(
        f"  ratio: {two / one:.2f} (target: 1.7); lock share with two: {100 * share:.2f} % (target: 2 %); "
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
