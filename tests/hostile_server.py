"""A hostile web site for crawl tests, served on 127.0.0.1 as an HTTP proxy for ``hostile.example``.

Its home page links to a few good articles and to every kind of page that can hurt a crawler: a
compression bomb, 50 MB pages, binary bodies sent as text/html, malformed HTML, wrongly declared
charsets, a redirect loop and an endless redirect chain, an endless calendar (a spider trap), a
page that robots.txt disallows, and a page that never finishes sending. Every request is logged.
"""

from __future__ import annotations

import contextlib
import gzip
import random
import re
import struct
import threading
import zlib
from calendar import monthrange
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

HOST = "hostile.example"
ORIGIN = f"http://{HOST}"

HUGE_BYTES = 50 * 1024 * 1024
BOMB_BYTES = 1 << 30  # what the compression bomb inflates to: 1 GiB of zeros
CALENDAR_START = "/calendar/2026/03/"
# A page that never finishes: its headers promise this much, a little comes, then nothing.
HANG_PROMISED_BYTES = 100_000


def _article(title: str, paragraphs: list[str], head: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head>{head}<title>{title}</title>"
        '<meta property="og:type" content="article"></head>'
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


HARBOUR = [
    "The harbour bridge in Wexmoor reopened to traffic on Monday morning after eleven weeks of repairs.",
    "Engineers replaced 240 metres of corroded steel decking and repainted both towers, the port "
    "authority said, at a cost of 14 million pounds.",
    "Ferry operators, who carried an extra 9,000 passengers a day during the closure, will return "
    "to their normal timetable from Thursday.",
]
ORCHARD = [
    "More than 30,000 visitors are expected at the Millbrook orchard festival this weekend, the "
    "largest crowd since the event began in 1987.",
    "Growers from forty farms will show 160 varieties of apple and pear, including a russet that was "
    "thought lost until a cutting was found in a churchyard last autumn.",
    "Organisers have added shuttle buses from the railway station and closed Mill Lane to cars.",
]
LIBRARY = [
    "The central library in Ashford will open until nine in the evening on weekdays from April, "
    "the county council announced on Tuesday.",
    "The longer hours follow a survey in which 2,300 residents asked for evening access to study "
    "rooms, computers and the local history archive.",
    "Six new staff will be hired, paid for by savings from the merger of two back-office teams.",
]
CAFE = [
    "Café owners on Quay Street say the new parking charges have cut their weekend trade by a "
    "third since January.",
    "“We used to see families from the valleys every Saturday; now they drive to the retail park "
    "instead,” said Marie Dubois, who has run Le Petit Café for twelve years.",
    "The council will review the charges in June; a petition against them has 4,100 signatures.",
]
ZURICH = [
    "Zürich will extend its tram line 2 along the Hardstraße to the new Schlieren hospital by 2029, "
    "the city's transport office confirmed.",
    "The 3.4 kilometre extension adds seven stops and is expected to carry 18,000 passengers a day, "
    "taking pressure off the crowded bus routes 31 and 80.",
    "Construction on Bernerstraße begins next spring; residents were promised quiet hours at night.",
]
MALFORMED_TEXT = [
    "Councillors voted 27 to 12 on Wednesday to freeze ferry fares across the estuary for another "
    "two years, despite a warning that the service will lose money.",
    "The operator had asked for a rise of eight per cent to cover fuel and the cost of a new "
    "vessel, which enters service in the autumn.",
    "Commuters' groups welcomed the decision but asked for later sailings on Friday evenings.",
]

# The path of each page that must be stored, with its paragraphs (the redirected one under its old path).
GOOD_PAGES = {
    "/news/harbour-bridge-reopens/": HARBOUR,
    "/news/orchard-festival-draws-record-crowd/": ORCHARD,  # sent gzip-compressed
    "/old/library-hours/": LIBRARY,  # redirects (301) to /news/library-extends-opening-hours/
    "/news/cafe-owners-count-cost-of-parking/": CAFE,  # says UTF-8, is Windows-1252
    "/news/zurich-tram-extension/": ZURICH,  # says ISO-8859-1, is UTF-8
    "/news/ferry-fares-frozen/": MALFORMED_TEXT,  # malformed HTML
}
LIBRARY_TARGET = "/news/library-extends-opening-hours/"

# Every page that must not be stored, by what it does.
HOSTILE_PAGES = {
    "/bomb/": "gzip bomb: 1 MB that inflates to 1 GiB",
    "/bomb/nested/": "gzip inside gzip: 2 KB that inflate to 1 GiB",
    "/huge/": "50 MB, announced by Content-Length",
    "/huge/stream/": "50 MB without a Content-Length",
    "/binary/": "random bytes as text/html",
    "/binary/image/": "a PNG image as text/html",
    "/loop/a/": "redirects to /loop/b/, which redirects back",
    "/redirect/1/": "redirects to /redirect/2/, and so on for ever",
    CALENDAR_START: "an endless calendar: every month links to the next and the previous, and its days",
    "/private/secret/": "disallowed by robots.txt",
    "/hang/": "sends headers and a little of the body, then nothing",
}

ROBOTS = "User-agent: *\nDisallow: /private/\n"

# No </head> or <body>, unclosed and misnested tags, stray end tags, bad entities, an unclosed comment.
MALFORMED = (
    "<html><head><title>Ferry fares frozen for two years</title><meta property='og:type' content='article'>"
    "<div id=main><article><h1>Ferry fares <b>frozen for <i>two years</h1>"
    f"<p>{MALFORMED_TEXT[0]}<p>{MALFORMED_TEXT[1]}</span></em></b>"
    f"<p>{MALFORMED_TEXT[2]}</td></p></tr>"
    "<a name=end>unclosed anchor <div>stray</article></html></body><<>>&nbsp&amp;&#xZZ; <!-- never closed"
)


def home_page() -> str:
    links = [*GOOD_PAGES, *HOSTILE_PAGES]
    items = "".join(f'<li><a href="{ORIGIN}{path}">{path}</a></li>' for path in links)
    return (
        "<!DOCTYPE html><html><head><title>Hostile Times</title>"
        '<meta property="og:type" content="website"></head>'
        f"<body><h1>Hostile Times</h1><ul>{items}</ul></body></html>"
    )


def calendar_links(path: str) -> list[str] | None:
    """The calendar paths a calendar page links to (None if the path is no calendar page): a month
    links to the months before and after it and to each of its days; a day to its month and to the
    days before and after it."""
    found = re.fullmatch(r"/calendar/(\d{4})/(\d{2})/(?:(\d{2})/)?", path)
    if found is None:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12 or not 1 <= year <= 9998:
        return None
    if found.group(3) is None:
        first = date(year, month, 1)
        last = first.replace(day=monthrange(year, month)[1])
        days = [_day_path(first.replace(day=d)) for d in range(1, last.day + 1)]
        return [_month_path(first - timedelta(days=1)), _month_path(last + timedelta(days=1)), *days]
    try:
        day = date(year, month, int(found.group(3)))
    except ValueError:
        return None
    return [_month_path(day), _day_path(day - timedelta(days=1)), _day_path(day + timedelta(days=1))]


def _month_path(day: date) -> str:
    return f"/calendar/{day.year:04d}/{day.month:02d}/"


def _day_path(day: date) -> str:
    return f"/calendar/{day.year:04d}/{day.month:02d}/{day.day:02d}/"


def _calendar_page(path: str, links: list[str]) -> str:
    items = "".join(f'<a href="{ORIGIN}{link}">{link}</a> ' for link in links)
    return (
        f"<!DOCTYPE html><html><head><title>Events {path}</title>"
        '<meta property="og:type" content="website"></head>'
        f"<body><h1>Events</h1><p>No events.</p><nav>{items}</nav></body></html>"
    )


@cache
def gzip_bomb() -> bytes:
    """1 GiB of zeros, gzip-compressed to about 1 MB (64 members of 16 MiB each)."""
    member = gzip.compress(bytes(16 << 20), compresslevel=9)
    return member * (BOMB_BYTES // (16 << 20))


@cache
def random_bytes() -> bytes:
    return random.Random(20260311).randbytes(16_384)


@cache
def png_image() -> bytes:
    """A real PNG: 64 x 64 pixels of noise."""
    noise = random.Random(7)
    raw = b"".join(b"\x00" + noise.randbytes(64 * 3) for _ in range(64))  # filter 0, then RGB pixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class HostileServer:
    """The hostile site on 127.0.0.1, as an HTTP proxy (``proxy_url``) that answers for HOST only."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        # Bytes of body sent per path, for the pages that are streamed.
        self.sent: dict[str, int] = {}
        self.release = threading.Event()
        handler = type("Handler", (_Handler,), {"site": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hostile-server", daemon=True)

    @property
    def proxy_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HostileServer:
        gzip_bomb()  # made before the first request, not while a crawler waits for it
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    site: HostileServer

    def do_GET(self) -> None:
        target = urlsplit(self.path)
        host = (target.hostname or self.headers.get("Host", "").split(":")[0]).lower()
        path = target.path if target.scheme else self.path.split("?")[0]
        self.site.requests.append(f"http://{host}{path}")
        if host != HOST:
            self.send_error(404)
            return
        # The crawler hanging up is what it should do to most of these pages.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._route(path)()

    def _route(self, path: str) -> Callable[[], None]:
        fixed: dict[str, Callable[[], None]] = {
            "/": lambda: self._html(home_page()),
            "/robots.txt": lambda: self._send(ROBOTS.encode(), "text/plain; charset=utf-8"),
            "/news/harbour-bridge-reopens/": lambda: self._html(_article("Harbour bridge reopens", HARBOUR)),
            "/news/orchard-festival-draws-record-crowd/": self._gzipped_article,
            "/old/library-hours/": lambda: self._redirect(301, LIBRARY_TARGET),
            LIBRARY_TARGET: lambda: self._html(_article("Library extends opening hours", LIBRARY)),
            "/news/cafe-owners-count-cost-of-parking/": self._says_utf8_is_cp1252,
            "/news/zurich-tram-extension/": self._says_latin1_is_utf8,
            "/news/ferry-fares-frozen/": lambda: self._html(MALFORMED),
            "/bomb/": lambda: self._send(gzip_bomb(), "text/html", encoding="gzip"),
            "/bomb/nested/": lambda: self._send(
                gzip.compress(gzip_bomb()), "text/html", encoding="gzip, gzip"
            ),
            "/huge/": lambda: self._stream(path, announce=True),
            "/huge/stream/": lambda: self._stream(path, announce=False),
            "/binary/": lambda: self._send(random_bytes(), "text/html"),
            "/binary/image/": lambda: self._send(png_image(), "text/html"),
            "/loop/a/": lambda: self._redirect(302, "/loop/b/"),
            "/loop/b/": lambda: self._redirect(302, "/loop/a/"),
            "/private/secret/": lambda: self._html(_article("Secret", HARBOUR)),
            "/hang/": self._hang,
        }
        if path in fixed:
            return fixed[path]
        chain = re.fullmatch(r"/redirect/(\d+)/", path)
        if chain:
            return lambda: self._redirect(302, f"/redirect/{int(chain.group(1)) + 1}/")
        links = calendar_links(path)
        if links is not None:
            return lambda: self._html(_calendar_page(path, links))
        return lambda: self.send_error(404)

    def _send(self, body: bytes, content_type: str, encoding: str | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _html(self, page: str) -> None:
        self._send(page.encode("utf-8"), "text/html; charset=utf-8")

    def _gzipped_article(self) -> None:
        page = _article("Orchard festival draws record crowd", ORCHARD).encode("utf-8")
        if "gzip" in self.headers.get("Accept-Encoding", ""):
            self._send(gzip.compress(page), "text/html; charset=utf-8", encoding="gzip")
        else:
            self._send(page, "text/html; charset=utf-8")

    def _says_utf8_is_cp1252(self) -> None:
        page = _article("Café owners count cost of parking", CAFE)
        self._send(page.encode("cp1252"), "text/html; charset=utf-8")

    def _says_latin1_is_utf8(self) -> None:
        page = _article("Zürich tram extension", ZURICH, head='<meta charset="iso-8859-1">')
        self._send(page.encode("utf-8"), "text/html")

    def _redirect(self, status: int, path: str) -> None:
        self.send_response(status)
        self.send_header("Location", ORIGIN + path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _stream(self, path: str, announce: bool) -> None:
        """HUGE_BYTES of HTML, 64 KiB at a time, counting what went out before the crawler hung up."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if announce:
            self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        block = b"<p>all work and no play makes a crawler dull</p>\n" * 1337  # about 64 KiB
        self.site.sent[path] = 0
        while self.site.sent[path] < HUGE_BYTES:
            self.wfile.write(block)
            self.site.sent[path] += len(block)

    def _hang(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(HANG_PROMISED_BYTES))
        self.end_headers()
        self.wfile.write(b"<!DOCTYPE html><html><head><title>Still loading")
        self.wfile.flush()
        self.site.release.wait()  # until the server stops

    def log_message(self, format: str, *args: object) -> None:
        pass  # the request log is enough
