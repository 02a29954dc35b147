"""Operator overrides as constraints on the derived clusters.

The clusters follow from the links (``dedup.partition``); then the overrides apply, oldest first, so
that when two disagree the latest wins:
- a *merge* puts the articles it names (the members of both clusters when it was made) in one
  cluster, with every article the links join to them;
- a *split* takes the articles it names out of whatever cluster they are in and makes them a
  cluster of their own, apart from the members they were split from. Of the other articles in
  their cluster, those that reach one of those members over links (without passing through the
  split-off articles) stay with them; those that reach the split-off articles only go with them: a
  new copy of the split-off text joins it, a new copy linked to both sides goes with the rest;
- a *canonical* override makes its article the canonical version of whichever cluster holds it
  (of two in one cluster, the latest).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dedup.partition import Partition
from dedup.stable_ids import most_held

KINDS = ("merge", "split", "canonical")


@dataclass(frozen=True)
class Constraint:
    """One override: its id (its order), its kind, and the articles it holds together (merge), takes
    out (split) or makes canonical (one article); for a split, ``apart`` are the members it took them
    from."""

    id: int
    kind: str
    articles: frozenset[int]
    apart: frozenset[int] = frozenset()


def apply(
    result: Partition, constraints: Iterable[Constraint], links: Iterable[tuple[int, int]] = ()
) -> Partition:
    """The partition after the merges and splits, oldest first; ``links`` are the pairs of linked
    articles. Clusters are ordered by smallest article id; each spliced article's related clusters
    follow their members."""
    linked: defaultdict[int, set[int]] = defaultdict(set)
    for a, b in links:
        linked[a].add(b)
        linked[b].add(a)
    clusters = [set(c) for c in result.clusters]
    nodes = set().union(*clusters) if clusters else set()
    for constraint in sorted(constraints, key=lambda c: c.id):
        named = constraint.articles & nodes
        if not named or constraint.kind == "canonical":
            continue
        if constraint.kind == "merge":
            joined = [c for c in clusters if c & named]
            clusters = [c for c in clusters if not c & named] + [set().union(*joined)]
        elif constraint.kind == "split":
            clusters = _split(clusters, named, constraint.apart, linked)
    ordered = sorted((frozenset(c) for c in clusters), key=min)
    home = {n: i for i, c in enumerate(ordered) for n in c}

    def moved_to(old: int) -> int:
        # An old cluster lives on in the new cluster holding most of its members (dedup.stable_ids).
        successor = most_held(home[n] for n in result.clusters[old])
        assert successor is not None  # a cluster has members
        return successor

    related = {y: frozenset(moved_to(i) for i in others) - {home[y]} for y, others in result.related.items()}
    return Partition(clusters=ordered, related={y: r for y, r in related.items() if r})


def _split(
    clusters: list[set[int]], named: frozenset[int], apart: frozenset[int], linked: defaultdict[int, set[int]]
) -> list[set[int]]:
    """Take ``named`` out of its clusters into one of its own; what reaches ``apart`` without passing
    through ``named`` stays, what reaches only ``named`` goes with it."""
    taken = set(named)
    kept: list[set[int]] = []
    for cluster in clusters:
        if not cluster & named:
            kept.append(cluster)
            continue
        stays: set[int] = set()
        for part in _components(cluster - named, linked):
            reaches_named = any(linked[n] & named for n in part)
            if part & apart or not reaches_named:
                stays |= part
            else:
                taken |= part
        if stays:
            kept.append(stays)
    return [*kept, taken]


def _components(nodes: set[int], linked: defaultdict[int, set[int]]) -> list[set[int]]:
    """The connected parts of ``nodes`` over links among them."""
    left, parts = set(nodes), []
    while left:
        part, frontier = set(), {min(left)}
        while frontier:
            part |= frontier
            frontier = {m for n in frontier for m in linked[n] & left} - part
        left -= part
        parts.append(part)
    return parts


def chosen_canonical(members: Sequence[int], constraints: Iterable[Constraint]) -> int | None:
    """The article the latest canonical override names among ``members``, if any."""
    inside = set(members)
    chosen = [c for c in constraints if c.kind == "canonical" and c.articles & inside]
    if not chosen:
        return None
    return min(max(chosen, key=lambda c: c.id).articles & inside)
