"""Hostile and broken pages: each is stopped within a bound, counted in the crawl's stats, and the
crawl goes on and stores the good pages.

The crawl is a real ``python -m crawler hostile`` child process (embedded mode, SQLite in a
temporary folder) through the hostile site of ``tests/hostile_server.py``, with a 2-second download
timeout and at most 5 redirects; the other bounds are at their defaults.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings.default_settings import RETRY_TIMES
from sqlalchemy import create_engine, text

from config import defaults
from config.sources import Source
from crawler.bodies import body_encoding
from dedup.document import binary_reason
from tests.conftest import crawl_env
from tests.hostile_server import (
    CAFE,
    CALENDAR_START,
    GOOD_PAGES,
    HARBOUR,
    HOSTILE_PAGES,
    HUGE_BYTES,
    LIBRARY,
    LIBRARY_TARGET,
    MALFORMED_TEXT,
    ORCHARD,
    ORIGIN,
    ZURICH,
    HostileServer,
    calendar_links,
    png_image,
    random_bytes,
)

# A crawl of one small site takes seconds; this only stops a hung crawl from hanging the suite.
CRAWL_DEADLINE = 180
DOWNLOAD_TIMEOUT = 2
MAX_REDIRECTS = 5
MAX_BYTES = defaults.CRAWL_MAX_PAGE_BYTES
DEPTH_LIMIT = defaults.CRAWL_DEPTH_LIMIT
# Scrapy inflates 64 KiB at a time and stops at the first chunk past the limit.
INFLATE_CHUNK = 64 * 1024


@dataclass
class HostileCrawl:
    """What the crawl of the hostile site did: its exit status and summary, its log (with Scrapy's
    stats), the requests the server saw, the bytes it streamed, and the articles stored."""

    returncode: int
    summary: dict[str, Any]
    log: str
    requests: list[str]
    sent: dict[str, int]
    stored: dict[str, dict[str, Any]]

    def stat(self, key: str) -> int:
        """One number of Scrapy's stats, as the log's stats dump has it."""
        found = re.search(rf"'{re.escape(key)}': (\d+)", self.log)
        assert found, f"no {key} in the stats"
        return int(found.group(1))

    def requested(self, prefix: str) -> list[str]:
        """The paths under ``prefix`` the server was asked for, in order, repeats kept."""
        paths = [url.removeprefix(ORIGIN) for url in self.requests if url.startswith(ORIGIN)]
        return [p for p in paths if p.startswith(prefix)]


def _sources_file(folder: Path) -> Path:
    """One site source for the hostile host; it reaches it through the test's proxy on 127.0.0.1."""
    lines = [
        "[[source]]",
        'name = "hostile"',
        'kind = "site"',
        f'start_urls = ["{ORIGIN}/"]',
        'language = "en"',
    ]
    if "allow_private" in Source.model_fields:  # the address guard: the proxy is on loopback
        lines.append('allow_private = ["127.0.0.1"]')
    path = folder / "sources.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stored(database: Path) -> dict[str, dict[str, Any]]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT url, final_url, title, text FROM articles")).mappings().all()
    engine.dispose()
    return {row["url"]: dict(row) for row in rows}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> HostileCrawl:
    """The hostile site crawled once; shared by the module."""
    folder = tmp_path_factory.mktemp("hostile")
    with HostileServer() as server:
        env = crawl_env(
            _sources_file(folder),
            folder / "newsdedup.db",
            server.proxy_url,
            NEWSDEDUP_CRAWL_DOWNLOAD_TIMEOUT_SECONDS=str(DOWNLOAD_TIMEOUT),
            NEWSDEDUP_CRAWL_MAX_REDIRECTS=str(MAX_REDIRECTS),
            NEWSDEDUP_AUTOTHROTTLE_START_DELAY="0",
            NEWSDEDUP_LOG_LEVEL="INFO",
        )
        try:
            child = subprocess.run(
                [sys.executable, "-m", "crawler", "hostile"],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=CRAWL_DEADLINE,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"the crawl of the hostile site did not finish within {CRAWL_DEADLINE} s")
        requests, sent = list(server.requests), dict(server.sent)
    lines = child.stdout.strip().splitlines()
    summary = json.loads(lines[-1])["hostile"] if lines else {}
    return HostileCrawl(
        child.returncode, summary, child.stderr, requests, sent, _stored(folder / "newsdedup.db")
    )


