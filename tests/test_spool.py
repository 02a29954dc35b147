"""The crawler's spool: pages the broker does not take while Redis is away are kept on disk and sent
later, oldest first, so that a crawl loses no page to a Redis outage or to a crash of its own.

Every fault is real: a redis-server of the test's own is killed (SIGKILL), stopped (SIGSTOP) or never
started, and started again on the same port and files; a crawler process is killed. The crawls are
real ``python -m crawler SOURCE`` processes in service mode, fetching the fixture sites through a
local server that holds pages back until the test has injected its fault, so that the fault falls
between two known pages. What reached the broker is read from its queue in Redis.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner, Result

from crawler.handoff import SpoolingSender
from crawler.items import PageItem
from crawler.spool import FILE_NAME, Spool
from newsdedup.cli import app
from newsdedup.demo.server import SITES, SiteServer
from tests.fault_servers import GatedSiteServer, RedisServer, queued_pages
from tests.fault_table import FaultRow, Record
from tests.spool_processes import put_pages, replay_pages
from workers.names import PROCESS_PAGE
from workers.sender import BrokerDown, Sender

SOURCE = "dailycourier"
SITEMAP = ElementTree.parse(SITES / "dailycourier.example" / "sitemap.xml").getroot()
PAGES = {
    loc.text.strip() for loc in SITEMAP.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc") if loc.text
}
PAGE_FIELDS = {f.name for f in fields(PageItem)}
# Deadlines only keep a broken crawl or server from hanging the suite; nothing is timed.
CRAWL_DEADLINE = 120
WAIT_DEADLINE = 60
POLL = 0.05
_SPOOL_LINE = re.compile(r"spool: (\d+) pages spooled, (\d+) replayed, (\d+) left in (\S+)")


def page(url: str) -> dict[str, Any]:
    """A page as the crawler hands it on."""
    return PageItem(
        url, url, 200, f"<html><h1>{url}</h1></html>", "2026-03-12T10:00:00+00:00", SOURCE
    ).payload()


def delivered(redis_url: str) -> list[str]:
    """The URLs of the process_page messages in the broker's queue, in delivery order."""
    return [p["url"] for p in queued_pages(redis_url)]


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"after {WAIT_DEADLINE} s still not: {what}"
        time.sleep(POLL)


def delivery_row(fault: str, pages: Collection[str], sent: list[str], recovered: float | None) -> FaultRow:
    """A row of the fault table: the pages that went in, and the URLs the broker got (in the queue, or
    the replay's ``sent`` list). Lost: a page never delivered; twice: each delivery beyond a page's first."""
    return FaultRow(
        fault, len(pages), len(sent), len(set(pages) - set(sent)), len(sent) - len(set(sent)), recovered
    )


def spooled_urls(folder: Path) -> list[str]:
    """The URLs in the spool file, oldest first (none before the crawler created it)."""
    if not (folder / FILE_NAME).exists():
        return []
    with Spool(folder) as spool:
        return spool.urls()


# -- the spool and the sender, without a crawl ------------------------------------------------------


def _together(target: Callable[..., None], *argument_lists: tuple[Any, ...]) -> None:
    """Run the target in one process per argument list, released at the same moment."""
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    processes = [context.Process(target=target, args=(*args, start)) for args in argument_lists]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(WAIT_DEADLINE)
        assert process.exitcode == 0, process.exitcode


def test_processes_opening_a_new_spool_at_the_same_moment_all_open_it(tmp_path: Path) -> None:
    """Four crawler processes that open a spool file that does not exist yet, released at the same
    moment, all open it and spool their page, in each of 25 rounds. (Switching a new file to WAL is a
    race SQLite could answer with "database is locked" at once: without the retry this test failed in
    each of three runs.)"""
    context = multiprocessing.get_context("fork")
    for round_ in range(25):
        folder = str(tmp_path / f"spool-{round_}")
        start = context.Event()
        processes = [context.Process(target=put_pages, args=(folder, f"p{n}", 1, start)) for n in range(4)]
        for process in processes:
            process.start()
        start.set()
        for process in processes:
            process.join(WAIT_DEADLINE)
        assert [p.exitcode for p in processes] == [0, 0, 0, 0], f"round {round_}"
        with Spool(Path(folder)) as spool:
            assert sorted(spool.urls()) == [f"http://p{n}.example/000" for n in range(4)]


