"""The address guard: a crawl connects only to public addresses, or to those its source allows.

``AddressGuard`` (a downloader middleware, after Scrapy's proxy middleware) looks at every request
before it is downloaded: start pages, links, robots.txt, and every redirect target (a redirect is a
new request and passes through the downloader middlewares again). It resolves the request's host,
and the host of its HTTP proxy if it goes through one, and refuses the request (``IgnoreRequest``,
counted as ``newsdedup/refused/private_address``, logged as a warning naming the URL) when any of
their addresses is loopback, private, link-local, multicast, reserved or unspecified, unless the
source's ``allow_private`` lists it.

A name is resolved once per process and the connection uses what was checked: ``GuardedResolver``
(Scrapy's ``TWISTED_DNS_RESOLVER``) answers only from the addresses the guard resolved, so a DNS
answer that changes between the check and the connection (DNS rebinding) is never used, and a host
the guard has not seen cannot be reached at all.

A name that does not resolve here is not refused: without a proxy the download then fails as any
unknown name does; through a proxy the proxy resolves it, and only the proxy's own address is
checked (the demo's ``.example`` sites are reached this way, through a proxy on 127.0.0.1).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from twisted.internet.threads import deferToThread

from config.redact import redact_url
from crawler.addresses import IPAddress, Network, refusal, resolve

log = logging.getLogger(__name__)

REFUSED_STAT = "newsdedup/refused/private_address"
# After Scrapy's HttpProxyMiddleware (750), which sets the proxy a request goes through.
DOWNLOADER_MIDDLEWARES = {"crawler.address_guard.AddressGuard": 760}
RESOLVER = "crawler.address_guard.GuardedResolver"

# Every host name the guard resolved in this process, with its addresses (the first answer is kept).
_resolved: dict[str, tuple[IPAddress, ...]] = {}


async def addresses_of(host: str) -> tuple[IPAddress, ...]:
    """The host's addresses: resolved once per process, in a thread (the reactor does not wait)."""
    key = host.lower()
    known = _resolved.get(key)
    if known is not None:
        return known
    found: tuple[IPAddress, ...] = await maybe_deferred_to_future(deferToThread(resolve, key))
    if not found:
        return ()  # not kept: the name may resolve on a retry
    return _resolved.setdefault(key, found)


def allowed_networks(spider: Spider | None) -> tuple[Network, ...]:
    """The networks the spider's source allows (none for a spider without a source)."""
    source = getattr(spider, "source", None)
    return tuple(getattr(source, "allow_private", ()))


def first_refusal(host: str, addresses: Iterable[IPAddress], allowed: Iterable[Network]) -> str | None:
    """Why the host must not be reached ("169.254.169.254 is link-local"), or None if it may."""
    allowed = tuple(allowed)
    for address in addresses:
        reason = refusal(address, allowed)
        if reason is not None:
            shown = str(address) if str(address) == host else f"{host} resolves to {address}, which"
            return f"{shown} is {reason}"
    return None


class AddressGuard:
    """Downloader middleware: refuses requests to addresses that are not public (see the module)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuard:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        allowed = allowed_networks(self.crawler.spider)
        hosts = [("", urlsplit(request.url).hostname)]
        proxy = request.meta.get("proxy")
        if proxy:
            hosts.append(("proxy ", urlsplit(proxy if "://" in proxy else f"http://{proxy}").hostname))
        for role, host in hosts:
            if host:
                reason = first_refusal(host, await addresses_of(host), allowed)
                if reason is not None:
                    self.refuse(request, f"{role}{reason}")

    def refuse(self, request: Request, reason: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(REFUSED_STAT)
        redirects = request.meta.get("redirect_urls") or []
        origin = f" (redirected from {redact_url(redirects[-1])})" if redirects else ""
        log.warning(
            "refused %s%s: %s, and the source does not list it in allow_private",
            redact_url(request.url),
            origin,
            reason,
        )
        raise IgnoreRequest(f"address guard: {reason}")


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's DNS resolver (``TWISTED_DNS_RESOLVER``), answering only with an IPv4 address the guard
    resolved and checked for this host (Scrapy's default resolver connects over IPv4 only too); it
    never asks the DNS itself, so a host the guard has not checked is not found."""

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        ipv4 = [a for a in _resolved.get(name.lower(), ()) if a.version == 4]
        if not ipv4:
            return defer.fail(DNSLookupError(f"{name}: no IPv4 address checked by the address guard"))
        return defer.succeed(str(ipv4[0]))
