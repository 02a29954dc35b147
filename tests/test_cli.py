"""The `newsdedup` command line through click's test runner: output lines, exit codes, and what each
command leaves in the database and in Redis. (`demo`, `crawl` without --enqueue, and the exec of
`worker` and `beat` are tested elsewhere: they start a reactor or replace the process.)"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Sequence
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, select, text

from config import load_settings
from newsdedup.cli import app
from newsdedup.cli.render import middle
from newsdedup.service.runtime import Runtime
from storage.db import create_db_engine, migrate, script_directory
from storage.models import Article
from tests.conftest import run_crawl_command
from tests.stories import repost_html, story
from workers.messages import decode

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "config" / "sources.toml"
KNOWN = "known sources: dailycourier, newsflash-hub, trend-digest, nachrichten-blitz"

BRIDGE = "http://dailycourier.example/2026/03/swing-bridge-closure.html"
BRIDGE_HUB = "http://newsflash-hub.example/news/bridge"
BRIDGE_DIGEST = "http://trend-digest.example/bridge-closure"
LIBRARY = "http://dailycourier.example/2026/03/parish-records-online.html"
LIBRARY_HUB = "http://newsflash-hub.example/news/library"
SOLAR = "http://nachrichten-blitz.example/lindenau-solarpark"
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/test"


def write_lines(path: Path, items: Sequence[dict[str, Any] | bytes]) -> Path:
    """An ingest file: each dict as one JSON line, each bytes value as the raw line."""
    raw = [i if isinstance(i, bytes) else json.dumps(i, ensure_ascii=False).encode() for i in items]
    path.write_bytes(b"\n".join(raw) + b"\n")
    return path


def corpus() -> list[dict[str, Any]]:
    """Six documents: the bridge story (origin, verbatim text copy, HTML repost), the library story
    (origin, untitled copy), and a German story of its own."""
    bridge, library, solar = story("bridge"), story("library"), story("solarpark")
    return [
        {"url": BRIDGE, "text": bridge.text, "title": bridge.title, "published_at": "2026-03-10T08:00:00Z"},
        {
            "url": BRIDGE_HUB,
            "text": bridge.text,
            "title": bridge.title,
            "published_at": "2026-03-10T09:30:00+01:00",
        },
        {"url": BRIDGE_DIGEST, "html": repost_html(bridge, BRIDGE)},
        {
            "url": LIBRARY,
            "text": library.text,
            "title": library.title,
            "published_at": "2026-03-12T10:00:00Z",
        },
        {"url": LIBRARY_HUB, "text": library.text},
        {"url": SOLAR, "text": solar.text, "title": solar.title},
    ]


def member(
    article_id: int,
    url: str,
    source: str,
    *,
    title: str | None,
    language: str = "en",
    canonical: bool = False,
    published_at: str | None = None,
    claimed: str | None = None,
) -> dict[str, Any]:
    """One member of an export line."""
    return {
        "url": url,
        "similarity": 1.0,
        "language": language,
        "is_canonical": canonical,
        "title": title,
        "source": source,
        "published_at": published_at,
        "claimed_source_url": claimed,
        "final_url": None,
        "article_id": article_id,
        "related_clusters": [],
    }


def corpus_export() -> list[dict[str, Any]]:
    """The export of `corpus()` ingested into an empty database."""
    bridge, library, solar = story("bridge").title, story("library").title, story("solarpark").title
    return [
        {
            "cluster_id": 1,
            "canonical_url": BRIDGE,
            "size": 3,
            "members": [
                member(
                    1,
                    BRIDGE,
                    "dailycourier",
                    title=bridge,
                    canonical=True,
                    published_at="2026-03-10T08:00:00+00:00",
                ),
                member(
                    2, BRIDGE_HUB, "newsflash-hub", title=bridge, published_at="2026-03-10T08:30:00+00:00"
                ),
                member(3, BRIDGE_DIGEST, "trend-digest", title=bridge, claimed=BRIDGE),
            ],
            "related": [],
        },
        {
            "cluster_id": 2,
            "canonical_url": LIBRARY,
            "size": 2,
            "members": [
                member(
                    4,
                    LIBRARY,
                    "dailycourier",
                    title=library,
                    canonical=True,
                    published_at="2026-03-12T10:00:00+00:00",
                ),
                member(5, LIBRARY_HUB, "newsflash-hub", title=None),
            ],
            "related": [],
        },
        {
            "cluster_id": 3,
            "canonical_url": SOLAR,
            "size": 1,
            "members": [member(6, SOLAR, "nachrichten-blitz", title=solar, language="de", canonical=True)],
            "related": [],
        },
    ]


def invoke(args: list[str], **kwargs: Any) -> Result:
    return CliRunner().invoke(app, args, **kwargs)


def table_rows(output: str) -> list[list[str]]:
    """The cells of every row (the header included) of the rich tables in the output."""
    return [
        [cell.strip() for cell in line.replace("┃", "│").split("│")]
        for line in output.splitlines()
        if "│" in line or "┃" in line
    ]


def export_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


def stored_articles(database_url: str) -> list[tuple[Any, ...]]:
    """(url, source, publisher, language, cluster_id) of every stored article, by id."""
    engine = create_db_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            query = select(
                Article.url, Article.source, Article.publisher, Article.language, Article.cluster_id
            )
            return [tuple(row) for row in conn.execute(query.order_by(Article.id))]
    finally:
        engine.dispose()


def queued(redis_url: str, queue: str) -> list[tuple[str, list[Any], dict[str, Any]]]:
    """(task name, args, kwargs) of every Celery message on a Redis list, in delivery order (kombu
    pushes on the left and pops on the right)."""
    client = redis.Redis.from_url(redis_url)
    try:
        messages = []
        for raw in reversed(client.lrange(queue, 0, -1)):
            envelope = json.loads(raw)
            assert envelope["properties"]["body_encoding"] == "base64"
            assert envelope["content-type"] == "application/json"
            assert envelope["headers"]["compression"] == "application/x-gzip"
            assert envelope["properties"]["delivery_info"]["routing_key"] == queue
            messages.append(decode(raw))
        return messages
    finally:
        client.close()


def open_shared_index(redis_url: str, database_url: str, **settings: str) -> None:
    """Fill the shared index in Redis from the database (as `index rebuild` does) with these settings."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NEWSDEDUP_REDIS_URL", redis_url)
        env.setenv("NEWSDEDUP_DATABASE_URL", database_url)
        for name, value in settings.items():
            env.setenv(name, value)
        rt = Runtime.from_settings(load_settings()).migrate()
    try:
        rt.rebuild_index()
    finally:
        rt.close()


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at the terminal width; a wide one keeps each table row and URL on one line."""
    monkeypatch.setenv("COLUMNS", "1000")


@pytest.fixture
def database_file_url() -> str:
    """The SQLite database that conftest points NEWSDEDUP_DATABASE_URL at."""
    return os.environ["NEWSDEDUP_DATABASE_URL"]


@pytest.fixture
def broker(redis_url: str) -> str:
    """The test Redis as the Celery broker (commands send to the broker of their own settings, not to
    the one `workers.app` saw at import: see test_enqueue_uses_the_broker_of_the_invocation)."""
    return redis_url


def test_sources_list_shows_every_source_of_the_sources_file() -> None:
    """`sources list` prints one row per source (name, kind, schedule, language, publisher flag, start
    URL) and a last line naming how many sources came from which file."""
    result = invoke(["sources", "list"])

    assert result.exit_code == 0
    assert result.stderr == ""
    assert table_rows(result.stdout) == [
        ["name", "kind", "schedule", "lang", "publisher", "start urls"],
        ["dailycourier", "sitemap", "*/30 * * * *", "en", "yes", "http://dailycourier.example/sitemap.xml"],
        ["newsflash-hub", "feed", "5 * * * *", "en", "no", "http://newsflash-hub.example/feed.xml"],
        ["trend-digest", "site", "15 */2 * * *", "en", "no", "http://trend-digest.example/"],
        ["nachrichten-blitz", "feed", "45 * * * *", "de", "no", "http://nachrichten-blitz.example/feed.xml"],
    ]
    assert result.stdout.splitlines()[-1] == f"4 sources from {SOURCES}"


def test_crawl_enqueue_sends_one_crawl_task_per_source(broker: str) -> None:
    """`crawl --enqueue` puts one newsdedup.crawl_source message per source, with the source's name as
    its only argument, on the Redis list `crawl`, and nothing on the default queue."""
    result = invoke(["crawl", "--enqueue"], env={"NEWSDEDUP_REDIS_URL": broker})

    assert (result.exit_code, result.stdout, result.stderr) == (0, "enqueued 4 crawl tasks\n", "")
    assert queued(broker, "crawl") == [
        ("newsdedup.crawl_source", [name], {})
        for name in ("dailycourier", "newsflash-hub", "trend-digest", "nachrichten-blitz")
    ]
    assert queued(broker, "celery") == []


def test_crawl_enqueue_named_sources_only(broker: str) -> None:
    """`crawl --enqueue NAME...` enqueues just the named sources, in the order given."""
    result = invoke(
        ["crawl", "--enqueue", "trend-digest", "dailycourier"], env={"NEWSDEDUP_REDIS_URL": broker}
    )

    assert (result.exit_code, result.stdout, result.stderr) == (0, "enqueued 2 crawl tasks\n", "")
    assert queued(broker, "crawl") == [
        ("newsdedup.crawl_source", ["trend-digest"], {}),
        ("newsdedup.crawl_source", ["dailycourier"], {}),
    ]
    single = invoke(["crawl", "--enqueue", "newsflash-hub"], env={"NEWSDEDUP_REDIS_URL": broker})
    assert single.stdout == "enqueued 1 crawl task\n"


def test_crawl_enqueue_of_an_unknown_source_enqueues_nothing(broker: str) -> None:
    """An unknown source name fails in one line listing the known names (exit 2) before any task is
    sent, even when other names are valid."""
    result = invoke(["crawl", "--enqueue", "dailycourier", "nope"], env={"NEWSDEDUP_REDIS_URL": broker})

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: unknown source 'nope'; {KNOWN}\n"
    assert queued(broker, "crawl") == []


def test_crawl_enqueue_without_redis_is_a_one_line_error(tmp_path: Path) -> None:
    """Without NEWSDEDUP_REDIS_URL `crawl --enqueue` fails in one line (exit 2); with a sources file
    that lists no source it says so, in one line, before anything else."""
    result = invoke(["crawl", "--enqueue"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "Error: --enqueue needs the workers' broker: set NEWSDEDUP_REDIS_URL\n"

    empty = tmp_path / "no-sources.toml"
    empty.write_text("# nothing to crawl yet\n", encoding="utf-8")
    result = invoke(["crawl", "--enqueue"], env={"NEWSDEDUP_SOURCES": str(empty)})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: no sources in {empty}: add [[source]] tables\n"


def test_enqueue_uses_the_broker_of_the_invocation(redis_url: str) -> None:
    """`crawl --enqueue` sends its tasks to the NEWSDEDUP_REDIS_URL of the invocation, also in a process
    that imported the task module earlier under other settings (here: a memory broker)."""
    script = (
        "import os, sys\n"
        "os.environ['NEWSDEDUP_REDIS_URL'] = 'memory://'\n"
        "import workers.tasks\n"
        "from click.testing import CliRunner\n"
        "from newsdedup.cli import app\n"
        "result = CliRunner().invoke(app, ['crawl', '--enqueue'], env={'NEWSDEDUP_REDIS_URL': sys.argv[1]})\n"
        "print(result.exit_code, result.stdout.strip())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NEWSDEDUP_REDIS_URL"}
    child = subprocess.run(
        [sys.executable, "-c", script, redis_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert child.stdout == "0 enqueued 4 crawl tasks\n", child.stderr
    assert [args for _task, args, _kwargs in queued(redis_url, "crawl")] == [
        ["dailycourier"],
        ["newsflash-hub"],
        ["trend-digest"],
        ["nachrichten-blitz"],
    ]


def test_ingest_clusters_copies_and_stores_every_document(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ingest` of two stories with copies and one story alone prints the summary line; verbatim and
    reposted copies join their origin's cluster, the stories stay apart, and the database holds each
    document with its source (by URL domain), publisher flag, language and cluster. Runs on SQLite and
    PostgreSQL."""
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", database_url)
    path = write_lines(tmp_path / "docs.jsonl", corpus())

    result = invoke(["ingest", str(path), "-q"])

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "6 lines: 3 new, 3 joined; stored 6 articles in 3 clusters (2 with copies)\n"
    assert stored_articles(database_url) == [
        (BRIDGE, "dailycourier", True, "en", 1),
        (BRIDGE_HUB, "newsflash-hub", False, "en", 1),
        (BRIDGE_DIGEST, "trend-digest", False, "en", 1),
        (LIBRARY, "dailycourier", True, "en", 2),
        (LIBRARY_HUB, "newsflash-hub", False, "en", 2),
        (SOLAR, "nachrichten-blitz", False, "de", 3),
    ]
    export = invoke(["clusters", "export", "--format", "jsonl"])
    assert (export.exit_code, export.stderr) == (0, "")
    assert export_lines(export.stdout) == corpus_export()


