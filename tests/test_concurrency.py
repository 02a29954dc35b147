"""Processes racing: pages processed at the same moment by several workers give the clusters one
worker gives (real PostgreSQL, real shared Redis index, real threads with their own runtimes)."""

from __future__ import annotations

import json
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import load_settings
from newsdedup.service import clustering, processing
from newsdedup.service import index as index_module
from newsdedup.service.page import Page
from newsdedup.service.pending import Pending
from newsdedup.service.processing import Outcome, process_page
from newsdedup.service.report import iter_cluster_views
from newsdedup.service.runtime import Runtime
from storage import locks
from storage.models import Article
from tests.celery_worker import child_env, running_worker
from tests.conftest import CORPUS, CORPUS2, needs_corpus
from tests.fault_table import FaultRow, Record
from tests.stories import repost_html, story

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "translations"


def pages() -> list[Page]:
    """Copies of five stories, each story several times: verbatim, as HTML reposts, excerpts and
    translations, so that most pages have a partner being processed at the same moment."""
    out = []
    for name in ("bridge", "library", "orchard", "solarpark"):
        s = story(name)
        origin = f"http://origin.example/{name}"
        out.append(Page(url=origin, text=s.text))
        for copy in range(4):
            out.append(Page(url=f"http://copy{copy}.example/{name}", html=repost_html(s, origin)))
        out.append(Page(url=f"http://excerpt.example/{name}", text="\n".join(s.paragraphs[:3])))
    for language in ("en", "de", "zh", "ja"):
        out.append(
            Page(
                url=f"http://buses.example/{language}", text=(FIXTURES / f"buses.{language}.txt").read_text()
            )
        )
    return out


def partition(runtime: Runtime) -> set[frozenset[str]]:
    return {frozenset(m.url for m in v.members) for v in iter_cluster_views(runtime)}


def clusters_of(database_url: str) -> dict[frozenset[str], str]:
    """Each stored cluster as the set of its member URLs, with its canonical URL."""
    runtime = Runtime(load_settings().model_copy(update={"database_url": database_url}))
    try:
        return {frozenset(m.url for m in v.members): v.canonical.url for v in iter_cluster_views(runtime)}
    finally:
        runtime.close()


def stored_urls(database_url: str) -> Counter[str]:
    """How many articles the database holds per URL."""
    runtime = Runtime(load_settings().model_copy(update={"database_url": database_url}))
    try:
        with runtime.sessions() as session:
            return Counter(session.scalars(select(Article.url)))
    finally:
        runtime.close()


