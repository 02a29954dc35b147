"""Union-find over article ids, and the connected groups it gives."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


class UnionFind:
    """Union-find over ids; the root of a set is its smallest id."""

    def __init__(self, nodes: Iterable[int]) -> None:
        self.parent = {n: n for n in nodes}

    def find(self, n: int) -> int:
        while self.parent[n] != n:
            self.parent[n] = self.parent[self.parent[n]]
            n = self.parent[n]
        return n

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> dict[int, frozenset[int]]:
        """Each set, by its root."""
        found: defaultdict[int, set[int]] = defaultdict(set)
        for n in self.parent:
            found[self.find(n)].add(n)
        return {root: frozenset(members) for root, members in sorted(found.items())}


def components(nodes: Iterable[int], edges: Iterable[tuple[int, int]]) -> UnionFind:
    """The connected components of ``nodes`` over the edges between them (others are ignored)."""
    found = UnionFind(nodes)
    for a, b in edges:
        if a in found.parent and b in found.parent:
            found.union(a, b)
    return found
