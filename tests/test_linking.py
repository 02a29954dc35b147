"""Deciding links (exact overlaps) and deriving clusters from links (the partition rule)."""

from __future__ import annotations

import random

import pytest

from dedup.links import Edge
from dedup.overlap import Overlap, judge
from dedup.params import Params
from dedup.partition import Partition, partition

PARAMS = Params()  # min_jaccard 0.25, min_containment 0.6, min_shingles 20


@pytest.mark.parametrize(
    ("o", "identical", "kind", "rule"),
    [
        (Overlap(10, 12, 14), True, "identical", "identical: the same words"),
        (Overlap(300, 400, 420), False, "copy", "copy: Jaccard 0.58 ≥ 0.25"),
        (
            Overlap(120, 400, 150),
            False,
            "part",
            "part: 0.80 of the smaller text is in the larger (≥ 0.6), 0.30 back",
        ),
        (Overlap(40, 400, 420), False, None, "different: Jaccard 0.05 < 0.25 and containment 0.10 < 0.6"),
        (Overlap(12, 15, 400), False, None, "too short to compare: 15 shingles (below 20)"),
    ],
)
def test_verdicts_name_the_rule_that_decided(
    o: Overlap, identical: bool, kind: str | None, rule: str
) -> None:
    """Each verdict says which rule decided, with the figures and thresholds in its words."""
    verdict = judge(o, PARAMS, identical=identical)
    assert (verdict.kind, verdict.rule) == (kind, rule)


def test_an_update_with_a_paragraph_added_is_a_copy_not_a_part() -> None:
    """When each text holds most of the other (an update of the original), it is a copy."""
    verdict = judge(Overlap(450, 470, 500), PARAMS)
    assert verdict.kind == "copy"


def copy(a: int, b: int, j: float = 0.8) -> Edge:
    """A copy: each holds 0.9 of the other, spread over the whole of both."""
    return Edge(a, b, jaccard=j, a_in_b=0.9, b_in_a=0.9, span_a=(0.05, 0.95), span_b=(0.05, 0.95))


def part(part_of: int, whole: int, share: float, at: tuple[float, float] = (0.0, 1.0)) -> Edge:
    """``part_of`` lies wholly in ``whole``, makes up ``share`` of it, at the passage ``at`` of it."""
    return Edge(part_of, whole, jaccard=share, a_in_b=1.0, b_in_a=share, span_a=(0.05, 0.95), span_b=at)


FIRST, SECOND = (0.02, 0.55), (0.62, 0.98)


def partition_of(nodes: list[int], links: list[Edge]) -> Partition:
    return partition(nodes, links, PARAMS)


def test_linked_articles_form_one_cluster_and_unlinked_ones_their_own() -> None:
    """A copy of a copy is a copy (connected components); an article without links stays alone."""
    result = partition_of([1, 2, 3, 4], [copy(1, 2), copy(2, 3)])
    assert result.clusters == [frozenset({1, 2, 3}), frozenset({4})]
    assert result.related == {}


def test_a_new_copy_of_two_clusters_merges_them() -> None:
    """The bridging rule for copies: an article that is a copy of members of two clusters merges them
    (it shows they tell one story)."""
    result = partition_of([1, 2, 3], [copy(1, 3, 0.4), copy(2, 3, 0.4)])
    assert result.clusters == [frozenset({1, 2, 3})]


def test_a_splice_joins_the_story_it_shares_most_with_and_is_related_to_the_other() -> None:
    """Story A (1, 2), story B (3), splice 9 = A in its first passage, then B, with A making up 0.6 of
    it: 9 joins A's cluster, is related to B's, and A and B stay apart."""
    links = [copy(1, 2), part(1, 9, 0.6, FIRST), part(2, 9, 0.6, FIRST), part(3, 9, 0.4, SECOND)]
    result = partition_of([1, 2, 3, 9], links)
    assert result.clusters == [frozenset({1, 2, 9}), frozenset({3})]
    assert result.related == {9: frozenset({1})}
    assert result.spliced == frozenset({9})


