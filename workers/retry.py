"""When to try a page again after the database or Redis was away: exponential backoff with jitter,
for an outage of bounded length.

The wait before retry ``n`` (0-based) has the ceiling ``min(cap, 2**n)`` seconds and is a random
value between half the ceiling and all of it ("equal jitter"): pages that failed together do not all
come back at the same moment, and the wait is never shorter than half its ceiling, so the number of
retries that covers an outage of a given length is known in advance.
"""

from __future__ import annotations

import random


def ceiling(retries: int, cap: float) -> float:
    """The longest wait before retry number ``retries`` (0 for the first)."""
    return min(cap, 2.0 ** min(retries, 64))


def backoff_seconds(retries: int, cap: float, rng: random.Random | None = None) -> float:
    """The wait before retry number ``retries``: between half its ceiling and the ceiling."""
    top = ceiling(retries, cap)
    return top / 2 + (rng or random).uniform(0.0, top / 2)


def retries_for(outage_seconds: float, cap: float) -> int:
    """The fewest retries whose waits add up to at least ``outage_seconds`` even when every wait is
    the shortest it can be (half its ceiling)."""
    waited, retries = 0.0, 0
    while waited < outage_seconds and ceiling(retries, cap) < cap:
        waited += ceiling(retries, cap) / 2
        retries += 1
    if waited < outage_seconds:
        # From here on every wait is at least cap / 2.
        steps = -(-(outage_seconds - waited) // (cap / 2))
        retries += int(steps)
    return retries
