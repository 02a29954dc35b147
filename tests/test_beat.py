"""One scheduler at a time, one crawl of a source at a time.

Real ``newsdedup beat`` processes (RedBeat: the schedule and a lock in Redis) on a redis-server of the
test's own: of two beats only the lock holder sends tasks, each due entry once; when the holder is
killed the other takes over; entries of sources removed from the sources file are deleted. And real
``crawl_source`` calls, whose crawls run in child processes: a second crawl of a source whose crawl
still runs is skipped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from celery.exceptions import Retry
from redbeat.schedulers import RedBeatSchedulerEntry  # type: ignore[import-untyped]

from config import load_settings
from newsdedup.service.runtime import Runtime
from tests.fault_servers import GatedSiteServer, RedisServer, queued
from tests.fault_table import FaultRow, Record
from workers.app import app
from workers.schedule import BEAT_KEY_PREFIX, beat_schedule
from workers.tasks import CRAWL_LOCK, crawl_source

pytestmark = pytest.mark.slow

# Deadlines only keep a broken beat or crawl from hanging the suite; nothing is timed.
DEADLINE = 60
POLL = 0.1
LOOP_SECONDS = 1
LOCK_SECONDS = 4
SENDING = "Scheduler: Sending due task"
ACQUIRED = "beat: Acquired lock"
LOCK_KEY = f"{BEAT_KEY_PREFIX}:lock"
# A schedule that does not come due on its own while a test runs: the tests make entries due.
YEARLY = "0 0 1 1 *"


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"after {DEADLINE} s still not: {what}"
        time.sleep(POLL)


def write_sources(path: Path, names: list[str], schedule: str = YEARLY) -> Path:
    path.write_text(
        "".join(
            f'[[source]]\nname = "{name}"\nkind = "feed"\nstart_urls = ["http://{name}.example/feed.xml"]\n'
            f'schedule = "{schedule}"\n\n'
            for name in names
        ),
        encoding="utf-8",
    )
    return path


@dataclass
class Beat:
    """A running ``newsdedup beat`` and its log."""

    process: subprocess.Popen[bytes]
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def sent(self) -> int:
        return self.log().count(SENDING)

    def holds_lock(self) -> bool:
        return ACQUIRED in self.log()

    def kill(self) -> None:
        """SIGKILL to its process group: a crash, the lock is not released."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM (beat closes and releases its lock), SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(DEADLINE)
        self.kill()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, running; it stops after the beats that use it."""
    with RedisServer(tmp_path / "redis") as server:
        yield server.start()


@pytest.fixture
def beats(tmp_path: Path, redis_server: RedisServer) -> Iterator[Callable[[str, Path], Beat]]:
    """Starts ``newsdedup beat`` processes on a broker and sources file; stops them all at the end (before
    their Redis) and prints their logs (a failing test shows them)."""
    started: list[Beat] = []

    def start(redis_url: str, sources: Path) -> Beat:
        env = dict(os.environ)  # the conftest's clean settings
        env.update(
            NEWSDEDUP_REDIS_URL=redis_url,
            NEWSDEDUP_SOURCES=str(sources),
            NEWSDEDUP_BEAT_MAX_LOOP_INTERVAL_SECONDS=str(LOOP_SECONDS),
            NEWSDEDUP_BEAT_LOCK_TIMEOUT_SECONDS=str(LOCK_SECONDS),
            PYTHONUNBUFFERED="1",
        )
        log_file = tmp_path / f"beat-{len(started)}.log"
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                ["newsdedup", "beat"],
                env=env,
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(Beat(process, log_file))
        return started[-1]

    yield start
    for beat in started:
        beat.stop()
        print(f"--- {beat.log_file} ---\n{beat.log()}")


def make_due(redis_url: str, sources: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Record every source's beat entry as last run two years ago, so that it is due now (through
    RedBeat's own entry API, as a beat that last ran then would have left it)."""
    monkeypatch.setenv("NEWSDEDUP_SOURCES", str(sources))
    seeder = Celery("seeder", set_as_current=False)
    seeder.conf.update(
        redbeat_redis_url=redis_url,
        redbeat_redis_options={},
        redbeat_key_prefix=BEAT_KEY_PREFIX,
        timezone="UTC",
    )
    long_ago = datetime.now(UTC) - timedelta(days=730)
    for name, definition in beat_schedule(load_settings()).items():
        entry = RedBeatSchedulerEntry(
            name, definition["task"], definition["schedule"], definition["args"], app=seeder
        )
        entry.save()  # a new entry; an existing one keeps its definition
        entry.reschedule(last_run_at=long_ago)
    seeder.redbeat_redis.close()  # type: ignore[attr-defined]  # set by RedBeat


