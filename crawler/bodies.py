"""What a text response's body really is: text in the right charset, or binary data to drop.

Pages lie about their charset (UTF-8 bytes under ``<meta charset="iso-8859-1">``, Windows-1252 bytes
under ``charset=utf-8``) and about their type (a PNG or random bytes as ``text/html``). This
downloader middleware reads each text response with the charset its bytes fit, counting each
correction as ``newsdedup/charset_corrected``, and drops a body that is binary data
(``newsdedup/dropped/binary``, see ``dedup.document.binary_reason``).
"""

from __future__ import annotations

import codecs

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse

from crawler.limits import BINARY, count_drop
from dedup.document import binary_reason

CHARSET_CORRECTED = "newsdedup/charset_corrected"
# Bytes in no charset at all (neither what the page declares nor UTF-8) are read as Windows-1252,
# the HTML standard's fallback for legacy pages: every byte is some character.
FALLBACK = "cp1252"


def body_encoding(body: bytes, declared: str) -> str:
    """The charset to read the body with: UTF-8 when the body is UTF-8 with some non-ASCII (legacy
    text almost never is), else the declared charset if the body fits it, else Windows-1252."""
    if not body.isascii() and _fits(body, "utf-8"):
        return "utf-8"
    if _fits(body, declared):
        return declared
    return FALLBACK


def _fits(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _same(a: str, b: str) -> bool:
    try:
        return codecs.lookup(a).name == codecs.lookup(b).name
    except LookupError:
        return False


class BodyCheck:
    """Downloader middleware on the engine side of decompression: a text response comes out in the
    charset its bytes fit, or not at all if it is binary data."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BodyCheck:
        return cls(crawler)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if not isinstance(response, TextResponse) or not response.body:
            return response
        encoding = body_encoding(response.body, response.encoding)
        corrected = not _same(encoding, response.encoding)
        if corrected:
            response = response.replace(encoding=encoding)
            assert isinstance(response, TextResponse)  # replace keeps the class
        reason = binary_reason(response.text)
        if reason is not None:
            count_drop(self.crawler.stats, BINARY, response.url, reason)
            raise IgnoreRequest(reason)
        if corrected and self.crawler.stats is not None:
            self.crawler.stats.inc_value(CHARSET_CORRECTED)
        return response


# On the engine side of HttpCompressionMiddleware (590) and RetryMiddleware (550): bodies are
# looked at once decompressed, and an error page is retried before its body is judged.
DOWNLOADER_MIDDLEWARES = {"crawler.bodies.BodyCheck": 545}