def test_processes_share_one_spool_and_replay_each_page_once(tmp_path: Path, fault_row: Record) -> None:
    """Two processes spool 100 pages each into one spool file at the same time: all 200 are there, each
    process's in its own order. Two processes then replay that spool at the same time: each page is
    sent exactly once, in the order of the spool, and the spool is empty. The time from Redis started
    to the replays done goes to the fault table."""
    folder = str(tmp_path / "spool")
    writers = [(folder, "a", 100), (folder, "b", 100)]
    _together(put_pages, *writers)
    order = spooled_urls(Path(folder))
    assert len(order) == len(set(order)) == 200
    for prefix in ("a", "b"):
        assert [u for u in order if f"//{prefix}." in u] == [
            f"http://{prefix}.example/{i:03d}" for i in range(100)
        ]

    with RedisServer(tmp_path / "redis") as server:
        server.start()
        started = time.monotonic()
        _together(replay_pages, (folder, server.url), (folder, server.url))
        recovered = time.monotonic() - started
        client = server.client()
        sent = client.lrange("sent", 0, -1)
        assert sent == order
        client.close()
    assert spooled_urls(Path(folder)) == []
    put = [f"http://{prefix}.example/{i:03d}" for _, prefix, count in writers for i in range(count)]
    fault_row(
        delivery_row(
            f"{len(writers)} processes spooling {len(put) // len(writers)} pages each, "
            f"then {len(writers)} replaying at once",
            put,
            sent,
            recovered,
        )
    )


def test_sender_keeps_the_crawl_order_across_an_outage(tmp_path: Path) -> None:
    """Redis is killed after page 1 and started again after page 3: pages 2 and 3 go to the spool, and
    page 4 first replays them; the queue holds pages 1 to 4 once each, in order, and the spool nothing.
    What Redis accepted before the kill survived it (append-only file, fsync always)."""
    urls = [f"http://dailycourier.example/{i}" for i in (1, 2, 3, 4)]
    with RedisServer(tmp_path / "redis") as server:
        server.start()
        sender = SpoolingSender(Sender(server.url, 1.0), Spool(tmp_path / "spool"), retry_seconds=0)
        try:
            assert sender.hand_off(page(urls[0])) == "enqueued"
            server.kill()
            assert [sender.hand_off(page(u)) for u in urls[1:3]] == ["spooled", "spooled"]
            assert sender.spool.urls() == urls[1:3]
            server.start()
            assert delivered(server.url) == urls[:1]
            assert sender.hand_off(page(urls[3])) == "enqueued"
            assert (sender.replayed, len(sender.spool)) == (2, 0)
        finally:
            sender.close()
        assert delivered(server.url) == urls


def test_after_a_failed_send_the_broker_is_left_alone_for_the_retry_time(tmp_path: Path) -> None:
    """With a retry time of an hour, a page that comes after a failed send goes to the spool without a
    try, even though Redis is back; a forced replay (as at the end of a crawl) sends both, oldest first."""
    urls = ["http://dailycourier.example/1", "http://dailycourier.example/2"]
    server = RedisServer(tmp_path / "redis")  # not started: nothing listens on its port
    sender = SpoolingSender(Sender(server.url, 1.0), Spool(tmp_path / "spool"), retry_seconds=3600)
    try:
        assert sender.hand_off(page(urls[0])) == "spooled"
        assert sender.last_error is not None
        assert "Connection refused" in sender.last_error
        with server.start():
            assert sender.hand_off(page(urls[1])) == "spooled"
            assert delivered(server.url) == []
            assert sender.replay() is False  # still within the retry time
            assert sender.replay(force=True) is True
            assert (sender.replayed, len(sender.spool)) == (2, 0)
            assert delivered(server.url) == urls
    finally:
        sender.close()