def crawl_tasks(redis_url: str) -> list[str]:
    """The source names of the crawl_source messages on the ``crawl`` queue, in delivery order."""
    names = []
    for task, args in queued(redis_url, "crawl"):
        assert task == "newsdedup.crawl_source", task
        names.append(args[0])
    return names


def test_of_two_beats_one_sends_each_due_crawl_once_and_the_other_takes_over(
    tmp_path: Path,
    redis_server: RedisServer,
    beats: Callable[[str, Path], Beat],
    monkeypatch: pytest.MonkeyPatch,
    fault_row: Record,
) -> None:
    """Two beats start together with two due crawls: exactly one takes the lock and sends each crawl
    once (2 messages); the other sends nothing. The holder is killed (its lock is not released): the
    other takes the lock once it expires, and when the crawls are due again sends each once more
    (4 messages in all, 2 per source). The row of the fault table counts due entries in and crawl
    tasks sent, timed from the kill to the last task sent."""
    names = ["alpha", "beta"]
    sources = write_sources(tmp_path / "sources.toml", names)
    url = redis_server.url
    make_due(url, sources, monkeypatch)
    due = [*names]  # the entries made due, once each time make_due runs
    first, second = beats(url, sources), beats(url, sources)

    wait_until(lambda: first.holds_lock() or second.holds_lock(), "a beat holds the lock")
    holder, other = (first, second) if first.holds_lock() else (second, first)
    wait_until(lambda: len(crawl_tasks(url)) == 2, "2 crawl tasks sent")
    wait_until(lambda: holder.sent() == 2, "the holder logged its 2 sends")
    assert sorted(crawl_tasks(url)) == ["alpha", "beta"]
    assert (other.holds_lock(), other.sent()) == (False, 0)
    assert other.process.poll() is None  # it waits for the lock
    client = redis_server.client()
    assert 0 < client.pttl(LOCK_KEY) <= LOCK_SECONDS * 1000  # a lock of seconds, renewed by the holder
    client.close()

    holder.kill()
    killed = time.monotonic()
    wait_until(other.holds_lock, "the other beat took the lock")
    make_due(url, sources, monkeypatch)
    due += names
    wait_until(lambda: len(crawl_tasks(url)) == 4, "4 crawl tasks sent")
    recovered = time.monotonic() - killed
    wait_until(lambda: other.sent() == 2, "the new holder logged its 2 sends")
    assert sorted(crawl_tasks(url)[2:]) == ["alpha", "beta"]
    assert holder.sent() == 2
    sent = crawl_tasks(url)
    wanted, got = Counter(due), Counter(sent)
    fault_row(
        FaultRow(
            "two `newsdedup beat` processes; the lock holder SIGKILLed (pages: due crawl entries in, "
            "crawl tasks sent)",
            len(due),
            len(sent),
            (wanted - got).total(),
            (got - wanted).total(),
            recovered,
        )
    )


def test_beat_deletes_the_entries_of_removed_sources(
    tmp_path: Path, redis_server: RedisServer, beats: Callable[[str, Path], Beat]
) -> None:
    """A beat stores one entry per source in Redis; after `beta` is removed from the sources file, the
    next beat start deletes beta's entry (its key and its place in the schedule) and keeps alpha's."""
    sources = write_sources(tmp_path / "sources.toml", ["alpha", "beta"])
    client = redis_server.client()
    schedule_key = f"{BEAT_KEY_PREFIX}:schedule"
    keys = {name: f"{BEAT_KEY_PREFIX}crawl {name}" for name in ("alpha", "beta")}

    def scheduled() -> set[str]:
        return {str(member) for member in client.zrange(schedule_key, 0, -1)}

    beat = beats(redis_server.url, sources)
    wait_until(beat.holds_lock, "the beat holds the lock")
    assert scheduled() == set(keys.values())
    assert all(client.exists(key) for key in keys.values())
    beat.stop()

    write_sources(sources, ["alpha"])
    beat = beats(redis_server.url, sources)
    wait_until(beat.holds_lock, "the beat holds the lock")
    assert scheduled() == {keys["alpha"]}
    assert (client.exists(keys["alpha"]), client.exists(keys["beta"])) == (1, 0)
    assert beat.sent() == 0
    client.close()


