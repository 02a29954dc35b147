"""Site spider: follows links within the source's domains from its start pages, and keeps the
pages that present themselves as articles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule

from crawler.items import PageItem
from crawler.spiders.base import SourceSpider

_ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "blogposting",
    "liveblogposting",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "report",
}


class SiteSpider(SourceSpider, CrawlSpider):
    """Link-following crawl; the depth and page limits come from the settings."""

    rules = (Rule(LinkExtractor(), callback="parse_page", follow=True),)

    def parse_start_url(self, response: Response, **kwargs: Any) -> Iterator[PageItem]:
        return self.parse_page(response)

    def parse_page(self, response: Response) -> Iterator[PageItem]:
        if is_article(response):
            yield from self.page_item(response)
        else:
            self.crawler.stats.inc_value("newsdedup/skipped_not_article")


def is_article(response: Response) -> bool:
    """Does the page say it is an article: Open Graph type, schema.org type, or one <article>?"""
    if not isinstance(response, TextResponse):
        return False
    og_type = response.xpath("//meta[@property='og:type']/@content").get()
    if og_type is not None:
        return og_type.strip().lower() == "article"
    for block in response.xpath("//script[@type='application/ld+json']/text()").getall():
        if _ld_types(block) & _ARTICLE_TYPES:
            return True
    return len(response.xpath("//article")) == 1


def _ld_types(block: str) -> set[str]:
    try:
        data = json.loads(block)
    except ValueError:
        return set()
    found: set[str] = set()
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            kind = node.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            found.update(k.lower() for k in kinds if isinstance(k, str))
            stack.extend(node.get("@graph", []) if isinstance(node.get("@graph"), list) else [])
    return found
