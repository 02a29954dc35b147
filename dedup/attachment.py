"""Which groups of one language join groups of another: translations, verified as a whole.

Within a language, copies and parts form *groups* (``dedup.partition``). Between two groups of
different languages, the score is that of their best-scoring pair of members (``dedup.crosslang``).
Most stories have no translation at all, so a group's best cross-language score is usually chance;
a tie is therefore **accepted** only when it stands out:
- its score reaches ``translation_min_score`` over ``translation_min_matches`` terms (a source link,
  one naming the other as its origin, needs no number of terms), and
- it is at least ``translation_margin`` times the *background* of one of its two sides: the mean of
  that side's ``translation_background_k`` best scores with the other groups of the other side's
  language (the stream around it). As more articles are stored, chance scores rise, and so does
  the bar: a cluster with no translation stays alone.

Accepted ties then merge clusters one at a time, strongest first, and only through the clusters'
*leaders* (the group holding the canonical article): a translation joins the story through its
origin, never through another translation, and a chance tie to a member of a large cluster never
outweighs that the leaders do not match. Nor may a merge contradict what was compared in one
language: a group that would join a story already told in its language must agree with that
version in its evidence (``translation_sibling_score``; two translations of one story do, two
stories about one event seldom).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from dedup.graph import UnionFind
from dedup.links import Edge
from dedup.params import Params

#: A group: its smallest article id. An article outside the derivation: ("outside", its cluster id).
Key = tuple[str, int]


@dataclass(frozen=True)
class Tie:
    """The best cross-language pair between two groups (roots ``group_a`` < ``group_b``): its articles,
    score and matched terms, the lower of the two sides' backgrounds, whether it is accepted, and
    whether it merged their clusters."""

    group_a: int
    group_b: int
    a: int
    b: int
    score: float
    matches: int
    background: float
    accepted: bool
    merged: bool = False

    @property
    def margin(self) -> float:
        """The score over the background (infinite with no background)."""
        return self.score / self.background if self.background > 0 else float("inf")


def attach(
    groups: Mapping[int, frozenset[int]],
    links: Iterable[Edge],
    language: Mapping[int, str | None],
    params: Params,
    leader: Callable[[frozenset[int]], int],
    outside: Mapping[int, int] | None = None,
    agreement: Callable[[int, int], float] | None = None,
) -> tuple[UnionFind, list[Tie]]:
    """Join the groups (by root) as the module docstring says. ``links`` are the cross-language links
    touching the groups' members; an end in ``outside`` (article -> its cluster id) counts towards its
    partner's background only; ``agreement`` is the evidence score of two articles of one language
    (without it, no merge is checked against one language). Returns the stories (a union-find over
    group roots) and every tie."""
    outside = outside or {}
    group_of = {n: root for root, members in groups.items() for n in members}
    best: dict[tuple[int, int], Edge] = {}
    background: defaultdict[tuple[int, str | None], dict[Key, float]] = defaultdict(dict)
    for link in links:
        end_a, end_b = _key(link.a, group_of, outside), _key(link.b, group_of, outside)
        if end_a is None or end_b is None or end_a == end_b:
            continue
        score = link.score or 0.0
        for mine, theirs, other in ((end_a, end_b, link.b), (end_b, end_a, link.a)):
            if mine[0] == "group":
                seen = background[mine[1], language.get(other)]
                seen[theirs] = max(seen.get(theirs, 0.0), score)
        if end_a[0] == "group" and end_b[0] == "group":
            pair = (min(end_a[1], end_b[1]), max(end_a[1], end_b[1]))
            held = best.get(pair)
            if held is None or (score, -link.a, -link.b) > (held.score or 0.0, -held.a, -held.b):
                best[pair] = link

    def side(root: int, towards: str | None, partner: int) -> float:
        scores = sorted(
            (v for k, v in background[root, towards].items() if k != ("group", partner)), reverse=True
        )[: params.translation_background_k]
        return sum(scores) / params.translation_background_k if scores else 0.0

    ties: dict[tuple[int, int], Tie] = {}
    for (g, h), link in sorted(best.items()):
        score = link.score or 0.0
        floor = min(side(g, language.get(h), h), side(h, language.get(g), g))
        accepted = (
            score >= params.translation_min_score
            and (link.claimed or link.matches >= params.translation_min_matches)
            and score >= params.translation_margin * floor
        )
        ties[g, h] = Tie(g, h, link.a, link.b, score, link.matches, floor, accepted)

    stories = UnionFind(groups)
    heads = {root: leader(m) for root, m in groups.items()}  # each group's canonical article
    leaders = {root: group_of[heads[root]] for root in groups}
    members = {root: {root} for root in groups}  # the groups of each story
    for tie in sorted(
        (t for t in ties.values() if t.accepted), key=lambda t: (-t.score, t.group_a, t.group_b)
    ):
        a, b = stories.find(tie.group_a), stories.find(tie.group_b)
        if a == b:
            continue
        la, lb = leaders[a], leaders[b]
        through = ties.get((min(la, lb), max(la, lb)))
        if through is None or not through.accepted:
            continue  # the leaders do not match: the tie does not merge the stories
        if agreement is not None and not _consistent(
            members[a], members[b], language, heads, agreement, params
        ):
            continue  # one language's versions of the two stories do not agree: two stories
        stories.union(a, b)
        root = stories.find(a)
        members[root] = members[a] | members[b]
        leaders[root] = group_of[leader(frozenset().union(*(groups[g] for g in members[root])))]
        ties[tie.group_a, tie.group_b] = replace(tie, merged=True)
    return stories, [ties[k] for k in sorted(ties)]


def _consistent(
    story_a: set[int],
    story_b: set[int],
    language: Mapping[int, str | None],
    heads: Mapping[int, int],
    agreement: Callable[[int, int], float],
    params: Params,
) -> bool:
    """Whether every group of the smaller story agrees with a group of the other in its own language,
    where the other has one (by their canonical articles' evidence)."""
    small, large = sorted((story_a, story_b), key=lambda s: (len(s), min(s)))
    for g in sorted(small):
        same = [h for h in sorted(large) if language.get(h) == language.get(g)]
        if same and max(agreement(heads[g], heads[h]) for h in same) < params.translation_sibling_score:
            return False
    return True


def _key(article: int, group_of: Mapping[int, int], outside: Mapping[int, int]) -> Key | None:
    if article in group_of:
        return ("group", group_of[article])
    if article in outside:
        return ("outside", outside[article])
    return None