def test_the_command_line_sender_fails_on_a_silent_redis_instead_of_hanging(tmp_path: Path) -> None:
    """`ingest --enqueue` and `crawl --enqueue` send through workers.sender.Sender, as the crawler does:
    against a redis-server that is stopped (SIGSTOP) a send raises BrokerDown for the timeout (which
    the command line reports in one line) instead of waiting for the server for ever."""
    with RedisServer(tmp_path / "redis") as server:
        server.start()
        assert server.process is not None
        with Sender(server.url, timeout=0.5) as sender:
            sender.send(PROCESS_PAGE, page("http://dailycourier.example/before"))
            server.process.send_signal(signal.SIGSTOP)
            try:
                with pytest.raises(BrokerDown, match="Timeout"):
                    sender.send(PROCESS_PAGE, page("http://dailycourier.example/silent"))
            finally:
                server.process.send_signal(signal.SIGCONT)


def test_a_silent_redis_fails_the_send_instead_of_hanging(tmp_path: Path) -> None:
    """A redis-server that is stopped (SIGSTOP: connections are accepted, nothing is answered) makes
    the send raise BrokerDown after the broker timeout instead of waiting forever; once it runs again
    the page, replayed from the spool, is in the queue. (A write the stopped server received before
    the timeout is processed when it resumes: that copy and the replayed one are the duplicates a
    replay may make, harmless because process_page is idempotent.)"""
    url = "http://dailycourier.example/silent"
    with RedisServer(tmp_path / "redis") as server:
        server.start()
        sender = SpoolingSender(Sender(server.url, 0.5), Spool(tmp_path / "spool"), retry_seconds=0)
        assert server.process is not None
        try:
            sender.sender.send_page(page("http://dailycourier.example/before"))
            server.process.send_signal(signal.SIGSTOP)
            try:
                with pytest.raises(BrokerDown, match="Timeout"):
                    sender.sender.send_page(page(url))
                assert sender.hand_off(page(url)) == "spooled"
            finally:
                server.process.send_signal(signal.SIGCONT)
            assert sender.replay() is True
            assert len(sender.spool) == 0
        finally:
            sender.close()
        queue = delivered(server.url)
        assert queue[0] == "http://dailycourier.example/before"
        assert set(queue[1:]) == {url}
        assert queue[-1] == url  # the replayed copy comes last


# -- whole crawls ------------------------------------------------------------------------------------


@dataclass
class Crawl:
    """A running ``python -m crawler SOURCE`` and, once finished, its summary and log."""

    process: subprocess.Popen[bytes]
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def finish(self) -> tuple[dict[str, Any], dict[str, int]]:
        """Wait for it; its summary for the source, and the counts of its spool line (zeros without)."""
        try:
            self.process.wait(CRAWL_DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"the crawl did not finish within {CRAWL_DEADLINE} s:\n{self.log()}")
        log = self.log()
        assert self.process.returncode == 0, log
        summary_line = log.strip().splitlines()[-1]
        summary: dict[str, Any] = json.loads(summary_line)[SOURCE]
        found = _SPOOL_LINE.search(log)
        counts = (
            dict(zip(("spooled", "replayed", "left"), map(int, found.groups()[:3]), strict=True))
            if found
            else {}
        )
        return summary, counts


def start_crawl(tmp_path: Path, redis_url: str, proxy_url: str) -> Crawl:
    """``python -m crawler dailycourier`` in service mode: Celery hand-off to ``redis_url``, the spool in
    ``tmp_path/spool``, the broker tried again at every page (retry time 0), through the fixture proxy."""
    env = dict(os.environ)  # the conftest's clean settings
    env.update(
        NEWSDEDUP_REDIS_URL=redis_url,
        NEWSDEDUP_SPOOL_DIR=str(tmp_path / "spool"),
        NEWSDEDUP_SPOOL_RETRY_SECONDS="0",
        NEWSDEDUP_BROKER_TIMEOUT_SECONDS="2",
        NEWSDEDUP_AUTOTHROTTLE_START_DELAY="0",
        PYTHONUNBUFFERED="1",
        http_proxy=proxy_url,
    )
    log_file = tmp_path / f"crawl-{time.monotonic_ns()}.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "crawler", SOURCE],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Crawl(process, log_file)


