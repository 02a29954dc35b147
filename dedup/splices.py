"""Spliced posts, recognised from their own text: two disjoint passages, each matching another story.

An autoblog's live-blog post often strings two stories together. Such a post links to both, and
if those links counted like any other it would merge the two stories. A post is a *splice* when two
of its *parts* are not linked to each other and lie in disjoint passages of it:
- a part lies mostly within the post: the match covers at least ``splice_part_within`` of the part
  (from its first to its last tenth), where only a passage of the post may match;
- in one language, a part is an article linked to the post (a copy, a part); its passage is where
  their shared shingles lie in the post (``dedup.overlap.spans``);
- across languages, a part is an article that matches one passage of the post well on its own
  (passage score at least ``splice_passage_score``, the passage at least ``splice_min_share`` of the
  post, over ``translation_min_matches`` terms);
two passages are disjoint when they overlap by less than ``splice_max_overlap`` of the shorter, and
two parts tell two stories when they are apart in their own right: in one language they share less
than ``splice_max_shared`` of their shingles (either way) and their evidence agrees less than
``splice_max_agreement`` (two machine translations of one story share few shingles but agree in names
and numbers); across languages their evidence agrees less than ``translation_min_score``.
A post is only a splice while its parts would be in different groups without it (a post whose
parts are all of one story is an ordinary member), and copies of one splice (each holding
``min_containment`` of the other) are one splice.

A weak match across languages never makes a splice: a passage must match well on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from dedup.crosslang import Span, passage_share
from dedup.graph import components
from dedup.links import Edge
from dedup.params import Params


@dataclass(frozen=True)
class Part:
    """An article that one passage of a post is made of, that passage, the share of the post it
    accounts for, and how sure the match is (1 in one language; the passage score across)."""

    article: int
    span: Span | None
    share: float
    strength: float = 1.0


def parts(links: Iterable[Edge], params: Params) -> defaultdict[int, list[Part]]:
    """Per post, the articles it is made of (see the module docstring), from both ends of each link."""
    found: defaultdict[int, list[Part]] = defaultdict(list)
    for link in links:
        for post, other, side in ((link.a, link.b, "a"), (link.b, link.a, "b")):
            part = _part(link, other, side, params)
            if part is not None:
                found[post].append(part)
    return found


def splices(
    nodes: list[int],
    links: list[Edge],
    made_of: Mapping[int, list[Part]],
    params: Params,
    related: set[tuple[int, int]],
    one_story: Callable[[int, int], bool] | None = None,
) -> tuple[set[int], list[frozenset[int]]]:
    """The spliced posts among ``nodes``, and their units (copies of one splice together).
    ``made_of`` is each post's parts (``parts`` of the links); ``related`` holds the pairs of
    articles that tell one story by a link of their own; ``one_story`` tells whether two articles'
    evidence agrees as parts of one story do."""

    def apart(x: int, y: int) -> bool:
        pair = (min(x, y), max(x, y))
        return pair not in related and not (one_story is not None and one_story(*pair))

    suspects = {p for p in nodes if _holds_disjoint_parts(made_of.get(p, []), apart, params)}
    same_language = [(k.a, k.b) for k in links if not k.across]
    while True:
        base = components([n for n in nodes if n not in suspects], same_language)
        units = _units(sorted(suspects), links, params)
        cleared: set[int] = set()
        for unit in units:
            groups = {
                base.find(x.article) for p in unit for x in made_of.get(p, []) if x.article in base.parent
            }
            if len(groups) < 2:
                cleared |= unit
        if not cleared:
            return suspects, units
        suspects -= cleared


def share_of(link: Edge, post: int) -> float:
    """The share of ``post`` that the article at the other end of the link accounts for: in one
    language, the share of its shingles in the other; across languages, the share of its evidence in
    the matched passage."""
    side = "a" if link.a == post else "b"
    if not link.across:
        return link.a_in_b if side == "a" else link.b_in_a
    span = link.span_a if side == "a" else link.span_b
    return 0.0 if span is None else passage_share(span)


def _part(link: Edge, other: int, side: str, params: Params) -> Part | None:
    span = link.span_a if side == "a" else link.span_b
    theirs = link.span_b if side == "a" else link.span_a
    if theirs is None or theirs[1] - theirs[0] < params.splice_part_within:
        return None  # the other matches the post in a passage of its own: it is no part of the post
    if not link.across:
        return Part(other, span, share_of(link, link.a if side == "a" else link.b))
    passage = link.passage_a if side == "a" else link.passage_b
    if (
        span is None
        or span[1] - span[0] < params.splice_min_share
        or passage < params.splice_passage_score
        or link.matches < params.translation_min_matches
    ):
        return None
    return Part(other, span, share_of(link, link.a if side == "a" else link.b), passage)


def _holds_disjoint_parts(found: list[Part], apart: Callable[[int, int], bool], params: Params) -> bool:
    ordered = sorted(found, key=lambda p: p.article)
    for i, x in enumerate(ordered):
        for y in ordered[i + 1 :]:
            if x.article == y.article or x.span is None or y.span is None:
                continue
            if _overlap(x.span, y.span) < params.splice_max_overlap and apart(x.article, y.article):
                return True
    return False


def _overlap(a: Span, b: Span) -> float:
    """How much two passages overlap, as a share of the shorter (a point counts as 2 % wide)."""
    inner = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inner / (min(a[1] - a[0], b[1] - b[0]) + 0.02)


def _units(suspects: list[int], links: list[Edge], params: Params) -> list[frozenset[int]]:
    """Copies of one splice (in one language, each holding ``min_containment`` of the other) as one unit."""
    copies = [(k.a, k.b) for k in links if not k.across and min(k.a_in_b, k.b_in_a) >= params.min_containment]
    return list(components(suspects, copies).groups().values())
