"""Clusters through real processing, on SQLite and PostgreSQL: excerpts, splices, the bridging rule,
and independence from the order of arrival."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select

from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.report import iter_cluster_views
from newsdedup.service.runtime import Runtime
from storage.models import Article, Related
from tests.conftest import CORPUS, needs_corpus
from tests.stories import story

BRIDGE, ORCHARD, LIBRARY = story("bridge"), story("orchard"), story("library")


def ingest(runtime: Runtime, *pages: tuple[str, str]) -> None:
    for url, text in pages:
        outcome = process_page(Page(url=url, text=text), runtime)
        assert outcome.status in ("new", "joined"), outcome


def clusters(runtime: Runtime) -> dict[int, set[str]]:
    return {v.id: {m.url for m in v.members} for v in iter_cluster_views(runtime)}


def words(text: str, start: float, end: float) -> str:
    """The part of the text from ``start`` to ``end`` (fractions of its words)."""
    w = text.split()
    return " ".join(w[int(len(w) * start) : int(len(w) * end)])


def test_an_excerpt_joins_its_story(runtime: Runtime) -> None:
    """An excerpt of the first 30 % of a story, with a 'Read more at' trailer, joins the story's cluster
    (its Jaccard similarity is about 0.3, its containment in the story 1.0)."""
    ingest(
        runtime,
        ("http://origin.example/bridge", BRIDGE.text),
        ("http://origin.example/orchard", ORCHARD.text),
        ("http://blog.example/excerpt", words(BRIDGE.text, 0, 0.3) + "\nRead more at The Daily Courier"),
    )
    assert sorted(clusters(runtime).values(), key=len) == [
        {"http://origin.example/orchard"},
        {"http://origin.example/bridge", "http://blog.example/excerpt"},
    ]


@pytest.mark.parametrize("splice_first", [False, True])
def test_a_splice_of_two_stories_joins_one_and_is_related_to_the_other(
    runtime: Runtime, splice_first: bool
) -> None:
    """A post made of two whole stories (bridge, then the shorter orchard story) joins the cluster it
    shares most with and is related to the other, whether it arrives before or after the stories;
    the two stories stay apart."""
    splice = ("http://blog.example/live", BRIDGE.text + "\n" + ORCHARD.text)
    stories = [("http://origin.example/bridge", BRIDGE.text), ("http://origin.example/orchard", ORCHARD.text)]
    ingest(runtime, *([splice, *stories] if splice_first else [*stories, splice]))

    found = clusters(runtime)
    assert sorted(found.values(), key=len) == [
        {"http://origin.example/orchard"},
        {"http://origin.example/bridge", "http://blog.example/live"},
    ]
    orchard_cluster = next(c for c, urls in found.items() if urls == {"http://origin.example/orchard"})
    with runtime.sessions() as session:
        related = session.execute(select(Related.cluster_id)).scalars().all()
    assert related == [orchard_cluster]


def test_a_copy_that_bridges_two_clusters_merges_them(runtime: Runtime) -> None:
    """The bridging rule: two partial copies of one story that do not overlap enough to link (the first
    60 % and the last 55 %) are two clusters; the whole story then arrives, holds both, and as they are
    not disjoint parts it is no splice: the clusters merge into one, which keeps the older id."""
    ingest(
        runtime,
        ("http://a.example/head", words(BRIDGE.text, 0, 0.6)),
        ("http://b.example/tail", words(BRIDGE.text, 0.45, 1.0)),
    )
    before = clusters(runtime)
    assert len(before) == 2

    ingest(runtime, ("http://origin.example/bridge", BRIDGE.text))

    after = clusters(runtime)
    assert after == {
        min(before): {"http://a.example/head", "http://b.example/tail", "http://origin.example/bridge"}
    }


def test_unrelated_stories_with_a_shared_boilerplate_line_stay_apart(runtime: Runtime) -> None:
    """Two different stories that end with the same two-sentence disclaimer do not link."""
    disclaimer = (
        "\nThe Daily Courier is an independent newspaper. All rights reserved; no part of this article may "
        "be reproduced without the written permission of the publisher."
    )
    ingest(
        runtime,
        ("http://origin.example/bridge", BRIDGE.text + disclaimer),
        ("http://origin.example/library", LIBRARY.text + disclaimer),
    )
    assert len(clusters(runtime)) == 2


def _partition(runtime: Runtime) -> set[frozenset[str]]:
    return {frozenset(urls) for urls in clusters(runtime).values()}


@needs_corpus
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_corpus_clusters_do_not_depend_on_order_or_batches(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The development corpus in three shuffled orders, and in two halves (the second after a restart
    that rebuilds the index from the database), gives exactly the same clusters every time."""
    from config import load_settings
    from newsdedup.service.ingest import PageLine, read_documents

    with (CORPUS / "docs.jsonl").open("rb") as f:
        pages = [d.page for d in read_documents(f) if isinstance(d, PageLine)]

    def run(name: str, batches: list[list[Page]]) -> set[frozenset[str]]:
        monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", f"sqlite:///{tmp_path / name}.db")
        for batch in batches:
            # A fresh process: index rebuilt from the database.
            rt = Runtime.from_settings(load_settings()).migrate()
            for page in batch:
                process_page(page, rt)
        return _partition(rt)

    rng = random.Random(11)
    orders = []
    for _ in range(3):
        shuffled = pages[:]
        rng.shuffle(shuffled)
        orders.append(shuffled)
    reference = run("whole-0", [orders[0]])
    assert len(reference) < len(pages)  # copies were found at all
    assert run("whole-1", [orders[1]]) == reference
    assert run("whole-2", [orders[2]]) == reference
    half = len(pages) // 2
    assert run("halves", [orders[0][:half], orders[0][half:]]) == reference


