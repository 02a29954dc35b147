"""From links between articles to clusters: a deterministic function of the link graph.

Every pair of stored articles that tell the same story is linked (see ``dedup.overlap``). The
clusters of a set of articles follow from their links alone, so they do not depend on the order
in which the articles arrived, nor on whether they came in one batch or in several.

The rule:
- Articles joined by same-language links form one cluster (connected components): a copy of a copy is a copy,
  and an article that is a copy of two clusters' articles merges them.
- Translations join differently (see ``_attach_translations``): each cluster joins the one other
  cluster it has the best translation link with.
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
    """Two articles that tell the same story: in one language with their exact overlap, or in two
    (a translation) with its evidence score."""

    a: int
    b: int
    jaccard: float
    a_in_b: float
    b_in_a: float
    translation: float | None = None


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
    min_translation: float = 1.0,
) -> Partition:
    """The clusters of ``nodes`` by the rule above. ``disjoint(x, y)`` tells whether two unlinked
    articles share (almost) nothing. For translation links, ``a_in_b`` is the share of a's evidence
    that b covers: a translated text carries another when it covers ``min_translation`` of it and is
    half as large again (a splice of two stories, one of them in another language)."""
    node_set = set(nodes)
    nodes = sorted(node_set)
    every = [link for link in links if link.a in node_set and link.b in node_set]
    links = [link for link in every if link.translation is None]
    translations = [link for link in every if link.translation is not None]
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
    for link in translations:
        linked[link.a].add(link.b)
        linked[link.b].add(link.a)
        jaccard[link.a, link.b] = jaccard[link.b, link.a] = link.translation or 0.0
        # Sizes relate as the coverages do, inversely: b is 1.5 times a when a_in_b = 1.5 b_in_a.
        if link.a_in_b >= min_translation and link.a_in_b >= 1.5 * link.b_in_a:
            contained[link.b].add(link.a)
        if link.b_in_a >= min_translation and link.b_in_a >= 1.5 * link.a_in_b:
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

    story = _attach_translations(clusters, translations, set(homes))
    merged: dict[int, set[int]] = defaultdict(set)
    for root, members in clusters.items():
        merged[story.find(root)] |= members
    ordered = sorted(merged, key=lambda root: min(merged[root]))
    position = {root: i for i, root in enumerate(ordered)}
    related = {
        y: frozenset(position[story.find(r)] for r in others) - {position[story.find(home)]}
        for y, (home, others) in homes.items()
    }
    return Partition(
        clusters=[frozenset(merged[root]) for root in ordered],
        related={y: others for y, others in related.items() if others},
    )


def _attach_translations(
    clusters: dict[int, set[int]], translations: list[Link], spliced: set[int]
) -> UnionFind:
    """Join each cluster to the one other cluster its translation links score highest with.

    Every cluster makes one choice, so a chance link between two stories never merges them while
    either has a better partner: an article about the same event in another language, sharing
    names and quotes, loses to the real translation. Spliced posts' links are left out: they
    carry more than one story.
    """
    cluster_of = {n: root for root, members in clusters.items() for n in members}
    score: dict[tuple[int, int], float] = {}
    for link in translations:
        if link.a in spliced or link.b in spliced:
            continue
        a, b = cluster_of[link.a], cluster_of[link.b]
        if a != b:
            for pair in ((a, b), (b, a)):
                score[pair] = max(score.get(pair, 0.0), link.translation or 0.0)
    best: dict[int, tuple[float, int]] = {}
    for (a, b), value in score.items():
        # Highest score wins; on a tie, the cluster with the smaller first article.
        if a not in best or (value, -min(clusters[b])) > (best[a][0], -min(clusters[best[a][1]])):
            best[a] = (value, b)
    story = UnionFind(clusters)
    for a, (_, b) in sorted(best.items()):
        story.union(a, b)
    return story


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
