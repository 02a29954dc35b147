"""A page to process: what the crawler's pipeline and ``newsdedup ingest`` hand to ``process_page``.

It travels as JSON (a Celery message, an ingest line), so it is validated on arrival.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from w3lib.url import safe_url_string

# Control characters and lone surrogates: no URL, name or language code has them, and no database
# stores NUL or a lone surrogate. (Text fields are cleaned of them instead: see dedup.document.storable.)
_NOT_IN_NAMES = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def crawled_form(url: str) -> str:
    """The URL as a crawl stores it: dot segments resolved (as a link is joined), no fragment (never
    sent), then Scrapy's spelling (``w3lib.url.safe_url_string``: scheme and host in lower case,
    unsafe characters percent-encoded). ``HTTP://X.EXAMPLE/A/../b#top`` gives ``http://x.example/b``."""
    parts = urlsplit(url)
    path = urljoin("/", parts.path) if parts.path.startswith("/") else parts.path
    return safe_url_string(urlunsplit((parts.scheme, parts.netloc, path, parts.query, "")))


class BadPage(ValueError):
    """The page cannot be processed as given; the message says why in one line."""


class Page(BaseModel):
    """One fetched page, or one document of an ingest file."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    url: str = Field(min_length=1, max_length=2048)
    html: str | None = None
    text: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    language: str | None = Field(None, max_length=8)
    # Set by the crawler:
    final_url: str | None = Field(None, max_length=2048)
    status: int | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    fetched_at: datetime | None = None
    source: str | None = Field(None, max_length=64)

    @field_validator("url", "final_url", "source", "language")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and _NOT_IN_NAMES.search(value.strip()):
            raise ValueError(f"{value!r} contains control characters or lone surrogates")
        return value

    @field_validator("url")
    @classmethod
    def _absolute(cls, url: str) -> str:
        url = url.strip()
        parts = urlsplit(url)
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"{url!r} is not an absolute URL")
        if parts.scheme.lower() not in ("http", "https"):
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return crawled_form(url)

    @model_validator(mode="after")
    def _has_content(self) -> Page:
        if not (self.html and self.html.strip()) and not (self.text and self.text.strip()):
            raise ValueError("neither html nor text is given")
        return self


def parse_page(data: Any) -> Page:
    """The page in this JSON value, or BadPage naming the first problem."""
    if not isinstance(data, dict):
        raise BadPage(f"expected a JSON object, got {type(data).__name__}")
    try:
        return Page.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise BadPage(f"{field}: {message}" if field else message) from e
