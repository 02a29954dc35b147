"""Faults injected for real, and what survives them: a worker's pool process or the whole worker killed
with SIGKILL in the middle of a page, the database unreachable for a while, the shared index lost from
Redis. Each test counts pages in, pages stored, pages lost and pages stored twice.

How a page is held in the middle of ``process_page`` without touching the code: the test takes the
assignment lock exclusively (an advisory lock in PostgreSQL, as ``storage.locks.stop_assignments``
does) in a transaction of its own, so the worker's task blocks as its transaction begins; the test
sees it waiting through ``pg_blocking_pids`` and then kills, stops or lets go.
"""

from __future__ import annotations

import json
import os
import pty
import random
import select
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from bench.services import own_redis
from config import load_settings
from dedup.evidence import Evidence
from newsdedup.cli import app
from newsdedup.service import processing
from newsdedup.service.index import generations, meta_key
from newsdedup.service.page import Page
from newsdedup.service.runtime import Runtime
from storage import locks, queries
from storage.db import create_db_engine, migrate
from tests.celery_worker import child_env, kill_group, running_worker, wait_until
from tests.conftest import postgres_schema
from tests.fault_servers import queued, queued_pages
from tests.fault_table import FaultRow, Record
from tests.stories import repost_html, story
from tests.tcp_proxy import TcpProxy
from workers.app import app as worker
from workers.messages import decode
from workers.names import PROCESS_PAGE
from workers.redelivery import redelivery_options, renewal_seconds
from workers.retry import backoff_seconds, ceiling, retries_for
from workers.sender import Sender
from workers.tasks import process_page


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A redis-server of this test's own (not the machine's database 15): these tests flush it and
    run workers that take every message on it, which must not meet another test run's."""
    with own_redis() as url:
        yield url


def origin(name: str) -> dict[str, Any]:
    s = story(name)
    return {"url": f"http://origin.example/{name}", "text": s.text, "title": s.title}


def repost(name: str, site: str) -> dict[str, Any]:
    """An autoblog's HTML copy, with its Source link back to the origin."""
    return {"url": f"http://{site}.example/{name}", "html": repost_html(story(name), origin(name)["url"])}


def text_copy(name: str, site: str) -> dict[str, Any]:
    """A plain copy of the story's text without its last paragraph, naming no source: only the index
    finds its origin (it has neither the origin's words exactly nor a source link)."""
    s = story(name)
    return {"url": f"http://{site}.example/{name}", "text": "\n".join(s.paragraphs[:-1])}


@contextmanager
def engine_for(database_url: str) -> Iterator[Any]:
    engine = create_db_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def prepare(database_url: str) -> None:
    """The schema, as the worker would create it (so that the test can take the lock first)."""
    with engine_for(database_url) as engine:
        migrate(engine)


@contextmanager
def assignment_lock(database_url: str) -> Iterator[tuple[int, Connection]]:
    """Hold the assignment lock in a transaction of the test's own until the block ends; yields the
    backend pid of that transaction (and its connection)."""
    with engine_for(database_url) as engine, engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": locks.ASSIGNMENT_KEY})
        pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        try:
            yield pid, conn
        finally:
            transaction.rollback()


# Sessions waiting for the holder, or for one that waits for it (a lock's waiters queue behind the
# first of them).
_WAITING = text(
    """
    WITH RECURSIVE waiting(pid) AS (
        SELECT pid FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))
        UNION
        SELECT a.pid FROM pg_stat_activity a JOIN waiting w ON w.pid = ANY(pg_blocking_pids(a.pid))
    )
    SELECT pid FROM waiting
    """
)


def waiting_on(conn: Connection, holder: int) -> set[int]:
    """Backend pids of the sessions waiting, directly or behind others, for a lock ``holder`` holds."""
    rows = conn.execute(_WAITING, {"holder": holder})
    return {int(pid) for (pid,) in rows}


def blocked(monitor: Connection, holder: int, count: int, besides: frozenset[int] = frozenset()) -> set[int]:
    """Wait until ``count`` sessions other than ``besides`` wait for the holder's lock; their pids."""

    def check() -> set[int] | None:
        found = waiting_on(monitor, holder) - besides
        return found if len(found) >= count else None

    return wait_until(check, f"{count} sessions waiting for the assignment lock")


@contextmanager
def monitor_connection(database_url: str) -> Iterator[Connection]:
    with engine_for(database_url) as engine, engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def send(redis_url: str, *pages: dict[str, Any]) -> None:
    with Sender(redis_url) as sender:
        for page in pages:
            sender.send(PROCESS_PAGE, page)