def _calendar_within(steps: int) -> set[str]:
    """The calendar pages at most ``steps`` links away from the calendar's start page."""
    reached, frontier = {CALENDAR_START}, {CALENDAR_START}
    for _ in range(steps):
        frontier = {link for page in frontier for link in calendar_links(page) or []} - reached
        reached |= frontier
    return reached


# The home page is depth 0, the calendar's start page depth 1: pages up to DEPTH_LIMIT - 1 steps
# from it are fetched, and the links of the last of them are not followed.
CALENDAR_FETCHED = _calendar_within(DEPTH_LIMIT - 1)
CALENDAR_LAST = CALENDAR_FETCHED - _calendar_within(DEPTH_LIMIT - 2)


@pytest.mark.slow
def test_crawl_finishes_and_stores_exactly_the_good_pages(crawl: HostileCrawl) -> None:
    """The crawl exits 0 with finish reason "finished"; the six good pages (plain, gzip-compressed,
    behind a 301, malformed HTML, and two with a wrong charset) are each stored as a new story, and
    nothing else is stored or rejected."""
    assert crawl.returncode == 0, crawl.log
    assert crawl.summary["finish_reason"] == "finished"
    assert set(crawl.stored) == {ORIGIN + path for path in GOOD_PAGES}
    assert (crawl.summary["pages"], crawl.summary["new"]) == (6, 6)
    assert (crawl.summary["joined"], crawl.summary["rejected"]) == (0, 0)
    for path, paragraphs in GOOD_PAGES.items():
        stored = crawl.stored[ORIGIN + path]["text"]
        assert all(p in stored for p in paragraphs), path
    moved = crawl.stored[ORIGIN + "/old/library-hours/"]
    assert moved["final_url"] == ORIGIN + LIBRARY_TARGET
    assert LIBRARY[0] in moved["text"]
    assert HARBOUR[0] in crawl.stored[ORIGIN + "/news/harbour-bridge-reopens/"]["text"]


@pytest.mark.slow
def test_every_hostile_page_is_dropped_and_counted_by_reason(crawl: HostileCrawl) -> None:
    """The summary counts each drop by its reason: two binary bodies, two compression bombs, two
    50 MB pages, one redirect loop, one endless redirect chain, one page that never finishes, and
    every calendar link past the depth limit; the robots.txt refusal is counted too."""
    assert crawl.summary["dropped"] == {
        "binary": 2,
        "decompressed_too_big": 2,
        "redirect_loop": 1,
        "timeout": 1,
        "too_big": 2,
        "too_deep": sum(len(calendar_links(page) or []) for page in CALENDAR_LAST),
        "too_many_redirects": 1,
    }
    assert crawl.summary["dropped"]["too_deep"] == 240
    assert crawl.summary["robots_forbidden"] == 1
    assert crawl.summary["charset_corrected"] == 2
    for path in HOSTILE_PAGES:
        assert ORIGIN + path not in crawl.stored


