"""The spiders, one per source kind, crawling the fixture sites through the local proxy server.

Every crawl is a real ``scrapy crawl SOURCE`` child process (a Twisted reactor starts once per
process) run from the repository root, with the hand-off switched off: the items it writes are what
the spiders produce, before any processing. The expected URL sets come from the fixture files.
"""

from __future__ import annotations

import json
import os
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
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse, Response
from scrapy.utils.log import logformatter_adapter
from scrapy.utils.test import get_crawler

from config import load_settings
from crawler.items import KEPT_HEADERS, PageItem
from crawler.log_formatter import PageLogFormatter
from crawler.scrapy_settings import scrapy_settings
from crawler.spiders.site import is_article
from newsdedup.demo.server import SITES, SiteServer
from tests.conftest import FIXTURES, ROOT, crawl_env

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
            "HANDOFF=off",
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


# A small news site written for the article-signs tests: two stories whose og:type says "website"
# (one with only a body of prose, one with only a JSON-LD NewsArticle), a home page of teasers and
# an about page, both with the web-page metadata (WebPage/CollectionPage datePublished) CMSs add.
SIGNS_SITE = FIXTURES / "article-signs"
SIGNS_HOST = "harbourgazette.example"
SIGNS_HOME = f"http://{SIGNS_HOST}/"
SIGNS_ABOUT = f"http://{SIGNS_HOST}/about/"
SIGNS_PROSE = f"http://{SIGNS_HOST}/2026/04/02/night-ferries-to-the-islands-from-may/"
SIGNS_JSON_LD = f"http://{SIGNS_HOST}/2026/04/03/quay-street-bridge-closed-for-inspection/"


def _signs_file(url: str) -> Path:
    return SIGNS_SITE / SIGNS_HOST / urlsplit(url).path.lstrip("/") / "index.html"


def _skipped_not_article(log: str) -> int:
    """The crawl's newsdedup/skipped_not_article count, from the stats Scrapy logs at the end."""
    found = re.search(r"'newsdedup/skipped_not_article': (\d+)", log)
    assert found, log
    return int(found.group(1))


def test_site_spider_keeps_website_typed_articles_and_skips_home_and_about(tmp_path: Path) -> None:
    """A link-following crawl of a site whose every page says og:type "website" yields exactly its
    two stories (one known by its body of prose alone, one by its JSON-LD NewsArticle alone) and
    skips the rest, the teaser home page and the about page, each time it fetches them: og:type is
    no veto, and the web-page metadata and teaser lists of non-article pages are no sign."""
    for url in (SIGNS_HOME, SIGNS_ABOUT, SIGNS_PROSE, SIGNS_JSON_LD):
        assert '<meta property="og:type" content="website">' in _signs_file(url).read_text(encoding="utf-8")
    prose = _signs_file(SIGNS_PROSE).read_text(encoding="utf-8")
    for other_sign in ("ld+json", "<article", "published_time", "datePublished"):
        assert other_sign not in prose
    assert '"@type": "NewsArticle"' in _signs_file(SIGNS_JSON_LD).read_text(encoding="utf-8")
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "harbourgazette"\nkind = "site"\n'
        f'start_urls = ["{SIGNS_HOME}"]\nallow_private = ["127.0.0.1"]\nlanguage = "en"\n',
        encoding="utf-8",
    )
    with SiteServer(SIGNS_SITE) as server:
        env = crawl_env(sources, tmp_path / "unused.db", server.proxy_url)
        crawl = run_crawls(["harbourgazette"], tmp_path, env, "-s", "LOG_LEVEL=INFO")["harbourgazette"]
        requests = list(server.requests)
    _ok(crawl)
    assert sorted(item["url"] for item in crawl.items) == sorted([SIGNS_PROSE, SIGNS_JSON_LD])
    # The home page is fetched twice: Scrapy does not put a start request (dont_filter) in the
    # duplicate filter, so the site's own "Home" links fetch it once more. Both are skipped.
    assert requests.count(SIGNS_HOME) == 2
    assert requests.count(SIGNS_ABOUT) == 1
    assert _skipped_not_article(crawl.log) == 3


