"""URL comparison: two spellings of one page's address compare equal."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

_TRACKING_PREFIX = "utm_"
_TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "mc_cid", "mc_eid", "igshid", "ref", "ref_src", "amp", "outputtype"}
)


def normalize_url(url: str) -> str:
    """Host without ``www.``, no scheme, fragment, tracking parameters or trailing slash.

    ``https://www.Site.com/a/?utm_source=x#top`` and ``http://site.com/a`` both give ``site.com/a``.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (k.lower().startswith(_TRACKING_PREFIX) or k.lower() in _TRACKING)
    ]
    path = parts.path.rstrip("/") or ""
    return host + path + (f"?{urlencode(sorted(query))}" if query else "")