def test_a_source_whose_crawl_runs_is_not_crawled_twice(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    fault_row: Record,
) -> None:
    """While a crawl_source of dailycourier runs (its crawl is held at its first page for three times
    the crawl lock's life: the crawl renews it), a second crawl_source of it returns "already running"
    at once and starts no crawl; the lock lives half the visibility timeout (so that a dead crawl's
    lock is gone before its task comes back); the running one ends with its 7 pages and releases the
    lock, after which a third runs: 2 crawls, 14 pages in all.
    The crawls' own log lines reach the worker's stderr (its log). Its row of the fault table counts
    the pages of the crawls that ran, and nothing to recover from."""
    with RedisServer(tmp_path / "redis") as server, GatedSiteServer(gates=[1]) as site:
        server.start()
        client = server.client()
        lock = f"{CRAWL_LOCK}dailycourier"
        for name, value in {
            "NEWSDEDUP_REDIS_URL": server.url,
            "NEWSDEDUP_SPOOL_DIR": str(tmp_path / "spool"),
            "NEWSDEDUP_AUTOTHROTTLE_START_DELAY": "0",
            "NEWSDEDUP_VISIBILITY_TIMEOUT_SECONDS": "2",  # a lock of 1 s, renewed every third of it
            "http_proxy": site.proxy_url,
        }.items():
            monkeypatch.setenv(name, value)
        app.start_runtime(Runtime.from_settings(load_settings()))  # the runtime of the tasks run here
        results: dict[str, dict[str, Any]] = {}

        def run_first() -> None:
            try:
                results["first"] = crawl_source("dailycourier")
            except Exception as e:  # shown by the assertion below
                results["failed"] = {"error": repr(e)}

        first = threading.Thread(target=run_first)
        first.start()
        try:
            wait_until(
                lambda: len(site.tickets) >= 1 or not first.is_alive(),
                "the first crawl asked for its first page",
            )
            assert first.is_alive(), results
            time.sleep(3)  # three lives of the lock
            ttl = client.pttl(lock) / 1000
            with caplog.at_level(logging.WARNING, logger="workers.tasks"):
                second = crawl_source("dailycourier")
        finally:
            site.open(1)
            first.join(DEADLINE)
        assert second == {"source": "dailycourier", "status": "already running"}
        assert "crawl of dailycourier skipped: already running" in caplog.text
        assert 0 < ttl <= 1
        assert "first" in results, results
        assert (results["first"]["pages"], results["first"]["enqueued"]) == (7, 7)
        assert client.exists(lock) == 0

        third = crawl_source("dailycourier")
        assert (third["pages"], third["enqueued"]) == (7, 7)
        assert site.requests.count("http://dailycourier.example/robots.txt") == 2
        assert len(queued(server.url)) == 14
        sent = [args[0]["url"] for _, args in queued(server.url)]
        client.close()
    assert capfd.readouterr().err.count("Spider opened") == 2
    calls = [results["first"], second, third]
    ran = [c for c in calls if "pages" in c]
    refused = [c for c in calls if c.get("status") == "already running"]
    # Each crawl that ran delivers each page once: a delivery beyond that is a page crawled twice at once.
    pages_in = sum(c["pages"] for c in ran)
    once = sum(min(n, len(ran)) for n in Counter(sent).values())
    fault_row(
        FaultRow(
            f"a crawl started while the same source's crawl runs: {len(refused)} of {len(calls)} "
            "crawl_source calls answered `already running`",
            pages_in,
            len(sent),
            pages_in - once,
            len(sent) - once,
            None,
        )
    )


def test_a_crawl_given_back_after_its_worker_died_waits_for_the_dead_crawls_lock(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock of a dead crawl is still held (it expires within its life, half the visibility
    timeout). A crawl_source sent again (beat, an operator) answers `already running`; the same crawl
    given back by the broker after its worker died (``redelivered``) asks to be tried once more, after
    the lock's life and a second, instead of being dropped until the next schedule."""
    monkeypatch.setenv("NEWSDEDUP_REDIS_URL", redis_url)
    monkeypatch.setenv("NEWSDEDUP_VISIBILITY_TIMEOUT_SECONDS", "30")
    app.start_runtime(Runtime.from_settings(load_settings()))
    client = app.runtime.require_redis()
    client.set(f"{CRAWL_LOCK}dailycourier", "a dead crawl's token", px=15_000)
    asked: dict[str, Any] = {}

    def retry(**options: Any) -> Retry:
        asked.update(options)
        return Retry()

    monkeypatch.setattr(crawl_source, "retry", retry)
    assert crawl_source("dailycourier") == {"source": "dailycourier", "status": "already running"}
    assert asked == {}
    crawl_source.push_request(delivery_info={"redelivered": True}, retries=0)
    try:
        with pytest.raises(Retry):
            crawl_source.run("dailycourier")
    finally:
        crawl_source.pop_request()
    assert asked == {"countdown": 16.0, "max_retries": 1}
    crawl_source.push_request(delivery_info={"redelivered": True}, retries=1)
    try:  # that one retry, still finding the lock held: a crawl really runs
        assert crawl_source.run("dailycourier") == {"source": "dailycourier", "status": "already running"}
    finally:
        crawl_source.pop_request()
