"""What autoblogs leave around a copied story, and how to take it off.

Reposting plugins wrap the copied text in ad shortcodes (``[ad_1]`` ... ``[ad_2]``), end it with an
attribution trailer (``Source link``, ``Source: Site``, ``Read more at Site``), and interleave
share-button labels, cookie notices and ``ALSO READ: <other headline>`` lines. None of that is
the story, and all of it is shared between unrelated posts of one site, so it must not reach
the shingles.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

# WordPress-style shortcodes: [ad_1], [/ad], [adinserter block="3"], [the_ad id="12"].
_SHORTCODE = re.compile(r"\[/?[a-z][a-z0-9_-]*(?:\s+[^\[\]\n]{0,80})?\]")
_AD_SHORTCODE = re.compile(r"\[/?ad[s]?(?:[_-]?\d+)?\]", re.IGNORECASE)

# A line that attributes the text to its origin; only ever short.
_ATTRIBUTION = re.compile(
    # a label alone or followed by a colon: "Source link", "Source: Site", "Quelle: Site"
    r"^(?:source\s+link|sources?|via|quelle|original(?:\s+article)?|sumber|fuente|источник|来源|出典|zdroj)"
    r"\s*(?:[:\uff1a\-\u2013\u2014]|$)"
    # or a phrase sending the reader elsewhere: "Read more at Site", "Weiterlesen bei Site"
    r"|^(?:read\s+more|read\s+the\s+(?:full|original)\s+(?:story|article)|continue\s+reading|"
    r"originally\s+published|weiterlesen|mehr\s+dazu)\s+(?:at|on|in|by|bei|auf)\b",
    re.IGNORECASE,
)
_ATTRIBUTION_MAX_CHARS = 120

# A line that points the reader at another post of the same site.
_INTERSTITIAL = re.compile(
    r"^(?:also read|read also|read more|see also|related|related posts?|recommended|"
    r"lesen sie auch|auch interessant|das könnte sie auch interessieren|baca juga)\s*[:\uff1a\-\u2013\u2014]",
    re.IGNORECASE,
)
_INTERSTITIAL_MAX_CHARS = 240

# A heading that opens a block of other stories' teasers.
_RELATED_HEADING = re.compile(
    r"(?:related(?: posts?| articles?| stories)?|you (?:may|might) also like|read (?:also|more|next)|"
    r"more (?:stories|news|from \S+)|recommended(?: for you)?|latest (?:posts|news)|"
    r"lesen sie auch|das könnte sie auch interessieren|mehr zum thema|weitere artikel|baca juga|"
    r"artikel terkait|berita terkait)\s*:?",
    re.IGNORECASE,
)

_SHARE_WORDS = frozenset(
    (
        "share shares sharing this on via tweet print email e-mail facebook twitter x whatsapp telegram "
        "pinterest linkedin reddit tumblr messenger copy link teilen drucken bagikan ini compartir "
        "partager поделиться"
    ).split()
)
_COOKIE = re.compile(r"\bcookies?\b", re.IGNORECASE)
_COOKIE_MAX_CHARS = 400
# Longer than any address a database column or a browser keeps: not a real source link.
_MAX_URL_CHARS = 2048


def strip_residue(text: str) -> str:
    """The story without shortcodes, attribution trailers, share labels and interstitial links.

    A story ends at its attribution trailer or at a "Related posts" heading in its second half:
    what follows those is other stories' teasers, not this one.
    """
    lines = [_strip_shortcodes(line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not _is_chrome_line(line)]
    for i in range(len(lines) - 1, len(lines) // 2 - 1, -1):
        if i > 0 and (_is_attribution(lines[i]) or _RELATED_HEADING.fullmatch(lines[i])):
            del lines[i:]
    while lines and _is_attribution(lines[-1]):
        lines.pop()
    return "\n".join(lines)


def _strip_shortcodes(line: str) -> str:
    line = _AD_SHORTCODE.sub(" ", line)
    if _SHORTCODE.fullmatch(line.strip()):
        return ""
    return line


def _is_attribution(line: str) -> bool:
    return len(line) <= _ATTRIBUTION_MAX_CHARS and _ATTRIBUTION.match(line) is not None


def _is_chrome_line(line: str) -> bool:
    if len(line) <= _INTERSTITIAL_MAX_CHARS and _INTERSTITIAL.match(line):
        return True
    if len(line) <= _COOKIE_MAX_CHARS and _COOKIE.search(line):
        return True
    words = re.findall(r"\w+(?:-\w+)?", line.casefold())
    return bool(words) and len(words) <= 8 and all(w in _SHARE_WORDS or w.isdigit() for w in words)


def claimed_origin(tree: HtmlElement, page_url: str | None) -> str | None:
    """The URL that an attribution link (``Source link``, ``Source: X``, ``Read more at X``) points at.

    Only links to another host count: a site's links to itself are navigation. The last such link
    wins, since trailers come after the story.
    """
    page_host = _host(page_url) if page_url else None
    found: str | None = None
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        target = urljoin(page_url or "", href)
        if len(target) > _MAX_URL_CHARS:
            continue
        host = _host(target)
        if not host or host == page_host:
            continue
        parent = anchor.getparent()
        context = " ".join((parent.text_content() if parent is not None else anchor.text_content()).split())
        if _is_attribution(context) or _is_attribution(" ".join(anchor.text_content().split())):
            found = target
    return found


def _host(url: str) -> str | None:
    host = urlsplit(url).hostname
    if host is None:
        return None
    return host.removeprefix("www.")
