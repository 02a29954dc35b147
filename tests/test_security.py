"""Security: a crawl reaches only public addresses, or those its source allows, redirect targets
included; credentials come only from the environment, and no password shows in a log or in the
command line's output; nothing read from a crawled page is executed or evaluated, and SQL is only
ever sent with bound parameters.

The crawls are real ``newsdedup -v crawl`` child processes against a web server of the test's own
on 127.0.0.1, which also answers as the HTTP proxy for ``news.example``: every connection the
crawler makes through the proxy is a request the server records, so a URL missing from its record
was never fetched.
"""

from __future__ import annotations

import ast
import io
import ipaddress
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from config import ConfigError, load_settings, load_sources
from config.redact import install_log_redaction, redact_text
from crawler.address_guard import REFUSED_STAT
from crawler.addresses import non_public_reason, refusal, resolve
from newsdedup.cli import app
from newsdedup.cli.errors import excepthook
from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.runtime import Runtime
from storage import queries, views
from tests.conftest import ROOT, crawl_env
from tests.stories import story

CRAWL_DEADLINE = 120
PASSWORD = "s3cret"
DATABASE_WITH_PASSWORD = f"postgresql://news:{PASSWORD}@127.0.0.1:1/news"  # nothing listens on port 1
REDIS_WITH_PASSWORD = f"redis://:{PASSWORD}@127.0.0.1:1/0"