def spool_command(args: list[str], redis_url: str, tmp_path: Path) -> Result:
    """``newsdedup spool ARGS`` with the test's spool folder and broker."""
    env = {"NEWSDEDUP_REDIS_URL": redis_url, "NEWSDEDUP_SPOOL_DIR": str(tmp_path / "spool")}
    return CliRunner().invoke(app, ["spool", *args], env=env)


@pytest.mark.slow
def test_redis_killed_mid_crawl_loses_no_page(tmp_path: Path, fault_row: Record) -> None:
    """Redis is killed after the crawl's first 2 pages reached it, and started again (same port and
    files) once 2 more pages were spooled; while the last 3 pages are held back, the crawl's periodic
    replay sends the spool. All 7 pages of the source are in the queue exactly once: the 2 from before
    the kill, then the 2 spooled ones oldest first, then the last 3. The crawl counts 7 pages, 5
    enqueued at once, 2 spooled and 2 replayed, none left in the spool. The time from the restart to the
    crawl's end (its last page delivered) goes to the fault table."""
    spool_dir = tmp_path / "spool"
    with RedisServer(tmp_path / "redis") as server, GatedSiteServer(gates=[2, 4]) as site:
        server.start()
        crawl = start_crawl(tmp_path, server.url, site.proxy_url)
        try:
            wait_until(lambda: len(delivered(server.url)) == 2, "2 pages in the queue")
            before = delivered(server.url)
            server.kill()
            site.open(2)
            wait_until(lambda: len(spooled_urls(spool_dir)) == 2, "2 pages in the spool")
            spooled = spooled_urls(spool_dir)
            server.start()
            restarted = time.monotonic()
            assert delivered(server.url)[:2] == before  # what Redis had accepted survived the kill
            # No page comes while the last ones are held back: the crawl's periodic replay sends the spool.
            wait_until(lambda: len(delivered(server.url)) == 4, "the spooled pages replayed")
            site.open(4)
            summary, counts = crawl.finish()
            recovered = time.monotonic() - restarted
        finally:
            with contextlib.suppress(ProcessLookupError):
                crawl.process.kill()
        queue = queued_pages(server.url)
    urls = [p["url"] for p in queue]
    assert (summary["pages"], summary["enqueued"]) == (7, 5)
    assert counts == {"spooled": 2, "replayed": 2, "left": 0}
    assert sorted(urls) == sorted(PAGES)  # every page, none twice
    assert urls[2:4] == spooled
    assert set(urls[:2]) == set(before)
    assert set(urls[4:]) == PAGES - set(before) - set(spooled)
    assert all(set(p) == PAGE_FIELDS and p["source"] == SOURCE and "<h1" in p["html"] for p in queue)
    assert spooled_urls(spool_dir) == []
    fault_row(
        delivery_row(
            f"Redis SIGKILLed mid-crawl, restarted after {len(spooled)} pages were spooled "
            f"({summary['enqueued']} delivered directly, {counts['replayed']} from the spool)",
            PAGES,
            urls,
            recovered,
        )
    )


