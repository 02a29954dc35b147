"""Storage through real processing: migrations, every stored field, idempotency, updates, the canonical
rule, and the LSH index (in memory and in Redis). Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.exceptions import LockNotOwnedError
from sqlalchemy import inspect, select, text

from config import load_settings
from dedup.anchors import anchors
from dedup.document import content_hash
from dedup.index_storage import make_storage
from dedup.shingles import shingle_hashes, shingles
from dedup.signature import Signer, to_bytes
from newsdedup.service import index as index_module
from newsdedup.service.index import (
    ANCHOR_PREFIX,
    INDEX_PREFIX,
    REBUILD_LOCK,
    REBUILD_LOCK_SECONDS,
    IndexMismatch,
)
from newsdedup.service.page import Page
from newsdedup.service.processing import Outcome, process_page
from newsdedup.service.report import iter_cluster_views
from newsdedup.service.runtime import Runtime
from storage.db import create_db_engine, migrate
from storage.models import Article, AssignmentLock, Cluster
from tests.conftest import postgres_schema
from tests.stories import Story, repost_html, story

FETCHED = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

ORIGIN = "http://dailycourier.example/2026/03/swing-bridge-closure.html"


def page(url: str, body: Story | str, **fields: Any) -> Page:
    """A page with the story as plain text (or the given HTML), fetched at a fixed moment."""
    content = {"html": body} if isinstance(body, str) else {"text": body.text, "title": body.title}
    return Page.model_validate({"url": url, "fetched_at": FETCHED, **content, **fields})


def clusters_of(rt: Runtime) -> dict[int | None, tuple[int, int | None]]:
    """Every stored cluster: id -> (size, canonical article id)."""
    with rt.sessions() as session:
        rows = session.execute(select(Cluster.id, Cluster.size, Cluster.canonical_article_id))
        return {i: (size, canonical) for i, size, canonical in rows}


def membership(rt: Runtime) -> dict[str, int | None]:
    """Every stored article: url -> cluster id."""
    with rt.sessions() as session:
        rows = session.execute(select(Article.url, Article.cluster_id)).all()
    return {row.url: row.cluster_id for row in rows}


def canonical_url(rt: Runtime, cluster_id: int | None) -> str:
    """The URL of the cluster's canonical article."""
    with rt.sessions() as session:
        cluster = session.get_one(Cluster, cluster_id)
        return session.get_one(Article, cluster.canonical_article_id).url