def stored(database_url: str) -> dict[str, Any]:
    """What the database holds: articles per URL, the links, and the clusters as sets of URLs."""
    with engine_for(database_url) as engine, engine.connect() as conn:
        urls = Counter(url for (url,) in conn.execute(text("SELECT url FROM articles")))
        links = conn.execute(text("SELECT article_a, article_b FROM links")).all()
        members = conn.execute(text("SELECT cluster_id, url FROM articles ORDER BY id")).all()
        sizes = dict(conn.execute(text("SELECT id, size FROM clusters WHERE size > 0")).all())
    clusters: dict[int, set[str]] = {}
    for cluster_id, url in members:
        clusters.setdefault(cluster_id, set()).add(url)
    assert {c: len(m) for c, m in clusters.items()} == sizes, "cluster sizes disagree with their members"
    return {
        "articles": sum(urls.values()),
        "urls": sorted(urls),
        "twice": sorted(url for url, n in urls.items() if n > 1),
        "links": len(links),
        "distinct_links": len(set(links)),
        "clusters": {frozenset(m) for m in clusters.values()},
    }


def record(
    fault_row: Record, fault: str, pages: list[dict[str, Any]], result: dict[str, Any], recovered: float
) -> None:
    """This test's row of the fault table: the pages sent, and what ``stored`` found of them."""
    urls = {page["url"] for page in pages}
    fault_row(
        FaultRow(
            fault,
            len(pages),
            result["articles"],
            len(urls - set(result["urls"])),
            len(result["twice"]),
            recovered,
        )
    )


def held_pages(redis_url: str) -> list[str]:
    """URLs of the process_page messages Redis still holds: waiting on the queue or delivered and not yet
    acknowledged (kombu's ``unacked`` hash). A page acknowledged is in neither."""
    return [page["url"] for page in queued_pages(redis_url)] + list(held_tasks(redis_url).values())


def service_env(redis_url: str, database_url: str, **settings: str) -> dict[str, str]:
    return child_env(NEWSDEDUP_REDIS_URL=redis_url, NEWSDEDUP_DATABASE_URL=database_url, **settings)


@pytest.mark.slow
def test_a_pool_process_killed_mid_page_gives_the_page_back_and_it_is_stored_once(
    redis_url: str, postgres_url: str, tmp_path: Path, fault_row: Record
) -> None:
    """SIGKILL to the pool process running process_page, while the page waits inside the task for the
    assignment lock: the worker gives the message back (acks_late, reject_on_worker_lost), a new pool
    process runs it again (it is seen waiting for the lock again, in another session), and once the
    lock is free the page is stored exactly once and joins its origin: 2 pages in, 2 stored, none lost,
    none twice. The time from the kill to the last page stored goes to the fault table."""
    prepare(postgres_url)
    first, copy = origin("bridge"), repost("bridge", "copy1")
    with (
        running_worker(service_env(redis_url, postgres_url), tmp_path, postgres_url, concurrency=1) as worker,
        monitor_connection(postgres_url) as monitor,
    ):
        send(redis_url, first)
        worker.wait_for(tasks=1, articles=1)
        with assignment_lock(postgres_url) as (holder, _):
            send(redis_url, copy)
            before = blocked(monitor, holder, 1)
            (child,) = worker.pool()
            os.kill(child, signal.SIGKILL)
            killed = time.monotonic()
            # Given back and run again by a new pool process: a new session waits for the lock (the
            # killed process's session may still wait too, until PostgreSQL notices its client is gone).
            blocked(monitor, holder, 1, besides=frozenset(before))
            assert worker.pool() != [child]
        worker.wait_for(tasks=2, articles=2)
        recovered = time.monotonic() - killed
        log = worker.log()
    assert "WorkerLostError" in log
    assert [o["url"] for o in worker.outcomes()] == [first["url"], copy["url"]]
    assert [o["status"] for o in worker.outcomes()] == ["new", "joined"]
    result = stored(postgres_url)
    assert result["articles"] == 2
    assert result["twice"] == []
    assert result["links"] == result["distinct_links"] == 1
    assert result["clusters"] == {frozenset({first["url"], copy["url"]})}
    assert held_pages(redis_url) == []
    record(
        fault_row,
        "a worker's pool process SIGKILLed in the middle of `process_page`",
        [first, copy],
        result,
        recovered,
    )


