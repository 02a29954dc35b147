"""Live progress of the crawls of one process, read from each crawler's stats while they run.

On a terminal, a rich display with one line per source (``TerminalProgress``); otherwise a line on
stderr every ``CRAWL_PROGRESS_SECONDS`` for each source that moved since the last, and one with the
totals (``LogProgress``). Both are driven by a Twisted ``LoopingCall`` in the crawl's reactor, so
they read the stats in the thread that writes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from scrapy.crawler import Crawler
from twisted.internet import task

# What a progress line shows of a source's counts, in this order, when not zero.
COUNTS = (
    *("responses", "pages", "new", "joined", "updated", "unchanged", "enqueued", "spooled"),
    *("http_errors", "errors"),
)

Summary = Callable[[Crawler], dict[str, Any]]


class CrawlProgress(Protocol):
    """Told how every source's crawl stands every ``interval`` seconds, and at the end."""

    interval: float

    def show(self, states: dict[str, dict[str, Any]]) -> None: ...

    def close(self, states: dict[str, dict[str, Any]]) -> None: ...


def state(counts: dict[str, Any], started: bool) -> str:
    """waiting, crawling, or how the crawl finished."""
    if counts.get("finish_reason"):
        return str(counts["finish_reason"])
    return "crawling" if started else "waiting"


def describe(counts: dict[str, Any]) -> str:
    """``12 responses, 10 pages, 3 new, 7 joined``: the counts that are not zero (``0 pages`` if all are)."""
    shown = [f"{counts[c]} {_label(c, counts[c])}" for c in COUNTS if counts.get(c)]
    return ", ".join(shown) or "0 pages"


def _label(count: str, n: int) -> str:
    label = count.replace("_", " ")
    return label[:-1] if n == 1 and label.endswith("s") else label


class LogProgress:
    """Lines on a stream (stderr): per source that moved, and the totals."""

    def __init__(self, stream: TextIO, interval: float) -> None:
        self.stream = stream
        self.interval = interval
        self.started = time.monotonic()
        self.last: dict[str, tuple[str, str]] = {}

    def show(self, states: dict[str, dict[str, Any]]) -> None:
        elapsed = time.monotonic() - self.started
        for name, counts in states.items():
            line = (counts["state"], describe(counts))
            if self.last.get(name) != line:
                self.last[name] = line
                print(f"crawl progress: {name}: {line[0]}: {line[1]}", file=self.stream, flush=True)
        finished = sum(1 for c in states.values() if c["state"] not in ("waiting", "crawling"))
        pages = sum(int(c.get("pages") or 0) for c in states.values())
        errors = sum(int(c.get("errors") or 0) for c in states.values())
        print(
            f"crawl progress: {finished} of {len(states)} sources finished, {pages} pages, {errors} errors, "
            f"{elapsed:.0f} s",
            file=self.stream,
            flush=True,
        )

    def close(self, states: dict[str, dict[str, Any]]) -> None:
        """Nothing: the crawl's summary table follows."""


class TerminalProgress:
    """A rich display on the console: a line per source, with a spinner while it crawls."""

    interval = 0.5

    def __init__(self, console: Console) -> None:
        self.display = Progress(
            SpinnerColumn(finished_text="[green]✓"),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[state]}"),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.tasks: dict[str, TaskID] = {}
        self.display.start()

    def show(self, states: dict[str, dict[str, Any]]) -> None:
        for name, counts in states.items():
            fields = {"state": counts["state"], "counts": describe(counts)}
            if name not in self.tasks:
                self.tasks[name] = self.display.add_task(name, total=None, **fields)
            done = counts["state"] not in ("waiting", "crawling")
            self.display.update(self.tasks[name], total=1 if done else None, completed=int(done), **fields)

    def close(self, states: dict[str, dict[str, Any]]) -> None:
        self.show(states)
        self.display.stop()


def follow(
    crawlers: list[tuple[str, Crawler]], summary: Summary, progress: CrawlProgress
) -> Callable[[], None]:
    """Show the crawlers' progress every ``progress.interval`` seconds once the reactor runs; returns
    the call that stops it and closes the display (after the reactor stopped)."""

    def states() -> dict[str, dict[str, Any]]:
        found = {}
        for name, crawler in crawlers:
            counts = summary(crawler)
            started = "start_time" in (crawler.stats.get_stats() if crawler.stats else {})
            found[name] = {**counts, "state": state(counts, started)}
        return found

    loop = task.LoopingCall(lambda: progress.show(states()))
    from twisted.internet import reactor  # installed by now: Scrapy installs its own first

    reactor.callWhenRunning(loop.start, progress.interval, now=False)

    def finish() -> None:
        if loop.running:
            loop.stop()
        progress.close(states())

    return finish
