"""Scrapy's spider loader for newsdedup: one spider per source, named after the source.

``scrapy list`` prints the sources; ``scrapy crawl NAME`` crawls the source NAME with the
spider of its kind.
"""

from __future__ import annotations

import builtins
from typing import Any

from scrapy import Request, Spider
from scrapy.settings import BaseSettings

from config import Settings, Source, load_sources
from crawler.spiders.base import SourceSpider
from crawler.spiders.feed import FeedSpider
from crawler.spiders.site import SiteSpider
from crawler.spiders.sitemap import SitemapSpider

SPIDER_KINDS: dict[str, type[SourceSpider]] = {
    "feed": FeedSpider,
    "sitemap": SitemapSpider,
    "site": SiteSpider,
}


def spider_for(source: Source) -> type[SourceSpider]:
    """A spider class for the source: the class of its kind, with its name, URLs and domains."""
    base = SPIDER_KINDS[source.kind]
    attributes: dict[str, Any] = {
        "name": source.name,
        "source": source,
        "allowed_domains": list(source.allowed_domains),
        "start_urls": list(source.start_urls),
        "__module__": base.__module__,
    }
    if source.kind == "sitemap":
        attributes["sitemap_urls"] = list(source.start_urls)
    return type(f"{base.__name__}_{source.name}", (base,), attributes)


class SourceSpiderLoader:
    """Spiders from the sources file of the ``SERVICE_SETTINGS`` Scrapy setting (the newsdedup settings)."""

    def __init__(self, sources: list[Source]) -> None:
        self._spiders = {s.name: spider_for(s) for s in sources}

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> SourceSpiderLoader:
        service: Settings = settings["SERVICE_SETTINGS"]
        return cls(load_sources(service.sources))

    def load(self, spider_name: str) -> type[Spider]:
        try:
            return self._spiders[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None

    def list(self) -> list[str]:
        return sorted(self._spiders)

    def find_by_request(self, request: Request) -> builtins.list[str]:
        return [name for name, spider in self._spiders.items() if spider.handles_request(request)]