def held_tasks(redis_url: str) -> dict[str, str]:
    """Task id to URL of the process_page messages delivered and not yet acknowledged."""
    client = redis.Redis.from_url(redis_url)
    try:
        envelopes = [json.loads(v)[0] for v in client.hvals("unacked")]
    finally:
        client.close()
    return {e["headers"]["id"]: decode(json.dumps(e))[1][0]["url"] for e in envelopes}


@pytest.mark.slow
def test_a_worker_killed_whole_has_its_pages_stored_by_another_worker_on_the_default_settings(
    redis_url: str, postgres_url: str, tmp_path: Path, fault_row: Record
) -> None:
    """Two workers on the default settings; the first dies whole (SIGKILL to its main process and pool)
    holding two pages: one that never got past the lock it waited for (its pool process was killed
    first), one stored but not acknowledged (its main process, which acknowledges, was stopped first).
    The second worker stores its own two pages at once, and gets the dead worker's two once Redis has
    seen them unrenewed for the visibility timeout (30 s) and a sweep put them back: the first is
    stored, the second found unchanged. 5 pages in, 5 stored, none lost, none twice, every page
    finished once. The time from the kill to the last page stored goes to the fault table."""
    prepare(postgres_url)
    first = origin("bridge")
    pages = [repost("bridge", "copy1"), origin("library"), text_copy("library", "copy2"), origin("orchard")]
    wanted = {p["url"] for p in pages}
    env = service_env(redis_url, postgres_url)
    with (
        monitor_connection(postgres_url) as monitor,
        running_worker(env, tmp_path, postgres_url, log_name="a.log") as doomed,
        running_worker(env, tmp_path, postgres_url, log_name="b.log") as survivor,
    ):
        send(redis_url, first)
        wait_until(lambda: survivor.article_count() == 1, "the first page stored")
        with assignment_lock(postgres_url) as (holder, _):
            send(redis_url, *pages)
            blocked(monitor, holder, 4)  # two pool processes of each worker wait inside a page
            held = held_tasks(redis_url)
            in_doomed = {held[task] for task in doomed.received() if task in held}
            assert len(held) == 4, held
            assert len(in_doomed) == 2, (held, doomed.received())
            doomed.process.send_signal(signal.SIGSTOP)  # nothing is acknowledged from here on
            os.kill(doomed.pool()[0], signal.SIGKILL)  # its page is never stored
        # The lock is free: the survivor's two pages and one of the doomed worker's are stored.
        wait_until(lambda: survivor.article_count() == 4, "three more pages stored")
        kill_group(doomed.process)
        killed = time.monotonic()
        (committed,) = (
            set(stored(postgres_url)["urls"]) - {first["url"]} - {o["url"] for o in survivor.outcomes()}
        )
        wait_until(lambda: {o["url"] for o in survivor.outcomes()} >= wanted, "every page stored")
        recovered = time.monotonic() - killed
        outcomes = survivor.outcomes() + doomed.outcomes()
    assert committed in in_doomed
    # Each page stored once (the committed one's pool process logged it before its worker died), and
    # the committed one found unchanged when it came back.
    assert sorted(o["url"] for o in outcomes if o["status"] != "unchanged") == sorted([first["url"], *wanted])
    assert [o["url"] for o in outcomes if o["status"] == "unchanged"] == [committed]
    result = stored(postgres_url)
    assert result["articles"] == 5
    assert result["twice"] == []
    assert result["links"] == result["distinct_links"] == 2
    assert result["clusters"] == {
        frozenset({first["url"], pages[0]["url"]}),
        frozenset({pages[1]["url"], pages[2]["url"]}),
        frozenset({pages[3]["url"]}),
    }
    assert held_pages(redis_url) == []
    fault_row(
        FaultRow(
            "a whole worker SIGKILLed holding 2 pages (one not stored, one stored but not acknowledged), "
            "another worker running; default settings",
            5,
            result["articles"],
            5 - result["articles"],
            len(result["twice"]),
            recovered,
        )
    )