def ingest(path: Path, env: dict[str, str], cwd: Path, *options: str) -> str:
    done = subprocess.run(
        ["newsdedup", "ingest", "--quiet", *options, str(path)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def exported_clusters(export: Path) -> dict[frozenset[str], str]:
    """Each cluster of a ``clusters export`` file as the set of its member URLs, with its canonical URL."""
    found = {}
    for line in export.read_text(encoding="utf-8").splitlines():
        cluster = json.loads(line)
        found[frozenset(m["url"] for m in cluster["members"])] = cluster["canonical_url"]
    return found


@needs_corpus
@pytest.mark.slow
@pytest.mark.parametrize("corpus", [CORPUS, CORPUS2], ids=["corpus", "corpus2"])
def test_four_worker_processes_store_the_corpus_clusters_of_one_process(
    corpus: Path,
    corpus_exports: dict[str, Path],
    redis_url: str,
    postgres_url: str,
    tmp_path: Path,
    fault_row: Record,
) -> None:
    """Each development corpus ingested by one process (`newsdedup ingest`, SQLite, the export that
    test_corpus scores) and enqueued to a real worker with four pool processes (`newsdedup ingest
    --enqueue`, Redis, PostgreSQL): every document is processed once and the stored clusters, members
    and canonical URLs, are identical. Stories have up to a dozen copies in a corpus, so copies are
    processed at the same moment. Each corpus records its row of the fault table."""
    docs = corpus / "docs.jsonl"
    lines = len(docs.read_text(encoding="utf-8").splitlines())
    expected = exported_clusters(corpus_exports[corpus.name])
    stored = sum(len(members) for members in expected)

    env = child_env(NEWSDEDUP_DATABASE_URL=postgres_url, NEWSDEDUP_REDIS_URL=redis_url)
    with running_worker(env, tmp_path, postgres_url, concurrency=4) as worker:
        assert ingest(docs, env, tmp_path, "--enqueue") == f"{lines} lines: {lines} enqueued\n"
        worker.wait_for(tasks=lines, articles=stored)
        assert len(worker.pool()) == 4
    raced = clusters_of(postgres_url)

    assert stored == lines
    assert raced == expected
    urls = stored_urls(postgres_url)
    sent = {json.loads(line)["url"] for line in docs.read_text(encoding="utf-8").splitlines()}
    fault_row(
        FaultRow(
            f"four worker processes on the development corpus ({corpus.name}) against one process: "
            "identical clusters and canonicals",
            lines,
            urls.total(),
            len(sent - set(urls)),
            sum(1 for n in urls.values() if n > 1),
            None,
        )
    )


@pytest.mark.slow
def test_four_racing_workers_store_the_clusters_of_one(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    """The same pages, processed once by one runtime and once by four threads at the same time (each
    with its own runtime, database connections and Redis client, sharing the index), give identical
    clusters, every page stored once: copies processed at the same moment still find each other."""
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", f"sqlite:///{tmp_path / 'one.db'}")
    one = Runtime.from_settings(load_settings()).migrate()
    for page in pages():
        process_page(page, one)
    expected = partition(one)
    one.close()

    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", postgres_url)
    monkeypatch.setenv("NEWSDEDUP_REDIS_URL", redis_url)
    runtimes = [Runtime.from_settings(load_settings()).migrate() for _ in range(4)]
    len(runtimes[0].index)  # the schema and the index, once, before the race
    work = pages()
    errors: list[BaseException] = []
    start = threading.Barrier(len(runtimes))

    def worker(runtime: Runtime, share: list[Page]) -> None:
        try:
            start.wait()
            for page in share:
                process_page(page, runtime)
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [
        threading.Thread(target=worker, args=(runtime, work[i :: len(runtimes)]))
        for i, runtime in enumerate(runtimes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    raced = partition(runtimes[0])
    for runtime in runtimes:
        runtime.close()

    assert sum(len(c) for c in raced) == len(work)
    assert raced == expected


class HeldPending(Pending):
    """A runtime's tickets, with a pause after each announcement: the test's way to hold a page
    between putting itself into the index and looking for candidates in its transaction."""

    def __init__(self, real: Pending, after_announce: Callable[[], None]) -> None:
        self.real, self.after_announce = real, after_announce

    def announce(self, article_id: int) -> int:
        ticket = self.real.announce(article_id)
        self.after_announce()
        return ticket

    def tickets(self, article_ids: Iterable[int]) -> dict[int, int]:
        return self.real.tickets(article_ids)

    def forget(self, article_id: int) -> None:
        self.real.forget(article_id)


def racing_runtimes(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis_url: str, n: int
) -> list[Runtime]:
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", postgres_url)
    monkeypatch.setenv("NEWSDEDUP_REDIS_URL", redis_url)
    runtimes = [Runtime.from_settings(load_settings()).migrate() for _ in range(n)]
    len(runtimes[0].index)  # the schema and the index, once, before the race
    return runtimes


def hold_after_announcing(runtime: Runtime, announced: threading.Event, go: threading.Event) -> None:
    def pause() -> None:
        announced.set()
        assert go.wait(30)

    runtime.__dict__["pending"] = HeldPending(runtime.pending, pause)


def run_threads(jobs: dict[str, tuple[Runtime, Page]]) -> dict[str, Outcome]:
    """Each page processed in a thread of its own (named after it); the outcomes, once all ended."""
    outcomes: dict[str, Outcome] = {}

    def run(name: str) -> None:
        runtime, page = jobs[name]
        outcomes[name] = process_page(page, runtime)

    threads = [threading.Thread(target=run, name=name, args=(name,)) for name in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(outcomes) == set(jobs)  # no thread failed or hung
    return outcomes


def serial_partition(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pages: list[Page]
) -> set[frozenset[str]]:
    """The clusters of these pages processed one after the other by one runtime (SQLite)."""
    with monkeypatch.context() as m:
        m.setenv("NEWSDEDUP_DATABASE_URL", f"sqlite:///{tmp_path / 'serial.db'}")
        m.delenv("NEWSDEDUP_REDIS_URL", raising=False)
        one = Runtime.from_settings(load_settings()).migrate()
        for page in pages:
            process_page(page, one)
        found = partition(one)
        one.close()
    return found


def test_a_copy_stored_while_another_is_being_verified_is_not_missed(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis_url: str
) -> None:
    """Forced: worker B has put its page into the shared index and announced it, but not committed
    it, when worker A looks for candidates before its transaction, finds B's id, and cannot read it.
    A's transaction waits for B's commit (A names B's URL as its source, a page key B holds) and
    verifies B then: one cluster."""
    a_runtime, b_runtime = racing_runtimes(monkeypatch, postgres_url, redis_url, 2)
    b_announced, a_looked = threading.Event(), threading.Event()
    hold_after_announcing(b_runtime, b_announced, a_looked)
    real_verify = processing.verify

    def verify(*args: object, **kwargs: object) -> object:
        result = real_verify(*args, **kwargs)  # type: ignore[arg-type]
        if threading.current_thread().name == "A":
            a_looked.set()
        return result

    monkeypatch.setattr(processing, "verify", verify)
    bridge = story("bridge")
    b_page = Page(url="http://b.example/1", text=bridge.text)
    a_page = Page(url="http://a.example/1", html=repost_html(bridge, "http://b.example/1"))
    b = threading.Thread(target=lambda: process_page(b_page, b_runtime), name="B")
    b.start()
    assert b_announced.wait(30)
    outcomes = run_threads({"A": (a_runtime, a_page)})
    b.join(60)

    assert outcomes["A"].status == "joined"
    assert partition(a_runtime) == {frozenset({"http://a.example/1", "http://b.example/1"})}
    a_runtime.close()
    b_runtime.close()


def test_two_copies_verified_before_either_commits_end_in_one_cluster(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis_url: str
) -> None:
    """Forced: two near-copies of a story (one without its last paragraph: other words, so no page
    key makes one wait at the start) both look for candidates before either is stored, finding none,
    then both put themselves into the index and announce themselves before either looks again. The
    one announced later waits for the other's commit and joins it; the other does not wait for it:
    one cluster, one page new and one joined."""
    runtimes = racing_runtimes(monkeypatch, postgres_url, redis_url, 2)
    both_looked = threading.Barrier(2, timeout=30)
    both_announced = threading.Barrier(2, timeout=30)
    first_look: set[str] = set()
    real_verify = processing.verify

    def verify(*args: object, **kwargs: object) -> object:
        result = real_verify(*args, **kwargs)  # type: ignore[arg-type]
        name = threading.current_thread().name
        if name not in first_look:
            first_look.add(name)
            both_looked.wait()
        return result

    monkeypatch.setattr(processing, "verify", verify)
    for runtime in runtimes:
        runtime.__dict__["pending"] = HeldPending(runtime.pending, both_announced.wait)
    bridge = story("bridge")
    outcomes = run_threads(
        {
            "A": (runtimes[0], Page(url="http://a.example/1", text=bridge.text)),
            "B": (runtimes[1], Page(url="http://b.example/1", text="\n".join(bridge.paragraphs[:-1]))),
        }
    )

    assert sorted(o.status for o in outcomes.values()) == ["joined", "new"]
    assert partition(runtimes[0]) == {frozenset({"http://a.example/1", "http://b.example/1"})}
    for runtime in runtimes:
        runtime.close()


def test_a_third_page_bridging_two_uncommitted_ones_gives_the_clusters_of_one_worker(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    """Forced: the first and the second half of a story are in the index, announced and uncommitted,
    when the whole story comes and finds both. It waits for both (announced before it) while they
    finish without waiting for it (announced after them), then links to both. The clusters are those
    of the three pages processed one after the other."""
    orchard = story("orchard")
    half = len(orchard.paragraphs) // 2
    first = Page(url="http://first.example/1", text="\n".join(orchard.paragraphs[: half + 1]))
    second = Page(url="http://second.example/1", text="\n".join(orchard.paragraphs[half - 1 :]))
    whole = Page(url="http://whole.example/1", text=orchard.text)
    expected = serial_partition(monkeypatch, tmp_path, [first, second, whole])
    halves_runtime_a, halves_runtime_b, whole_runtime = racing_runtimes(
        monkeypatch, postgres_url, redis_url, 3
    )
    first_announced, second_announced, whole_announced = (
        threading.Event(),
        threading.Event(),
        threading.Event(),
    )
    hold_after_announcing(halves_runtime_a, first_announced, whole_announced)
    hold_after_announcing(halves_runtime_b, second_announced, whole_announced)
    whole_runtime.__dict__["pending"] = HeldPending(whole_runtime.pending, whole_announced.set)
    halves = [
        threading.Thread(target=lambda: process_page(first, halves_runtime_a), name="first"),
        threading.Thread(target=lambda: process_page(second, halves_runtime_b), name="second"),
    ]
    for thread in halves:
        thread.start()
    assert first_announced.wait(30)
    assert second_announced.wait(30)
    outcomes = run_threads({"whole": (whole_runtime, whole)})
    for thread in halves:
        thread.join(60)

    assert outcomes["whole"].status == "joined"
    assert partition(whole_runtime) == expected
    assert len(expected) == 1  # the whole story ties the halves together
    for runtime in (halves_runtime_a, halves_runtime_b, whole_runtime):
        runtime.close()


def index_answers(runtime: Runtime) -> dict[str, set[str]]:
    """For each stored signed article (by URL), the URLs of the articles the shared index proposes for
    it: what the index holds, read through its queries."""
    runtime.follow_index()
    with runtime.sessions() as session:
        articles = list(session.scalars(select(Article)))
        urls = {a.id: a.url for a in articles}
        entries = [(a.url, clustering.entry(runtime, a)) for a in articles]
    # An id no stored article has (left by a rolled-back transaction) shows as "id N".
    return {
        url: {urls.get(i, f"id {i}") for i in runtime.index.query(*e[1:])}
        for url, e in entries
        if e is not None
    }


def test_pages_assigned_during_a_rebuild_are_in_the_index_it_makes_current(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis_url: str
) -> None:
    """A rebuild of the shared index (``newsdedup index rebuild``) held in the middle of reading the
    stored signatures while a worker stores new pages, copies and a new story: the pages are stored
    meanwhile (the rebuild holds off no assignment for its length), and once the rebuild has made its
    generation current, the index proposes for every article exactly what an index rebuilt at rest
    proposes. The old generation's keys are gone."""
    worker, rebuilder = racing_runtimes(monkeypatch, postgres_url, redis_url, 2)
    bridge, library, orchard = story("bridge"), story("library"), story("orchard")
    process_page(Page(url="http://origin.example/bridge", text=bridge.text), worker)
    process_page(Page(url="http://origin.example/library", text=library.text), worker)
    reading, go = threading.Event(), threading.Event()
    real_signatures = index_module.queries.signatures

    def held_signatures(*args: object, **kwargs: object) -> object:
        for number, row in enumerate(real_signatures(*args, **kwargs)):  # type: ignore[arg-type]
            if number == 1:
                reading.set()
                assert go.wait(30)
            yield row

    monkeypatch.setattr(index_module.queries, "signatures", held_signatures)
    rebuild = threading.Thread(target=rebuilder.rebuild_index, name="rebuild")
    rebuild.start()
    assert reading.wait(30)
    during = [
        Page(url="http://copy.example/bridge", html=repost_html(bridge, "http://origin.example/bridge")),
        Page(url="http://copy.example/library", text="\n".join(library.paragraphs[:-1])),
        Page(url="http://origin.example/orchard", text=orchard.text),
    ]
    outcomes = run_threads({p.url: (worker, p) for p in during[:1]})
    outcomes.update(run_threads({p.url: (worker, p) for p in during[1:]}))
    assert rebuild.is_alive()  # the pages were stored while the rebuild was still reading
    go.set()
    rebuild.join(60)
    monkeypatch.setattr(index_module.queries, "signatures", real_signatures)

    assert [outcomes[p.url].status for p in during] == ["joined", "joined", "new"]
    client = redis.Redis.from_url(redis_url)
    try:
        assert index_module.generations(client) == (1, None)
        assert list(client.scan_iter(match=f"{index_module.INDEX_PREFIX}:*")) == []
        live = index_answers(worker)
        rebuilder.rebuild_index()  # at rest
        assert index_module.generations(client) == (2, None)
    finally:
        client.close()
    assert index_answers(worker) == live
    assert live["http://copy.example/bridge"] == {
        "http://origin.example/bridge",
        "http://copy.example/bridge",
    }
    assert live["http://origin.example/orchard"] == {"http://origin.example/orchard"}
    for runtime in (worker, rebuilder):
        runtime.close()


def test_a_page_that_meets_a_held_cluster_starts_over_and_leaves_nothing_of_the_first_attempt(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis_url: str
) -> None:
    """When a page's transaction meets a cluster another page holds (``storage.locks.Busy``, forced
    here once), it rolls back, takes out of the shared index what it had put there, and starts over:
    the page is stored once and joins its story, the index proposes the stored articles and no id of
    the rolled-back attempt, and the start-over is counted."""
    (runtime,) = racing_runtimes(monkeypatch, postgres_url, redis_url, 1)
    bridge = story("bridge")
    origin = process_page(Page(url="http://origin.example/bridge", text=bridge.text), runtime)
    real_hold_scope = clustering.hold_scope
    attempts: list[set[int]] = []

    def busy_once(session: Session, rt: Runtime, start: set[int]) -> object:
        attempts.append(set(start))
        if len(attempts) == 1:
            raise locks.Busy("held by the test")
        return real_hold_scope(session, rt, start)

    monkeypatch.setattr(clustering, "hold_scope", busy_once)
    copy = process_page(
        Page(url="http://copy.example/bridge", html=repost_html(bridge, "http://origin.example/bridge")),
        runtime,
    )

    assert (copy.status, copy.cluster_id) == ("joined", origin.cluster_id)
    assert runtime.counts["assignments_started_over"] == 1
    first_attempt_id = max(attempts[0])
    assert copy.article_id != first_attempt_id
    assert index_answers(runtime)["http://copy.example/bridge"] == {
        "http://origin.example/bridge",
        "http://copy.example/bridge",
    }
    with runtime.sessions() as session:
        stored = session.scalar(select(Article).where(Article.url == "http://copy.example/bridge"))
        assert stored is not None
        entry = clustering.entry(runtime, stored)
    assert entry is not None
    assert runtime.index.query(*entry[1:]) == {origin.article_id, copy.article_id}
    runtime.close()
