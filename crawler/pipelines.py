"""The item pipeline: hand each page to ``process_page`` and count what became of it.

Embedded mode runs the task's code right here, in the crawling process; service mode sends the
page to the Celery workers through Redis.
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import PageItem
from workers.enqueue import Sender
from workers.tasks import process_page

MODES = ("embedded", "celery")


class HandOffPipeline:
    """Passes every PageItem on; the ``NEWSDEDUP_HANDOFF`` setting says how (``embedded``,
    ``celery``, or ``off`` to switch the pipeline off). ``celery`` sends to the broker at the
    ``NEWSDEDUP_REDIS_URL`` setting."""

    def __init__(self, crawler: Crawler, broker_url: str | None = None) -> None:
        self.crawler = crawler
        self.broker_url = broker_url
        self.sender: Sender | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HandOffPipeline:
        mode = crawler.settings.get("NEWSDEDUP_HANDOFF", "embedded")
        if mode == "off":
            raise NotConfigured("NEWSDEDUP_HANDOFF is off")
        if mode not in MODES:
            raise ValueError(f"NEWSDEDUP_HANDOFF must be one of {', '.join(MODES)} or off, not {mode!r}")
        if mode == "embedded":
            return cls(crawler)
        broker_url = crawler.settings.get("NEWSDEDUP_REDIS_URL")
        if not broker_url:
            raise ValueError("NEWSDEDUP_HANDOFF is celery but NEWSDEDUP_REDIS_URL is not set")
        return cls(crawler, broker_url)

    def open_spider(self, spider: Spider | None = None) -> None:
        if self.broker_url is not None:
            self.sender = Sender(self.broker_url)

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.sender is not None:
            self.sender.close()
            self.sender = None

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, PageItem):
            return item
        if self.sender is not None:
            self.sender.send(process_page, item.payload())
            status = "enqueued"
        else:
            status = process_page(item.payload())["status"]
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"newsdedup/{status}")
        return item
