"""Feed spider: RSS 2.0, RSS 1.0 (RDF) and Atom feeds; every entry's link is a page to fetch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, Selector
from scrapy.http import Response, TextResponse

from crawler.items import PageItem
from crawler.spiders.base import SourceSpider


class FeedSpider(SourceSpider):
    """Fetches the feeds in ``start_urls`` and the page behind each entry."""

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Request]:
        if not isinstance(response, TextResponse):
            self.logger.error("%s is not a feed (no text in the response)", response.url)
            return
        selector = Selector(response, type="xml")
        selector.remove_namespaces()
        entries = selector.xpath("//item | //entry")
        if not entries:
            self.logger.error("%s is not an RSS or Atom feed (no <item> or <entry>)", response.url)
            self.crawler.stats.inc_value("newsdedup/feeds_without_entries")
            return
        for entry in entries:
            link = (
                entry.xpath("link[not(@rel) or @rel='alternate']/@href").get()
                or entry.xpath("link/text()").get()
                or entry.xpath("guid[not(@isPermaLink='false')]/text()").get()
            )
            if not link or not link.strip():
                continue
            published = feed_date(entry.xpath("pubDate/text() | published/text() | date/text()").get())
            yield response.follow(
                link.strip(), callback=self.parse_page, cb_kwargs={"published_at": published}
            )

    def parse_page(self, response: Response, published_at: str | None = None) -> Iterator[PageItem]:
        yield from self.page_item(response, published_at=published_at)


def feed_date(value: str | None) -> str | None:
    """A feed's RFC 822 (RSS) or ISO-8601 (Atom) date as ISO-8601 UTC, or None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()