def _page(head: str = "", body: str = "", og_type: str | None = "website") -> HtmlResponse:
    """An HTML page built in the test, with this og:type (None: no og:type at all)."""
    og = "" if og_type is None else f'<meta property="og:type" content="{og_type}">'
    html = f"<!DOCTYPE html><html><head><title>A page</title>{og}{head}</head><body>{body}</body></html>"
    return HtmlResponse("http://signs.example/page/", body=html.encode("utf-8"), encoding="utf-8")


def _ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


# Five paragraphs of a story, 190 to 280 characters each, 1,200 together.
STORY = [
    "Islanders who work late shifts in Wexmoor will be able to get home after midnight for the first "
    "time in a decade, after the ferry operator agreed to add two late sailings at weekends for a "
    "trial season of five months starting in May.",
    "The new sailings will leave the Wexmoor pier at 23:45 and 01:15 on Fridays and Saturdays, "
    "calling at Holm and Sker before returning empty. Fares will be the same as on daytime crossings "
    "and season tickets will be valid on them.",
    "The operator had refused to run late boats since 2016, saying too few passengers used them to "
    "cover the cost of a second crew. It changed its mind after the county council offered to meet "
    "any loss up to 180,000 pounds during the trial.",
    "Nurses, bar staff and office cleaners have been sleeping on friends' sofas or paying for hotel "
    "rooms, said the chair of the Holm community council, who collected 1,400 signatures for the "
    "petition that started the talks last autumn.",
    "The operator will publish passenger numbers every month and decide in September whether to keep "
    "the sailings through the winter; the council will review its subsidy at the same time.",
]
SHORT = "<p>Write to newsdesk@signs.example; we answer within two working days.</p>"


def _paragraphs(texts: list[str]) -> str:
    return "".join(f"<p>{text}</p>" for text in texts)


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(_page(og_type="article", body=SHORT), id="og-type-article"),
        pytest.param(_page(og_type="NewsArticle", body=SHORT), id="og-type-news-article"),
        pytest.param(_page(_ld({"@type": "NewsArticle", "headline": "Ferries"}), SHORT), id="json-ld-type"),
        pytest.param(
            _page(_ld({"@graph": [{"@type": "WebPage"}, {"@type": ["BlogPosting", "Thing"]}]}), SHORT),
            id="json-ld-type-in-graph",
        ),
        pytest.param(
            _page('<meta property="article:published_time" content="2026-04-02T17:30:00Z">', SHORT),
            id="article-published-time",
        ),
        pytest.param(
            _page(_ld({"@type": "CreativeWork", "datePublished": "2026-04-02"}), SHORT),
            id="json-ld-date-published",
        ),
        pytest.param(
            _page(body=f'<time itemprop="datePublished" datetime="2026-04-02">2 April</time>{SHORT}'),
            id="microdata-date-published-once",
        ),
        pytest.param(
            _page(body=f"<nav>Home</nav><article><h1>Ferries</h1>{SHORT}</article>"), id="one-article"
        ),
        pytest.param(_page(body=f'<div class="story-body">{_paragraphs(STORY)}</div>'), id="prose-body"),
        pytest.param(_page(og_type=None, body=f"<div>{_paragraphs(STORY)}</div>"), id="prose-body-no-og"),
        pytest.param(_page(body=f'<td class="news">{"<br><br>".join(STORY)}</td>'), id="prose-split-by-br"),
    ],
)
def test_is_article_keeps_a_page_with_any_one_sign(response: HtmlResponse) -> None:
    """Each page has exactly one sign of an article, and (but for the og:type cases) says og:type
    "website": any single sign is enough, and og:type "website" vetoes none of them."""
    assert is_article(response)


