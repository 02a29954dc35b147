"""Bounds on what one page may cost a crawl, and a count of every page or link a bound stopped.

Scrapy enforces the bounds (``DOWNLOAD_MAXSIZE`` on the wire and, in ``HttpCompressionMiddleware``,
once decompressed; ``DOWNLOAD_TIMEOUT``; ``REDIRECT_MAX_TIMES``; ``DEPTH_LIMIT``) but drops most of
what they stop without a stat. The middlewares here count each drop in the crawl's stats as
``newsdedup/dropped/<reason>`` and log it as one warning line; the crawl goes on. Redirect loops are
stopped at the first URL that comes round again, not after ``REDIRECT_MAX_TIMES`` redirects.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.depth import DepthMiddleware
from scrapy.statscollectors import StatsCollector

log = logging.getLogger(__name__)

DROPPED = "newsdedup/dropped/"

# The reasons, as the stats name them.
TOO_BIG = "too_big"  # larger than DOWNLOAD_MAXSIZE on the wire (announced or received)
DECOMPRESSED_TOO_BIG = "decompressed_too_big"  # a compression bomb: over DOWNLOAD_MAXSIZE once inflated
TIMEOUT = "timeout"  # not received within DOWNLOAD_TIMEOUT, on every try
REDIRECT_LOOP = "redirect_loop"  # a redirect back to a URL of its own chain
TOO_MANY_REDIRECTS = "too_many_redirects"  # more than REDIRECT_MAX_TIMES redirects
TOO_DEEP = "too_deep"  # a link beyond DEPTH_LIMIT, not followed
BINARY = "binary"  # a body that is not text (crawler.bodies)


def count_drop(stats: StatsCollector | None, reason: str, url: str, detail: str) -> None:
    """Count one drop under its reason and say so in the log."""
    if stats is not None:
        stats.inc_value(DROPPED + reason)
    log.warning("dropped %s (%s): %s", url, reason, detail)


def dropped(stats: dict[str, Any]) -> dict[str, int]:
    """The drop counts of a crawl's stats, by reason."""
    return {key.removeprefix(DROPPED): n for key, n in sorted(stats.items()) if key.startswith(DROPPED)}


class FailedDownloads:
    """Counts the downloads that failed for a bound: too big, too slow. Sits on the engine side of
    Scrapy's RetryMiddleware, so a timeout counts once, after the last try."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FailedDownloads:
        return cls(crawler)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, DownloadCancelledError):
            count_drop(self.crawler.stats, TOO_BIG, request.url, f"over DOWNLOAD_MAXSIZE: {exception}")
        elif isinstance(exception, DownloadTimeoutError):
            count_drop(self.crawler.stats, TIMEOUT, request.url, str(exception))


class CountedHttpCompression(HttpCompressionMiddleware):
    """Scrapy's decompression, which stops inflating at DOWNLOAD_MAXSIZE; counts what it stops."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as e:
            count_drop(self.stats, DECOMPRESSED_TOO_BIG, request.url, str(e))
            raise


class CountedRedirect(RedirectMiddleware):
    """Scrapy's redirects, with loops stopped at once and both kinds of drop counted."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        try:
            result = super().process_response(request, response)
        except IgnoreRequest:
            detail = f"more than {self.max_redirect_times} redirects"
            count_drop(self.crawler.stats, TOO_MANY_REDIRECTS, request.url, detail)
            raise
        chain = (*request.meta.get("redirect_urls", []), request.url)
        if isinstance(result, Request) and result.url in chain:
            count_drop(self.crawler.stats, REDIRECT_LOOP, request.url, f"redirects back to {result.url}")
            raise IgnoreRequest(f"redirect loop back to {result.url}")
        return result


class CountedDepth(DepthMiddleware):
    """Scrapy's depth limit (the bound on a spider trap such as an endless calendar); counts the
    links it does not follow."""

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        processed = super().get_processed_request(request, response)
        if processed is None:
            self.stats.inc_value(DROPPED + TOO_DEEP)
        return processed


# Replacing Scrapy's own middlewares at their places, and adding the failure count on the engine
# side of RetryMiddleware (550).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.limits.CountedHttpCompression": 590,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.limits.CountedRedirect": 600,
    "crawler.limits.FailedDownloads": 540,
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "crawler.limits.CountedDepth": 900,
}