@pytest.mark.slow
def test_a_spool_left_at_the_end_of_a_crawl_is_sent_by_spool_replay(
    tmp_path: Path, fault_row: Record
) -> None:
    """Redis is down for a whole crawl: the crawl still ends normally, with its 7 pages in the spool and
    a warning saying so. `spool status` counts them; `spool replay` fails in one line while Redis is
    down (nothing lost), and once it is up sends all 7 in the order they were crawled. The time from
    Redis started to the replay done goes to the fault table."""
    server = RedisServer(tmp_path / "redis")  # not started: nothing listens on its port
    with SiteServer() as site:
        summary, counts = start_crawl(tmp_path, server.url, site.proxy_url).finish()
    assert (summary["pages"], summary["enqueued"]) == (7, 0)
    assert counts == {"spooled": 7, "replayed": 0, "left": 7}
    spooled = spooled_urls(tmp_path / "spool")
    assert sorted(spooled) == sorted(PAGES)
    path = tmp_path / "spool" / FILE_NAME

    status = spool_command(["status"], server.url, tmp_path)
    assert (status.exit_code, status.stdout) == (0, f"7 pages in {path}; oldest: {spooled[0]}\n")
    down = spool_command(["replay"], server.url, tmp_path)
    assert down.exit_code == 1
    assert down.stderr.startswith("Error: cannot reach Redis (")
    assert down.stderr.count("\n") == 1
    assert f"replayed 0 pages, 7 left in {path}; check NEWSDEDUP_REDIS_URL" in down.stderr

    with server.start():
        started = time.monotonic()
        up = spool_command(["replay"], server.url, tmp_path)
        recovered = time.monotonic() - started
        assert (up.exit_code, up.stdout) == (0, f"replayed 7 pages; 0 left in {path}\n")
        sent = delivered(server.url)
        assert sent == spooled
    assert spool_command(["status"], server.url, tmp_path).stdout == f"0 pages in {path}\n"
    fault_row(
        delivery_row(
            "Redis down for a whole crawl, then `newsdedup spool replay`: delivered in crawl order",
            PAGES,
            sent,
            recovered,
        )
    )


@pytest.mark.slow
def test_the_next_crawl_replays_the_spool_before_its_own_pages(tmp_path: Path) -> None:
    """A crawl while Redis is down leaves its 7 pages in the spool; the next crawl, with Redis back,
    sends them first (oldest first) and then its own 7: 14 messages, each page once per crawl."""
    server = RedisServer(tmp_path / "redis")
    with SiteServer() as site:
        start_crawl(tmp_path, server.url, site.proxy_url).finish()
        spooled = spooled_urls(tmp_path / "spool")
        assert len(spooled) == 7
        with server.start():
            summary, counts = start_crawl(tmp_path, server.url, site.proxy_url).finish()
            urls = delivered(server.url)
    assert (summary["pages"], summary["enqueued"]) == (7, 7)
    assert counts == {"spooled": 0, "replayed": 7, "left": 0}
    assert urls[:7] == spooled
    assert sorted(urls[7:]) == sorted(PAGES)


@pytest.mark.slow
def test_a_killed_crawler_loses_no_spooled_page(tmp_path: Path, fault_row: Record) -> None:
    """With Redis down, the crawler is killed (SIGKILL) once 3 pages were spooled: the spool file holds
    those 3 pages, whole, and `spool replay` sends them when Redis is up. The time from the kill to the
    replay done (Redis started in between) goes to the fault table."""
    server = RedisServer(tmp_path / "redis")
    with GatedSiteServer(gates=[3]) as site:
        crawl = start_crawl(tmp_path, server.url, site.proxy_url)
        try:
            wait_until(lambda: len(spooled_urls(tmp_path / "spool")) == 3, "3 pages in the spool")
        finally:
            crawl.process.send_signal(signal.SIGKILL)
            crawl.process.wait()
            killed = time.monotonic()
        served = {f"http://{path.split('://', 1)[-1]}" for path in site.tickets[:3]}
    spooled = spooled_urls(tmp_path / "spool")
    assert set(spooled) == served
    with server.start():
        up = spool_command(["replay"], server.url, tmp_path)
        recovered = time.monotonic() - killed
        assert up.stdout.startswith("replayed 3 pages; 0 left in ")
        queue = queued_pages(server.url)
    assert [p["url"] for p in queue] == spooled
    for item in queue:
        file = SITES / "dailycourier.example" / item["url"].split("://", 1)[1].split("/", 1)[1] / "index.html"
        assert item["html"] == file.read_text(encoding="utf-8")
    fault_row(
        delivery_row(
            f"the crawler SIGKILLed after spooling {len(spooled)} pages; delivered by `spool replay`, "
            "byte-identical",
            served,
            [item["url"] for item in queue],
            recovered,
        )
    )
