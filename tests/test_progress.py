"""A crawl's live progress (crawler.progress): lines on stderr when it is not a terminal, a rich display
when it is; and a real `newsdedup crawl` of a slow site printing its progress while it runs."""

from __future__ import annotations

import io
import re
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console

from crawler.progress import LogProgress, TerminalProgress, describe
from tests.conftest import run_crawl_command
from tests.stories import story

CRAWLING = {"state": "crawling", "responses": 3, "pages": 1, "new": 1, "errors": 0}
WAITING = {"state": "waiting", "responses": 0, "pages": 0}
FINISHED = {"state": "finished", "responses": 5, "pages": 4, "new": 1, "joined": 3, "http_errors": 1}


def test_a_progress_line_names_the_counts_that_are_not_zero() -> None:
    """Counts in a fixed order, zeros left out, one of a kind in the singular; nothing yet is 0 pages."""
    assert describe(CRAWLING) == "3 responses, 1 page, 1 new"
    assert describe(FINISHED) == "5 responses, 4 pages, 1 new, 3 joined, 1 http error"
    assert describe(WAITING) == "0 pages"


def test_log_progress_prints_each_source_that_moved_and_the_totals() -> None:
    """The first report names every source; the next only the sources whose line changed; each ends
    with the totals (sources finished, pages, errors, seconds since the start)."""
    stream = io.StringIO()
    progress = LogProgress(stream, interval=10)
    progress.show({"courier": CRAWLING, "blitz": WAITING})
    progress.show({"courier": FINISHED, "blitz": WAITING})
    progress.close({"courier": FINISHED, "blitz": WAITING})
    assert stream.getvalue().splitlines() == [
        "crawl progress: courier: crawling: 3 responses, 1 page, 1 new",
        "crawl progress: blitz: waiting: 0 pages",
        "crawl progress: 0 of 2 sources finished, 1 pages, 0 errors, 0 s",
        "crawl progress: courier: finished: 5 responses, 4 pages, 1 new, 3 joined, 1 http error",
        "crawl progress: 1 of 2 sources finished, 4 pages, 0 errors, 0 s",
    ]


def test_terminal_progress_shows_a_line_per_source_and_ends_with_their_final_state() -> None:
    """On a terminal, rich redraws one line per source; when the crawls end the last drawing shows each
    source's final state and counts."""
    out = io.StringIO()
    progress = TerminalProgress(Console(file=out, force_terminal=True, width=100, color_system=None))
    progress.show({"courier": CRAWLING, "blitz": WAITING})
    progress.close({"courier": FINISHED, "blitz": FINISHED})
    last = out.getvalue().rsplit("\x1b[2K", 2)  # rich clears each line before it draws it again
    drawn = "".join(last[-2:])
    assert re.search(r"courier +finished +5 responses, 4 pages, 1 new, 3 joined, 1 http error", drawn)
    assert re.search(r"blitz +finished +5 responses", drawn)


class SlowHandler(SimpleHTTPRequestHandler):
    """Files of a folder, each after a pause: a crawl that takes seconds."""

    def do_GET(self) -> None:
        time.sleep(0.3)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _slow_site(folder: Path, base: str, pages: int) -> None:
    items = []
    for n in range(pages):
        s = story(["bridge", "library", "orchard", "solarpark"][n % 4])
        body = "".join(f"<p>{p}</p>" for p in s.paragraphs)
        (folder / f"story-{n}.html").write_text(
            f"<html><head><title>{s.title}</title></head><body><article><h1>{s.title}</h1>{body}</article>"
            "</body></html>",
            encoding="utf-8",
        )
        items.append(f"<item><title>{s.title}</title><link>{base}/story-{n}.html</link></item>")
    (folder / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>slow</title>'
        + "".join(items)
        + "</channel></rss>",
        encoding="utf-8",
    )


def slow_source(folder: Path, pages: int) -> tuple[ThreadingHTTPServer, Path]:
    """A feed source of this many pages served slowly (SlowHandler) on 127.0.0.1, and its sources file
    (source ``slow``): the server runs until the caller shuts it down."""
    site = folder / "site"
    site.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SlowHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    _slow_site(site, base, pages)
    sources = folder / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "slow"\nkind = "feed"\nstart_urls = ["{base}/feed.xml"]\n'
        'allow_private = ["127.0.0.1"]\n',
        encoding="utf-8",
    )
    return server, sources


def test_a_crawl_that_is_not_on_a_terminal_prints_its_progress_while_it_runs(tmp_path: Path) -> None:
    """`newsdedup crawl` of a feed whose server answers every request after 0.3 s, with
    NEWSDEDUP_CRAWL_PROGRESS_SECONDS=0.5 and stderr a pipe: progress lines come while the crawl runs
    (the source crawling, with growing counts, and the totals), and the summary table still ends it."""
    server, sources = slow_source(tmp_path, pages=6)
    try:
        result = run_crawl_command(
            sources, tmp_path, NEWSDEDUP_CRAWL_PROGRESS_SECONDS="0.5", NEWSDEDUP_AUTOTHROTTLE_START_DELAY="0"
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("crawl progress:")]
    moving = [line for line in lines if line.startswith("crawl progress: slow: crawling: ")]
    totals = [
        line
        for line in lines
        if re.fullmatch(r"crawl progress: [01] of 1 sources finished, \d+ pages, 0 errors, \d+ s", line)
    ]
    assert len(moving) >= 2, result.stderr  # the counts grew between two reports
    assert len(totals) >= len(moving)
    assert len(lines) == len(moving) + len(totals), lines
    assert " slow " in result.stdout
    assert "finished" in result.stdout
