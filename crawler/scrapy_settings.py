"""The Scrapy settings that follow from the newsdedup settings."""

from __future__ import annotations

from typing import Any

from config import Settings
from crawler import address_guard, bodies, limits


def scrapy_settings(settings: Settings) -> dict[str, Any]:
    """Politeness, limits and the hand-off, for every crawl."""
    return {
        "BOT_NAME": "newsdedup",
        "SPIDER_LOADER_CLASS": "crawler.spider_loader.SourceSpiderLoader",
        # The newsdedup settings themselves, for the spider loader and the pipeline (crawler.pipelines).
        "SERVICE_SETTINGS": settings,
        "HANDOFF": "embedded" if settings.embedded else "celery",
        "ITEM_PIPELINES": {"crawler.pipelines.HandOffPipeline": 300},
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": settings.autothrottle_start_delay,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": settings.autothrottle_target_concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
        "DOWNLOAD_MAXSIZE": settings.crawl_max_page_bytes,
        "DOWNLOAD_WARNSIZE": settings.crawl_max_page_bytes // 2,
        "DOWNLOAD_TIMEOUT": settings.crawl_download_timeout_seconds,
        "REDIRECT_MAX_TIMES": settings.crawl_max_redirects,
        "DEPTH_LIMIT": settings.crawl_depth_limit,
        "CLOSESPIDER_PAGECOUNT": settings.crawl_max_pages,
        "CLOSESPIDER_TIMEOUT": settings.crawl_timeout_seconds,
        # Every page or link a bound stops is counted (crawler.limits, crawler.bodies).
        "DOWNLOADER_MIDDLEWARES": {
            **limits.DOWNLOADER_MIDDLEWARES,
            **bodies.DOWNLOADER_MIDDLEWARES,
            **address_guard.DOWNLOADER_MIDDLEWARES,
        },
        # Only public addresses, or those a source allows; connections use the checked address.
        "TWISTED_DNS_RESOLVER": address_guard.RESOLVER,
        "SPIDER_MIDDLEWARES": limits.SPIDER_MIDDLEWARES,
        # A worker's crawl stops when the pool process that started it is gone (PARENT_PID).
        "EXTENSIONS": {"crawler.orphan.StopWhenOrphaned": 500},
        "COOKIES_ENABLED": False,
        # No listening ports in a crawler process: neither the telnet console nor remote control.
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": settings.log_level,
        # Items logged by URL and size, never with the page's HTML (crawler.log_formatter).
        "LOG_FORMATTER": "crawler.log_formatter.PageLogFormatter",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "FEED_EXPORT_ENCODING": "utf-8",
    }
