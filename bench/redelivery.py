"""A worker SIGKILLed mid-run: python -m bench.redelivery [DOCS.jsonl] [PAGES] [KILL_AFTER]

Two Celery workers (prefork, one pool process each, the default settings) on a Redis of the
benchmark's own and a fresh PostgreSQL schema take PAGES pages (default 400, from the corpus); in one
run nothing happens (the baseline), in the other one worker is SIGKILLed whole, main process and
pool, KILL_AFTER seconds (default 12) after the first page was sent, and the other carries on alone.

Prints, for each run: pages stored, how long from the first page sent to the last page stored; for
the run with the kill: pages lost (stored in the baseline, not after the kill), pages stored twice,
and the seconds from the kill to the last page stored (the dead worker's pages come back one
visibility timeout after their last renewal); and the ratio of the two runs' durations.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.scale_out import WARM_UP, WARM_UP_URL, scrape
from bench.services import free_port, own_redis, postgres_schema
from bench.texts import html_pages
from workers.names import PROCESS_PAGE
from workers.sender import Sender

CELERY = [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--pool=prefork", "--concurrency=1"]
DEADLINE = 600
# The run is over when the stored count has not moved for this long (after the kill: longer than the
# visibility timeout, so that the dead worker's pages have had their chance to come back).
QUIET_SECONDS = 60.0


def start_worker(n: int, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CELERY, "--loglevel=WARNING", "-n", f"redelivery{n}@%h", "-Q", "celery"],
        env={**env, "NEWSDEDUP_METRICS_HOST": "127.0.0.1", "NEWSDEDUP_METRICS_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: killed whole, pool included
    )


def stored(database_url: str) -> tuple[int, int]:
    """Pages stored (warm-up pages aside), and pages stored more than once."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM articles WHERE url NOT LIKE :w GROUP BY url")
            rows = conn.execute(query, {"w": WARM_UP_URL + "%"}).all()
    finally:
        engine.dispose()
    return len(rows), sum(1 for (n,) in rows if n > 1)


def settle(database_url: str, quiet: float) -> tuple[int, int, float]:
    """Wait until the stored count has not moved for ``quiet`` seconds; (stored, twice, when the last
    page was stored, on the monotonic clock)."""
    deadline = time.monotonic() + DEADLINE
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        count, twice = stored(database_url)
        if count != last:
            last, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > quiet:
            return count, twice, last_change
        time.sleep(0.2)
    sys.exit(f"the stored count still moved after {DEADLINE} s")


def run(pages: list[tuple[str, str]], kill_after: float | None) -> dict[str, float]:
    with own_redis() as redis_url, postgres_schema() as database_url:
        env = {**os.environ, "NEWSDEDUP_REDIS_URL": redis_url, "NEWSDEDUP_DATABASE_URL": database_url}
        env.pop("NEWSDEDUP_VISIBILITY_TIMEOUT_SECONDS", None)  # the default settings
        ports = [free_port(), free_port()]
        workers = [start_worker(n, env, port) for n, port in enumerate(ports)]
        try:
            with Sender(redis_url) as sender:
                for n in range(len(workers)):
                    sender.send(PROCESS_PAGE, {"url": f"{WARM_UP_URL}{n}", "text": WARM_UP + str(n)})
            while True:  # each worker has loaded its tables (the warm-up pages)
                try:
                    if all(scrape(port)["processed"] >= 1 for port in ports):
                        break
                except OSError:  # not serving its metrics yet
                    pass
                time.sleep(0.2)
            started = time.monotonic()
            with Sender(redis_url) as sender:
                for url, html in pages:
                    sender.send(PROCESS_PAGE, {"url": url, "html": html})
            killed = None
            if kill_after is not None:
                time.sleep(max(0.0, started + kill_after - time.monotonic()))
                os.killpg(workers[0].pid, signal.SIGKILL)
                killed = time.monotonic()
            count, twice, last = settle(database_url, QUIET_SECONDS if killed else 5.0)
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
            for worker in workers:
                worker.wait(60)
    result = {"stored": count, "twice": twice, "seconds": last - started}
    if killed is not None:
        result["recovered"] = last - killed
    return result


def main(docs: Path | None, count: int, kill_after: float) -> None:
    pages = html_pages(docs)[:count]
    print(f"{len(pages)} pages, two workers (prefork, one pool process each) on the default settings")
    baseline = run(pages, None)
    print(f"  no fault: {baseline['stored']} stored in {baseline['seconds']:.1f} s")
    faulty = run(pages, kill_after)
    print(
        f"  one worker SIGKILLed {kill_after:.0f} s in: {faulty['stored']} stored "
        f"in {faulty['seconds']:.1f} s, "
        f"lost {baseline['stored'] - faulty['stored']}, stored twice {faulty['twice']}, "
        f"last page stored {faulty['recovered']:.1f} s after the kill"
    )
    print(f"  ratio of the durations (kill / no fault): {faulty['seconds'] / baseline['seconds']:.2f}")


if __name__ == "__main__":
    corpus2 = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus2" / "docs.jsonl"
    main(
        Path(sys.argv[1]) if len(sys.argv) > 1 else (corpus2 if corpus2.exists() else None),
        int(sys.argv[2]) if len(sys.argv) > 2 else 400,
        float(sys.argv[3]) if len(sys.argv) > 3 else 12.0,
    )