def _teaser(text: str) -> str:
    return f'<article class="card"><h2><a href="/story/">A story</a></h2><p>{text}</p></article>'


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(_page(body=f"<h1>About us</h1>{SHORT}"), id="website-short-page"),
        pytest.param(_page(og_type=None, body=f"<h1>Contact</h1>{SHORT}"), id="no-metadata-short-page"),
        pytest.param(_page(og_type="product", body=f"<h1>Kayak, 3.2 m</h1>{SHORT}"), id="og-type-product"),
        pytest.param(_page(og_type="blog", body=SHORT), id="og-type-blog-is-a-site"),
        pytest.param(
            _page(
                _ld({"@graph": [{"@type": ["WebPage", "AboutPage"], "datePublished": "2019-05-01"}]}), SHORT
            ),
            id="web-page-date-published",
        ),
        pytest.param(
            _page('<meta property="article:modified_time" content="2025-11-02T10:00:00Z">', SHORT),
            id="modified-time-only",
        ),
        pytest.param(
            _page(
                body='<time itemprop="datePublished">1 April</time>'
                '<time itemprop="datePublished">2 April</time>'
            ),
            id="microdata-date-published-per-teaser",
        ),
        pytest.param(
            _page(body="<article>One teaser</article><article>Another</article>"), id="two-articles"
        ),
        pytest.param(
            _page(body=f'<div class="teasers">{"".join(map(_teaser, STORY))}</div>'), id="teaser-cards"
        ),
        pytest.param(_page(body=f"<div>{_paragraphs(STORY[:2])}</div>"), id="two-paragraphs-only"),
        pytest.param(
            _page(body="<div>" + _paragraphs([text[:120] for text in STORY * 3]) + "</div>"),
            id="short-paragraphs-only",
        ),
        pytest.param(
            _page('<script type="application/ld+json">{"@type": "NewsArt', SHORT), id="broken-json-ld"
        ),
        pytest.param(
            Response("http://signs.example/file.pdf", body=b"%PDF-1.7 " + "".join(STORY).encode()),
            id="not-text",
        ),
    ],
)
def test_is_article_refuses_a_page_without_a_sign(response: Response) -> None:
    """A page with no sign of an article is refused, whatever its og:type says (website, product,
    blog, or none), and these are no sign: a web page's own datePublished, a modified time, a
    datePublished or <article> per teaser, long teaser paragraphs each in its own card (together
    more than a story body), two long paragraphs, many short ones, broken JSON-LD, a binary body."""
    assert not is_article(response)


def test_is_article_on_the_demo_pages() -> None:
    """Every page of the demo sites that is no article (home pages, about, contact, privacy and
    drafts pages) is refused by the rule, and every article page is kept."""
    refused = {*EXPECTED["index_pages"], *EXPECTED["non_articles"], *EXPECTED["robots_disallowed"]}
    articles = {url for host in SITES.iterdir() if host.is_dir() for url in _article_pages(host.name)}
    assert len(refused) == 8
    assert len(articles) == 15
    for url in refused | articles:
        response = HtmlResponse(url, body=_file_for(url).read_bytes())
        assert is_article(response) == (url in articles), url


def test_scrapy_logs_items_by_url_and_size_never_with_their_html() -> None:
    """The crawl's LOG_FORMATTER: Scrapy's "Scraped from" (DEBUG, what `newsdedup -v crawl` shows),
    "Dropped" and item-error messages name the item by its URL and the size of its HTML, and the
    page's HTML is nowhere in them."""
    html = "<html><body>" + "<p>Harbour bridge closes for repairs.</p>" * 100 + "</body></html>"
    item = PageItem("http://x.example/a", "http://x.example/a", 200, html, "2026-03-10T12:00:00Z", "x")
    response = HtmlResponse("http://x.example/a", body=html.encode())
    spider = Spider.from_crawler(get_crawler(Spider), name="x")
    formatter = PageLogFormatter()
    assert scrapy_settings(load_settings())["LOG_FORMATTER"] == "crawler.log_formatter.PageLogFormatter"

    entries = [
        formatter.scraped(item, response, spider),
        formatter.dropped(item, DropItem("a duplicate"), response, spider),
        formatter.item_error(item, ValueError("broken"), response, spider),
    ]

    messages = []
    for entry in entries:
        _, message, args = logformatter_adapter(entry)
        messages.append(message % args)
    summary = "<PageItem http://x.example/a, 4,126 characters of HTML>"
    assert messages == [
        f"Scraped from <200 http://x.example/a>{os.linesep}{summary}",
        f"Dropped: a duplicate{os.linesep}{summary}",
        f"Error processing {summary}",
    ]
