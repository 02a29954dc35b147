"""The pure decisions of the core, over arbitrary input (hypothesis), and that the service uses them:
stable cluster ids, the pair verdict (one function for verification and for `clusters why`), and the
signals of a document (one function for processing and for relinking)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dedup.document import describe, prepare
from dedup.evidence import Evidence
from dedup.pairs import Side, judge_pair
from dedup.params import Params
from dedup.shingles import shingle_sequence
from dedup.signature import Signer
from dedup.stable_ids import keep_ids, most_held
from newsdedup.service.clustering import compare
from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.runtime import Runtime
from storage import queries
from storage.models import Link

PARAMS = Params()
SIGNER = Signer(PARAMS.num_perm)

# Clusters: disjoint sets of article ids 1..40; what each article held before: a cluster id or none.
partitions = st.lists(st.integers(1, 40), min_size=1, max_size=40, unique=True).flatmap(
    lambda ids: st.lists(st.integers(0, 5), min_size=len(ids), max_size=len(ids)).map(
        lambda groups: [
            frozenset(n for n, g in zip(ids, groups, strict=True) if g == label)
            for label in sorted(set(groups))
        ]
    )
)
held_ids = st.dictionaries(st.integers(1, 40), st.one_of(st.none(), st.integers(100, 106)))


@given(st.lists(st.integers(0, 6)))
def test_most_held_is_a_most_frequent_label_and_the_lowest_of_a_tie(labels: list[int]) -> None:
    """most_held returns a label that occurs most often, the lowest among those; None for no labels."""
    found = most_held(labels)
    if not labels:
        assert found is None
        return
    counts = Counter(labels)
    top = max(counts.values())
    assert found == min(label for label, count in counts.items() if count == top)


@given(partitions, held_ids, st.one_of(st.none(), st.integers(1, 40)))
def test_kept_ids_are_held_by_members_given_once_and_not_decided_by_the_moved_article(
    clusters: list[frozenset[int]], held: dict[int, int | None], moved: int | None
) -> None:
    """Every id kept was held by a member of its cluster other than ``moved``; no id goes to two
    clusters; a cluster all of whose members hold one id that no other cluster's members hold keeps it;
    and what ``moved`` held changes nothing."""
    ids = keep_ids(clusters, held, moved)
    assert len(ids) == len(clusters)
    given_ids = [i for i in ids if i is not None]
    assert len(given_ids) == len(set(given_ids))
    for members, kept in zip(clusters, ids, strict=True):
        if kept is not None:
            assert kept in {held.get(n) for n in members if n != moved}
        voters = {held.get(n) for n in members if n != moved}
        elsewhere = {held.get(n) for other in clusters if other is not members for n in other if n != moved}
        if len(voters) == 1 and None not in voters and not voters & elsewhere:
            assert kept == next(iter(voters))
    if moved is not None:
        assert keep_ids(clusters, {**held, moved: 999}, moved) == ids


def test_the_larger_cluster_keeps_the_id_when_a_story_splits() -> None:
    """A cluster of five split into three and two: the three keep its id, the two need a new one."""
    held = dict.fromkeys(range(1, 6), 7)
    assert keep_ids([frozenset({4, 5}), frozenset({1, 2, 3})], held) == [None, 7]


def _side(text: str, language: str = "en", content_hash: str | None = None) -> Side:
    sequence = shingle_sequence(text, PARAMS.shingle_words, PARAMS.shingle_chars)
    return Side(
        content_hash=content_hash or text,
        language=language,
        published_at=datetime(2026, 3, 1, tzinfo=UTC),
        hashes=np.sort(sequence),
        sequence=sequence,
        evidence=Evidence.empty(),
    )


sentences = st.lists(
    st.sampled_from(
        [
            "The harbour authority said the crane would be replaced before winter.",
            "Workers on the bridge deck found cracks in three of the steel beams.",
            "The mayor promised that the ferry timetable would not change this year.",
            "A spokesman for the port declined to say how much the repairs would cost.",
            "Residents of the old town complained about the noise at night.",
            "The council meets on Thursday to decide on the new budget for the docks.",
        ]
    ),
    min_size=1,
    max_size=6,
    unique=True,
).map(" ".join)


@given(sentences, sentences)
def test_the_pair_verdict_is_the_same_either_way_round(a: str, b: str) -> None:
    """judge_pair gives the same link kind whichever article comes first (a part is a part of the
    larger either way), and two texts with the same words are identical."""
    forward = judge_pair(_side(a), _side(b), False, PARAMS)
    backward = judge_pair(_side(b), _side(a), False, PARAMS)
    assert forward.kind == backward.kind
    assert (
        judge_pair(_side(a, content_hash="h"), _side(b, content_hash="h"), False, PARAMS).kind == "identical"
    )


@settings(max_examples=25, deadline=None)
@given(sentences.filter(lambda t: len(t) >= PARAMS.min_text_chars))
def test_describing_a_stored_story_gives_the_signals_processing_gave_it(story: str) -> None:
    """The signals that relinking derives from a stored text (``describe``) are those that processing
    derived from the page (``prepare``): shingles in order, anchors, signature, evidence, content hash."""
    prepared = prepare(SIGNER, PARAMS, url="http://wire.example/a", text=story, language="en")
    described = describe(SIGNER, PARAMS, prepared.text, language="en")
    assert prepared.content_hash == described.content_hash
    assert np.array_equal(prepared.sequence, described.sequence)
    assert np.array_equal(prepared.anchors, described.anchors)
    assert (prepared.signature is None) == (described.signature is None)
    if prepared.signature is not None and described.signature is not None:
        assert np.array_equal(prepared.signature, described.signature)
    assert prepared.evidence.to_bytes() == described.evidence.to_bytes()


def test_clusters_why_judges_every_stored_link_as_verification_did(runtime: Runtime) -> None:
    """For every link that verification stored among a story, its copy, its excerpt and an unrelated
    story, `compare` (what `clusters why` shows) finds the same kind: both run ``dedup.pairs``."""
    story = " ".join(
        f"The harbour authority said on Tuesday that crane number {n} would be replaced before the winter."
        for n in range(1, 14)
    )
    other = " ".join(
        f"The orchard in the valley gave {n} tonnes of apples after a dry summer." for n in range(20)
    )
    pages = [
        Page(url="http://wire.example/crane", text=story),
        Page(url="http://copy.example/crane", text=story + " Source: wire.example"),
        Page(url="http://short.example/crane", text=". ".join(story.split(". ")[:5]) + "."),
        Page(url="http://wire.example/orchard", text=other),
    ]
    for page in pages:
        process_page(page, runtime)
    with runtime.sessions() as session:
        links = list(session.scalars(select(Link)))
        kinds = {(k.article_a, k.article_b): k.kind for k in links}
        judged = {
            (k.article_a, k.article_b): compare(
                runtime, queries.article(session, k.article_a), queries.article(session, k.article_b)
            ).kind
            for k in links
        }
        assert len(queries.article_ids(session)) == 4
    assert judged == kinds
    assert set(kinds.values()) == {"copy", "part"}
