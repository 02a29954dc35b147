"""URL comparison: two spellings of one page's address compare equal."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

_TRACKING_PREFIX = "utm_"
_TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "mc_cid", "mc_eid", "igshid", "ref", "ref_src", "amp", "outputtype"}
)


def site(url: str) -> str:
    """The site a URL belongs to: its host in lower case without a leading ``www.`` or a trailing dot,
    and its port unless 80 or 443 (two sites served on one address are two sites). Empty for a URL
    without a host."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".").removeprefix("www.")
    try:
        port = parts.port
    except ValueError:  # a port out of range or not a number: the host alone
        port = None
    return f"{host}:{port}" if host and port and port not in (80, 443) else host


def normalize_url(url: str) -> str:
    """Site (``site``), then the path, without scheme, fragment, tracking parameters or trailing slash.

    ``https://www.Site.com/a/?utm_source=x#top`` and ``http://site.com/a`` both give ``site.com/a``.
    """
    parts = urlsplit(url.strip())
    host = site(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (k.lower().startswith(_TRACKING_PREFIX) or k.lower() in _TRACKING)
    ]
    path = parts.path.rstrip("/") or ""
    return host + path + (f"?{urlencode(sorted(query))}" if query else "")
