"""From links between articles to clusters: a deterministic function of the links.

Every pair of stored articles that may tell the same story is linked (``dedup.links``). The
clusters of a set of articles follow from their links alone, so they do not depend on the order in
which the articles arrived, nor on whether they came in one batch or in several. In four steps:
1. **Splices** (``dedup.splices``): posts made of two stories, recognised from their own text, are
   set aside; they never join two stories.
2. **Groups**: the other articles, joined by same-language links (connected components: a copy of a
   copy is a copy, and an article that is a copy of two groups' articles merges them).
3. **Stories** (``dedup.attachment``): groups of different languages join through accepted,
   significant translation ties, leader to leader.
4. Each splice (with its copies) joins the story that accounts for the largest share of it, and is
   *related* to the other stories it carries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from dedup.attachment import Tie, attach
from dedup.graph import components
from dedup.links import Edge
from dedup.params import Params
from dedup.splices import Part, parts, splices


@dataclass
class Partition:
    """Clusters (sets of article ids, ordered by smallest id) and, per spliced article, its related
    clusters (indexes into ``clusters``); and how they came about: the cross-language ties considered,
    and the spliced posts."""

    clusters: list[frozenset[int]]
    related: dict[int, frozenset[int]] = field(default_factory=dict)
    ties: list[Tie] = field(default_factory=list)
    spliced: frozenset[int] = frozenset()
    # Each article that is not a splice: its group (same-language component), by smallest id.
    group_of: dict[int, int] = field(default_factory=dict)


def partition(
    nodes: Iterable[int],
    links: Iterable[Edge],
    params: Params,
    language: Mapping[int, str | None] | None = None,
    leader: Callable[[frozenset[int]], int] = min,
    outside: Mapping[int, int] | None = None,
    agreement: Callable[[int, int], float] | None = None,
    containment: Callable[[int, int], float] | None = None,
) -> Partition:
    """The clusters of ``nodes`` by the steps above. ``language`` gives each article's language
    (for the backgrounds of translation ties), ``leader`` the canonical article of a set of articles,
    ``outside`` the cluster id of articles beyond ``nodes`` that cross-language links reach (they
    count towards backgrounds, nothing more), and ``agreement`` the evidence score of two articles
    of one language (``dedup.attachment``), ``containment`` the larger share of either of two articles'
    shingles in the other (for two parts of a post in one language)."""
    language = language or {}
    node_set = set(nodes)
    nodes = sorted(node_set)
    every = list(links)
    inside = [k for k in every if k.a in node_set and k.b in node_set]
    one_story = {
        (min(k.a, k.b), max(k.a, k.b))
        for k in inside
        if not k.across or (k.score or 0.0) >= params.translation_min_score
    }

    def agree(x: int, y: int) -> bool:
        """Whether two parts of a post tell one story: in one language they share text, or their
        evidence agrees as two translations of one story do; across, it agrees as a translation's."""
        if language.get(x) == language.get(y):
            shared = containment is not None and containment(x, y) >= params.splice_max_shared
            return shared or (agreement is not None and agreement(x, y) >= params.splice_max_agreement)
        return agreement is not None and agreement(x, y) >= params.translation_min_score

    made_of = parts(inside, params)
    spliced, units = splices(nodes, inside, made_of, params, one_story, agree)

    plain = [n for n in nodes if n not in spliced]
    same_language = [(k.a, k.b) for k in inside if not k.across]
    groups = components(plain, same_language).groups()
    across = [
        k
        for k in every
        if k.across and k.a not in spliced and k.b not in spliced and (k.a in node_set or k.b in node_set)
    ]
    stories, ties = attach(groups, across, language, params, leader, outside, agreement)
    merged: defaultdict[int, set[int]] = defaultdict(set)
    for root, members in groups.items():
        merged[stories.find(root)] |= members

    story_of = {n: root for root, members in merged.items() for n in members}
    homes = _homes(units, made_of, story_of)
    for unit in units:
        merged[homes[unit][0] if unit in homes else min(unit)] |= unit
    ordered = sorted(merged, key=lambda root: min(merged[root]))
    position = {root: i for i, root in enumerate(ordered)}
    related = {
        y: frozenset(position[r] for r in others)
        for unit, (_, others) in homes.items()
        for y in unit
        if others
    }
    return Partition(
        clusters=[frozenset(merged[root]) for root in ordered],
        related=related,
        ties=ties,
        spliced=frozenset(spliced),
        group_of={n: root for root, members in groups.items() for n in members},
    )


def _homes(
    units: list[frozenset[int]], made_of: Mapping[int, list[Part]], story_of: Mapping[int, int]
) -> dict[frozenset[int], tuple[int, frozenset[int]]]:
    """Per splice unit: the story its parts say accounts for most of it (share of the post times how
    sure the part is; on a tie, the story with the smallest article), and the other stories its parts
    belong to."""
    homes: dict[frozenset[int], tuple[int, frozenset[int]]] = {}
    for unit in units:
        weight: defaultdict[int, float] = defaultdict(float)
        for post in unit:
            for x in made_of.get(post, []):
                if x.article in story_of:
                    story = story_of[x.article]
                    weight[story] = max(weight[story], x.share * x.strength)
        if weight:
            home = max(sorted(weight), key=lambda s: (weight[s], -s))
            homes[unit] = (home, frozenset(weight) - {home})
    return homes
