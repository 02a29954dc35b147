"""Sitemap spider: Scrapy's SitemapSpider over the source's sitemaps (index files and robots.txt too)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response
from scrapy.spiders import SitemapSpider as ScrapySitemapSpider

from crawler.items import PageItem
from crawler.spiders.base import SourceSpider


class SitemapSpider(SourceSpider, ScrapySitemapSpider):
    """Fetches every page that the sitemaps in ``start_urls`` list."""

    def parse(self, response: Response, **kwargs: Any) -> Iterator[PageItem]:
        yield from self.page_item(response)
