"""Benchmark 5, scale-out: python bench/scale_out.py [DOCS.jsonl] [COPIES]

The same pages processed by one Celery worker process and then by two (each ``--pool=solo``, on
this machine's cores), on a Redis of the benchmark's own and a fresh PostgreSQL schema each time:
pages per second from the first page enqueued to the last one stored, the ratio, and whether the
two runs store identical clusters. Each worker first processes one warm-up page (loading its
dictionaries), outside the timing. COPIES (default 3) repeats every page under other URLs, as
autoblogs do, so that there is enough work to time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

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


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
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
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(count)
    ]


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


def run(workers: int, pages: list[tuple[str, str]]) -> tuple[float, set[frozenset[str]]]:
    with own_redis() as redis_url, postgres_schema() as database_url:
        env = {**os.environ, "NEWSDEDUP_REDIS_URL": redis_url, "NEWSDEDUP_DATABASE_URL": database_url}
        processes = start_workers(workers, env)
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
    return len(pages) / elapsed, clusters


def main(docs: Path | None, copies: int) -> None:
    originals = html_pages(docs)
    pages = [(f"{url}?copy={c}" if c else url, html) for c in range(copies) for url, html in originals]
    print(f"{len(pages)} pages ({len(originals)} x {copies}), Celery workers on Redis and PostgreSQL")
    one, clusters_one = run(1, pages)
    print(f"  one worker process:  {one:6.1f} pages/s", flush=True)
    two, clusters_two = run(2, pages)
    print(f"  two worker processes: {two:6.1f} pages/s")
    print(f"  ratio: {two / one:.2f} (target: 1.7); identical clusters: {clusters_one == clusters_two}")
    for name, only in (
        ("one worker", clusters_one - clusters_two),
        ("two workers", clusters_two - clusters_one),
    ):
        for cluster in sorted(only, key=lambda c: (len(c), sorted(c)))[:10]:
            print(f"  only with {name}: {sorted(cluster)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
