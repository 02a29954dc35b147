"""The spiders, one per source kind, crawling the fixture sites through the local proxy server.

Every crawl is a real ``scrapy crawl SOURCE`` child process (a Twisted reactor starts once per
process) run from the repository root, with the hand-off switched off: the items it writes are what
the spiders produce, before any processing. The expected URL sets come from the fixture files.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest

from crawler.items import KEPT_HEADERS
from newsdedup.demo.server import SITES, SiteServer
from tests.conftest import ROOT, crawl_env

SOURCES_FILE = ROOT / "config" / "sources.toml"
EXPECTED = json.loads((SITES / "EXPECTED.json").read_text(encoding="utf-8"))
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# A crawl of four tiny local sites takes seconds; this only stops a hung crawl from hanging the suite.
CRAWL_DEADLINE = 120
# The fixture sites answer in milliseconds: no need for the production autothrottle start delay.
FAST = ("-s", "AUTOTHROTTLE_START_DELAY=0")


def _sources() -> dict[str, dict[str, Any]]:
    with SOURCES_FILE.open("rb") as f:
        return {s["name"]: s for s in tomllib.load(f)["source"]}


SOURCES = _sources()


def _host(source: str) -> str:
    return urlsplit(SOURCES[source]["start_urls"][0]).hostname or ""


def _file_for(url: str) -> Path:
    """The fixture file the server answers ``url`` with (a path ending in / serves its index.html)."""
    parts = urlsplit(url)
    file = SITES / (parts.hostname or "") / parts.path.lstrip("/")
    return file / "index.html" if url.endswith("/") else file


def _page_text(file: Path) -> str:
    """The page's text, decoded with the charset its <meta charset> declares."""
    data = file.read_bytes()
    declared = re.search(rb'<meta charset="([^"]+)"', data, re.IGNORECASE)
    return data.decode(declared.group(1).decode() if declared else "utf-8")


def _h1(file: Path) -> str:
    found = re.search(r"<h1[^>]*>.*?</h1>", _page_text(file), re.DOTALL)
    assert found, f"{file} has no <h1>"
    return found.group(0)


def _sitemap_urls(host: str) -> set[str]:
    root = ElementTree.parse(SITES / host / "sitemap.xml").getroot()
    return {loc.text.strip() for loc in root.iter(f"{SITEMAP_NS}loc") if loc.text}


def _feed_dates(host: str) -> dict[str, str]:
    """Each feed entry's link, with its pubDate as ISO-8601 UTC (what the feed spider must pass on)."""
    root = ElementTree.parse(SITES / host / "feed.xml").getroot()
    dates: dict[str, str] = {}
    for item in root.iter("item"):
        link, published = item.findtext("link"), item.findtext("pubDate")
        assert link, f"a feed item of {host} has no link"
        assert published, f"a feed item of {host} has no pubDate"
        dates[link.strip()] = parsedate_to_datetime(published.strip()).astimezone(UTC).isoformat()
    return dates


def _article_pages(host: str) -> set[str]:
    """The pages of a host that say they are articles (og:type article), by URL."""
    urls = set()
    for file in (SITES / host).rglob("index.html"):
        if 'property="og:type" content="article"' in _page_text(file):
            folder = file.parent.relative_to(SITES / host).as_posix()
            urls.add(f"http://{host}/" + ("" if folder == "." else folder + "/"))
    return urls


@dataclass
class Crawl:
    """What one ``scrapy crawl`` produced: its items, its log, and its exit status."""

    source: str
    returncode: int
    items: list[dict[str, Any]]
    log: str

    @property
    def by_url(self) -> dict[str, dict[str, Any]]:
        return {item["url"]: item for item in self.items}


def run_crawls(sources: list[str], out: Path, env: dict[str, str], *settings: str) -> dict[str, Crawl]:
    """Run ``scrapy crawl SOURCE -O FILE.jsonl`` for each source, all at once, from the repository root."""
    children = {}
    for source in sources:
        command = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            source,
            "-O",
            str(out / f"{source}.jsonl"),
            "-s",
            "NEWSDEDUP_HANDOFF=off",
            "-s",
            "LOG_LEVEL=WARNING",
            *FAST,
            *settings,
        ]
        children[source] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    crawls = {}
    for source, child in children.items():
        try:
            log, _ = child.communicate(timeout=CRAWL_DEADLINE)
        except subprocess.TimeoutExpired:
            for other in children.values():
                other.kill()
            pytest.fail(f"scrapy crawl {source} did not finish within {CRAWL_DEADLINE} s")
        file = out / f"{source}.jsonl"
        lines = file.read_text(encoding="utf-8").splitlines() if file.exists() else []
        crawls[source] = Crawl(source, child.returncode, [json.loads(line) for line in lines], log)
    return crawls


@dataclass
class CrawlRun:
    crawls: dict[str, Crawl]
    requests: list[str]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawlRun]:
    """Every source crawled once, at the same time, over one fixture server; shared by the module."""
    out = tmp_path_factory.mktemp("crawl")
    with SiteServer() as server:
        crawls = run_crawls(list(SOURCES), out, crawl_env(SOURCES_FILE, out / "unused.db", server.proxy_url))
        yield CrawlRun(crawls, list(server.requests))


