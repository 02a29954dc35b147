"""The item pipeline: hand each page to ``process_page`` and count what became of it.

Embedded mode runs the task's code right here, in the crawling process; service mode sends the
page to the Celery workers through Redis, and to the spool (``crawler.spool``) while Redis is away.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from config import Settings, load_settings
from crawler.handoff import Publisher, SpoolingSender
from crawler.items import PageItem
from crawler.spool import Spool
from workers.tasks import process_page

MODES = ("embedded", "celery")
# How often a crawl tries to replay its spool at least, when NEWSDEDUP_SPOOL_RETRY_SECONDS is 0.
MIN_REPLAY_PERIOD = 1.0

log = logging.getLogger(__name__)


class HandOffPipeline:
    """Passes every PageItem on; the ``NEWSDEDUP_HANDOFF`` setting says how (``embedded``,
    ``celery``, or ``off`` to switch the pipeline off). ``celery`` sends to the broker at the
    ``NEWSDEDUP_REDIS_URL`` setting, spooling to ``NEWSDEDUP_SPOOL_DIR`` what the broker does not take.

    Stats: ``newsdedup/enqueued`` pages sent at once, ``newsdedup/spooled`` pages put in the spool,
    ``newsdedup/replayed`` (at the end) spooled pages, of this crawl or an earlier one, sent later. The
    spool is replayed when the crawl opens, before a page while it holds pages, every
    ``NEWSDEDUP_SPOOL_RETRY_SECONDS`` (at least every second), and once more when the crawl closes.
    """

    def __init__(
        self, crawler: Crawler, broker_url: str | None = None, settings: Settings | None = None
    ) -> None:
        self.crawler = crawler
        self.broker_url = broker_url
        self.settings = settings
        self.sender: SpoolingSender | None = None
        self._replays: LoopingCall | None = None

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
        return cls(crawler, broker_url, load_settings())

    def open_spider(self, spider: Spider | None = None) -> None:
        if self.broker_url is None or self.settings is None:
            return
        spool_dir = Path(self.crawler.settings.get("NEWSDEDUP_SPOOL_DIR") or self.settings.spool_dir)
        publisher = Publisher(self.broker_url, self.settings.broker_timeout_seconds)
        self.sender = SpoolingSender(publisher, Spool(spool_dir), self.settings.spool_retry_seconds)
        self.sender.replay()  # what an earlier crawl left in the spool goes first
        self._replays = LoopingCall(self.sender.replay)
        self._replays.start(max(self.settings.spool_retry_seconds, MIN_REPLAY_PERIOD), now=False)

    def close_spider(self, spider: Spider | None = None) -> None:
        if self._replays is not None and self._replays.running:
            self._replays.stop()
        if self.sender is None:
            return
        self.sender.replay(force=True)
        self._count("replayed", self.sender.replayed)
        self._report(self.sender)
        self.sender.close()
        self.sender = None

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, PageItem):
            return item
        if self.sender is not None:
            status = self.sender.hand_off(item.payload())
        else:
            status = process_page(item.payload())["status"]
        self._count(status)
        return item

    def _count(self, name: str, count: int = 1) -> None:
        if count and self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"newsdedup/{name}", count)

    def _report(self, sender: SpoolingSender) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
        spooled, replayed, left = stats.get("newsdedup/spooled", 0), sender.replayed, len(sender.spool)
        if left:
            log.warning(
                "spool: %d pages spooled, %d replayed, %d left in %s (the broker is away: %s); "
                "`newsdedup spool replay` or the next crawl sends them",
                spooled,
                replayed,
                left,
                sender.spool.path,
                sender.last_error,
            )
        elif spooled or replayed:
            log.info(
                "spool: %d pages spooled, %d replayed, 0 left in %s", spooled, replayed, sender.spool.path
            )