@pytest.mark.slow
def test_a_live_worker_keeps_a_page_longer_than_the_visibility_timeout_without_redelivery(
    redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    """A worker renews the pages it holds: with a visibility timeout of 2 s, a page that waits inside the
    task for 8 s (four timeouts) is never put back on the queue and never received a second time, and
    it is stored once when it can go on."""
    prepare(postgres_url)
    page = origin("bridge")
    env = service_env(redis_url, postgres_url, NEWSDEDUP_VISIBILITY_TIMEOUT_SECONDS="2")
    with (
        monitor_connection(postgres_url) as monitor,
        running_worker(env, tmp_path, postgres_url, concurrency=1) as worker,
    ):
        with assignment_lock(postgres_url) as (holder, _):
            send(redis_url, page)
            blocked(monitor, holder, 1)
            end = time.monotonic() + 8
            while time.monotonic() < end:
                assert queued(redis_url) == []
                assert list(held_tasks(redis_url).values()) == [page["url"]]
                time.sleep(0.2)
        worker.wait_for(tasks=1, articles=1)
        assert len(worker.received()) == 1
    assert stored(postgres_url)["twice"] == []
    assert held_pages(redis_url) == []


def through(proxy: TcpProxy, database_url: str) -> str:
    """The database URL with the proxy's address in place of the server's."""
    return make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


@pytest.mark.slow
def test_pages_sent_while_the_database_is_away_are_retried_and_stored_once_it_is_back(
    redis_url: str, postgres_url: str, tmp_path: Path, fault_row: Record
) -> None:
    """The worker reaches PostgreSQL through a TCP proxy. A cut of the proxy between two pages (open
    connections closed, new ones still accepted) costs nothing: the pool checks a pooled connection
    before use (pool_pre_ping), so the next page succeeds at once. Then the proxy refuses and cuts every
    connection while five pages are sent: each is retried with backoff (the log shows it), and while the
    database is away every one of them is still held by Redis, on the queue or delivered but not
    acknowledged. Once the proxy is back all are stored: 7 pages in, 7 stored, none lost, none twice.
    The time from the proxy's return to the last page stored goes to the fault table."""
    prepare(postgres_url)
    before_cut, after_cut = origin("bridge"), repost("bridge", "copy1")
    during = [origin("library"), text_copy("library", "copy2"), origin("orchard"), repost("orchard", "copy3")]
    during.append(text_copy("bridge", "copy4"))
    with TcpProxy(("127.0.0.1", make_url(postgres_url).port or 5432)) as proxy:
        env = service_env(redis_url, through(proxy, postgres_url), NEWSDEDUP_RETRY_BACKOFF_MAX_SECONDS="1")
        with running_worker(env, tmp_path, postgres_url, concurrency=1) as worker:
            send(redis_url, before_cut)
            worker.wait_for(tasks=1, articles=1)

            proxy.cut()
            proxy.restore()
            send(redis_url, after_cut)
            worker.wait_for(tasks=2, articles=2)
            assert worker.retries() == {}

            proxy.cut()
            send(redis_url, *during)
            wait_until(lambda: len(worker.retries()) == len(during), "every page retried")
            wait_until(lambda: min(map(len, worker.retries().values())) >= 2, "every page retried twice")
            assert worker.article_count() == 2
            # (polled: between kombu's pop of a message and its entry in ``unacked`` lie microseconds)
            wait_until(lambda: set(held_pages(redis_url)) == {p["url"] for p in during}, "all pages held")

            proxy.restore()
            restored = time.monotonic()
            worker.wait_for(tasks=2 + len(during), articles=2 + len(during))
            recovered = time.monotonic() - restored
            retries = worker.retries()
            outcomes = worker.outcomes()
    assert all("OperationalError" in reason for reasons in retries.values() for reason in reasons)
    assert sorted(o["url"] for o in outcomes[2:]) == sorted(p["url"] for p in during)
    result = stored(postgres_url)
    assert result["articles"] == 7
    assert result["twice"] == []
    assert result["links"] == result["distinct_links"]
    assert result["clusters"] == {
        frozenset({before_cut["url"], after_cut["url"], during[4]["url"]}),
        frozenset({during[0]["url"], during[1]["url"]}),
        frozenset({during[2]["url"], during[3]["url"]}),
    }
    assert held_pages(redis_url) == []
    record(
        fault_row,
        f"PostgreSQL unreachable (connections refused and cut) while {len(during)} pages arrive, then back",
        [before_cut, after_cut, *during],
        result,
        recovered,
    )


def test_the_retry_waits_grow_to_their_cap_and_cover_the_outage_bound() -> None:
    """The wait before retry n lies between half of min(cap, 2**n) seconds and all of it, and
    retries_for gives the fewest retries whose shortest waits add up to the outage bound."""
    rng = random.Random(7)
    for n in range(40):
        top = min(300.0, 2.0**n)
        waits = [backoff_seconds(n, 300, rng) for _ in range(50)]
        assert all(top / 2 <= w <= top for w in waits)
    assert ceiling(3, 300) == 8.0
    assert ceiling(100, 300) == 300.0
    assert retries_for(0, 300) == 0
    # 0.5 + 1 + 2 + 4 + ... + 128 (ceilings 1 ... 256) = 255.5 s; then 150 s each.
    assert retries_for(255.5, 300) == 9
    assert retries_for(255.5 + 150 * 142, 300) == 9 + 142
    assert retries_for(255.5 + 150 * 142 + 1, 300) == 9 + 143
    assert retries_for(6 * 3600, 300) == 152


def test_redelivery_sweeps_a_tenth_of_the_visibility_timeout_and_renews_three_times_per_timeout() -> None:
    """Kombu looks for tasks of dead workers every tenth of the visibility timeout (every 3 s for the
    default 30 s, its own 10 s x 10 for two hours, every second for a short one), and a live worker
    renews its own three times per timeout."""
    assert redelivery_options(30) == {
        "visibility_timeout": 30,
        "unacked_restore_interval": 3,
        "unacked_restore_throttle": 1,
    }
    assert redelivery_options(7200) == {
        "visibility_timeout": 7200,
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 10,
    }
    assert redelivery_options(2) == {
        "visibility_timeout": 2,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    assert renewal_seconds(30) == 10.0
    assert load_settings().visibility_timeout_seconds == 30


# The lost-index tests: batch one, then the index is lost, then batch two (more copies of the same
# stories, and a new story with its copy). The text copies name no source: only the index finds them.
BATCH_ONE = [origin("bridge"), repost("bridge", "copy1"), origin("library"), origin("solarpark")]
BATCH_TWO = [
    text_copy("bridge", "copy2"),
    text_copy("library", "copy2"),
    repost("library", "copy3"),
    origin("orchard"),
    text_copy("orchard", "copy4"),
]


def _story(name: str) -> frozenset[str]:
    return frozenset(p["url"] for p in BATCH_ONE + BATCH_TWO if p["url"].endswith(f"/{name}"))


# The right clusters: one per story.
STORIES = {_story(name) for name in ("bridge", "library", "orchard", "solarpark")}


def members(clusters: list[dict[str, Any]]) -> set[frozenset[str]]:
    return {frozenset(m["url"] for m in c["members"]) for c in clusters}


def cli(args: list[str], env: dict[str, str]) -> str:
    result = CliRunner().invoke(app, args, env=env)
    assert (result.exit_code, result.stderr) == (0, ""), repr(result.exception)
    return result.stdout


def ingest(pages: list[dict[str, Any]], env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / f"pages-{len(list(tmp_path.iterdir()))}.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in pages), encoding="utf-8")
    cli(["ingest", str(path), "-q"], env)


def export(env: dict[str, str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in cli(["clusters", "export"], env).splitlines()]


def candidates(env: dict[str, str]) -> dict[int, set[int]]:
    """What the shared index proposes for each stored article, queried with its own signals."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        runtime = Runtime.from_settings(load_settings())
    try:
        weight = runtime.settings.evidence_min_weight
        with runtime.sessions() as session:
            return {
                article_id: runtime.index.query(signature, anchors, Evidence.from_bytes(ev).rare(weight))
                for article_id, signature, anchors, ev in queries.signatures(session)
            }
    finally:
        runtime.close()


def index_lost(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
        assert client.dbsize() == 0
    finally:
        client.close()


@pytest.fixture
def never_lost(redis_url: str, tmp_path: Path) -> list[dict[str, Any]]:
    """The clusters of both batches processed in service mode with an index that was never lost."""
    with postgres_schema() as database_url:
        env = {"NEWSDEDUP_REDIS_URL": redis_url, "NEWSDEDUP_DATABASE_URL": database_url}
        ingest(BATCH_ONE, env, tmp_path)
        ingest(BATCH_TWO, env, tmp_path)
        clusters = export(env)
    index_lost(redis_url)
    assert members(clusters) == STORIES
    return clusters


def test_reindex_after_redis_lost_the_index_gives_the_clusters_of_a_run_that_never_lost_it(
    never_lost: list[dict[str, Any]], redis_url: str, postgres_url: str, tmp_path: Path, fault_row: Record
) -> None:
    """Batch one is processed in service mode; Redis is flushed (the index is gone); `newsdedup reindex`
    rebuilds it from the database and prints the count; the index then proposes for every article
    the same candidates as before the loss, and after batch two the clusters (the whole export) equal
    those of a run whose index was never lost: 9 pages in, 9 stored, none lost, none twice. The time
    from the loss to the last page of batch two stored goes to the fault table."""
    env = {"NEWSDEDUP_REDIS_URL": redis_url, "NEWSDEDUP_DATABASE_URL": postgres_url}
    ingest(BATCH_ONE, env, tmp_path)
    proposed = candidates(env)
    assert proposed[2] == {1, 2}  # the repost finds its origin

    index_lost(redis_url)
    lost_at = time.monotonic()
    assert cli(["reindex"], env) == "indexed 4 articles\n"

    assert candidates(env) == proposed
    ingest(BATCH_TWO, env, tmp_path)
    recovered = time.monotonic() - lost_at
    assert export(env) == never_lost
    result = stored(postgres_url)
    assert result["articles"] == 9
    record(
        fault_row,
        "the shared index lost (FLUSHDB), then `newsdedup reindex`; clusters equal to a run without the loss",
        BATCH_ONE + BATCH_TWO,
        result,
        recovered,
    )


def test_a_running_worker_rebuilds_a_lost_index_before_its_next_page(
    never_lost: list[dict[str, Any]],
    redis_url: str,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fault_row: Record,
) -> None:
    """The process_page task, run in this process as a worker runs it, after Redis was flushed under it:
    it notices the index is gone, rebuilds it from the database before the page, and the clusters equal
    those of a run that never lost the index. The same pages processed without that check (straight
    through the processing code, the runtime's index left as it was) miss the copies that name no source:
    the fault is real. The checked run's row, timed from the loss to its last page stored, goes to the
    fault table."""
    monkeypatch.setenv("NEWSDEDUP_REDIS_URL", redis_url)
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", postgres_url)
    env = {"NEWSDEDUP_REDIS_URL": redis_url, "NEWSDEDUP_DATABASE_URL": postgres_url}
    worker.start_runtime(Runtime.from_settings(load_settings()).migrate())  # as a worker builds it
    for page in BATCH_ONE:
        process_page(page)
    index_lost(redis_url)
    lost_at = time.monotonic()
    for page in BATCH_TWO:
        process_page(page)
    recovered = time.monotonic() - lost_at
    assert "the shared index was missing from Redis: rebuilt it from the database (4 articles)" in caplog.text
    assert export(env) == never_lost
    result = stored(postgres_url)

    worker.start_runtime(None)
    index_lost(redis_url)
    with postgres_schema() as unchecked_url:
        monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", unchecked_url)
        runtime = Runtime.from_settings(load_settings()).migrate()
        for page in BATCH_ONE:
            processing.process_page(Page.model_validate(page), runtime)
        index_lost(redis_url)
        for page in BATCH_TWO:
            processing.process_page(Page.model_validate(page), runtime)
        unchecked = export({**env, "NEWSDEDUP_DATABASE_URL": unchecked_url})
    # The bridge excerpt, after the loss, finds nothing (its origin is not in the index) and stands alone;
    # the library excerpt is found later by the library repost, which names its source.
    bridge_excerpt = BATCH_TWO[0]["url"]
    assert members(unchecked) == {c for c in STORIES if bridge_excerpt not in c} | {
        _story("bridge") - {bridge_excerpt},
        frozenset({bridge_excerpt}),
    }
    record(
        fault_row,
        "a worker finds the shared index gone (FLUSHDB between pages) and rebuilds it before its next page; "
        "clusters equal to a run without the loss",
        BATCH_ONE + BATCH_TWO,
        result,
        recovered,
    )


def test_reindex_shows_a_progress_bar_on_a_terminal(
    redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    """On a terminal `newsdedup reindex` draws a progress bar (articles done of all) and ends with the
    count; elsewhere it prints the count alone (the other reindex test)."""
    env = {"NEWSDEDUP_REDIS_URL": redis_url, "NEWSDEDUP_DATABASE_URL": postgres_url}
    ingest(BATCH_ONE, env, tmp_path)
    index_lost(redis_url)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        ["newsdedup", "reindex"],
        env={**child_env(**env), "TERM": "xterm", "COLUMNS": "100"},
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
    )
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        assert ready, "reindex wrote nothing for 60 s"
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other side is closed: the process has ended
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    shown = output.decode()
    assert "indexing" in shown
    assert "4/4" in shown
    assert shown.rstrip().endswith("indexed 4 articles")
    client = redis.Redis.from_url(redis_url)
    assert client.exists(meta_key(generations(client)[0])) == 1
    client.close()