def _ok(crawl: Crawl) -> None:
    assert crawl.returncode == 0, crawl.log
    assert " ERROR: " not in crawl.log, crawl.log


def test_scrapy_list_prints_the_four_sources(tmp_path: Path) -> None:
    """`scrapy list` at the repository root lists exactly the sources of the sources file, one a line."""
    env = crawl_env(SOURCES_FILE, tmp_path / "unused.db", "http://127.0.0.1:9")
    listed = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CRAWL_DEADLINE,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "dailycourier",
        "nachrichten-blitz",
        "newsflash-hub",
        "trend-digest",
    ]
    assert listed.stdout.splitlines() == sorted(SOURCES)


def test_sitemap_spider_yields_every_sitemap_page(crawled: CrawlRun) -> None:
    """The sitemap spider (dailycourier) yields exactly the pages its sitemap.xml lists, once each."""
    crawl = crawled.crawls["dailycourier"]
    _ok(crawl)
    expected = _sitemap_urls("dailycourier.example")
    assert len(expected) == 7
    assert sorted(item["url"] for item in crawl.items) == sorted(expected)
    assert "http://dailycourier.example/sitemap.xml" in crawled.requests


@pytest.mark.parametrize("source", ["newsflash-hub", "nachrichten-blitz"])
def test_feed_spider_yields_every_feed_entry(crawled: CrawlRun, source: str) -> None:
    """The feed spider yields exactly the pages its feed.xml links to, once each; pages only in the
    sitemap (newsflash-hub's about page) are not fetched."""
    crawl = crawled.crawls[source]
    _ok(crawl)
    host = _host(source)
    expected = set(_feed_dates(host))
    assert sorted(item["url"] for item in crawl.items) == sorted(expected)
    assert {"newsflash-hub": 3, "nachrichten-blitz": 2}[source] == len(expected)
    assert f"http://{host}/feed.xml" in crawled.requests
    fetched_pages = {url for url in crawled.requests if url.startswith(f"http://{host}/20")}
    assert fetched_pages == expected
    assert not any(url in crawled.requests for url in EXPECTED["non_articles"] if host in url)


def test_feed_items_carry_the_feed_pubdate(crawled: CrawlRun) -> None:
    """Each feed item's published_at is its entry's pubDate, as ISO-8601 in UTC (the +0100 German
    feed dates become the same instant in UTC)."""
    for source in ("newsflash-hub", "nachrichten-blitz"):
        dates = _feed_dates(_host(source))
        assert {url: item["published_at"] for url, item in crawled.crawls[source].by_url.items()} == dates
    german = crawled.crawls["nachrichten-blitz"].by_url
    tram = "http://nachrichten-blitz.example/2026/03/12/stadtrat-genehmigt-strassenbahn-verlaengerung-nach-millfield/"
    assert german[tram]["published_at"] == "2026-03-12T22:00:00+00:00"  # Thu, 12 Mar 2026 23:00:00 +0100


def test_site_spider_yields_only_article_pages(crawled: CrawlRun) -> None:
    """The site spider (trend-digest) follows links from the home page and yields exactly the pages
    that say they are articles: not the home page, contact or privacy pages, never /private/."""
    crawl = crawled.crawls["trend-digest"]
    _ok(crawl)
    expected = _article_pages("trend-digest.example")
    assert expected == {
        "http://trend-digest.example/story/storm-edda-trains-halted-thousands-without-power/",
        "http://trend-digest.example/story/400-homes-evacuated-as-recycling-plant-fire-rages/",
        "http://trend-digest.example/story/lumen-grid-raises-38m-to-build-first-factory/",
    }
    assert sorted(item["url"] for item in crawl.items) == sorted(expected)
    # The non-articles were fetched (the spider follows their links) but yield no item.
    for page in ("http://trend-digest.example/contact/", "http://trend-digest.example/privacy/"):
        assert page in crawled.requests


def test_robots_txt_is_fetched_and_obeyed(crawled: CrawlRun) -> None:
    """Every crawl asks for its host's robots.txt first, and the page that robots.txt disallows
    (/private/drafts/, linked from the trend-digest home page) is never requested."""
    for source in SOURCES:
        host = _host(source)
        own = [url for url in crawled.requests if urlsplit(url).hostname == host]
        assert own[0] == f"http://{host}/robots.txt", own
        assert own.count(f"http://{host}/robots.txt") == 1
    assert EXPECTED["robots_disallowed"] == ["http://trend-digest.example/private/drafts/"]
    assert not [url for url in crawled.requests if "/private/" in url]
    assert 'href="http://trend-digest.example/private/drafts/"' in _page_text(
        SITES / "trend-digest.example" / "index.html"
    )


