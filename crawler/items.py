"""The item every spider yields: one fetched page."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The response headers worth keeping: what the page is and when it changed.
KEPT_HEADERS = ("content-type", "content-language", "last-modified", "etag", "date")


@dataclass
class PageItem:
    """A fetched page as it goes to ``process_page`` (see ``newsdedup.service.page.Page``)."""

    url: str
    final_url: str
    status: int
    html: str
    fetched_at: str
    source: str
    headers: dict[str, str] = field(default_factory=dict)
    published_at: str | None = None

    def payload(self) -> dict[str, Any]:
        """The JSON message for the processing task."""
        return asdict(self)
