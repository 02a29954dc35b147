"""The item pipeline: hand each page to ``process_page`` and count what became of it.

Embedded mode runs the task's code right here, in the crawling process; service mode sends the
page to the Celery workers through Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import PageItem

HandOff = Callable[[dict[str, Any]], dict[str, Any] | None]
MODES = ("embedded", "celery")


class HandOffPipeline:
    """Passes every PageItem on; the ``NEWSDEDUP_HANDOFF`` setting says how (``embedded``,
    ``celery``, or ``off`` to switch the pipeline off)."""

    def __init__(self, hand_off: HandOff, crawler: Crawler) -> None:
        self.hand_off = hand_off
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HandOffPipeline:
        mode = crawler.settings.get("NEWSDEDUP_HANDOFF", "embedded")
        if mode == "off":
            raise NotConfigured("NEWSDEDUP_HANDOFF is off")
        if mode not in MODES:
            raise ValueError(f"NEWSDEDUP_HANDOFF must be one of {', '.join(MODES)} or off, not {mode!r}")
        from workers.tasks import process_page

        if mode == "embedded":
            return cls(process_page, crawler)

        def enqueue(payload: dict[str, Any]) -> None:
            process_page.delay(payload)

        return cls(enqueue, crawler)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, PageItem):
            return item
        outcome = self.hand_off(item.payload())
        stats = self.crawler.stats
        if stats is not None:
            key = outcome["status"] if outcome else "enqueued"
            stats.inc_value(f"newsdedup/{key}")
        return item