@needs_corpus
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_clusters_stored_page_by_page_are_the_ones_derived_from_scratch(runtime: Runtime) -> None:
    """After the development corpus is processed page by page (each page re-deriving only the clusters
    around it), deriving every cluster at once from the stored links gives exactly the stored ones:
    the incremental derivation misses nothing that a change can move."""
    from newsdedup.service.clustering import derive
    from newsdedup.service.ingest import PageLine, read_documents

    with (CORPUS / "docs.jsonl").open("rb") as f:
        for item in read_documents(f):
            if isinstance(item, PageLine):
                process_page(item.page, runtime)
    with runtime.sessions() as session:
        ids = set(session.scalars(select(Article.id)))
        stored = {
            frozenset(a for a, c in session.execute(select(Article.id, Article.cluster_id)) if c == cid)
            for cid in set(session.scalars(select(Article.cluster_id)))
        }
        scratch = derive(session, runtime, ids).partition
    assert len(stored) < len(ids)
    assert set(scratch.clusters) == stored


def test_relinking_from_the_stored_texts_gives_the_same_clusters(runtime: Runtime) -> None:
    """`index rebuild --links` derives every link and cluster anew from the stored texts: on an
    unchanged database it finds the same links, clusters, cluster ids and related clusters."""
    from newsdedup.service.clustering import relink_all

    splice = BRIDGE.text + "\n" + ORCHARD.text
    ingest(
        runtime,
        ("http://origin.example/bridge", BRIDGE.text),
        ("http://origin.example/orchard", ORCHARD.text),
        ("http://blog.example/excerpt", words(BRIDGE.text, 0, 0.4)),
        ("http://blog.example/live", splice),
        ("http://origin.example/library", LIBRARY.text),
    )
    before = clusters(runtime)
    with runtime.sessions() as session:
        related_before = session.execute(select(Related.article_id, Related.cluster_id)).all()

    with runtime.sessions.begin() as session:
        assert relink_all(session, runtime) == 4  # bridge–excerpt, bridge–live, excerpt–live, orchard–live

    assert clusters(runtime) == before
    with runtime.sessions() as session:
        assert session.execute(select(Related.article_id, Related.cluster_id)).all() == related_before