# What hostile page text looks like: SQL injection, template and shell syntax, rich markup.
HOSTILE = (
    "Robert'); DROP TABLE articles;--",
    "{{7*7}}",
    "${7*7}",
    "{% include '/etc/passwd' %}",
    "__import__('os').system('touch PWNED')",
    "[bold]agenda[/bold]",
    ":smile:",
)
TITLE = "Robert'); DROP TABLE articles;-- {{7*7}} [/] [bold]"
STORY = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{TITLE}</title>
<meta property="og:type" content="article"></head><body><article><h1>{TITLE}</h1>
<p>The council of Wexmoor met on Tuesday evening to vote on the budget, and one resident signed up for
the public comment list under the name Robert'); DROP TABLE articles;-- which the clerk read out.</p>
<p>Another speaker typed {{{{7*7}}}} and ${{7*7}} and {{% include '/etc/passwd' %}} into the online form,
while a third gave __import__('os').system('touch PWNED') as her street address.</p>
<p>The clerk said the [bold]agenda[/bold] with its :smile: codes and the notes at
http://editor:{PASSWORD}@news.example/notes will be published once the minutes are approved next month.</p>
</article></body></html>"""


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


# --- which addresses a crawl may reach ---------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "not globally routable"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fd00::1", "private"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("fec0::1", "not globally routable"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:7f00:1::", "loopback"),
        ("93.184.215.14", None),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),
    ],
)
def test_addresses_are_classified_public_or_not(address: str, reason: str | None) -> None:
    """Loopback, private, link-local, multicast, unspecified and other non-global addresses are named
    as such, IPv6 addresses that carry an IPv4 one (mapped, NAT64, 6to4) by the IPv4 address they
    reach; public addresses have no reason against them."""
    assert non_public_reason(ip(address)) == reason


def test_allow_list_admits_exactly_the_addresses_it_names() -> None:
    """A source allowing 127.0.0.1 may reach 127.0.0.1 (also written IPv4-mapped) and public addresses,
    but no other loopback address, not ::1, not the metadata service and not 10.0.0.1; a network
    allows the addresses inside it only."""
    loopback = (ipaddress.ip_network("127.0.0.1"),)
    assert refusal(ip("127.0.0.1"), loopback) is None
    assert refusal(ip("::ffff:127.0.0.1"), loopback) is None
    assert refusal(ip("8.8.8.8"), loopback) is None
    assert refusal(ip("127.0.0.2"), loopback) == "loopback"
    assert refusal(ip("::1"), loopback) == "loopback"
    assert refusal(ip("169.254.169.254"), loopback) == "link-local"
    assert refusal(ip("10.0.0.1"), loopback) == "private"
    office = (ipaddress.ip_network("10.1.0.0/16"),)
    assert refusal(ip("10.1.200.3"), office) is None
    assert refusal(ip("10.2.0.1"), office) == "private"
    assert refusal(ip("10.1.0.1"), ()) == "private"


def test_resolve_finds_the_address_behind_every_spelling() -> None:
    """IP literals are their own address; the numeric spellings the system resolver accepts resolve to
    the address they spell (so http://2130706433/ is loopback too); localhost resolves to 127.0.0.1;
    a name that does not exist resolves to nothing."""
    assert resolve("169.254.169.254") == (ip("169.254.169.254"),)
    assert resolve("::1") == (ip("::1"),)
    assert resolve("2130706433") == (ip("127.0.0.1"),)
    assert resolve("0x7f.1") == (ip("127.0.0.1"),)
    assert ip("127.0.0.1") in resolve("localhost")
    assert resolve("nothing.invalid") == ()


def write_sources(folder: Path, text: str) -> Path:
    path = folder / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_allow_private_is_read_as_networks(tmp_path: Path) -> None:
    """allow_private takes addresses and networks of both families; a source without it allows none."""
    path = write_sources(
        tmp_path,
        '[[source]]\nname = "intranet"\nkind = "site"\nstart_urls = ["http://wiki.corp.example/"]\n'
        'allow_private = ["127.0.0.1", "10.1.0.0/16", "fd00::/8"]\n\n'
        '[[source]]\nname = "wire"\nkind = "feed"\nstart_urls = ["http://wire.example/rss"]\n',
    )
    intranet, wire = load_sources(path)
    assert intranet.allow_private == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.1.0.0/16"),
        ipaddress.ip_network("fd00::/8"),
    )
    assert wire.allow_private == ()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            '["10.0.0.1/8"]',
            "'10.0.0.1/8' is not an IP address or network (like 127.0.0.1 or 10.1.0.0/16, "
            "with no host bits set after the /)",
        ),
        (
            '["localhost"]',
            "'localhost' is not an IP address or network (like 127.0.0.1 or 10.1.0.0/16, "
            "with no host bits set after the /)",
        ),
        (
            "[2130706433]",
            "2130706433 is not an IP address or network (like 127.0.0.1 or 10.1.0.0/16, "
            "with no host bits set after the /)",
        ),
        ('"127.0.0.1"', "Input should be a valid tuple"),
    ],
)
def test_invalid_allow_private_is_one_line_naming_the_source(tmp_path: Path, value: str, reason: str) -> None:
    """An entry of allow_private that is not an address or a network stops with one line naming the
    file, the source, the field and the entry."""
    path = write_sources(
        tmp_path,
        f'[[source]]\nname = "wire"\nkind = "feed"\nstart_urls = ["http://wire.example/rss"]\n'
        f"allow_private = {value}\n",
    )
    with pytest.raises(ConfigError) as raised:
        load_sources(path)
    assert str(raised.value) == f"{path}: source 'wire': allow_private: {reason}"


def test_fixture_sources_allow_only_the_loopback_proxy() -> None:
    """The bundled sources (the demo's fixture sites, reached through its proxy on 127.0.0.1) allow
    127.0.0.1 and nothing else."""
    sources = load_sources(ROOT / "config" / "sources.toml")
    assert len(sources) == 4
    assert {s.allow_private for s in sources} == {(ipaddress.ip_network("127.0.0.1/32"),)}


# --- crawls against a server of the test's own ---------------------------------------------------

RSS = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file://{secret}">]>
<rss version="2.0"><channel><title>News</title>
<item><title>Council</title><link>http://news.example/story</link></item>
<item><title>Notes</title><link>http://editor:{password}@news.example/notes</link></item>
<item><title>Entity</title><link>http://news.example/&secret;</link></item>
</channel></rss>"""
LOCAL_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Local</title><item><title>Council</title><link>/story</link></item>
</channel></rss>"""
# Start pages of the feed source that redirect to addresses the source does not allow.
REDIRECTS = {
    "/moved-feed": "http://169.254.169.254/latest/meta-data/",
    "/old-feed": "http://10.0.0.1/feed.xml",
    "/v6-feed": "http://[::1]/feed.xml",
}


class TestSite:
    """One web server on 127.0.0.1: an origin for whatever host is asked for, and so also an HTTP
    proxy; it records every URL asked of it."""

    __test__ = False  # not a test class

    def __init__(self, secret_file: Path) -> None:
        self.requests: list[str] = []
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {
            "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"),
            "/feed.xml": (
                200,
                {"Content-Type": "application/rss+xml"},
                RSS.format(secret=secret_file, password=PASSWORD).encode(),
            ),
            "/local-feed.xml": (200, {"Content-Type": "application/rss+xml"}, LOCAL_RSS.encode()),
            "/story": (200, {"Content-Type": "text/html; charset=utf-8"}, STORY.encode()),
            **{path: (302, {"Location": target}, b"") for path, target in REDIRECTS.items()},
        }
        handler = type("Handler", (_Handler,), {"site": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> TestSite:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    site: TestSite

    def do_GET(self) -> None:
        target = urlsplit(self.path)
        netloc = self.headers.get("Host", "")
        if target.scheme:  # asked as a proxy: the host of the absolute URL, without any user info
            netloc = f"{target.hostname}" + (f":{target.port}" if target.port else "")
        self.site.requests.append(f"http://{netloc}{target.path}")
        status, headers, body = self.site.routes.get(target.path, (404, {}, b"not here"))
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Crawl:
    """What one ``newsdedup -v crawl SOURCE`` child did: exit status, output, the server's record."""

    site: str
    returncode: int
    stdout: str
    stderr: str
    requests: list[str]
    database: Path

    @property
    def refused_count(self) -> int:
        found = re.findall(rf"'{re.escape(REFUSED_STAT)}': (\d+)", self.stderr)
        return int(found[0]) if found else 0

    @property
    def refusals(self) -> set[tuple[str, str | None, str]]:
        """Each refusal the log names: (URL, the URL that redirected to it or None, the reason)."""
        pattern = r"WARNING crawler\.address_guard: refused (\S+?)(?: \(redirected from (\S+)\))?: (.+)$"
        return {(url, origin or None, why) for url, origin, why in re.findall(pattern, self.stderr, re.M)}


def _crawl_env(sources: Path, database: Path, proxy: str | None) -> dict[str, str]:
    return crawl_env(
        sources,
        database,
        proxy,
        NEWSDEDUP_AUTOTHROTTLE_START_DELAY="0",
        NEWSDEDUP_TRANSLATIONS="false",  # no dictionaries to load: these pages are all English
    )


@dataclass
class CrawlRun:
    wire: Crawl  # news.example through the proxy, allowing 127.0.0.1 (the proxy) only
    unlisted: Crawl  # news.example through the proxy, without an allow list
    direct: Crawl  # 127.0.0.1 directly, without an allow list
    local: Crawl  # localhost directly, allowing loopback


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawlRun]:
    """Four crawls at once, each with a server, a sources file and a database of its own."""
    folder = tmp_path_factory.mktemp("security")
    secret = folder / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    with ExitStack() as stack:
        sites = {
            name: stack.enter_context(TestSite(secret)) for name in ("wire", "unlisted", "direct", "local")
        }
        feeds = ", ".join(f'"http://news.example{p}"' for p in ("/feed.xml", *REDIRECTS))
        sources = write_sources(
            folder,
            f'[[source]]\nname = "wire"\nkind = "feed"\nstart_urls = [{feeds}]\n'
            'allow_private = ["127.0.0.1"]\n\n'
            '[[source]]\nname = "unlisted"\nkind = "feed"\nstart_urls = ["http://news.example/feed.xml"]\n\n'
            f'[[source]]\nname = "direct"\nkind = "feed"\nstart_urls = ["{sites["direct"].url}/feed.xml"]\n\n'
            '[[source]]\nname = "local"\nkind = "feed"\n'
            f'start_urls = ["http://localhost:{sites["local"].port}/local-feed.xml"]\n'
            'allow_private = ["127.0.0.0/8", "::1"]\n',
        )
        children = {}
        for name, site in sites.items():
            proxy = site.url if name in ("wire", "unlisted") else None
            children[name] = subprocess.Popen(
                [sys.executable, "-m", "newsdedup", "-v", "crawl", name],
                cwd=ROOT,
                env=_crawl_env(sources, folder / f"{name}.db", proxy),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        done = {}
        for name, child in children.items():
            try:
                out, err = child.communicate(timeout=CRAWL_DEADLINE)
            except subprocess.TimeoutExpired:
                for other in children.values():
                    other.kill()
                pytest.fail(f"the crawl of {name} did not finish within {CRAWL_DEADLINE} s")
            requests = list(sites[name].requests)
            done[name] = Crawl(sites[name].url, child.returncode, out, err, requests, folder / f"{name}.db")
        yield CrawlRun(**done)


def _stored(database: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", f"sqlite:///{database}")
    return Runtime.from_settings(load_settings()).migrate()


@pytest.mark.slow
def test_redirects_to_private_addresses_are_refused_before_any_connection(crawls: CrawlRun) -> None:
    """Start pages that redirect to the metadata service, to 10.0.0.1 and to ::1 are followed to the
    guard and no further: every connection goes through the server, and it was never asked for those
    addresses; the log names each refused URL, where it was redirected from and why, and the crawl
    counts the refusals. 127.0.0.1 is allowed, ::1 is not. (A redirect keeps the start page's
    dont_filter, so the offsite filter lets these through; it does stop their robots.txt.)"""
    crawl = crawls.wire
    assert crawl.returncode == 0, crawl.stderr
    assert sorted(crawl.requests) == sorted(
        [
            "http://news.example/robots.txt",
            "http://news.example/robots.txt",  # again for editor:…@news.example, another netloc
            "http://news.example/feed.xml",
            "http://news.example/moved-feed",
            "http://news.example/old-feed",
            "http://news.example/v6-feed",
            "http://news.example/story",
            "http://news.example/notes",
            "http://news.example/",  # the feed's external entity, left unresolved
        ]
    )
    why = "and the source does not list it in allow_private"
    refused = {
        (
            "http://169.254.169.254/latest/meta-data/",
            "http://news.example/moved-feed",
            f"169.254.169.254 is link-local, {why}",
        ),
        ("http://10.0.0.1/feed.xml", "http://news.example/old-feed", f"10.0.0.1 is private, {why}"),
        ("http://[::1]/feed.xml", "http://news.example/v6-feed", f"::1 is loopback, {why}"),
    }
    assert crawl.refusals == refused
    assert crawl.refused_count == len(refused)


@pytest.mark.slow
def test_the_good_page_of_that_crawl_is_stored_verbatim(
    crawls: CrawlRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside the refused redirects, the feed's story is fetched and stored, its SQL injection,
    template, shell and markup text exactly as the page has it; no article table was dropped, no
    template rendered ({{7*7}} is not 49) and no file created. The feed's external entity naming a
    local file was not read (the server never saw the file's content in a URL)."""
    runtime = _stored(crawls.wire.database, monkeypatch)
    with runtime.sessions() as session:
        article = queries.find_article(session, "http://news.example/story")
        totals = views.totals(session)
    assert article is not None
    assert article.title == TITLE
    for text in HOSTILE:
        assert text in article.text
    assert "49" not in article.text
    assert totals["articles"] == 1
    assert not (ROOT / "PWNED").exists()
    assert not any("TOPSECRET" in url for url in crawls.wire.requests)


@pytest.mark.slow
def test_without_an_allow_list_a_loopback_site_is_refused_outright(crawls: CrawlRun) -> None:
    """A source that allows nothing reaches nothing on 127.0.0.1: neither a start page on 127.0.0.1
    nor a site behind a proxy on 127.0.0.1; the servers are never asked anything, and robots.txt and
    the start page are refused, counted and logged."""
    direct, unlisted = crawls.direct, crawls.unlisted
    assert (direct.returncode, direct.requests, direct.refused_count) == (0, [], 2), direct.stderr
    why = "127.0.0.1 is loopback, and the source does not list it in allow_private"
    assert direct.refusals == {
        (f"{direct.site}/robots.txt", None, why),
        (f"{direct.site}/feed.xml", None, why),
    }
    assert (unlisted.returncode, unlisted.requests, unlisted.refused_count) == (0, [], 2), unlisted.stderr
    why = f"proxy {why}"
    assert unlisted.refusals == {
        ("http://news.example/robots.txt", None, why),
        ("http://news.example/feed.xml", None, why),
    }


@pytest.mark.slow
def test_an_allowed_private_host_is_crawled_by_name_without_a_proxy(
    crawls: CrawlRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source allowing loopback crawls http://localhost:PORT/ directly: the guard resolves the name,
    and the connection goes to the address it checked (the crawler's resolver answers only with
    those); the story is stored."""
    local = crawls.local
    assert local.returncode == 0, local.stderr
    origin = local.site.replace("127.0.0.1", "localhost")
    assert sorted(local.requests) == [f"{origin}/local-feed.xml", f"{origin}/robots.txt", f"{origin}/story"]
    assert local.refused_count == 0
    runtime = _stored(local.database, monkeypatch)
    with runtime.sessions() as session:
        article = queries.find_article(session, f"{origin}/story")
    assert article is not None
    assert article.title == TITLE


@pytest.mark.slow
def test_a_crawl_log_shows_urls_with_their_password_redacted(crawls: CrawlRun) -> None:
    """The feed links to http://editor:s3cret@news.example/notes: the crawl's debug log (through the
    command line's log handler) names that URL with *** for the password, and the password itself
    appears nowhere in the crawl's output."""
    crawl = crawls.wire
    assert "http://editor:***@news.example/notes" in crawl.stderr
    assert PASSWORD not in crawl.stderr
    assert PASSWORD not in crawl.stdout


# --- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("redis://:s3cret@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0"),
        ("postgresql+psycopg://news:s3cret@db:5432/news", "postgresql+psycopg://news:***@db:5432/news"),
        ("redis://:p@ss@host/0", "redis://:***@host/0"),
        (
            "see http://a:b@x.example/ and https://c:d@y.example/",
            "see http://a:***@x.example/ and https://c:***@y.example/",
        ),
        ("postgresql://db/news?user=a&password=s3cret&x=1", "postgresql://db/news?user=a&password=***&x=1"),
        ("postgresql://news@db/news", "postgresql://news@db/news"),
        ("http://host:8080/x@y", "http://host:8080/x@y"),
        ("no url here", "no url here"),
    ],
)
def test_redact_text_replaces_every_password_and_nothing_else(text: str, redacted: str) -> None:
    """The password of every URL in a text becomes ***: in the user info (up to the last @ of the
    authority) or a password= parameter; user names, ports and paths stay as they are."""
    assert redact_text(text) == redacted


def test_log_records_carry_no_password() -> None:
    """With log redaction on, a handler of any logger writes messages, arguments and tracebacks with
    the passwords of their URLs replaced by ***."""
    install_log_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.security")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("broker %s is down", REDIS_WITH_PASSWORD)
        try:
            raise ConnectionError(f"cannot connect to {DATABASE_WITH_PASSWORD}")
        except ConnectionError:
            logger.exception("database %(url)s failed", {"url": DATABASE_WITH_PASSWORD})
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "WARNING broker redis://:***@127.0.0.1:1/0 is down"
    assert lines[1] == "ERROR database postgresql://news:***@127.0.0.1:1/news failed"
    assert lines[-1] == "ConnectionError: cannot connect to postgresql://news:***@127.0.0.1:1/news"
    assert PASSWORD not in stream.getvalue()


def test_the_traceback_of_a_bug_shows_no_password(capsys: pytest.CaptureFixture[str]) -> None:
    """The command line's excepthook (installed by ``newsdedup``) prints an unexpected error's
    traceback with passwords redacted."""
    try:
        raise RuntimeError(f"cannot open {DATABASE_WITH_PASSWORD}")
    except RuntimeError as error:
        excepthook(type(error), error, error.__traceback__)
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.endswith("RuntimeError: cannot open postgresql://news:***@127.0.0.1:1/news\n")
    assert PASSWORD not in err


@pytest.mark.parametrize("field", ["database_url", "redis_url"])
def test_settings_file_with_a_password_is_refused(
    field: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials come only from the environment: a settings file whose database or Redis URL holds
    a password stops every command with one line naming the file, the key and the variable to use,
    without the password."""
    url = DATABASE_WITH_PASSWORD if field == "database_url" else REDIS_WITH_PASSWORD
    path = tmp_path / "newsdedup.toml"
    path.write_text(f'{field} = "{url}"\n', encoding="utf-8")
    monkeypatch.setenv("NEWSDEDUP_CONFIG", str(path))
    message = (
        f"{path}: {field}: holds a password; credentials come only from the environment: "
        f"set NEWSDEDUP_{field.upper()} instead"
    )
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == message
    result = CliRunner().invoke(app, ["stats"])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {message}\n")


def test_urls_without_a_password_in_the_settings_file_and_with_one_in_the_environment_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A settings file may name the servers without credentials; the environment may hold them, and
    wins over the file."""
    path = tmp_path / "newsdedup.toml"
    path.write_text(
        'database_url = "postgresql://news@db.example/news"\nredis_url = "redis://cache.example:6379/0"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("NEWSDEDUP_CONFIG", str(path))
    monkeypatch.delenv("NEWSDEDUP_DATABASE_URL")
    settings = load_settings()
    assert (settings.database_url, settings.redis_url) == (
        "postgresql://news@db.example/news",
        "redis://cache.example:6379/0",
    )
    monkeypatch.setenv("NEWSDEDUP_REDIS_URL", REDIS_WITH_PASSWORD)
    assert load_settings().redis_url == REDIS_WITH_PASSWORD


def test_start_url_with_a_password_is_refused_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sources file cannot hold credentials either: a start URL with a password stops the command
    with one line that shows the URL with *** for the password."""
    path = write_sources(
        tmp_path,
        f'[[source]]\nname = "wire"\nkind = "feed"\nstart_urls = ["https://feeds:{PASSWORD}@wire.example/rss"]\n',
    )
    monkeypatch.setenv("NEWSDEDUP_SOURCES", str(path))
    result = CliRunner().invoke(app, ["sources", "list"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: {path}: source 'wire': start_urls: 'https://feeds:***@wire.example/rss' holds a password; "
        "credentials come only from the environment\n"
    )


CONNECTION_REFUSED_DB = (
    'Error: database error: connection failed: connection to server at "127.0.0.1", port 1 failed: '
    "Connection refused (check NEWSDEDUP_DATABASE_URL and that the server is up)\n"
)
CONNECTION_REFUSED_REDIS = (
    "Error: cannot reach Redis: Error 111 connecting to 127.0.0.1:1. Connection refused. "
    "(check NEWSDEDUP_REDIS_URL and that Redis is up)\n"
)


@pytest.mark.parametrize(
    ("args", "exit_code", "stderr"),
    [
        (["stats"], 1, CONNECTION_REFUSED_DB),
        (["clusters", "list"], 1, CONNECTION_REFUSED_DB),
        (["index", "rebuild"], 1, CONNECTION_REFUSED_DB),
        (["crawl", "--enqueue", "dailycourier"], 1, CONNECTION_REFUSED_REDIS),
        (["-v", "stats"], 1, None),
        (["-v", "crawl", "--enqueue", "dailycourier"], 1, None),
    ],
    ids=["stats", "clusters list", "index rebuild", "crawl --enqueue", "-v stats", "-v crawl --enqueue"],
)
def test_commands_with_passwords_in_the_environment_never_print_them(
    args: list[str], exit_code: int, stderr: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With NEWSDEDUP_DATABASE_URL and NEWSDEDUP_REDIS_URL holding a password and pointing at a port
    nothing listens on, each command fails with its one-line error (with -v: the error's details in
    the log too), and the password is in none of it."""
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", DATABASE_WITH_PASSWORD)
    monkeypatch.setenv("NEWSDEDUP_REDIS_URL", REDIS_WITH_PASSWORD)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == exit_code, result.output
    if stderr is not None:
        assert result.stderr == stderr
    else:
        assert "details of the error" in result.stderr
    assert PASSWORD not in result.stdout
    assert PASSWORD not in result.stderr


def test_database_url_that_is_not_a_url_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A database URL so broken that its password cannot be told apart is not shown at all."""
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", f"::news:{PASSWORD}@[db")
    result = CliRunner().invoke(app, ["stats"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: not a database URL: NEWSDEDUP_DATABASE_URL (its value is not shown: it has an '@')\n",
    )


@pytest.mark.slow
def test_a_worker_that_cannot_reach_its_broker_logs_no_password(tmp_path: Path) -> None:
    """`newsdedup worker` with a broker URL holding a password, on a port nothing listens on: the
    worker's log says it cannot connect to redis://:***@127.0.0.1:1/0, and neither its log nor its
    banner shows the password."""
    env = _crawl_env(ROOT / "config" / "sources.toml", tmp_path / "unused.db", None)
    env.update(NEWSDEDUP_REDIS_URL=REDIS_WITH_PASSWORD, NEWSDEDUP_DATABASE_URL=DATABASE_WITH_PASSWORD)
    banner = tmp_path / "stdout.txt"
    with banner.open("w") as stdout:
        worker = subprocess.Popen(
            [sys.executable, "-m", "newsdedup", "worker", "--concurrency", "1"],
            cwd=tmp_path,
            env=env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert worker.stderr is not None
        log: list[str] = []
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                line = worker.stderr.readline()
                if not line:
                    break
                log.append(line)
                if "Cannot connect to" in line:
                    break
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
            worker.stderr.close()
    text = "".join(log)
    assert (
        "consumer: Cannot connect to redis://:***@127.0.0.1:1/0: Error 111 connecting to 127.0.0.1:1." in text
    )
    assert PASSWORD not in text
    assert PASSWORD not in banner.read_text()


# --- nothing from a page is executed, evaluated or spliced into SQL -------------------------------

PACKAGES = ("config", "crawler", "dedup", "newsdedup", "storage", "workers")
EVALUATING_BUILTINS = {"eval", "exec", "compile", "__import__"}
UNSAFE_CALLS = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("pickle", "Unpickler"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("shelve", "open"),
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("yaml", "full_load"),
    ("os", "system"),
    ("os", "popen"),
    ("subprocess", "getoutput"),
    ("subprocess", "getstatusoutput"),
    ("asyncio", "create_subprocess_shell"),
}
# Calls whose first argument is SQL (or a Lua script for Redis): it must be a literal.
QUERY_CALLS = {
    "text",
    "execute",
    "executemany",
    "executescript",
    "exec_driver_sql",
    "register_script",
    "eval",
}
# Uses reviewed and kept, with the reason they are safe.
REVIEWED = {
    ("config/logs.py", "format() with a template that is not a literal"): (
        "logging.Formatter.format(record) of the text formatter that FieldsFormatter extends, not str.format"
    ),
}


def _aliases(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    """Local names of imported modules and functions: {"p": ("pickle",), "loads": ("pickle", "loads")}."""
    names: dict[str, tuple[str, ...]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name] = (alias.name,)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module, alias.name)
    return names


def _is_literal(node: ast.expr, literals: set[str]) -> bool:
    """A string fixed in the source: a literal, a name bound to one, or a concatenation of those."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Name):
        return node.id in literals
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_literal(node.left, literals) and _is_literal(node.right, literals)
    return False


def _is_built(node: ast.expr, literals: set[str], built: set[str]) -> bool:
    """A string put together at run time: an f-string with values, % or + formatting, .format()."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return not _is_literal(node, literals)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("format", "format_map", "join")
    return isinstance(node, ast.Name) and node.id in built


def _string_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound (anywhere in the module) to literal strings, and to strings built at run time."""
    literals: set[str] = set()
    built: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    if _is_literal(node.value, literals):
                        literals.add(target.id)
                    elif _is_built(node.value, literals, built):
                        built.add(target.id)
    return literals - built, built


def _call_name(func: ast.expr, aliases: dict[str, tuple[str, ...]]) -> str:
    if isinstance(func, ast.Name):
        return ".".join(aliases.get(func.id, (func.id,)))
    if isinstance(func, ast.Attribute):
        if isinstance(func.value, ast.Name):
            return ".".join((*aliases.get(func.value.id, (func.value.id,)), func.attr))
        return func.attr
    return ""


def unsafe_uses(path: Path) -> list[tuple[int, str]]:
    """Each call in the file that evaluates code, unpickles, starts a shell, or sends SQL built from
    run-time values: (line, what)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases = _aliases(tree)
    literals, built = _string_names(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node.func, aliases)
        if (
            isinstance(node.func, ast.Name)
            and node.func.id in EVALUATING_BUILTINS
            and node.func.id not in aliases
        ):
            found.append((node.lineno, f"{node.func.id}()"))
        if tuple(name.rsplit(".", 1)) in UNSAFE_CALLS:
            found.append((node.lineno, name))
        for keyword in node.keywords:
            if keyword.arg == "shell" and not (
                isinstance(keyword.value, ast.Constant) and not keyword.value.value
            ):
                found.append((node.lineno, f"{name}(shell=True)"))
        if name.rsplit(".", 1)[-1] in QUERY_CALLS and node.args and _is_built(node.args[0], literals, built):
            found.append((node.lineno, f"{name}() of a string built at run time"))
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in ("format", "format_map")
            and not _is_literal(node.func.value, literals)
        ):
            found.append((node.lineno, f"{name}() with a template that is not a literal"))
    return sorted(found)


def test_no_code_evaluates_unpickles_shells_out_or_formats_sql() -> None:
    """An AST scan of every module of the packages: no eval, exec, compile or __import__, no pickle,
    marshal, shelve or yaml.load, no shell (os.system, os.popen, shell=True), no str.format on a
    template that is not a literal, and every SQL statement and Redis script is a literal string, so
    values only ever travel as bound parameters. The reviewed exceptions are listed with their reasons."""
    findings: dict[tuple[str, str], list[int]] = {}
    files = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    assert len(files) > 50
    for path in files:
        for line, what in unsafe_uses(path):
            findings.setdefault((path.relative_to(ROOT).as_posix(), what), []).append(line)
    assert set(findings) == set(REVIEWED), findings


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scan itself: each forbidden form in a sample module is found, on its line; literal SQL, a
    concatenation of literals, and bound parameters are not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import pickle as p, subprocess\n"
        "from sqlalchemy import text\n"
        "from yaml import load\n"
        "HEAD = 'SELECT 1'\n"
        "QUERY = HEAD + ' FROM articles'\n"
        "def f(session, url, page):\n"
        "    eval(page)\n"
        "    p.loads(page)\n"
        "    load(page)\n"
        "    subprocess.run(url, shell=True)\n"
        "    session.execute(text(f'SELECT * FROM articles WHERE url = {url}'))\n"
        "    session.execute('SELECT * FROM articles WHERE url = %s' % url)\n"
        "    built = 'DELETE FROM articles WHERE id = ' + url\n"
        "    session.execute(built)\n"
        "    page.format(url)\n"
        "    session.execute(text('SELECT * FROM articles WHERE url = :url'), {'url': url})\n"
        "    session.execute(QUERY)\n"
        "    subprocess.run(['ls', url], shell=False)\n",
        encoding="utf-8",
    )
    assert unsafe_uses(sample) == [
        (7, "eval()"),
        (8, "pickle.loads"),
        (9, "yaml.load"),
        (10, "subprocess.run(shell=True)"),
        (11, "sqlalchemy.text() of a string built at run time"),
        (12, "session.execute() of a string built at run time"),
        (14, "session.execute() of a string built at run time"),
        (15, "page.format() with a template that is not a literal"),
    ]


def test_workers_accept_only_json() -> None:
    """Tasks travel as JSON and a worker accepts nothing else: a message cannot carry a pickle."""
    from workers.app import app as celery_app

    assert celery_app.conf.task_serializer == "json"
    assert list(celery_app.conf.accept_content) == ["json"]


def _hostile_document() -> dict[str, Any]:
    return {"url": "http://news.example/story?id=1';DROP TABLE articles;--", "title": TITLE, "html": STORY}


def test_hostile_text_is_stored_and_shown_verbatim(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page whose URL, title and text are SQL injection, template, shell and rich markup syntax is
    stored as it came (its URL as a crawl spells it: quote and spaces percent-encoded; on SQLite and
    PostgreSQL, the tables intact), and the command line
    shows it as text: markup is not applied (the title's stray [/] does not break the table), emoji
    codes are not replaced, and the password of the URL in the text shows as ***."""
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "400")  # one line per row: the titles are not wrapped
    document = _hostile_document()
    pages = tmp_path / "pages.jsonl"
    pages.write_text(json.dumps(document) + "\n", encoding="utf-8")
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", str(pages)])
    assert ingested.exit_code == 0, ingested.output
    runtime = Runtime.from_settings(load_settings())
    # The URL is stored as a crawl would fetch it (Scrapy's spelling): its quote and spaces escaped.
    stored_url = "http://news.example/story?id=1%27;DROP%20TABLE%20articles;--"
    with runtime.sessions() as session:
        article = queries.find_article(session, stored_url)
        totals = views.totals(session)
    assert article is not None
    assert article.title == TITLE
    for text in HOSTILE:
        assert text in article.text
    assert totals["articles"] == 1

    listed = runner.invoke(app, ["clusters", "list"])
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.stdout.splitlines() if stored_url in line)
    assert TITLE in row
    shown = runner.invoke(app, ["clusters", "show", str(article.cluster_id)])
    assert shown.exit_code == 0, shown.output
    assert f"canonical {stored_url}" in shown.stdout
    for text in HOSTILE:
        assert text in shown.stdout
    assert "http://editor:***@news.example/notes" in shown.stdout
    assert PASSWORD not in shown.stdout


def test_stored_urls_with_a_password_are_redacted_in_every_listing(runtime: Runtime) -> None:
    """A page crawled at a URL that carries a password (a link like http://editor:s3cret@host/…) is
    stored as it came, but `clusters export`, `clusters list --json` and `clusters show` print it
    with *** in place of the password."""
    outcome = process_page(
        Page(url=f"http://editor:{PASSWORD}@news.example/a", text=story("bridge").text), runtime
    )
    runner = CliRunner()
    outputs = [
        runner.invoke(app, args)
        for args in (
            ["clusters", "export", "--format", "jsonl"],
            ["clusters", "list", "--json"],
            ["clusters", "show", str(outcome.cluster_id)],
        )
    ]
    assert [r.exit_code for r in outputs] == [0, 0, 0]
    exported = json.loads(outputs[0].stdout)
    assert (exported["canonical_url"], exported["members"][0]["url"]) == (
        "http://editor:***@news.example/a",
        "http://editor:***@news.example/a",
    )
    assert json.loads(outputs[1].stdout)["canonical_url"] == "http://editor:***@news.example/a"
    assert "http://editor:***@news.example/a" in outputs[2].stdout
    assert all(PASSWORD not in r.stdout + r.stderr for r in outputs)