@pytest.mark.slow
def test_compression_bombs_stop_inflating_at_the_size_limit(crawl: HostileCrawl) -> None:
    """Both bombs (1 MB, and 2 KB of gzip inside gzip, each inflating to 1 GiB) are given up one
    64 KiB chunk past DOWNLOAD_MAXSIZE, and only the gzip-compressed good page counts as inflated."""
    ignored = re.findall(
        r"Ignored response <200 (\S+)> because its body \((\d+) B compressed, (\d+) B decompressed so far\)",
        crawl.log,
    )
    assert {url for url, _, _ in ignored} == {ORIGIN + "/bomb/", ORIGIN + "/bomb/nested/"}
    for _, _, inflated in ignored:
        assert MAX_BYTES < int(inflated) <= MAX_BYTES + INFLATE_CHUNK
    assert crawl.stat("httpcompression/response_count") == 1
    orchard = crawl.stored[ORIGIN + "/news/orchard-festival-draws-record-crowd/"]
    assert ORCHARD[1] in orchard["text"]
    assert crawl.stat("httpcompression/response_bytes") < MAX_BYTES


@pytest.mark.slow
def test_50_mb_pages_are_cut_off_at_the_size_limit(crawl: HostileCrawl) -> None:
    """The page that announces 50 MB is cancelled on its headers, the one that does not once more
    than DOWNLOAD_MAXSIZE arrived: the server never gets to send either in full."""
    assert set(crawl.requested("/huge/")) == {"/huge/", "/huge/stream/"}
    assert crawl.sent["/huge/"] < HUGE_BYTES
    assert crawl.sent["/huge/stream/"] < HUGE_BYTES
    assert f"Expected to receive {HUGE_BYTES} bytes which is larger than download max size ({MAX_BYTES})" in (
        crawl.log
    )
    assert f"which is larger than download max size ({MAX_BYTES}) in request <GET {ORIGIN}/huge/stream/>" in (
        crawl.log
    )


@pytest.mark.slow
def test_redirect_loop_stops_at_once_and_a_chain_at_the_limit(crawl: HostileCrawl) -> None:
    """The loop /loop/a/ -> /loop/b/ -> /loop/a/ is dropped when it comes round (two URLs fetched);
    the endless chain is dropped after MAX_REDIRECTS redirects (MAX_REDIRECTS + 1 URLs fetched)."""
    assert set(crawl.requested("/loop/")) == {"/loop/a/", "/loop/b/"}
    chain = {f"/redirect/{n}/" for n in range(1, MAX_REDIRECTS + 2)}
    assert set(crawl.requested("/redirect/")) == chain


@pytest.mark.slow
def test_calendar_trap_stops_at_the_depth_limit(crawl: HostileCrawl) -> None:
    """The endless calendar is fetched exactly as far as DEPTH_LIMIT reaches from the home page (94
    pages), the deepest request has depth DEPTH_LIMIT, and the links beyond are counted, not followed."""
    assert set(crawl.requested("/calendar/")) == CALENDAR_FETCHED
    assert len(CALENDAR_FETCHED) == 94
    assert crawl.stat("request_depth_max") == DEPTH_LIMIT
    assert crawl.stat("newsdedup/skipped_not_article") == len(CALENDAR_FETCHED) + 1  # and the home page


@pytest.mark.slow
def test_robots_txt_disallowed_page_is_never_requested(crawl: HostileCrawl) -> None:
    """robots.txt is asked for first, and the /private/ page it disallows is never requested."""
    assert crawl.requests[0] == ORIGIN + "/robots.txt"
    assert crawl.requested("/private/") == []


@pytest.mark.slow
def test_page_that_never_finishes_times_out_on_every_try(crawl: HostileCrawl) -> None:
    """The page that stops sending is tried 1 + RETRY_TIMES times, each ending at the download
    timeout, and then dropped as a timeout."""
    assert crawl.requested("/hang/") == ["/hang/"] * (1 + RETRY_TIMES)
    assert f"Getting {ORIGIN}/hang/ took longer than {DOWNLOAD_TIMEOUT:.1f} seconds" in crawl.log
    assert crawl.stat("retry/max_reached") == 1


