"""Reading an ingest file: one JSON document per line, each checked on its own.

A bad line (not UTF-8, not JSON, not a valid document) is reported with its line number and
skipped; the other lines are not affected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from newsdedup.service.page import BadPage, Page, parse_page


@dataclass(frozen=True)
class BadLine:
    """A line that is not a document, and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class PageLine:
    """A valid document, the JSON it came from, and its line number."""

    line: int
    page: Page
    payload: dict[str, object]


# The leading bytes of files that are not text, and what to call them.
_MAGIC = (
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"PK\x03\x04", "a zip archive"),
    (b"%PDF", "a PDF document"),
)
# Bytes a file's kind is judged from.
SNIFF_BYTES = 8192


def binary_kind(head: bytes) -> str | None:
    """What a file that starts with these bytes is, if it is not text (compressed, an archive,
    anything with NUL bytes); None for text."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return "a binary file" if b"\x00" in head[:SNIFF_BYTES] else None


def read_documents(stream: BinaryIO, max_bytes: int | None = None) -> Iterator[PageLine | BadLine]:
    """Every non-blank line of the stream, as a PageLine or a BadLine; a line of more than
    ``max_bytes`` is a BadLine before it is parsed (the crawl's page size cap, applied to ingest)."""
    for number, raw in enumerate(stream, start=1):
        if max_bytes is not None and len(raw) > max_bytes:
            yield BadLine(
                number, f"{len(raw):,} bytes, over the {max_bytes:,}-byte limit (CRAWL_MAX_PAGE_BYTES)"
            )
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield BadLine(number, f"not UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1})")
            continue
        if not line.strip():
            continue
        try:
            data = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as e:
            yield BadLine(number, f"not JSON: {e.msg} at column {e.colno}")
            continue
        try:
            page = parse_page(data)
        except BadPage as e:
            yield BadLine(number, str(e))
            continue
        yield PageLine(number, page, data)
