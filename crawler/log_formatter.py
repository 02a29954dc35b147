"""Scrapy's log lines without page bodies: Scrapy logs a scraped, dropped or failed item whole, and
our items carry the page's HTML (up to CRAWL_MAX_PAGE_BYTES), so `newsdedup -v crawl` printed
every page. Here an item is logged by its URL and size."""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure


def summary(item: Any) -> str:
    """An item in one short line: its URL and how much HTML it carries."""
    url = getattr(item, "url", None) or (item.get("url") if isinstance(item, dict) else None)
    html = getattr(item, "html", None) or (item.get("html") if isinstance(item, dict) else None)
    size = f", {len(html):,} characters of HTML" if isinstance(html, str) else ""
    return f"<{type(item).__name__} {url}{size}>"


class PageLogFormatter(LogFormatter):
    """Scrapy's messages, each item in them replaced by its ``summary``."""

    def scraped(self, item: Any, response: Response | Failure | None, spider: Spider) -> LogFormatterResult:
        return _short(super().scraped(item, response, spider), item)

    def dropped(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        return _short(super().dropped(item, exception, response, spider), item)

    def item_error(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        return _short(super().item_error(item, exception, response, spider), item)


def _short(entry: LogFormatterResult, item: Any) -> LogFormatterResult:
    args = dict(entry.get("args") or {})
    if "item" in args:
        args["item"] = summary(item)
    return {**entry, "args": args}