def test_copies_of_a_splice_are_one_splice() -> None:
    """Two verbatim copies of one splice (8, 9) keep A and B apart just as one does."""
    links = [
        part(1, 8, 0.4, FIRST),
        part(3, 8, 0.6, SECOND),
        part(1, 9, 0.4, FIRST),
        part(3, 9, 0.6, SECOND),
        Edge(8, 9, jaccard=1.0, a_in_b=1.0, b_in_a=1.0, span_a=(0.05, 0.95), span_b=(0.05, 0.95)),
    ]
    result = partition_of([1, 3, 8, 9], links)
    assert result.clusters == [frozenset({1}), frozenset({3, 8, 9})]
    assert result.related == {8: frozenset({0}), 9: frozenset({0})}


def test_two_splices_sharing_one_story_do_not_merge_the_others() -> None:
    """Splice 8 = A + B and splice 9 = A + C share story A, so they overlap by half (in the first half
    of each); still B and C stay apart from A and from each other."""
    links = [
        part(1, 8, 0.5, FIRST),
        part(2, 8, 0.5, SECOND),
        part(1, 9, 0.5, FIRST),
        part(3, 9, 0.5, SECOND),
        Edge(8, 9, jaccard=0.33, a_in_b=0.5, b_in_a=0.5, span_a=FIRST, span_b=FIRST),
    ]
    result = partition_of([1, 2, 3, 8, 9], links)
    assert sorted(result.clusters, key=min) == [frozenset({1, 8, 9}), frozenset({2}), frozenset({3})]
    assert result.related == {8: frozenset({1}), 9: frozenset({2})}


def test_a_post_with_only_one_known_story_simply_joins_it() -> None:
    """A splice whose second story is unknown contains only one story: it is an ordinary member."""
    result = partition_of([1, 2, 9], [copy(1, 2), part(1, 9, 0.5, FIRST), part(2, 9, 0.5, FIRST)])
    assert result.clusters == [frozenset({1, 2, 9})]
    assert result.related == {}


def test_an_origin_with_an_excerpt_and_a_copy_is_one_cluster() -> None:
    """The origin contains its excerpt (its first 40 %) and its copy (all of it); their passages
    overlap, so the origin is no splice."""
    links = [part(5, 1, 0.4, (0.0, 0.4)), copy(1, 2), part(5, 2, 0.4, (0.0, 0.4))]
    result = partition_of([1, 2, 5], links)
    assert result.clusters == [frozenset({1, 2, 5})]


def test_two_linked_parts_in_disjoint_passages_do_not_make_a_splice() -> None:
    """An origin 1 whose first half is excerpted by 5 and whose second half by 6, where 5 and 6 are
    linked to each other (one story): no splice, one cluster."""
    links = [part(5, 1, 0.5, FIRST), part(6, 1, 0.5, SECOND), copy(5, 6, 0.3)]
    result = partition_of([1, 5, 6], links)
    assert result.clusters == [frozenset({1, 5, 6})]
    assert result.spliced == frozenset()


def test_the_partition_does_not_depend_on_the_order_of_links_or_ids() -> None:
    """Shuffling the links and the node list changes nothing: the clusters are a function of the graph."""
    links = [
        copy(1, 2),
        part(1, 9, 0.6, FIRST),
        part(2, 9, 0.6, FIRST),
        part(3, 9, 0.4, SECOND),
        copy(3, 4),
        copy(5, 6),
        copy(6, 7),
        Edge(5, 10, score=0.4, matches=9, span_a=(0.1, 0.9), span_b=(0.1, 0.9)),
        Edge(3, 10, score=0.13, matches=4, span_a=(0.1, 0.9), span_b=(0.1, 0.9)),
    ]
    nodes = [1, 2, 3, 4, 5, 6, 7, 9, 10]
    language = dict.fromkeys(nodes, "en") | {10: "de"}
    expected = partition(nodes, links, PARAMS, language)
    assert expected.clusters == [
        frozenset({1, 2, 9}),
        frozenset({3, 4}),
        frozenset({5, 6, 7, 10}),
    ]
    rng = random.Random(5)
    for _ in range(20):
        rng.shuffle(links)
        rng.shuffle(nodes)
        assert partition(nodes, links, PARAMS, language) == expected