def snapshot(rt: Runtime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every column of every article and cluster row, in id order."""
    with rt.sessions() as session:
        articles = [tuple(r) for r in session.execute(select(Article.__table__).order_by(Article.id))]
        clusters = [tuple(r) for r in session.execute(select(Cluster.__table__).order_by(Cluster.id))]
    return articles, clusters


def new_runtime(monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str | None = None) -> Runtime:
    """A runtime built from the settings as a worker builds it, its schema migrated."""
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", database_url)
    if redis_url is None:
        monkeypatch.delenv("NEWSDEDUP_REDIS_URL", raising=False)
    else:
        monkeypatch.setenv("NEWSDEDUP_REDIS_URL", redis_url)
    return Runtime.from_settings(load_settings()).migrate()


def open_shared_index(rt: Runtime) -> None:
    """Fill the shared index from the database the way `index rebuild` does."""
    assert rt.settings.redis_url is not None
    rt.rebuild_index()


@pytest.fixture
def other_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    with postgres_schema() as url:
        yield url


def test_migrations_create_the_schema_and_running_them_again_is_harmless(database_url: str) -> None:
    """Migrating an empty database creates articles, clusters, links, related and assignment_lock (with
    its one row), overrides, crawl_runs and host_lines at revision 0008 (links with matched terms and
    passages, host_lines with each page's short lines, articles' texts archivable); migrating again,
    with data stored, changes neither schema nor data."""
    engine = create_db_engine(database_url)
    try:
        migrate(engine)
        schema = inspect(engine)
        assert sorted(schema.get_table_names()) == [
            "alembic_version",
            "articles",
            "assignment_lock",
            "clusters",
            "crawl_runs",
            "host_lines",
            "links",
            "override_articles",
            "overrides",
            "related",
        ]
        assert [c["name"] for c in schema.get_columns("articles")] == [
            "id",
            "url",
            "final_url",
            "source",
            "publisher",
            "title",
            "text",
            "language",
            "published_at",
            "fetched_at",
            "content_hash",
            "shingle_count",
            "signature",
            "claimed_source_url",
            "cluster_id",
            "created_at",
            "updated_at",
            "anchors",
            "shingles",
            "evidence",
            "url_key",
            "claim_key",
            "text_archived_at",
        ]
        assert [c["name"] for c in schema.get_columns("links")][-5:] == [
            "matches",
            "span_a_from",
            "span_a_to",
            "span_b_from",
            "span_b_to",
        ]
        assert [c["name"] for c in schema.get_columns("clusters")] == [
            "id",
            "canonical_article_id",
            "size",
            "created_at",
            "updated_at",
        ]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [("0008",)]
            assert conn.execute(text("SELECT id, version FROM assignment_lock")).all() == [(1, 0)]
            conn.execute(
                text("INSERT INTO clusters (id, size, created_at, updated_at) VALUES (7, 0, :t, :t)"),
                {"t": FETCHED},
            )
            conn.commit()

        migrate(engine)

        schema = inspect(engine)
        assert sorted(schema.get_table_names()) == [
            "alembic_version",
            "articles",
            "assignment_lock",
            "clusters",
            "crawl_runs",
            "host_lines",
            "links",
            "override_articles",
            "overrides",
            "related",
        ]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [("0008",)]
            assert conn.execute(text("SELECT id, version FROM assignment_lock")).all() == [(1, 0)]
            assert conn.execute(text("SELECT id, size FROM clusters")).all() == [(7, 0)]
    finally:
        engine.dispose()


def test_processing_stores_every_field_of_an_article(runtime: Runtime) -> None:
    """A reposted HTML page (redirected, with a published time in +02:00) is stored with every field:
    the clean story text, UTC times, the source by URL domain, the hash and 512-byte signature of
    the clean text, the claimed source link; it opens a cluster of one of which it is canonical."""
    bridge = story("bridge")
    outcome = process_page(
        page(
            "http://trend-digest.example/?p=4711",
            repost_html(bridge, ORIGIN),
            final_url="http://trend-digest.example/2026/03/10/bridge-closure/",
            published_at="2026-03-10T10:15:00+02:00",
        ),
        runtime,
    )

    assert outcome.status == "new"
    assert outcome.similarity is None
    with runtime.sessions() as session:
        article = session.get_one(Article, outcome.article_id)
        cluster = session.get_one(Cluster, outcome.cluster_id)
    assert article.url == "http://trend-digest.example/?p=4711"
    assert article.final_url == "http://trend-digest.example/2026/03/10/bridge-closure/"
    assert article.source == "trend-digest"
    assert article.publisher is False
    assert article.title == bridge.title
    assert article.text == bridge.text
    assert article.language == "en"
    assert article.published_at == datetime(2026, 3, 10, 8, 15, tzinfo=UTC)
    assert article.published_at.utcoffset() is not None
    assert article.fetched_at == FETCHED
    assert article.fetched_at.utcoffset() is not None
    assert article.content_hash == content_hash(bridge.text)
    assert len(article.content_hash) == 32
    expected_hashes = shingle_hashes(bridge.text, 4, 3)
    assert article.shingle_count == len(shingles(bridge.text, 4, 3)) == len(expected_hashes)
    assert isinstance(article.signature, bytes)
    assert len(article.signature) == 4 * runtime.settings.num_perm == 512
    assert article.signature == to_bytes(Signer(128).sign(expected_hashes))
    assert article.anchors == to_bytes(anchors(expected_hashes, 8))
    assert article.claimed_source_url == ORIGIN
    assert article.cluster_id == outcome.cluster_id
    assert (cluster.size, cluster.canonical_article_id) == (1, article.id)
    assert len(runtime.index) == 1


def test_publisher_page_and_verbatim_copies_share_one_cluster(runtime: Runtime) -> None:
    """The publisher's page, a verbatim text copy and an HTML repost form one cluster of three whose
    canonical is the publisher's page; a different story gets a cluster of its own."""
    bridge = story("bridge")
    outcomes = [
        process_page(page(ORIGIN, bridge), runtime),
        process_page(page("http://newsflash-hub.example/news/bridge", bridge), runtime),
        process_page(page("http://trend-digest.example/bridge", repost_html(bridge, ORIGIN)), runtime),
        process_page(page("http://dailycourier.example/2026/03/library.html", story("library")), runtime),
    ]

    assert [o.status for o in outcomes] == ["new", "joined", "joined", "new"]
    assert [o.similarity for o in outcomes] == [None, 1.0, 1.0, None]
    first, second = outcomes[0].cluster_id, outcomes[3].cluster_id
    assert first != second
    assert [o.cluster_id for o in outcomes] == [first, first, first, second]
    assert clusters_of(runtime) == {
        first: (3, outcomes[0].article_id),
        second: (1, outcomes[3].article_id),
    }
    with runtime.sessions() as session:
        origin = session.get_one(Article, outcomes[0].article_id)
    assert (origin.source, origin.publisher, origin.claimed_source_url) == ("dailycourier", True, None)


def test_processing_the_same_pages_again_changes_nothing(runtime: Runtime) -> None:
    """Every page processed a second time is 'unchanged' with the same article and cluster, and every
    column of every article and cluster row, and the index, stay exactly as they were."""
    bridge = story("bridge")
    pages = [
        page(ORIGIN, bridge, published_at="2026-03-10T08:00:00Z"),
        page("http://newsflash-hub.example/news/bridge", bridge),
        page("http://trend-digest.example/bridge", repost_html(bridge, ORIGIN)),
        page("http://nachrichten-blitz.example/solarpark", story("solarpark")),
    ]
    first = [process_page(p, runtime) for p in pages]
    before = snapshot(runtime)

    again = [process_page(p, runtime) for p in pages]

    assert [o.status for o in first] == ["new", "joined", "joined", "new"]
    assert again == [
        Outcome(p.url, "unchanged", o.article_id, o.cluster_id) for p, o in zip(pages, first, strict=True)
    ]
    assert snapshot(runtime) == before
    assert len(before[0]) == 4
    assert len(before[1]) == 2
    assert len(runtime.index) == 4


def test_a_changed_page_is_updated_in_place_and_stays_with_its_story(runtime: Runtime) -> None:
    """The same URL with an edited text (one paragraph added) is 'updated': same article and cluster,
    the new text and hash stored, the cluster still of two, no second article for the URL."""
    bridge = story("bridge")
    origin = process_page(page(ORIGIN, bridge), runtime)
    copy = process_page(page("http://newsflash-hub.example/news/bridge", bridge), runtime)
    edited = Story(bridge.title, [*bridge.paragraphs, "Update: the council will hold a public meeting."])

    outcome = process_page(page(ORIGIN, edited), runtime)

    assert (outcome.status, outcome.article_id, outcome.cluster_id) == (
        "updated",
        origin.article_id,
        origin.cluster_id,
    )
    assert outcome.similarity is not None
    assert outcome.similarity > 0.9
    with runtime.sessions() as session:
        article = session.get_one(Article, origin.article_id)
        assert session.scalar(select(Article.id).where(Article.url == ORIGIN)) == origin.article_id
    assert article.text == edited.text
    assert article.content_hash == content_hash(edited.text)
    assert clusters_of(runtime) == {origin.cluster_id: (2, origin.article_id)}
    assert copy.cluster_id == origin.cluster_id
    assert len(runtime.index) == 2


def test_a_member_that_changes_story_leaves_its_cluster(runtime: Runtime) -> None:
    """A copy whose page now tells another story is re-clustered: it leaves (size 3 -> 2, the canonical
    stays) for a new cluster of its own. A singleton that changes to a known story joins that story's
    cluster, and its old, now empty, cluster is deleted."""
    bridge = story("bridge")
    origin = process_page(page(ORIGIN, bridge), runtime)
    hub = process_page(page("http://newsflash-hub.example/news/bridge", bridge), runtime)
    digest = process_page(page("http://trend-digest.example/bridge", bridge), runtime)
    orchard = process_page(page("http://newsflash-hub.example/news/orchard", story("orchard")), runtime)
    assert clusters_of(runtime) == {
        origin.cluster_id: (3, origin.article_id),
        orchard.cluster_id: (1, orchard.article_id),
    }

    moved = process_page(page("http://trend-digest.example/bridge", story("library")), runtime)

    assert moved.status == "updated"
    assert moved.article_id == digest.article_id
    assert moved.cluster_id not in (origin.cluster_id, orchard.cluster_id)
    assert clusters_of(runtime) == {
        origin.cluster_id: (2, origin.article_id),
        orchard.cluster_id: (1, orchard.article_id),
        moved.cluster_id: (1, digest.article_id),
    }

    joined = process_page(page("http://newsflash-hub.example/news/orchard", bridge), runtime)

    assert (joined.status, joined.article_id, joined.cluster_id) == (
        "updated",
        orchard.article_id,
        origin.cluster_id,
    )
    assert clusters_of(runtime) == {
        origin.cluster_id: (3, origin.article_id),
        moved.cluster_id: (1, digest.article_id),
    }
    assert membership(runtime) == {
        ORIGIN: origin.cluster_id,
        "http://newsflash-hub.example/news/bridge": hub.cluster_id,
        "http://trend-digest.example/bridge": moved.cluster_id,
        "http://newsflash-hub.example/news/orchard": origin.cluster_id,
    }


def test_canonical_is_the_publisher_page_even_when_copies_are_older_and_linked(runtime: Runtime) -> None:
    """A copy published earlier and pointed at by another copy's source link is canonical until the
    publisher's page arrives, published last: then the publisher's page is canonical."""
    bridge = story("bridge")
    hub_url = "http://newsflash-hub.example/news/bridge"
    hub = process_page(page(hub_url, bridge, published_at="2026-03-10T06:00:00Z"), runtime)
    process_page(
        page(
            "http://trend-digest.example/bridge",
            repost_html(bridge, hub_url),
            published_at="2026-03-10T07:00:00Z",
        ),
        runtime,
    )
    assert canonical_url(runtime, hub.cluster_id) == hub_url

    origin = process_page(page(ORIGIN, bridge, published_at="2026-03-10T09:00:00Z"), runtime)

    assert (origin.status, origin.cluster_id) == ("joined", hub.cluster_id)
    assert canonical_url(runtime, hub.cluster_id) == ORIGIN


def test_canonical_without_publisher_is_the_page_the_source_links_point_at(runtime: Runtime) -> None:
    """Among copies from non-publisher sources, the page another copy's source link points at wins over
    an earlier published copy (which was canonical before the link arrived)."""
    bridge = story("bridge")
    target = "http://newsflash-hub.example/news/bridge"
    early = process_page(
        page("http://copies.example/bridge", bridge, published_at="2026-03-10T07:00Z"), runtime
    )
    process_page(page(target, bridge, published_at="2026-03-10T09:00:00Z"), runtime)
    assert canonical_url(runtime, early.cluster_id) == "http://copies.example/bridge"

    linking = process_page(
        page(
            "http://trend-digest.example/bridge",
            # a tracking parameter and a trailing slash: still the same page
            repost_html(bridge, "https://www.newsflash-hub.example/news/bridge/?utm_source=feed"),
            published_at="2026-03-10T08:00:00Z",
        ),
        runtime,
    )

    assert (linking.status, linking.cluster_id) == ("joined", early.cluster_id)
    assert canonical_url(runtime, early.cluster_id) == target


def test_canonical_without_publisher_or_links_is_the_earliest_published(runtime: Runtime) -> None:
    """Without publisher or source links the earliest published copy is canonical, comparing instants
    across time zones (09:30+02:00 is before 08:00Z), and a copy without a date counts as last."""
    bridge = story("bridge")
    undated = process_page(page("http://undated.example/bridge", bridge), runtime)
    assert canonical_url(runtime, undated.cluster_id) == "http://undated.example/bridge"
    process_page(page("http://utc.example/bridge", bridge, published_at="2026-03-10T08:00:00Z"), runtime)
    assert canonical_url(runtime, undated.cluster_id) == "http://utc.example/bridge"

    process_page(
        page("http://cest.example/bridge", bridge, published_at="2026-03-10T09:30:00+02:00"), runtime
    )

    assert canonical_url(runtime, undated.cluster_id) == "http://cest.example/bridge"
    assert clusters_of(runtime)[undated.cluster_id][0] == 3


def test_a_fresh_runtime_rebuilds_the_memory_index_from_the_database(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """After a restart (a new Runtime on the same database) the in-memory index holds the stored
    signatures again, so a copy processed then still joins its story's cluster."""
    bridge = story("bridge")
    origin = process_page(page(ORIGIN, bridge), runtime)
    process_page(page("http://dailycourier.example/2026/03/library.html", story("library")), runtime)
    runtime.close()  # as at the end of a process

    fresh = new_runtime(monkeypatch, database_url)
    assert len(fresh.index) == 2
    copy = process_page(page("http://newsflash-hub.example/news/bridge", bridge), fresh)

    assert (copy.status, copy.cluster_id, copy.similarity) == ("joined", origin.cluster_id, 1.0)
    assert clusters_of(fresh)[origin.cluster_id] == (2, origin.article_id)


def test_redis_index_gives_the_same_clusters_as_the_memory_index(
    monkeypatch: pytest.MonkeyPatch, database_url: str, other_database_url: str, redis_url: str
) -> None:
    """The same pages in the same order give the same outcomes and the same clusters (ids, members,
    canonicals, similarities) with the index in Redis as with the index in memory."""
    bridge, orchard = story("bridge"), story("orchard")
    pages = [
        page("http://newsflash-hub.example/news/bridge", bridge, published_at="2026-03-10T07:00:00Z"),
        page("http://newsflash-hub.example/news/orchard", orchard),
        page(ORIGIN, bridge, published_at="2026-03-10T09:00:00Z"),
        page(
            "http://trend-digest.example/orchard",
            repost_html(orchard, "http://newsflash-hub.example/news/orchard"),
        ),
        page("http://nachrichten-blitz.example/solarpark", story("solarpark")),
        page("http://trend-digest.example/bridge", repost_html(bridge, ORIGIN)),
    ]
    memory = new_runtime(monkeypatch, other_database_url)
    in_memory = [process_page(p, memory).as_dict() for p in pages]
    memory_clusters = [v.as_dict() for v in iter_cluster_views(memory)]
    memory.close()

    shared = new_runtime(monkeypatch, database_url, redis_url)
    open_shared_index(shared)
    in_redis = [process_page(p, shared).as_dict() for p in pages]
    redis_clusters = [v.as_dict() for v in iter_cluster_views(shared)]

    assert [o["status"] for o in in_redis] == ["new", "new", "joined", "joined", "new", "joined"]
    assert in_redis == in_memory
    assert redis_clusters == memory_clusters
    assert [(c["canonical_url"], c["size"]) for c in redis_clusters] == [
        (ORIGIN, 3),
        ("http://newsflash-hub.example/news/orchard", 2),
        ("http://nachrichten-blitz.example/solarpark", 1),
    ]
    assert make_storage(redis_url, INDEX_PREFIX).size() == 6


def test_a_flushed_redis_index_is_rebuilt_from_the_database(
    monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str
) -> None:
    """After Redis lost the index (FLUSHDB), the next runtime to open it rebuilds it from the stored
    signatures, with its parameters, and a copy processed then joins its story's cluster."""
    bridge = story("bridge")
    first = new_runtime(monkeypatch, database_url, redis_url)
    open_shared_index(first)
    origin = process_page(page(ORIGIN, bridge), first)
    process_page(page("http://dailycourier.example/2026/03/library.html", story("library")), first)
    first.close()
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()

        restarted = new_runtime(monkeypatch, database_url, redis_url)
        assert len(restarted.index) == 2

        assert client.hgetall(f"{INDEX_PREFIX}:meta") == {
            b"num_perm": b"128",
            b"bands": b"25",
            b"rows": b"5",
            b"anchor_modulus": b"8",
            b"evidence_min_weight": b"0.5",
            b"index_capacity": b"1000000",
        }
        assert make_storage(redis_url, INDEX_PREFIX).size() == 2
    finally:
        client.close()
    copy = process_page(page("http://newsflash-hub.example/news/bridge", bridge), restarted)
    assert (copy.status, copy.cluster_id) == ("joined", origin.cluster_id)


def test_the_shared_index_is_laid_out_for_its_capacity_and_refuses_another(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis_url: str
) -> None:
    """NEWSDEDUP_INDEX_CAPACITY sizes the Redis groups of each index (10,000 articles: 256 groups a
    band for the LSH index, 2**14 groups for anchors and evidence; the layout key records it); a
    runtime with another capacity refuses that index, naming the setting and the rebuild, rather
    than missing every bucket the others wrote."""
    monkeypatch.setenv("NEWSDEDUP_INDEX_CAPACITY", "10000")
    sized = new_runtime(monkeypatch, postgres_url, redis_url)
    open_shared_index(sized)
    process_page(page(ORIGIN, story("bridge")), sized)
    sized.close()
    client = redis.Redis.from_url(redis_url)
    try:
        layouts = {prefix: client.get(f"{prefix}:layout") for prefix in (INDEX_PREFIX, ANCHOR_PREFIX)}
    finally:
        client.close()
    assert layouts == {
        INDEX_PREFIX: b"compact v1; group bits 24; inline ids 16",
        ANCHOR_PREFIX: b"compact v1; group bits 14; inline ids 16",
    }

    monkeypatch.setenv("NEWSDEDUP_INDEX_CAPACITY", "20000")
    with pytest.raises(IndexMismatch, match=r"'index_capacity': '10000'.*newsdedup index rebuild"):
        _ = new_runtime(monkeypatch, postgres_url, redis_url).index


def test_assignment_lock_row_counts_every_assignment_on_sqlite(runtime: Runtime) -> None:
    """On SQLite every stored page takes the database's write lock by bumping the one row; PostgreSQL
    uses advisory locks and never touches it. A page found unchanged is answered before the page's
    transaction, and rejected pages never reach the database."""
    bridge = story("bridge")
    process_page(page(ORIGIN, bridge), runtime)
    process_page(page(ORIGIN, bridge), runtime)
    rejected = process_page(
        page("http://x.example/short", "<html><body><p>Too short.</p></body></html>"), runtime
    )

    assert rejected.status == "rejected"
    assert rejected.reason == "no story text: 10 characters of text after cleaning (at least 200)"
    with runtime.sessions() as session:
        bumps = 1 if runtime.engine.dialect.name == "sqlite" else 0
        assert session.execute(select(AssignmentLock.id, AssignmentLock.version)).all() == [(1, bumps)]
        assert session.scalar(select(Article.id).where(Article.url == "http://x.example/short")) is None


def test_a_rebuild_renews_its_lock_after_every_batch_and_stops_when_it_lost_it(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis_url: str
) -> None:
    """A rebuild of the shared index holds its Redis lock for REBUILD_LOCK_SECONDS at a time and
    renews it after each batch, so a rebuild longer than that keeps it (the lock, cut short by hand
    after a batch, is back to its full time at the next); a rebuild whose lock was lost (expired, or
    taken) stops with LockNotOwnedError instead of clearing and filling the index beside another."""
    rt = new_runtime(monkeypatch, postgres_url, redis_url)
    open_shared_index(rt)
    for name in ("bridge", "library", "orchard"):
        process_page(page(f"http://origin.example/{name}", story(name)), rt)
    monkeypatch.setattr(index_module, "PROGRESS_EVERY", 1)
    client = redis.Redis.from_url(redis_url)
    seen: list[int] = []

    def cut_short(done: int) -> None:
        seen.append(int(client.pttl(REBUILD_LOCK)))
        client.pexpire(REBUILD_LOCK, 5_000)

    try:
        assert rt.rebuild_index(cut_short) == 3
        assert len(seen) == 4  # after each of the three batches, and at the end
        assert all(ttl > 5_000 for ttl in seen)
        assert max(seen) <= REBUILD_LOCK_SECONDS * 1000
        assert client.exists(REBUILD_LOCK) == 0  # released

        def take_away(done: int) -> None:
            client.delete(REBUILD_LOCK)

        with pytest.raises(LockNotOwnedError):
            rt.rebuild_index(take_away)
    finally:
        client.close()


def test_the_newest_revision_read_from_the_files_is_alembics_head() -> None:
    """The revision lines of the migration files, read without Alembic, name the same newest
    revision as Alembic's script directory; an empty database is not at it, a migrated one is."""
    from storage.db import at_newest_revision, newest_revision, script_directory

    assert newest_revision() == script_directory().get_current_head()
    engine = create_db_engine("sqlite://")
    assert not at_newest_revision(engine)
    migrate(engine)
    assert at_newest_revision(engine)
