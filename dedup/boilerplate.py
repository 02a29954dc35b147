"""A line repeated verbatim on many pages of one host is the site's, not the story's.

Phrase lists (``dedup.residue``) know the residue that every site leaves in the same words: "Source:",
"Read also", share buttons, cookie notices. What each site writes in its own words they cannot know: its
sidebar headings, newsletter boxes ("Get the Morning Brief in your inbox every weekday"), bylines and
staff boxes, "Follow us on Telegram" lines, disclaimers. Such a line comes back, word for word, on page
after page of one host, while a story's lines do not; so a line that the host's stored pages carry on at
least a minimum number of them is dropped from the text before it is shingled.

This module is the pure part: the key of each line, and the text without the lines found repeated. Which
stored pages of a host carry which line is kept in the database (``storage.boilerplate``), and processing
decides with it (``newsdedup.service.boilerplate``).

A line's key is its xxh3_64 hash (seed 0: stable across processes, machines and versions) of the UTF-8
bytes of the line stripped and with its runs of white space collapsed to one space, case kept (the
line is compared verbatim), masked to 63 bits so that it is never negative and fits a signed BIGINT
column on every database. Only non-empty lines of at most ``max_chars`` characters have a key: a long
paragraph that repeats is quoted story, not chrome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set

import xxhash

from dedup.urls import site

_KEY_MASK = (1 << 63) - 1


def _key(line: str, max_chars: int) -> int | None:
    normal = " ".join(line.split())
    if not normal or len(normal) > max_chars:
        return None
    return xxhash.xxh3_64_intdigest(normal.encode("utf-8")) & _KEY_MASK


def line_keys(text: str, max_chars: int) -> list[int]:
    """The keys of the distinct lines of the text (split on "\\n") that are non-empty and at most
    ``max_chars`` characters long once stripped and white-space-collapsed, in order of first occurrence."""
    keys: dict[int, None] = {}
    for line in text.split("\n"):
        key = _key(line, max_chars)
        if key is not None:
            keys.setdefault(key)
    return list(keys)


def drop_lines(text: str, repeated: Set[int], max_chars: int) -> str:
    """The text without the lines whose key (as ``line_keys`` gives it) is in ``repeated``. The other
    lines are kept as they are, in order (lines longer than ``max_chars``, and empty ones, always)."""
    if not repeated:
        return text
    return "\n".join(line for line in text.split("\n") if _key(line, max_chars) not in repeated)


def host_of(url: str) -> str:
    """The site of the URL (``dedup.urls.site``: lower case, no leading ``www.`` or trailing dot, the
    port unless 80 or 443), the unit the counts are kept per. Empty for a URL without a host."""
    return site(url)


def lines_to_record(keys: Sequence[int], elsewhere: Mapping[int, int], min_pages: int) -> list[int]:
    """Of a page's line keys, those whose rows it records: the lines that at most ``min_pages`` other
    pages of its host carry (``elsewhere``: key to pages). A line past that mark is boilerplate already;
    its rows stop there, so counting them never reads more than ``min_pages`` + 1 rows a line."""
    return [key for key in keys if elsewhere.get(key, 0) <= min_pages]


def lines_made_boilerplate(keys: Sequence[int], elsewhere: Mapping[int, int], min_pages: int) -> list[int]:
    """Of a page's line keys, the lines it makes boilerplate: exactly ``min_pages`` other pages of its
    host carry them, so with this page they are past the mark. The pages stored with them before are to
    be cleaned of them."""
    return [key for key in keys if elsewhere.get(key, 0) == min_pages]
