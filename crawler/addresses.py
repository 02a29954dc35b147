"""Which IP addresses a crawl may connect to: public ones, and those a source allows.

Pure functions over :mod:`ipaddress`, plus :func:`resolve` (every address of a host name, as the
system resolver gives them).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# IPv6 prefixes that carry an IPv4 address in their last 32 bits: the well-known NAT64 prefix
# (RFC 6052) reaches the IPv4 address through a translator.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Blocks that the ipaddress module of some Python versions counts as global, but that no public
# web server lives in: IETF protocol assignments, and the deprecated IPv6 site-local block.
_NOT_PUBLIC = (ipaddress.IPv4Network("192.0.0.0/24"), ipaddress.IPv6Network("fec0::/10"))


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64, 6to4), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def non_public_reason(address: IPAddress) -> str | None:
    """Why a crawl must not connect to the address ("loopback", "private", "link-local", ...), or
    None for a public address. An IPv6 address carrying an IPv4 one is judged by both."""
    inner = embedded_ipv4(address)
    if inner is not None and (reason := non_public_reason(inner)) is not None:
        return reason
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved and inner is None:
        return "reserved"
    if not address.is_global or any(address in block for block in _NOT_PUBLIC):
        return "not globally routable"
    return None


def refusal(address: IPAddress, allowed: Iterable[Network]) -> str | None:
    """Why the address is refused ("link-local", ...), or None when it is public or allowed."""
    reason = non_public_reason(address)
    if reason is None:
        return None
    inner = embedded_ipv4(address)
    for network in allowed:
        if address in network or (inner is not None and inner in network):
            return None
    return reason


def resolve(host: str) -> tuple[IPAddress, ...]:
    """Every address of the host (an IP literal is its own address); () if it does not resolve."""
    literal = ip_literal(host)
    if literal is not None:
        return (literal,)
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # socket.gaierror is an OSError
        return ()
    found: dict[IPAddress, None] = {}
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            found[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    return tuple(found)


def ip_literal(host: str) -> IPAddress | None:
    """The address if the host is written as one (``10.0.0.1``, ``::1``), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