@pytest.mark.slow
def test_wrongly_declared_charsets_are_read_in_the_charset_of_their_bytes(crawl: HostileCrawl) -> None:
    """Windows-1252 bytes declared UTF-8, and UTF-8 bytes declared ISO-8859-1 by <meta>, are stored
    as the right text: accents, curly quotes and ß intact, no replacement characters, no mojibake."""
    cafe = crawl.stored[ORIGIN + "/news/cafe-owners-count-cost-of-parking/"]
    zurich = crawl.stored[ORIGIN + "/news/zurich-tram-extension/"]
    assert cafe["title"] == "Café owners count cost of parking"
    assert all(p in cafe["text"] for p in CAFE)
    assert zurich["title"] == "Zürich tram extension"
    assert all(p in zurich["text"] for p in ZURICH)
    for page in (cafe, zurich):
        assert "\ufffd" not in page["text"]
        assert "Ã" not in page["text"]


@pytest.mark.slow
def test_malformed_html_is_stored_with_its_whole_story(crawl: HostileCrawl) -> None:
    """The page with unclosed, misnested and stray tags, bad entities and an unclosed comment is
    stored with every paragraph of its story and its title."""
    stored = crawl.stored[ORIGIN + "/news/ferry-fares-frozen/"]
    assert stored["title"] == "Ferry fares frozen for two years"
    assert all(p in stored["text"] for p in MALFORMED_TEXT)


@pytest.mark.parametrize(
    ("body", "declared", "expected"),
    [
        ("Café “quoted”".encode("cp1252"), "utf-8", "cp1252"),  # says UTF-8, is Windows-1252
        ("Zürich Hardstraße".encode(), "cp1252", "utf-8"),  # says Windows-1252, is UTF-8
        ("Zürich".encode("latin-1"), "cp1252", "cp1252"),  # says what it is
        ("Zürich".encode(), "utf-8", "utf-8"),
        (b"plain ASCII", "shift_jis", "shift_jis"),  # ASCII fits the declared charset: kept
        ("日本語".encode("shift_jis"), "shift_jis", "shift_jis"),
        (b"\x81\x8d\x8f caf\xe9", "no-such-charset", "cp1252"),
    ],
)
def test_body_encoding_is_the_charset_the_bytes_fit(body: bytes, declared: str, expected: str) -> None:
    """UTF-8 bytes with non-ASCII are read as UTF-8 whatever is declared; otherwise the declared
    charset if the bytes fit it, else Windows-1252."""
    assert body_encoding(body, declared) == expected


def test_binary_bodies_are_told_from_text() -> None:
    """Random bytes and a PNG, read as Windows-1252, are binary; a page in a wrong charset read with a
    few replacement characters, text with tabs and newlines, and the empty string are text."""
    assert binary_reason(random_bytes().decode("cp1252", "replace")) is not None
    assert binary_reason(png_image().decode("cp1252", "replace")) is not None
    wrong = " ".join(CAFE).encode("cp1252").decode("utf-8", "replace")
    assert wrong.count("\ufffd") == 4
    assert binary_reason(wrong) is None
    assert binary_reason("one\ttwo\nthree\r\n" * 100) is None
    assert binary_reason("") is None
    reason = binary_reason("\x00\x01\x02 abc")
    assert reason == "binary data, not text: 3 of the first 7 characters are control or undecodable"


def test_the_characters_counted_as_binary_are_the_control_characters_but_whitespace() -> None:
    """binary_reason counts, with one regular expression, exactly the characters of Unicode category Cc
    other than tab, line feed, vertical tab, form feed and carriage return, and U+FFFD: checked on
    every code point (surrogates excluded: a str from decoded bytes holds none)."""
    whitespace = "\t\n\x0b\x0c\r"
    for code in [*range(0xD800), *range(0xE000, 0x110000)]:
        c = chr(code)
        expected = c == "\ufffd" or (unicodedata.category(c) == "Cc" and c not in whitespace)
        assert (binary_reason(c * 10) is not None) is expected, hex(code)
