"""Run crawls in this process: the CLI's ``crawl`` and the child process of the ``crawl_source`` task.

A Twisted reactor starts once per process, so a process runs one batch of crawls and ends.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess

from config import Settings, Source
from crawler.limits import dropped
from crawler.scrapy_settings import scrapy_settings
from crawler.spider_loader import spider_for

# The stats a crawl summary reports, and the names it gives them.
SUMMARY_STATS = {
    "downloader/response_count": "responses",
    "item_scraped_count": "pages",
    "newsdedup/new": "new",
    "newsdedup/joined": "joined",
    "newsdedup/updated": "updated",
    "newsdedup/unchanged": "unchanged",
    "newsdedup/rejected": "rejected",
    "newsdedup/enqueued": "enqueued",
    "newsdedup/spooled": "spooled",
    "newsdedup/replayed": "replayed",
    "newsdedup/refused/private_address": "refused_private",
    "robotstxt/forbidden": "robots_forbidden",
    "newsdedup/charset_corrected": "charset_corrected",
    "log_count/ERROR": "errors",
    "finish_reason": "finish_reason",
}


def crawl(
    sources: list[Source],
    settings: Settings,
    overrides: dict[str, Any] | None = None,
    install_root_handler: bool = True,
) -> dict[str, dict[str, Any]]:
    """Crawl the sources now, together; returns a summary per source name.

    ``install_root_handler=False`` leaves logging to the caller (the CLI has its own handler).
    """
    process = CrawlerProcess(
        settings={
            **scrapy_settings(settings),
            "LOG_INSTALL_ROOT_HANDLER": install_root_handler,
            **(overrides or {}),
        }
    )
    crawlers: list[tuple[str, Crawler]] = []
    for source in sources:
        crawler = process.create_crawler(spider_for(source))
        crawlers.append((source.name, crawler))
        process.crawl(crawler)
    process.start()
    return {name: summary(crawler) for name, crawler in crawlers}


def summary(crawler: Crawler) -> dict[str, Any]:
    stats = crawler.stats.get_stats() if crawler.stats else {}
    counts = {label: stats.get(key, 0) for key, label in SUMMARY_STATS.items()}
    # What the bounds stopped, by reason (crawler.limits): {"timeout": 1, "too_deep": 240, ...}.
    return {**counts, "dropped": dropped(stats)}
