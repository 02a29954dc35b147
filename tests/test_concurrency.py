"""Processes racing: pages processed at the same moment by several workers give the clusters one
worker gives (real PostgreSQL, real shared Redis index, real threads with their own runtimes)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from config import load_settings
from newsdedup.service import clustering, processing
from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.report import iter_cluster_views
from newsdedup.service.runtime import Runtime
from storage.models import Article
from tests.celery_worker import child_env, running_worker
from tests.conftest import CORPUS, needs_corpus
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


@needs_corpus
@pytest.mark.slow
def test_four_worker_processes_store_the_corpus_clusters_of_one_process(
    redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    """The development corpus ingested by one process (`newsdedup ingest`, SQLite) and enqueued to
    a real worker with four pool processes (`newsdedup ingest --enqueue`, Redis, PostgreSQL): every
    document is processed once and the stored clusters, members and canonical URLs, are identical.
    Stories have up to a dozen copies in the corpus, so copies are processed at the same moment."""
    docs = CORPUS / "docs.jsonl"
    lines = len(docs.read_text(encoding="utf-8").splitlines())
    one_db = f"sqlite:///{tmp_path / 'one.db'}"
    ingest(docs, child_env(NEWSDEDUP_DATABASE_URL=one_db), tmp_path)
    expected = clusters_of(one_db)
    stored = sum(len(members) for members in expected)

    env = child_env(NEWSDEDUP_DATABASE_URL=postgres_url, NEWSDEDUP_REDIS_URL=redis_url)
    with running_worker(env, tmp_path, postgres_url, concurrency=4) as worker:
        assert ingest(docs, env, tmp_path, "--enqueue") == f"{lines} lines: {lines} enqueued\n"
        worker.wait_for(tasks=lines, articles=stored)
        assert len(worker.pool()) == 4
    raced = clusters_of(postgres_url)

    assert stored == lines
    assert raced == expected


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


def test_a_copy_stored_while_another_is_being_verified_is_not_missed(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis_url: str
) -> None:
    """The race that the assignment lock closes, forced: worker B has put its page into the shared
    index but not committed it when worker A looks for candidates, finds B's id, and cannot read it
    yet; B commits while A waits for the lock. Under the lock A verifies B after all: one cluster."""
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", postgres_url)
    monkeypatch.setenv("NEWSDEDUP_REDIS_URL", redis_url)
    a_runtime, b_runtime = (Runtime.from_settings(load_settings()).migrate() for _ in range(2))
    len(a_runtime.index)
    b_indexed, a_verified = threading.Event(), threading.Event()
    real_index, real_verify = clustering.index, clustering.verify

    def index(runtime: Runtime, article: Article) -> None:
        real_index(runtime, article)
        if threading.current_thread().name == "B":
            b_indexed.set()
            assert a_verified.wait(30)  # B commits only after A has looked, unlocked

    def verify(*args: object, **kwargs: object) -> object:
        result = real_verify(*args, **kwargs)  # type: ignore[arg-type]
        if threading.current_thread().name == "A":
            a_verified.set()
        return result

    monkeypatch.setattr(processing, "index", index)
    monkeypatch.setattr(processing, "verify", verify)
    bridge = story("bridge")
    outcomes: dict[str, object] = {}

    def run(name: str, runtime: Runtime, page: Page, wait: threading.Event | None) -> None:
        if wait is not None:
            assert wait.wait(30)
        outcomes[name] = process_page(page, runtime)

    b = threading.Thread(
        target=run, name="B", args=("B", b_runtime, Page(url="http://b.example/1", text=bridge.text), None)
    )
    a = threading.Thread(
        target=run,
        name="A",
        args=(
            "A",
            a_runtime,
            Page(url="http://a.example/1", html=repost_html(bridge, "http://b.example/1")),
            b_indexed,
        ),
    )
    b.start()
    a.start()
    a.join(60)
    b.join(60)

    assert set(outcomes) == {"A", "B"}  # neither thread failed or hung
    assert partition(a_runtime) == {frozenset({"http://a.example/1", "http://b.example/1"})}
    a_runtime.close()
    b_runtime.close()
