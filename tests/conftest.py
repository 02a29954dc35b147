"""Fixtures: real Redis and PostgreSQL on 127.0.0.1, each test on its own Redis database and
PostgreSQL schema, cleaned before and after; the fixture sites served over HTTP on 127.0.0.1."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis
from click.testing import CliRunner

from bench.services import free_port, start_redis_server, stop_server, wait_for_ping
from config import load_settings
from newsdedup.cli import app as cli
from newsdedup.demo.server import SiteServer
from newsdedup.service.runtime import Runtime
from tests.fault_table import fault_row, pytest_terminal_summary  # noqa: F401 (pytest finds them here)
from workers.app import app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"
CORPUS2 = ROOT.parent / "shared" / "corpus2"
EXAMPLES = ROOT.parent / "shared" / "examples"


def _redis_of_this_run() -> str:
    """The Redis the tests use: NEWSDEDUP_TEST_REDIS if it names one, else a redis-server of this test
    run's own on a free loopback port (no persistence), stopped when the run ends. Two runs on one
    machine (CI beside a developer's) never flush each other's queues. Without the redis-server
    binary, the machine's Redis on 6379."""
    named = os.environ.get("NEWSDEDUP_TEST_REDIS")
    binary = shutil.which("redis-server")
    if named or binary is None:
        return named or "redis://127.0.0.1:6379"
    port = free_port()
    server = start_redis_server(binary, port)
    atexit.register(stop_server, server)
    wait_for_ping(port, server, timeout=30)
    return f"redis://127.0.0.1:{port}"


REDIS_HOST = _redis_of_this_run()
# Database 15 of the tests' Redis is theirs (a Redis named by NEWSDEDUP_TEST_REDIS may be shared:
# NEWSDEDUP_TEST_REDIS_DB picks another).
REDIS_TEST_DB = int(os.environ.get("NEWSDEDUP_TEST_REDIS_DB", "15"))
POSTGRES = os.environ.get("NEWSDEDUP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

needs_corpus = pytest.mark.skipif(
    not ((CORPUS / "docs.jsonl").exists() and (CORPUS2 / "docs.jsonl").exists()),
    reason=f"the development corpora are not here ({CORPUS}, {CORPUS2}); they sit beside the checkout in CI",
)


def ingest_and_export(folder: Path, name: str, docs: list[Path]) -> Path:
    """``newsdedup ingest`` of these files into a fresh SQLite file, then ``clusters export``: its path."""
    env = {"NEWSDEDUP_DATABASE_URL": f"sqlite:///{folder / name}.db"}
    runner = CliRunner()
    for path in docs:
        ingested = runner.invoke(cli, ["ingest", "-q", str(path)], env=env)
        assert ingested.exit_code == 0, ingested.output
    export = folder / f"{name}.jsonl"
    result = runner.invoke(cli, ["clusters", "export", "--format", "jsonl", "--output", str(export)], env=env)
    assert result.exit_code == 0, result.output
    return export


@pytest.fixture(scope="session")
def corpus_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each development corpus ingested by one process and exported (``corpus``, ``corpus2``), and
    both into one database (``union``), once per test run: ``test_corpus`` scores them and
    ``test_concurrency`` compares what racing workers store with them."""
    folder = tmp_path_factory.mktemp("corpora")
    found = {
        path.name: ingest_and_export(folder, path.name, [path / "docs.jsonl"]) for path in (CORPUS, CORPUS2)
    }
    found["union"] = ingest_and_export(folder, "union", [CORPUS / "docs.jsonl", CORPUS2 / "docs.jsonl"])
    return found


def crawl_env(sources: Path, database: Path, proxy: str | None = None, **settings: str) -> dict[str, str]:
    """The environment of a crawl child process: none of the developer's NEWSDEDUP_* settings or
    proxies; the tests' empty settings file, these sources, this SQLite database, the proxy (if any)
    as http_proxy, and these NEWSDEDUP_* settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("NEWSDEDUP_") and name.lower() not in ("http_proxy", "https_proxy", "no_proxy")
    }
    env.update(
        NEWSDEDUP_CONFIG=str(FIXTURES / "empty-settings.toml"),
        NEWSDEDUP_SOURCES=str(sources),
        NEWSDEDUP_DATABASE_URL=f"sqlite:///{database}",
        **settings,
    )
    if proxy is not None:
        env["http_proxy"] = proxy
    return env


def run_crawl_command(sources: Path, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`newsdedup crawl` in a child process (Scrapy's reactor starts once a process) on these sources,
    storing into ``cwd/crawl.db``, with these NEWSDEDUP_* settings; its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "newsdedup", "crawl"],
        env=crawl_env(sources, cwd / "crawl.db", **settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's NEWSDEDUP_* settings, proxies or working directory files."""
    for name in list(os.environ):
        if name.startswith("NEWSDEDUP_") or name.lower() in ("http_proxy", "https_proxy", "no_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NEWSDEDUP_CONFIG", str(FIXTURES / "empty-settings.toml"))
    monkeypatch.setenv("NEWSDEDUP_SOURCES", str(ROOT / "config" / "sources.toml"))
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", f"sqlite:///{tmp_path / 'newsdedup.db'}")
    # Workers the tests start serve no metrics (two runs, or two workers of one test, would want
    # the same port); a test that reads them gives its worker a free port.
    monkeypatch.setenv("NEWSDEDUP_METRICS_PORT", "0")
    yield
    app.start_runtime(None)  # the runtime of tasks run in this process (built from a test's settings)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A flushed Redis database of the tests' own."""
    url = f"{REDIS_HOST}/{REDIS_TEST_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A SQLAlchemy URL whose connections use a fresh schema of their own, dropped afterwards."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    base = POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL schema of the test's own (see postgres_schema)."""
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes it runs twice: on an SQLite file and on a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Runtime:
    """The embedded runtime (in-memory index) on the test's database, its schema migrated; also the
    runtime of tasks run in this process."""
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", database_url)
    current = Runtime.from_settings(load_settings()).migrate()
    app.start_runtime(current)
    return current


@pytest.fixture
def site_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SiteServer]:
    """The fixture sites on 127.0.0.1, set as the HTTP proxy for crawls in this process."""
    with SiteServer() as server:
        monkeypatch.setenv("http_proxy", server.proxy_url)
        yield server
