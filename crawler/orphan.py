"""A crawl that outlives the worker process that started it stops (a Scrapy extension).

``crawl_source`` runs ``python -m crawler --parent PID SOURCE``. If that pool process dies (killed,
out of memory), the crawl would go on as an orphan, no longer renewing its lock, while the broker
gives the task back and a second crawl of the source starts. Every second, this extension compares
the crawl's parent with PARENT_PID and closes the spider (finish reason ``parent_died``) once it
differs. Switched off (NotConfigured) when PARENT_PID is not set: a crawl from the command line.
"""

from __future__ import annotations

import logging
import os

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import _schedule_coro
from twisted.internet import task

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0


class StopWhenOrphaned:
    def __init__(self, crawler: Crawler, parent: int) -> None:
        self.crawler = crawler
        self.parent = parent
        self.loop = task.LoopingCall(self.check)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StopWhenOrphaned:
        parent = crawler.settings.getint("PARENT_PID")
        if not parent:
            raise NotConfigured("no PARENT_PID: not a worker's crawl")
        extension = cls(crawler, parent)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.loop.start(CHECK_SECONDS, now=True)

    def spider_closed(self, spider: Spider) -> None:
        if self.loop.running:
            self.loop.stop()

    def check(self) -> None:
        if os.getppid() == self.parent or self.crawler.engine is None or self.crawler.spider is None:
            return
        log.warning(
            "the worker process that started this crawl (pid %d) is gone: the crawl stops", self.parent
        )
        self.loop.stop()
        # As Scrapy's own CloseSpider extension closes a spider.
        _schedule_coro(self.crawler.engine.close_spider_async(reason="parent_died"))
