"""The item pipeline: hand each page to processing and count what became of it.

Embedded mode processes the page in the crawling process, on a thread of its own
(``crawler.embedded``); service mode sends it to the Celery workers through Redis, and to the spool
(``crawler.spool``) while Redis is away.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import LoopingCall

from config import Settings
from crawler.items import PageItem

if TYPE_CHECKING:
    # Each mode imports what it needs when it starts: an embedded crawl never imports Celery, a
    # service-mode crawl never the processing code.
    from crawler.embedded import EmbeddedProcessing
    from crawler.handoff import SpoolingSender

MODES = ("embedded", "celery")
# How often a crawl tries to replay its spool at least, when NEWSDEDUP_SPOOL_RETRY_SECONDS is 0.
MIN_REPLAY_PERIOD = 1.0

log = logging.getLogger(__name__)


class HandOffPipeline:
    """Passes every PageItem on. Scrapy settings: ``SERVICE_SETTINGS`` (the newsdedup settings),
    ``HANDOFF`` (``embedded``, ``celery``, or ``off`` to switch the pipeline off) and, in the embedded
    mode, ``EMBEDDED_PROCESSING`` (the processing shared by the crawlers of a process; a pipeline
    without one makes its own). ``celery`` sends to the broker at the settings' Redis URL, spooling to
    their spool folder what the broker does not take.

    Stats: ``newsdedup/<status>`` per processed page in the embedded mode; ``newsdedup/enqueued`` pages
    sent at once, ``newsdedup/spooled`` pages put in the spool, ``newsdedup/replayed`` (at the end)
    spooled pages, of this crawl or an earlier one, sent later. The spool is replayed when the crawl
    opens, before a page while it holds pages, every NEWSDEDUP_SPOOL_RETRY_SECONDS (at least every
    second), and once more when the crawl closes.
    """

    def __init__(
        self, crawler: Crawler, settings: Settings, processing: EmbeddedProcessing | None = None
    ) -> None:
        self.crawler = crawler
        self.settings = settings
        self.processing = processing  # None: service mode
        self.sender: SpoolingSender | None = None  # service mode, once open
        self._replays: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HandOffPipeline:
        mode = crawler.settings.get("HANDOFF", "embedded")
        if mode == "off":
            raise NotConfigured("HANDOFF is off")
        if mode not in MODES:
            raise ValueError(f"HANDOFF must be one of {', '.join(MODES)} or off, not {mode!r}")
        settings: Settings | None = crawler.settings.get("SERVICE_SETTINGS")
        if settings is None:
            raise ValueError("SERVICE_SETTINGS is not set: run crawls through crawler.run or scrapy.cfg")
        if mode == "embedded":
            from crawler.embedded import EmbeddedProcessing
            from newsdedup.service.runtime import Runtime

            processing = crawler.settings.get("EMBEDDED_PROCESSING")
            return cls(crawler, settings, processing or EmbeddedProcessing(Runtime.from_settings(settings)))
        if not settings.redis_url:
            raise ValueError("HANDOFF is celery but NEWSDEDUP_REDIS_URL is not set")
        return cls(crawler, settings)

    def open_spider(self, spider: Spider | None = None) -> None:
        if self.processing is not None:
            self.processing.open()
            return
        # Only the service mode needs the broker (and so Celery): imported here.
        from crawler.handoff import SpoolingSender
        from crawler.spool import Spool
        from workers.sender import Sender

        s = self.settings
        assert s.redis_url is not None  # from_crawler checked it
        sender = Sender(s.redis_url, s.broker_timeout_seconds, s)
        self.sender = SpoolingSender(sender, Spool(s.spool_dir), s.spool_retry_seconds)
        self.sender.replay()  # what an earlier crawl left in the spool goes first
        self._replays = LoopingCall(self.sender.replay)
        self._replays.start(max(s.spool_retry_seconds, MIN_REPLAY_PERIOD), now=False)

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.processing is not None:
            self.processing.close()
            return
        if self._replays is not None and self._replays.running:
            self._replays.stop()
        if self.sender is None:
            return
        self.sender.replay(force=True)
        self._count("replayed", self.sender.replayed)
        self._report(self.sender)
        self.sender.close()
        self.sender = None

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, PageItem):
            return item
        if self.processing is None:
            assert self.sender is not None  # opened in open_spider
            self._count(self.sender.hand_off(item.payload()))
            return item
        # Processed on the processing thread; the reactor downloads meanwhile.
        self._count(await maybe_deferred_to_future(self.processing.process(item.payload())))
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