def test_clusters_list_shows_clusters_largest_first(tmp_path: Path) -> None:
    """`clusters list` prints id, size, canonical URL and title per cluster, largest first, and a count
    line; --min-size and --limit narrow it down; --json prints one object per cluster."""
    assert invoke(["ingest", str(write_lines(tmp_path / "docs.jsonl", corpus())), "-q"]).exit_code == 0
    bridge, library, solar = story("bridge").title, story("library").title, story("solarpark").title

    result = invoke(["clusters", "list"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert table_rows(result.stdout) == [
        ["id", "size", "canonical", "title"],
        ["1", "3", BRIDGE, bridge],
        ["2", "2", LIBRARY, library],
        ["3", "1", SOLAR, solar],
    ]
    assert result.stdout.splitlines()[-1] == "3 clusters"

    narrowed = invoke(["clusters", "list", "--min-size", "2", "--limit", "1"])
    assert table_rows(narrowed.stdout)[1:] == [["1", "3", BRIDGE, bridge]]
    assert narrowed.stdout.splitlines()[-1] == "1 cluster"

    as_json = invoke(["clusters", "list", "--min-size", "2", "--json"])
    assert (as_json.exit_code, as_json.stderr) == (0, "")
    assert export_lines(as_json.stdout) == [
        {"cluster_id": 1, "size": 3, "canonical_url": BRIDGE, "canonical_title": bridge},
        {"cluster_id": 2, "size": 2, "canonical_url": LIBRARY, "canonical_title": library},
    ]


def test_a_read_command_never_migrates_and_says_so_in_one_line(tmp_path: Path) -> None:
    """`clusters list`, `stats` and `clusters export` on a database with no schema yet (an empty SQLite
    file) stop with one line naming the migrations it needs and `newsdedup db upgrade` (exit status 2),
    and leave it untouched: no table was created. After `db upgrade` the listing is empty."""
    database = tmp_path / "newsdedup.db"
    sqlite3.connect(database).close()
    MIGRATIONS = len(list(script_directory().walk_revisions()))  # a constant of the test
    for command in (["clusters", "list"], ["stats"], ["clusters", "export"]):
        result = invoke(command)
        assert result.exit_code == 2, result.output
        assert result.stderr.splitlines()[-1] == (
            f"Error: the database (sqlite:///{database}) needs {MIGRATIONS} migrations "
            "(or holds no newsdedup data yet): run `newsdedup db upgrade`"
        )
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == []
    assert invoke(["db", "upgrade"]).exit_code == 0
    listed = invoke(["clusters", "list"])
    assert (listed.exit_code, table_rows(listed.stdout)) == (0, [["id", "size", "canonical", "title"]])


def test_clusters_list_of_an_empty_database() -> None:
    """On an empty database `clusters list` prints the header and '0 clusters'; export prints nothing."""
    assert invoke(["db", "upgrade"]).exit_code == 0
    result = invoke(["clusters", "list"])
    assert (result.exit_code, table_rows(result.stdout)) == (0, [["id", "size", "canonical", "title"]])
    assert result.stdout.splitlines()[-1] == "0 clusters"
    export = invoke(["clusters", "export"])
    assert (export.exit_code, export.stdout, export.stderr) == (0, "", "")


def test_clusters_show_prints_members_canonical_text_and_source_links(tmp_path: Path) -> None:
    """`clusters show ID` prints a heading (id, size, canonical title), one row per member with the
    canonical starred, the canonical URL, the first 600 characters of its text, and the source links."""
    assert invoke(["ingest", str(write_lines(tmp_path / "docs.jsonl", corpus())), "-q"]).exit_code == 0
    bridge = story("bridge")

    result = invoke(["clusters", "show", "1"])

    assert (result.exit_code, result.stderr) == (0, "")
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[0] == f"cluster 1 · 3 articles · {bridge.title}"
    assert table_rows(result.stdout) == [
        ["", "url", "source", "lang", "similarity"],
        ["★", BRIDGE, "dailycourier", "en", "1.00"],
        ["", BRIDGE_HUB, "newsflash-hub", "en", "1.00"],
        ["", BRIDGE_DIGEST, "trend-digest", "en", "1.00"],
    ]
    head = bridge.text[:600] + "…"
    start = lines.index(f"canonical {BRIDGE}")
    assert lines[start + 1 : start + 1 + len(head.splitlines())] == head.splitlines()
    assert lines[-3:] == ["", "source links", f"  {BRIDGE_DIGEST} -> {BRIDGE}"]


def test_clusters_show_of_an_unknown_id_is_a_one_line_error() -> None:
    """`clusters show` of an id that is not there says so in one line, exit status 1."""
    assert invoke(["db", "upgrade"]).exit_code == 0
    result = invoke(["clusters", "show", "99"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: no cluster 99: `newsdedup clusters list` shows the ids\n"


def test_clusters_export_to_a_file_with_min_size(tmp_path: Path) -> None:
    """`clusters export --output FILE --min-size 2` writes the clusters with copies to the file (no
    partial file left), prints nothing on stdout and the count on stderr."""
    assert invoke(["ingest", str(write_lines(tmp_path / "docs.jsonl", corpus())), "-q"]).exit_code == 0
    out = tmp_path / "export" / "clusters.jsonl"
    out.parent.mkdir()

    result = invoke(["clusters", "export", "--format", "jsonl", "--output", str(out), "--min-size", "2"])

    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == f"exported 2 clusters to {out}\n"
    assert export_lines(out.read_text(encoding="utf-8")) == corpus_export()[:2]
    assert sorted(p.name for p in out.parent.iterdir()) == ["clusters.jsonl"]


def test_stats_and_index_rebuild_count_what_is_stored(tmp_path: Path) -> None:
    """`stats` prints per source its articles and the clusters it opened (no crawl runs after an
    ingest), the cluster sizes, then the totals of articles, clusters, clusters with copies and their
    articles, unsigned articles and indexed articles; `index rebuild` reports how many it indexed."""
    assert invoke(["ingest", str(write_lines(tmp_path / "docs.jsonl", corpus())), "-q"]).exit_code == 0

    result = invoke(["stats"])

    assert (result.exit_code, result.stderr) == (0, "")
    assert table_rows(result.stdout) == [
        ["source", "runs", "pages", "errors", "articles", "clusters", "last run", "duration"],
        ["dailycourier", "0", "0", "0", "2", "2", "-", "-"],
        ["nachrichten-blitz", "0", "0", "0", "1", "1", "-", "-"],
        ["newsflash-hub", "0", "0", "0", "2", "0", "-", "-"],
        ["trend-digest", "0", "0", "0", "1", "0", "-", "-"],
        ["cluster size", "clusters"],
        ["1", "1"],
        ["2", "1"],
        ["3-5", "1"],
        ["6-10", "0"],
        ["11+", "0"],
        ["articles", "6"],
        ["clusters", "3"],
        ["clusters with copies", "2"],
        ["articles in clusters with copies", "5"],
        ["articles too short to sign", "0"],
        ["indexed articles", "6"],
    ]
    rebuilt = invoke(["index", "rebuild"])
    assert (rebuilt.exit_code, rebuilt.stdout, rebuilt.stderr) == (0, "indexed 6 articles\n", "")


def test_ingest_again_is_unchanged_and_a_changed_page_is_updated(tmp_path: Path) -> None:
    """Ingesting the same file twice leaves everything as it was ('unchanged'); a file with a changed
    text at a known URL is 'updated', and the page moves to the cluster of the story it now tells."""
    path = write_lines(tmp_path / "docs.jsonl", corpus())
    assert invoke(["ingest", str(path), "-q"]).exit_code == 0

    again = invoke(["ingest", str(path), "-q"])

    assert (again.exit_code, again.stderr) == (0, "")
    assert again.stdout == "6 lines: 6 unchanged; stored 6 articles in 3 clusters (2 with copies)\n"
    assert export_lines(invoke(["clusters", "export"]).stdout) == corpus_export()

    changed = write_lines(tmp_path / "changed.jsonl", [{"url": LIBRARY_HUB, "text": story("solarpark").text}])
    result = invoke(["ingest", str(changed), "-q"])

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "1 line: 1 updated; stored 6 articles in 3 clusters (2 with copies)\n"
    export = export_lines(invoke(["clusters", "export"]).stdout)
    assert [(c["cluster_id"], c["canonical_url"], [m["url"] for m in c["members"]]) for c in export] == [
        (1, BRIDGE, [BRIDGE, BRIDGE_HUB, BRIDGE_DIGEST]),
        (2, LIBRARY, [LIBRARY]),
        (3, SOLAR, [SOLAR, LIBRARY_HUB]),
    ]


def test_ingest_reports_each_bad_line_and_processes_the_rest(tmp_path: Path, database_file_url: str) -> None:
    """Each bad line (not UTF-8, not JSON, no url, neither html nor text, not an object, a relative
    URL, an ftp:// URL) gets one line on stderr naming its number, a page without story text one line
    too; blank lines are skipped; every good line is processed, its URL spelled as a crawl spells it
    (scheme and host in lower case, dot segments resolved, no fragment), and the exit status is 1."""
    bridge, library = story("bridge"), story("library")
    path = write_lines(
        tmp_path / "mixed.jsonl",
        [
            {"url": BRIDGE, "text": bridge.text},
            b'{"url": "http://x.example/caf\xe9", "text": "Caf\xe9"}',
            b'{"url": "http://x.example/a" "text": "no comma"}',
            {"text": bridge.text},
            {"url": "http://x.example/empty", "html": "  ", "text": ""},
            b"   ",
            {"url": "http://x.example/short", "text": "A headline and nothing else."},
            b'["http://x.example/list"]',
            {"url": "news/bridge.html", "text": bridge.text},
            {"url": BRIDGE_HUB, "text": bridge.text},
            {
                "url": "HTTP://DailyCourier.EXAMPLE/2026/04/../03/parish-records-online.html#top",
                "text": library.text,
            },
            {"url": "ftp://x.example/bridge.txt", "text": bridge.text},
        ],
    )

    result = invoke(["ingest", str(path), "-q"])

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 2: not UTF-8 (byte 0xe9 at column 30)",
        "line 3: not JSON: Expecting ',' delimiter at column 30",
        "line 4: url: Field required",
        "line 5: neither html nor text is given",
        "line 7: http://x.example/short: no story text: 28 characters of text after cleaning (at least 200)",
        "line 8: expected a JSON object, got list",
        "line 9: url: 'news/bridge.html' is not an absolute URL",
        "line 12: url: 'ftp://x.example/bridge.txt' is not an http:// or https:// URL",
    ]
    assert result.stdout == (
        "11 lines: 2 new, 1 joined, 1 rejected, 7 bad; stored 3 articles in 2 clusters (1 with copies)\n"
    )
    assert [(url, cluster) for url, *_, cluster in stored_articles(database_file_url)] == [
        (BRIDGE, 1),
        (BRIDGE_HUB, 1),
        (LIBRARY, 2),
    ]


def test_ingest_with_only_rejected_pages_exits_0(tmp_path: Path) -> None:
    """Pages without story text are reported with their line number but are not bad lines: exit 0."""
    path = write_lines(
        tmp_path / "docs.jsonl",
        [
            {"url": BRIDGE, "text": story("bridge").text},
            {
                "url": "http://x.example/nav",
                "html": "<html><body><nav><a href='/'>Home</a></nav></body></html>",
            },
            {"url": LIBRARY, "text": story("library").text},
        ],
    )

    result = invoke(["ingest", str(path)])

    assert result.exit_code == 0
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        "line 2: http://x.example/nav: no story text: 4 characters of text after cleaning (at least 200)"
    ]
    assert result.stdout == "3 lines: 2 new, 1 rejected; stored 2 articles in 2 clusters (0 with copies)\n"


def test_ingest_report_lines_are_not_wrapped_on_a_narrow_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report line longer than the terminal (80 columns, as for a pipe or a CI log) stays one line."""
    monkeypatch.setenv("COLUMNS", "80")
    url = "http://newsflash-hub.example/news/2026/03/10/an-article-with-a-rather-long-address"
    path = write_lines(tmp_path / "docs.jsonl", [{"url": url, "text": "Only a headline."}])

    result = invoke(["ingest", str(path), "-q"])

    assert result.exit_code == 0
    assert (
        result.stderr
        == f"line 1: {url}: no story text: 16 characters of text after cleaning (at least 200)\n"
    )


def test_ingest_names_the_column_of_a_truncated_json_line(tmp_path: Path) -> None:
    """A JSON line cut off at its end is reported at the column where the missing value should start
    (just past the 38 characters of the line), not at its newline."""
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b'{"url": "http://x.example/a", "text": \n')

    result = invoke(["ingest", str(path), "-q"])

    assert result.exit_code == 1
    assert result.stderr == "line 1: not JSON: Expecting value at column 39\n"


def test_ingest_survives_over_long_values_on_every_database(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document with an over-long value (a 100-character source name; a source link of 2,100
    characters) costs at most its own line: the other documents are stored, on SQLite as on
    PostgreSQL."""
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", database_url)
    long_link = "http://origin.example/" + "q" * 2100
    path = write_lines(
        tmp_path / "docs.jsonl",
        [
            {"url": "http://x.example/bridge", "text": story("bridge").text, "source": "s" * 100},
            {"url": "http://y.example/library", "html": repost_html(story("library"), long_link)},
            {"url": "http://y.example/orchard", "text": story("orchard").text},
        ],
    )

    result = invoke(["ingest", str(path), "-q"])

    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert all(line.startswith("line 1: ") for line in result.stderr.splitlines())
    stored = [row[0] for row in stored_articles(database_url)]
    assert stored[-2:] == ["http://y.example/library", "http://y.example/orchard"]


def test_ingest_with_an_unknown_source_name_processes_nothing(tmp_path: Path, database_file_url: str) -> None:
    """`ingest --source NAME` with a name not in the sources file fails before reading the file: one
    line listing the known sources, exit 2, nothing stored."""
    path = write_lines(tmp_path / "docs.jsonl", corpus())

    result = invoke(["ingest", str(path), "-q", "--source", "nope"])

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: unknown source 'nope'; {KNOWN}\n"
    assert stored_articles(database_file_url) == []


def test_ingest_source_option_attributes_every_document(tmp_path: Path, database_file_url: str) -> None:
    """`--source NAME` attributes every document to that source, whatever its URL's domain: a
    non-publisher source's copy of a dailycourier URL is not a publisher page."""
    path = write_lines(
        tmp_path / "docs.jsonl",
        [{"url": BRIDGE, "text": story("bridge").text}, {"url": SOLAR, "text": story("solarpark").text}],
    )

    result = invoke(["ingest", str(path), "-q", "--source", "trend-digest"])

    assert (result.exit_code, result.stderr) == (0, "")
    assert stored_articles(database_file_url) == [
        (BRIDGE, "trend-digest", False, "en", 1),
        (SOLAR, "trend-digest", False, "de", 2),
    ]


def test_ingest_reads_standard_input(database_file_url: str) -> None:
    """`ingest -` reads the documents from standard input."""
    lines = "".join(json.dumps(d) + "\n" for d in corpus()[:2])

    result = invoke(["ingest", "-"], input=lines)

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "2 lines: 1 new, 1 joined; stored 2 articles in 1 cluster (1 with copies)\n"
    assert [row[0] for row in stored_articles(database_file_url)] == [BRIDGE, BRIDGE_HUB]


def test_ingest_of_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    """A file that cannot be read is one line naming it and the reason, exit status 1."""
    missing = tmp_path / "nope.jsonl"
    result = invoke(["ingest", str(missing)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {missing}: cannot read: No such file or directory\n"


def test_ingest_enqueue_sends_one_task_per_good_line(
    tmp_path: Path, broker: str, database_file_url: str
) -> None:
    """`ingest --enqueue` sends one newsdedup.process_page message per good line (the page as JSON, with
    --source applied) to the Redis list `celery`, reports the bad line, stores nothing, exits 1."""
    bridge = story("bridge")
    path = write_lines(
        tmp_path / "docs.jsonl",
        [
            {
                "url": BRIDGE,
                "text": bridge.text,
                "title": bridge.title,
                "published_at": "2026-03-10T10:00:00+02:00",
            },
            b"{not json}",
            {"url": BRIDGE_DIGEST, "html": "<p>copy</p>", "language": "en"},
        ],
    )

    result = invoke(
        ["ingest", str(path), "--enqueue", "--source", "newsflash-hub"], env={"NEWSDEDUP_REDIS_URL": broker}
    )

    assert result.exit_code == 1
    assert result.stdout == "3 lines: 2 enqueued, 1 bad\n"
    assert (
        result.stderr.strip()
        == "line 2: not JSON: Expecting property name enclosed in double quotes at column 2"
    )
    assert queued(broker, "celery") == [
        (
            "newsdedup.process_page",
            [
                {
                    "url": BRIDGE,
                    "text": bridge.text,
                    "title": bridge.title,
                    "published_at": "2026-03-10T10:00:00+02:00",
                    "headers": {},
                    "source": "newsflash-hub",
                }
            ],
            {},
        ),
        (
            "newsdedup.process_page",
            [
                {
                    "url": BRIDGE_DIGEST,
                    "html": "<p>copy</p>",
                    "language": "en",
                    "headers": {},
                    "source": "newsflash-hub",
                }
            ],
            {},
        ),
    ]
    assert queued(broker, "crawl") == []
    assert stored_articles(database_file_url) == []


def test_ingest_enqueue_without_redis_is_a_one_line_error(tmp_path: Path) -> None:
    """`ingest --enqueue` without NEWSDEDUP_REDIS_URL fails in one line, exit 2."""
    path = write_lines(tmp_path / "docs.jsonl", corpus())
    result = invoke(["ingest", str(path), "--enqueue"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "Error: --enqueue needs the workers' broker: set NEWSDEDUP_REDIS_URL\n"


def test_ingest_with_the_redis_index_on_a_fresh_redis(tmp_path: Path, redis_url: str) -> None:
    """With NEWSDEDUP_REDIS_URL set (index in Redis) on an empty Redis, `ingest` clusters as in the
    embedded mode."""
    path = write_lines(tmp_path / "docs.jsonl", corpus())

    result = invoke(["ingest", str(path), "-q"], env={"NEWSDEDUP_REDIS_URL": redis_url})

    assert (result.exit_code, result.stderr) == (0, ""), repr(result.exception)
    assert result.stdout == "6 lines: 3 new, 3 joined; stored 6 articles in 3 clusters (2 with copies)\n"
    assert export_lines(invoke(["clusters", "export"]).stdout) == corpus_export()


def test_stats_and_why_never_open_the_candidate_index(tmp_path: Path, redis_url: str) -> None:
    """On a Redis that holds no shared index, `stats` reports the articles it holds (0) and
    `clusters why` compares two signatures by their band keys, and neither rebuilds the index (the
    commands that process pages do): Redis is still empty afterwards. Embedded, `stats` counts the
    signed articles, which is what this process's index would hold."""
    assert invoke(["ingest", str(write_lines(tmp_path / "docs.jsonl", corpus())), "-q"]).exit_code == 0
    embedded = invoke(["stats", "--json"])
    assert json.loads(embedded.stdout)["totals"]["indexed_articles"] == 6

    shared = invoke(["stats", "--json"], env={"NEWSDEDUP_REDIS_URL": redis_url})
    why = invoke(["clusters", "why", BRIDGE, BRIDGE_DIGEST], env={"NEWSDEDUP_REDIS_URL": redis_url})

    assert json.loads(shared.stdout)["totals"]["indexed_articles"] == 0
    assert why.exit_code == 0, why.output
    assert "MinHash LSH proposes them" in why.stdout
    assert redis.Redis.from_url(redis_url).dbsize() == 0


def test_index_built_with_other_settings_is_a_one_line_error(
    tmp_path: Path, redis_url: str, database_file_url: str
) -> None:
    """A shared index in Redis built for another similarity threshold makes `ingest`, the first command
    to query it, fail in one line that gives both parameter sets, exit status 1."""
    open_shared_index(redis_url, database_file_url, NEWSDEDUP_LSH_THRESHOLD="0.8")

    docs = write_lines(tmp_path / "docs.jsonl", corpus()[:1])
    result = invoke(["ingest", str(docs), "-q"], env={"NEWSDEDUP_REDIS_URL": redis_url})

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: the shared index in Redis was built with "
        "{'num_perm': '128', 'bands': '9', 'rows': '13', 'anchor_modulus': '8', "
        "'evidence_min_weight': '0.5', 'index_capacity': '1000000'}, these settings give "
        "{'num_perm': '128', 'bands': '25', 'rows': '5', 'anchor_modulus': '8', "
        "'evidence_min_weight': '0.5', 'index_capacity': '1000000'}: "
        "run `newsdedup index rebuild` to rebuild it with these settings\n"
    )


def test_index_rebuild_repairs_an_index_built_with_another_threshold(
    tmp_path: Path, redis_url: str, database_file_url: str
) -> None:
    """`index rebuild`, the remedy the mismatch error names, rebuilds the shared index for the current
    threshold, after which the commands work again."""
    assert invoke(["ingest", str(write_lines(tmp_path / "docs.jsonl", corpus())), "-q"]).exit_code == 0
    open_shared_index(redis_url, database_file_url, NEWSDEDUP_LSH_THRESHOLD="0.8")

    rebuilt = invoke(["index", "rebuild"], env={"NEWSDEDUP_REDIS_URL": redis_url})

    assert (rebuilt.exit_code, rebuilt.stdout, rebuilt.stderr) == (0, "indexed 6 articles\n", "")
    stats = invoke(["stats"], env={"NEWSDEDUP_REDIS_URL": redis_url})
    assert stats.exit_code == 0
    assert table_rows(stats.stdout)[-1] == ["indexed articles", "6"]


@pytest.mark.parametrize(
    "args",
    [
        ["stats"],
        ["clusters", "list"],
        ["clusters", "show", "1"],
        ["clusters", "export"],
        ["index", "rebuild"],
    ],
)
def test_unreachable_database_is_a_one_line_error(args: list[str]) -> None:
    """Every command that reads the database fails in one line naming the cause and what to check,
    exit status 1, no traceback, when the database server does not answer."""
    result = invoke(args, env={"NEWSDEDUP_DATABASE_URL": UNREACHABLE})

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        'Error: database error: connection failed: connection to server at "127.0.0.1", port 1 failed: '
        "Connection refused (check NEWSDEDUP_DATABASE_URL and that the server is up)\n"
    )


def test_ingest_into_an_unreachable_database_is_a_one_line_error(tmp_path: Path) -> None:
    """`ingest` into a database that does not answer fails at the first document in one line, exit 1."""
    path = write_lines(tmp_path / "docs.jsonl", corpus())
    result = invoke(["ingest", str(path), "-q"], env={"NEWSDEDUP_DATABASE_URL": UNREACHABLE})
    assert (result.exit_code, result.stdout) == (1, "")
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("Error: database error: connection failed: ")
    assert "Traceback" not in result.output


def test_a_database_url_that_is_not_one_is_a_one_line_error() -> None:
    """A NEWSDEDUP_DATABASE_URL that is not a URL at all is a configuration error: one line, exit 2."""
    result = invoke(["stats"], env={"NEWSDEDUP_DATABASE_URL": "data/newsdedup.db"})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "Error: not a database URL: 'data/newsdedup.db'\n"


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_need_redis(command: str) -> None:
    """`worker` and `beat` without NEWSDEDUP_REDIS_URL fail in one line, exit 2, before starting Celery."""
    result = invoke([command])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "Error: NEWSDEDUP_REDIS_URL is not set: workers and beat need Redis\n"


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_check_the_sources_file_first(command: str, tmp_path: Path, redis_url: str) -> None:
    """`worker` and `beat` with a broken sources file fail in one line naming file, source and field,
    exit 2, before starting Celery (Redis is set, so only the sources file stops them)."""
    broken = tmp_path / "sources.toml"
    broken.write_text(
        '[[source]]\nname = "wire"\nkind = "feed"\nstart_urls = ["http://wire.example/rss"]\n'
        'schedule = "every hour"\n',
        encoding="utf-8",
    )

    result = invoke([command], env={"NEWSDEDUP_REDIS_URL": redis_url, "NEWSDEDUP_SOURCES": str(broken)})

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: {broken}: source 'wire': schedule: 'every hour' is not a cron expression of 5 fields "
        "(minute hour day month weekday)\n"
    )


def test_a_database_of_a_newer_version_is_a_one_line_error(database_file_url: str) -> None:
    """A database migrated by a newer newsdedup (a revision these migrations do not have) makes every
    command that opens it fail in one line saying so, exit status 2, instead of Alembic's traceback."""
    assert invoke(["db", "upgrade"]).exit_code == 0  # the schema at the newest revision
    engine = create_engine(database_file_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()

    result = invoke(["clusters", "list"])

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: the database is at revision 0099, which this version of newsdedup does not have "
        "(a newer version migrated it): upgrade newsdedup\n"
    )


def test_database_and_output_mistakes_are_one_line_and_create_nothing(tmp_path: Path) -> None:
    """Errors an operator makes, each one line on stderr with a non-zero exit status and nothing
    created: a read-only command on a mistyped SQLite path (no folder, no empty database), a file that
    is not a database, a database newsdedup does not run on, and an export into a missing folder."""
    not_a_database = tmp_path / "notes.sqlite"
    not_a_database.write_text("not a database\\n")
    stored = tmp_path / "store.db"
    migrate(create_db_engine(f"sqlite:///{stored}"))
    cases = [
        (
            f"sqlite:///{tmp_path / 'typo' / 'x.db'}",
            ["clusters", "list"],
            2,
            f"Error: no database at {tmp_path / 'typo' / 'x.db'}: check NEWSDEDUP_DATABASE_URL "
            "(the commands that store pages create it)\n",
        ),
        (
            f"sqlite:///{not_a_database}",
            ["stats"],
            1,
            "Error: database error: file is not a database (check NEWSDEDUP_DATABASE_URL)\n",
        ),
        (
            "mysql://reader@127.0.0.1/news",
            ["clusters", "list"],
            2,
            "Error: NEWSDEDUP_DATABASE_URL: 'mysql' databases are not supported: newsdedup runs on "
            "sqlite:///FILE and postgresql://HOST/DATABASE\n",
        ),
        (
            f"sqlite:///{stored}",
            ["clusters", "export", "--format", "jsonl", "--output", str(tmp_path / "missing" / "out.jsonl")],
            1,
            f"Error: {tmp_path / 'missing'}: no such folder\n",
        ),
    ]
    for url, args, status, line in cases:
        result = CliRunner().invoke(app, args, env={"NEWSDEDUP_DATABASE_URL": url})
        assert (result.exit_code, result.stderr, result.stdout) == (status, line, ""), args
    assert {p.name for p in tmp_path.iterdir()} - {"store.db-shm", "store.db-wal"} == {
        "notes.sqlite",
        "store.db",
    }


def test_ingest_recognises_a_compressed_binary_or_foreign_file_and_stops_in_one_line(tmp_path: Path) -> None:
    """A gzipped file of documents (from a path or stdin) and a file with NUL bytes stop before the
    first line with one line saying what the file is; a text file whose first 20 lines are all bad
    stops there with one line instead of 20; nothing is stored and the exit status is 1."""
    documents = write_lines(tmp_path / "docs.jsonl", [{"url": BRIDGE, "text": story("bridge").text}])
    packed = tmp_path / "docs.jsonl.gz"
    packed.write_bytes(gzip.compress(documents.read_bytes()))
    binary = tmp_path / "image.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    prose = tmp_path / "notes.txt"
    prose.write_text("".join(f"plain line {n}\n" for n in range(1, 26)), encoding="utf-8")
    gzipped_hint = "not JSON lines (decompress it first: zcat FILE | newsdedup ingest -)"

    results = [
        invoke(["ingest", str(packed)]),
        CliRunner().invoke(app, ["ingest", "-"], input=packed.read_bytes()),
        invoke(["ingest", str(binary)]),
        invoke(["ingest", str(prose)]),
    ]

    assert [(r.exit_code, r.stderr, r.stdout) for r in results] == [
        (1, f"Error: {packed}: a gzip-compressed file, {gzipped_hint}\n", ""),
        (1, f"Error: -: a gzip-compressed file, {gzipped_hint}\n", ""),
        (1, f"Error: {binary}: a binary file, not JSON lines\n", ""),
        (
            1,
            f"Error: {prose}: the first 20 documents are all bad (line 20: not JSON: Expecting value at "
            "column 1): is it a file of JSON lines? Stopped\n",
            "",
        ),
    ]


def test_a_crawl_of_a_server_that_is_down_or_a_gone_start_url_fails_in_one_line(tmp_path: Path) -> None:
    """`newsdedup crawl` (a child process: Scrapy's reactor starts once a process) of a source whose
    server refuses connections and of one whose feed answers 404: the table counts the errors and the
    HTTP errors, no traceback is printed, stderr ends with one line naming both sources, and the exit
    status is 1."""
    (tmp_path / "empty").mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(tmp_path / "empty")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "down"\nkind = "site"\nstart_urls = ["http://127.0.0.1:1/"]\n'
        'allow_private = ["127.0.0.1"]\n\n'
        f'[[source]]\nname = "gone"\nkind = "feed"\nstart_urls = ["http://127.0.0.1:{server.server_port}/feed.xml"]\n'
        'allow_private = ["127.0.0.1"]\n',
        encoding="utf-8",
    )
    try:
        result = run_crawl_command(sources, tmp_path, COLUMNS="100")
    finally:
        server.shutdown()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "2 of 2 sources failed (down, gone): errors, or no page and HTTP errors; -v shows the details"
    )
    assert table_rows(result.stdout) == [
        ["source", "pages", "http errors", "errors", "finished"],
        ["down", "0", "0", "4", "finished"],
        ["gone", "0", "1", "0", "finished"],
        ["2 sources", "0", "1", "4", ""],
    ]


class QuietHandler(SimpleHTTPRequestHandler):
    """Files of a folder, without a log line per request."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_tables_stay_readable_at_80_columns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """At 80 columns a long URL in `clusters list` and `clusters show` is one line, shortened in the
    middle (its start and end kept around "…"); the canonical and source-link lines keep every URL
    whole on one line (the terminal folds them, a copy pastes whole); `--json` has the full values."""
    long_url = (
        "http://dailycourier.example/2026/03/" + "the-swing-bridge-over-the-harbour-closes-" * 3 + "x.html"
    )
    copy_url = "http://newsflash-hub.example/news/" + "bridge-" * 12 + "closure"
    bridge = story("bridge")
    path = write_lines(
        tmp_path / "docs.jsonl",
        [
            {"url": long_url, "text": bridge.text, "title": bridge.title},
            {"url": copy_url, "html": repost_html(bridge, long_url)},
        ],
    )
    assert invoke(["ingest", str(path), "-q"]).exit_code == 0
    monkeypatch.setenv("COLUMNS", "80")

    listed = invoke(["clusters", "list"])
    shown = invoke(["clusters", "show", "1"])

    [row] = [line for line in listed.stdout.splitlines() if line.lstrip().startswith("1 ") and "│" in line]
    assert len(row) <= 80
    canonical_cell = row.split("│")[2].strip()
    assert "…" in canonical_cell
    assert long_url.startswith(canonical_cell.split("…")[0])
    assert long_url.endswith(canonical_cell.split("…")[1])
    member_rows = [line for line in shown.stdout.splitlines() if "│" in line and "…" in line]
    assert len(member_rows) == 2
    assert all(len(line) <= 80 for line in member_rows)
    lines = shown.stdout.splitlines()
    assert f"canonical {long_url}" in lines
    assert f"  {copy_url} -> {long_url}" in lines
    assert json.loads(invoke(["clusters", "list", "--json"]).stdout)["canonical_url"] == long_url


@pytest.mark.parametrize(
    ("width", "shortened"),
    [
        (50, "http://example.com/a/b/c/d/e/f/g/h/i/j/k/l/m/n"),
        (40, "http://example.com/a/b/…/g/h/i/j/k/l/m/n"),
        (20, "http://exam…/k/l/m/n"),
        (1, "…"),
        (0, ""),
    ],
)
def test_middle_keeps_the_start_and_end_of_a_long_url(width: int, shortened: str) -> None:
    """A URL longer than the width keeps three fifths of it at the start, the rest at the end."""
    assert middle("http://example.com/a/b/c/d/e/f/g/h/i/j/k/l/m/n", width) == shortened


def test_an_enqueued_page_travels_compressed(broker: str, tmp_path: Path) -> None:
    """`ingest --enqueue` of a page of 60 KB of HTML leaves one gzip-compressed message in Redis whose
    envelope is under a third of the HTML's size, and which decodes back to the page exactly."""
    bridge = story("bridge")
    html = repost_html(bridge, BRIDGE) * 24
    path = write_lines(tmp_path / "docs.jsonl", [{"url": BRIDGE_HUB, "html": html}])

    result = invoke(["ingest", str(path), "--enqueue"], env={"NEWSDEDUP_REDIS_URL": broker})

    assert (result.exit_code, result.stdout) == (0, "1 line: 1 enqueued\n")
    assert len(html) > 60_000
    [raw] = redis.Redis.from_url(broker).lrange("celery", 0, -1)
    assert len(raw) < len(html) / 3
    assert json.loads(raw)["headers"]["compression"] == "application/x-gzip"
    task, [page], kwargs = decode(raw)
    assert (task, page["url"], page["html"], kwargs) == ("newsdedup.process_page", BRIDGE_HUB, html, {})


def test_ingest_refuses_a_document_over_the_page_size_cap(tmp_path: Path) -> None:
    """With CRAWL_MAX_PAGE_BYTES at 2,048, a line of 5,000 bytes is a bad line naming the limit, and
    the documents beside it are stored."""
    bridge = story("bridge")
    path = write_lines(
        tmp_path / "docs.jsonl",
        [
            {"url": BRIDGE, "text": bridge.text[:1500]},
            {"url": "http://x.example/huge", "html": "<p>" + "x" * 5000 + "</p>"},
        ],
    )
    result = invoke(["ingest", str(path), "-q"], env={"NEWSDEDUP_CRAWL_MAX_PAGE_BYTES": "2048"})
    size = len(path.read_bytes().splitlines(keepends=True)[1])
    assert (result.exit_code, result.stderr) == (
        1,
        f"line 2: {size:,} bytes, over the 2,048-byte limit (CRAWL_MAX_PAGE_BYTES)\n",
    )
    assert result.stdout.startswith("2 lines: 1 new, 1 bad;")
