"""Service mode end to end: a real Celery worker process (prefork, two children) on the machine's
Redis and a PostgreSQL schema, fed by a real ``newsdedup crawl`` of the fixture sites.

Nothing is mocked: the crawl enqueues ``newsdedup.process_page`` messages to Redis, the worker
processes them into PostgreSQL, and the result is compared with the embedded mode's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dedup.index_storage import make_storage
from newsdedup.demo.server import SITES, SiteServer
from newsdedup.service.index import INDEX_PREFIX
from tests.celery_worker import Worker, child_env, running_worker
from tests.conftest import crawl_env
from tests.test_progress import slow_source
from workers.tasks import _crawl_child

pytestmark = pytest.mark.slow

EXPECTED: dict[str, Any] = json.loads((SITES / "EXPECTED.json").read_text(encoding="utf-8"))
ARTICLES = {url for cluster in EXPECTED["clusters"] for url in cluster}
# Deadlines only keep a broken worker or crawl from hanging the suite; nothing is timed.
CRAWL_DEADLINE = 180


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            args, env=env, cwd=cwd, capture_output=True, text=True, timeout=CRAWL_DEADLINE, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(args)} did not finish within {CRAWL_DEADLINE} s")
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def _summary(stdout: str) -> dict[str, dict[str, str]]:
    """The crawl summary table, one dict per source row: column name -> cell. The totals row under
    them is checked against their sums and left out."""
    lines = stdout.splitlines()
    header = [cell.strip() for cell in next(line for line in lines if "┃" in line).split("┃")]
    rows = [[cell.strip() for cell in line.split("│")] for line in lines if "│" in line]
    by_source = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    totals = by_source.pop(f"{len(by_source) - 1} sources", None)
    if totals is not None:
        for column in header[1:-1]:
            assert int(totals[column]) == sum(int(row[column]) for row in by_source.values()), column
    return by_source


def crawl(env: dict[str, str], cwd: Path) -> dict[str, dict[str, str]]:
    """`newsdedup crawl` of every source; returns its summary table."""
    return _summary(_run(["newsdedup", "crawl"], env, cwd).stdout)


def export(database_url: str, cwd: Path) -> list[dict[str, Any]]:
    """`newsdedup clusters export --format jsonl --output FILE` of that database, as parsed lines."""
    out = cwd / f"export-{time.monotonic_ns()}.jsonl"
    env = child_env(NEWSDEDUP_DATABASE_URL=database_url)
    env.pop("NEWSDEDUP_REDIS_URL", None)
    _run(["newsdedup", "clusters", "export", "--format", "jsonl", "--output", str(out)], env, cwd)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def clusters_by_members(clusters: list[dict[str, Any]]) -> dict[frozenset[str], str]:
    """Each cluster as the set of its member URLs, with its canonical URL."""
    return {frozenset(m["url"] for m in c["members"]): c["canonical_url"] for c in clusters}


@pytest.fixture
def worker(redis_url: str, postgres_url: str, site_server: SiteServer, tmp_path: Path) -> Iterator[Worker]:
    """`newsdedup worker --pool=prefork --concurrency=2` on the test's Redis database and PostgreSQL
    schema (see tests/celery_worker.py)."""
    env = child_env(NEWSDEDUP_REDIS_URL=redis_url, NEWSDEDUP_DATABASE_URL=postgres_url)
    with running_worker(env, tmp_path, postgres_url) as running:
        yield running


def _enqueued(summary: dict[str, dict[str, str]]) -> int:
    for row in summary.values():
        assert row["pages"] == row["enqueued"], summary
    return sum(int(row["enqueued"]) for row in summary.values())


def test_worker_stores_the_same_clusters_as_the_embedded_mode(
    worker: Worker, redis_url: str, tmp_path: Path
) -> None:
    """A crawl in service mode hands every page to the Redis queue; the prefork worker stores them
    all in PostgreSQL; the clusters (member sets and canonical URLs) equal those of the same crawl
    processed in embedded mode into SQLite."""
    service = crawl(worker.env, tmp_path)
    assert set(service) == {"dailycourier", "newsflash-hub", "trend-digest", "nachrichten-blitz"}
    assert _enqueued(service) == len(ARTICLES) == 15
    # The crawler only enqueued: nothing was processed in the crawling process.
    assert "new" not in next(iter(service.values()))

    worker.wait_for(tasks=15, articles=15)
    assert sorted(o["url"] for o in worker.outcomes()) == sorted(ARTICLES)

    embedded_db = f"sqlite:///{tmp_path / 'embedded.db'}"
    embedded_env = child_env(NEWSDEDUP_DATABASE_URL=embedded_db)
    embedded_env.pop("NEWSDEDUP_REDIS_URL", None)
    embedded = crawl(embedded_env, tmp_path)
    assert sum(int(row["new"]) + int(row.get("joined", "0")) for row in embedded.values()) == 15

    from_worker = export(worker.database_url, tmp_path)
    from_embedded = export(embedded_db, tmp_path)
    assert sorted(m["url"] for c in from_worker for m in c["members"]) == sorted(ARTICLES)
    assert clusters_by_members(from_worker) == clusters_by_members(from_embedded)
    # The shared index in Redis holds every stored article.
    assert make_storage(redis_url, INDEX_PREFIX).size() == 15


def test_enqueuing_the_same_crawl_twice_changes_nothing(worker: Worker, tmp_path: Path) -> None:
    """Idempotence: crawling again in service mode enqueues every page a second time; the worker
    finds each unchanged, and the stored articles and clusters are exactly as after the first crawl."""
    first = crawl(worker.env, tmp_path)
    assert _enqueued(first) == 15
    worker.wait_for(tasks=15, articles=15)
    before = export(worker.database_url, tmp_path)

    second = crawl(worker.env, tmp_path)
    assert _enqueued(second) == 15
    worker.wait_for(tasks=30, articles=15)
    outcomes = worker.outcomes()
    assert len(outcomes) == 30
    assert sorted(o["url"] for o in outcomes[15:]) == sorted(ARTICLES)
    assert [o["status"] for o in outcomes[15:]] == ["unchanged"] * 15
    # Each page kept its article id and the cluster it had after the first crawl (an outcome of the
    # first crawl reports the cluster at that moment: a splice moves when its second story arrives).
    stored = {m["url"]: (m["article_id"], c["cluster_id"]) for c in before for m in c["members"]}
    assert {o["url"]: (o["article_id"], o["cluster_id"]) for o in outcomes[15:]} == stored
    assert {o["url"]: o["article_id"] for o in outcomes[:15]} == {u: a for u, (a, _) in stored.items()}

    after = export(worker.database_url, tmp_path)
    assert after == before
    assert sum(c["size"] for c in after) == 15


def test_a_crawl_child_renews_its_lock_while_it_runs_and_is_killed_at_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """crawl_source's child process (here a stand-in that sleeps) is waited for in steps: between them
    the crawl lock is renewed; at the deadline the child is killed and the task fails with
    TimeoutExpired, as subprocess.run's timeout did."""
    sleeper = tmp_path / "sleeper"
    sleeper.write_text("#!/bin/sh\nexec sleep 60\n", encoding="utf-8")
    sleeper.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(sleeper))
    renewals: list[int] = []
    with pytest.raises(subprocess.TimeoutExpired):
        _crawl_child("any", 1, lambda: renewals.append(1), every=0.2)
    assert len(renewals) >= 2


def test_a_crawl_whose_worker_process_died_stops(tmp_path: Path) -> None:
    """`python -m crawler --parent PID` of a slow site (0.3 s a request, 60 pages), started by a process
    that is then SIGKILLed: the crawl notices within a second that its parent is gone and closes
    (finish reason ``parent_died``) instead of crawling on as an orphan."""
    server, sources = slow_source(tmp_path, pages=60)
    out = tmp_path / "summary.json"
    # The parent: a shell that starts the crawl with its own pid and waits for it.
    parent = subprocess.Popen(
        ["sh", "-c", f'"{sys.executable}" -m crawler --parent $$ slow > "{out}" & wait'],
        env=crawl_env(sources, tmp_path / "crawl.db", NEWSDEDUP_AUTOTHROTTLE_START_DELAY="0"),
        cwd=tmp_path,
    )
    try:
        time.sleep(2)  # the crawl is under way: its feed and first pages
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 60  # only stops a crawl that never ends from hanging the suite
        while not out.read_text(encoding="utf-8").strip() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.shutdown()
    summary = json.loads(out.read_text(encoding="utf-8").splitlines()[-1])["slow"]
    assert summary["finish_reason"] == "parent_died"
    assert summary["pages"] < 60