def test_items_carry_status_source_final_url_time_html_and_headers(crawled: CrawlRun) -> None:
    """Every item: status 200, its source's name, final_url equal to url (no redirects here),
    fetched_at an ISO-8601 UTC time, the page's HTML with its <h1>, and only the kept headers with
    the content type the server sent."""
    for source, crawl in crawled.crawls.items():
        assert crawl.items, source
        for item in crawl.items:
            url = item["url"]
            assert set(item) == {
                "url",
                "final_url",
                "status",
                "html",
                "fetched_at",
                "source",
                "headers",
                "published_at",
            }
            assert item["status"] == 200
            assert item["source"] == source
            assert item["final_url"] == url
            fetched = datetime.fromisoformat(item["fetched_at"])
            assert fetched.utcoffset() == timedelta(0), item["fetched_at"]
            assert _h1(_file_for(url)) in item["html"], url
            assert item["headers"]["content-type"] == "text/html"
            assert set(item["headers"]) <= set(KEPT_HEADERS)


def test_latin1_page_decodes_to_correct_umlauts(crawled: CrawlRun) -> None:
    """The ISO-8859-1 page (declared by <meta charset>, no charset in the HTTP header) reaches the
    item as correct text: ä ö ü ß present, no replacement characters, the title intact."""
    [url] = EXPECTED["latin1_pages"]
    raw = _file_for(url).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is not UTF-8
    html = crawled.crawls["nachrichten-blitz"].by_url[url]["html"]
    assert "\ufffd" not in html
    for letter in "äöüß":
        assert letter in html
    assert "Stadtrat genehmigt Straßenbahn-Verlängerung nach Millfield für 212 Millionen Pfund" in html
    assert html == raw.decode("iso-8859-1")


def _listed_pages(source: str) -> set[str]:
    """The pages a sitemap or feed source lists."""
    host = _host(source)
    return set(_feed_dates(host)) if SOURCES[source]["kind"] == "feed" else _sitemap_urls(host)


def _cancelled_for_size(log: str, max_size: int) -> dict[str, int]:
    """The URLs whose download Scrapy's size limit cancelled (from its warnings), with their sizes."""
    pattern = (
        rf"WARNING: Expected to receive (\d+) bytes which is larger than download max size \({max_size}\) "
        r"in request <GET (\S+)>"
    )
    return {url: int(size) for size, url in re.findall(pattern, log)}


def test_no_page_over_4000_bytes_is_produced(tmp_path: Path) -> None:
    """With DOWNLOAD_MAXSIZE=4000 every fixture HTML page is too big (robots.txt, sitemaps and feeds
    are not): each listed page is requested, cancelled for its size, and no crawl yields an item."""
    sizes = {
        url: _file_for(url).stat().st_size for source in SOURCES for url in _article_pages(_host(source))
    }
    assert min(sizes.values()) > 4000, sizes
    with SiteServer() as server:
        env = crawl_env(SOURCES_FILE, tmp_path / "unused.db", server.proxy_url)
        crawls = run_crawls(list(SOURCES), tmp_path, env, "-s", "DOWNLOAD_MAXSIZE=4000")
        requests = list(server.requests)
    for source, crawl in crawls.items():
        assert crawl.returncode == 0, crawl.log
        assert crawl.items == [], source
    for source in ("dailycourier", "newsflash-hub", "nachrichten-blitz"):
        listed = _listed_pages(source)
        assert listed <= set(requests), source
        cancelled = _cancelled_for_size(crawls[source].log, 4000)
        assert cancelled == {url: _file_for(url).stat().st_size for url in listed}
    # The site crawl's start page is too big as well, so no link is ever found to follow.
    trend = [url for url in requests if urlsplit(url).hostname == "trend-digest.example"]
    assert trend == ["http://trend-digest.example/robots.txt", "http://trend-digest.example/"]
    home = "http://trend-digest.example/"
    assert _cancelled_for_size(crawls["trend-digest"].log, 4000) == {home: _file_for(home).stat().st_size}


def test_size_limit_splits_pages_at_the_limit(tmp_path: Path) -> None:
    """With DOWNLOAD_MAXSIZE=8500 the sitemap crawl yields exactly the dailycourier pages of at most
    8500 bytes; the bigger ones are requested but produce nothing."""
    listed = _listed_pages("dailycourier")
    small = {url for url in listed if _file_for(url).stat().st_size <= 8500}
    assert {url.split("/")[-2] for url in small} == {
        "storm-edda-live-rail-services-suspended-across-wexmoor",
        "storm-edda-live-38000-homes-without-power-and-61-schools-closed",
        "rovers-name-former-captain-kieran-walsh-as-head-coach",
    }
    with SiteServer() as server:
        env = crawl_env(SOURCES_FILE, tmp_path / "unused.db", server.proxy_url)
        crawl = run_crawls(["dailycourier"], tmp_path, env, "-s", "DOWNLOAD_MAXSIZE=8500")["dailycourier"]
        requests = list(server.requests)
    assert crawl.returncode == 0, crawl.log
    assert sorted(item["url"] for item in crawl.items) == sorted(small)
    assert listed <= set(requests)
    assert _cancelled_for_size(crawl.log, 8500) == {
        url: _file_for(url).stat().st_size for url in listed - small
    }
