"""What every source spider shares: its source, and turning a response into a PageItem."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from scrapy import Spider
from scrapy.http import Response, TextResponse

from config import Source
from crawler.items import KEPT_HEADERS, PageItem

_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


class SourceSpider(Spider):
    """A spider bound to one source of the sources file (set on the subclass the loader makes)."""

    source: ClassVar[Source]

    def page_item(self, response: Response, published_at: str | None = None) -> Iterator[PageItem]:
        """The page as an item, if it is an HTML page; other responses are counted and skipped."""
        content_type = response.headers.get(b"Content-Type", b"") or b""
        if not isinstance(response, TextResponse) or not content_type.lower().startswith(_HTML_TYPES):
            self.crawler.stats.inc_value("newsdedup/skipped_not_html")
            return
        redirects: list[str] = response.meta.get("redirect_urls", [])
        yield PageItem(
            url=redirects[0] if redirects else response.url,
            final_url=response.url,
            status=response.status,
            html=response.text,
            fetched_at=datetime.now(UTC).isoformat(),
            source=self.source.name,
            headers=_kept_headers(response),
            published_at=published_at,
        )


def _kept_headers(response: Response) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name in KEPT_HEADERS:
        value: Any = response.headers.get(name.encode())
        if value:
            kept[name] = value.decode("latin-1")
    return kept
