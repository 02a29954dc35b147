"""From links between articles to clusters: a deterministic function of the link graph.

Every pair of stored articles that tell the same story is linked (see ``dedup.overlap``). The
clusters of a set of articles follow from their links alone, so they do not depend on the order
in which the articles arrived, nor on whether they came in one batch or in several.

The rule:
- Articles joined by links form one cluster (connected components): a copy of a copy is a copy,
  and an article that is a copy of two clusters' articles merges them.
- Except spliced posts. An article that *contains* two texts which are disjoint (share under
  ``max_overlap`` of their shingles either way) and which would be in different clusters without
  it is a splice of two stories, e.g. two live-blog posts in one. It does not merge them: it joins
  the cluster it shares the most with (highest Jaccard) and is linked as *related* to the others.
  Copies of one splice (each holding ``min_containment`` of the other) count as one splice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Link:
    """Two articles that tell the same story, with their exact overlap."""

    a: int
    b: int
    jaccard: float
    a_in_b: float
    b_in_a: float


@dataclass
class Partition:
    """Clusters (sets of article ids, by smallest id) and, per spliced article, its related clusters
    (indexes into ``clusters``)."""

    clusters: list[frozenset[int]]
    related: dict[int, frozenset[int]] = field(default_factory=dict)


class UnionFind:
    """Union-find over article ids."""

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


def partition(
    nodes: Iterable[int],
    links: Iterable[Link],
    disjoint: Callable[[int, int], bool],
    min_containment: float,
) -> Partition:
    """The clusters of ``nodes`` by the rule above. ``disjoint(x, y)`` tells whether two unlinked
    articles share (almost) nothing."""
    node_set = set(nodes)
    nodes = sorted(node_set)
    links = [link for link in links if link.a in node_set and link.b in node_set]
    linked: defaultdict[int, set[int]] = defaultdict(set)
    contained: defaultdict[int, set[int]] = defaultdict(set)  # container -> its parts
    jaccard: dict[tuple[int, int], float] = {}
    for link in links:
        linked[link.a].add(link.b)
        linked[link.b].add(link.a)
        jaccard[link.a, link.b] = jaccard[link.b, link.a] = link.jaccard
        if link.a_in_b >= min_containment:
            contained[link.b].add(link.a)
        if link.b_in_a >= min_containment:
            contained[link.a].add(link.b)

    def holds_disjoint_parts(y: int) -> bool:
        parts = sorted(contained[y])
        return any(
            x2 not in linked[x1] and disjoint(x1, x2) for i, x1 in enumerate(parts) for x2 in parts[i + 1 :]
        )

    suspects = {y for y in nodes if holds_disjoint_parts(y)}
    while True:
        base = _components([n for n in nodes if n not in suspects], links)
        # Copies of one splice (each holding most of the other) are one unit; two splices that
        # share only one of their stories are not.
        units = _components(
            sorted(suspects), [k for k in links if min(k.a_in_b, k.b_in_a) >= min_containment]
        )
        cleared: set[int] = set()
        for unit in _groups(units, suspects):
            if len({base.find(x) for y in unit for x in contained[y] if x not in suspects}) < 2:
                cleared |= unit
        if not cleared:
            break
        suspects -= cleared

    clusters: dict[int, set[int]] = {
        root: set() for root in (base.find(n) for n in nodes if n not in suspects)
    }
    for n in nodes:
        if n not in suspects:
            clusters[base.find(n)].add(n)
    homes: dict[int, tuple[int, frozenset[int]]] = {}
    for unit in _groups(units, suspects):
        parts = {base.find(x) for y in unit for x in contained[y] if x not in suspects}
        neighbours = {base.find(x) for y in unit for x in linked[y] if x not in suspects}

        def share(root: int, unit: frozenset[int] = unit) -> tuple[float, int]:
            best = max(
                (
                    jaccard[y, x]
                    for y in unit
                    for x in linked[y]
                    if x not in suspects and base.find(x) == root
                ),
                default=0.0,
            )
            return best, -root

        home = max(sorted(neighbours), key=share)
        homes.update({y: (home, frozenset(parts - {home})) for y in unit})
    for y, (home, _) in homes.items():
        clusters[home].add(y)

    ordered = sorted(clusters, key=lambda root: min(clusters[root]))
    position = {root: i for i, root in enumerate(ordered)}
    return Partition(
        clusters=[frozenset(clusters[root]) for root in ordered],
        related={y: frozenset(position[r] for r in others) for y, (_, others) in homes.items() if others},
    )


def _components(nodes: list[int], links: Iterable[Link]) -> UnionFind:
    components = UnionFind(nodes)
    for link in links:
        if link.a in components.parent and link.b in components.parent:
            components.union(link.a, link.b)
    return components


def _groups(components: UnionFind, members: Iterable[int]) -> list[frozenset[int]]:
    grouped: defaultdict[int, set[int]] = defaultdict(set)
    for n in members:
        grouped[components.find(n)].add(n)
    return [frozenset(grouped[root]) for root in sorted(grouped)]
