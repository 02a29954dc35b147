"""Stable cluster ids: a cluster keeps the id that most of its members had.

When the clusters around a change are derived again, each new cluster takes the id held by most of its
members (ties to the lower id), the larger clusters choosing first and an id going to one cluster
only; a cluster whose members hold no free id gets a new one. The same rule tells an operator override
which new cluster an old one lives on in (``dedup.overrides``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence


def most_held(labels: Iterable[int]) -> int | None:
    """The label that occurs most often (ties to the lowest), or None if there is none."""
    held = Counter(labels)
    return min(held, key=lambda label: (-held[label], label)) if held else None


def keep_ids(
    clusters: Sequence[frozenset[int]], held: Mapping[int, int | None], moved: int | None = None
) -> list[int | None]:
    """The id each cluster keeps (None: it needs a new one), given the id each member ``held`` before.
    ``moved``, an article whose text just changed, has no say: an article that leaves its story does
    not take the story's id along."""
    ids: list[int | None] = [None] * len(clusters)
    taken: set[int] = set()
    for i in sorted(range(len(clusters)), key=lambda i: (-len(clusters[i]), min(clusters[i]))):
        kept = most_held(
            c for n in clusters[i] if n != moved and (c := held.get(n)) is not None and c not in taken
        )
        if kept is not None:
            ids[i] = kept
            taken.add(kept)
    return ids
