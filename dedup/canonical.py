"""Which member of a cluster is its canonical version.

The rule, in order:
1. a page from an original-publisher source;
2. else the page that the other members' source links point at (the most pointed-at);
3. else the earliest published (pages without a date count as published last);
then the earliest fetched, then the lowest id, so that the choice never depends on order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dedup.urls import normalize_url

_NEVER = datetime.max


@dataclass(frozen=True)
class Member:
    """What the canonical choice needs to know about one article of a cluster."""

    id: int
    url: str
    final_url: str | None
    publisher: bool
    claimed_source_url: str | None
    published_at: datetime | None
    fetched_at: datetime | None


def choose_canonical(members: Sequence[Member]) -> Member:
    """The canonical member by the rule above. ``members`` must not be empty."""
    if not members:
        raise ValueError("a cluster without members has no canonical version")
    pointed_at = Counter(normalize_url(m.claimed_source_url) for m in members if m.claimed_source_url)

    def inbound(member: Member) -> int:
        addresses = {normalize_url(member.url)}
        if member.final_url:
            addresses.add(normalize_url(member.final_url))
        own = normalize_url(member.claimed_source_url) if member.claimed_source_url else None
        return sum(n for address, n in pointed_at.items() if address in addresses and address != own)

    def key(member: Member) -> tuple[bool, int, datetime, datetime, int]:
        return (
            not member.publisher,
            -inbound(member),
            _naive(member.published_at),
            _naive(member.fetched_at),
            member.id,
        )

    return min(members, key=key)


def _naive(moment: datetime | None) -> datetime:
    # Stored times are UTC; some databases hand them back without tzinfo. Compare them naive.
    return _NEVER if moment is None else moment.replace(tzinfo=None)
