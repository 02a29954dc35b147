"""Observability: log lines (text or JSON, with source, url and task id, passwords redacted), the crawl
runs and `newsdedup stats`, and the Prometheus metrics and task events of a real worker."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from config.logs import FieldsFormatter, JsonFormatter, page_logger
from config.redact import install_log_redaction
from newsdedup.cli import app
from newsdedup.demo.server import SiteServer
from tests.celery_worker import Worker, child_env, running_worker
from tests.test_cli import corpus, write_lines

# Deadlines only keep a broken crawl from hanging the suite; nothing is timed.
DEADLINE = 180
PROCESSING = "newsdedup.service.processing"


def _record(message: str, *args: object, **fields: Any) -> logging.LogRecord:
    """A record as a logger makes it (through the record factory, so redaction applies)."""
    install_log_redaction()
    record = logging.getLogRecordFactory()("newsdedup.test", logging.INFO, __file__, 1, message, args, None)
    for name, value in fields.items():
        setattr(record, name, value)
    return record


def test_json_line_carries_the_fields_and_no_password() -> None:
    """A JSON line is one object: ts, level, logger, message and the record's source, url and task_id;
    the password of a URL in the message and in a field is replaced by ***."""
    record = _record(
        "cannot reach %s",
        "redis://:s3cret@127.0.0.1:6379/0",
        source="dailycourier",
        url="http://user:hunter2@dailycourier.example/a",
        task_id="abc",
    )

    line = JsonFormatter().format(record)

    assert "\n" not in line
    parsed = json.loads(line)
    assert datetime.fromisoformat(parsed.pop("ts")).tzinfo == UTC
    assert parsed == {
        "level": "INFO",
        "logger": "newsdedup.test",
        "message": "cannot reach redis://:***@127.0.0.1:6379/0",
        "source": "dailycourier",
        "url": "http://user:***@dailycourier.example/a",
        "task_id": "abc",
    }


def test_text_line_appends_the_fields_to_the_inner_format() -> None:
    """The text format keeps the inner formatter's line (Celery's, Scrapy's) and appends the fields the
    record carries as name=value, redacted; a record without fields is the inner line unchanged."""
    inner = logging.Formatter("[%(levelname)s] %(message)s")
    with_fields = _record("new %s", "http://a.example/x", source="a", url="http://u:pw@a.example/x")

    assert FieldsFormatter(inner).format(with_fields) == (
        "[INFO] new http://a.example/x source=a url=http://u:***@a.example/x"
    )
    assert FieldsFormatter(inner).format(_record("plain")) == "[INFO] plain"


def test_page_logger_leaves_out_unknown_fields(caplog: pytest.LogCaptureFixture) -> None:
    """page_logger puts the known fields on each record and leaves out those that are None."""
    with caplog.at_level(logging.INFO, logger="newsdedup.test"):
        page_logger(logging.getLogger("newsdedup.test"), source="s", url=None, task_id="t").info("x")
    (record,) = caplog.records
    assert (record.source, record.task_id, hasattr(record, "url")) == ("s", "t", False)  # type: ignore[attr-defined]


def test_ingest_in_the_cli_logs_one_json_line_per_page(tmp_path: Path) -> None:
    """`newsdedup -v ingest` with NEWSDEDUP_LOG_FORMAT=json writes only JSON lines to stderr, and one
    line per document from the processing code with its outcome, source and url (no task id: no task)."""
    path = write_lines(tmp_path / "docs.jsonl", corpus())
    result = CliRunner().invoke(app, ["-v", "ingest", str(path), "-q"], env={"NEWSDEDUP_LOG_FORMAT": "json"})

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    pages = [
        (line["message"].split()[0], line["source"], line["url"])
        for line in lines
        if line["logger"] == PROCESSING
    ]
    documents = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [url for _, _, url in pages] == [d["url"] for d in documents]
    assert [status for status, _, _ in pages] == ["new", "joined", "joined", "new", "joined", "new"]
    assert all(
        source and "task_id" not in line
        for line in lines
        if line["logger"] == PROCESSING
        for source in [line["source"]]
    )


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=DEADLINE, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def _stats(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(_run(["newsdedup", "stats", "--json"], env, cwd).stdout)
    return parsed


@pytest.mark.slow
def test_stats_after_crawls_of_the_fixture_sites(site_server: SiteServer, tmp_path: Path) -> None:
    """Two crawls in the crawler's own process (`python -m crawler`, embedded, JSON logs): dailycourier,
    then the three others. Each crawl's stderr is JSON lines only, one per page from the processing code
    with source and url. `stats` then shows per source one run, its pages, no error, its articles and the
    clusters it opened (dailycourier first: every copied story is its), a last run between the crawl's
    start and end, and the cluster sizes (three stories of 1, three of 2, two of 3)."""
    env = child_env(NEWSDEDUP_LOG_FORMAT="json")
    started = datetime.now(UTC)
    first = _run([sys.executable, "-m", "crawler", "dailycourier"], env, tmp_path)
    rest = ["newsflash-hub", "trend-digest", "nachrichten-blitz"]
    second = _run([sys.executable, "-m", "crawler", *rest], env, tmp_path)
    ended = datetime.now(UTC)

    for crawl in (first, second):
        lines = [json.loads(line) for line in crawl.stderr.splitlines()]
        pages = [line for line in lines if line["logger"] == PROCESSING]
        summary = json.loads(crawl.stdout.splitlines()[-1])
        assert len(pages) == sum(s["pages"] for s in summary.values())
        assert {(p["source"], p["url"].split("/")[2].split(".")[0]) for p in pages} <= {
            (name, name) for name in summary
        }

    stats = _stats(env, tmp_path)
    for row in stats["sources"]:
        last_run = datetime.fromisoformat(row.pop("last_run"))
        assert started <= last_run <= ended
        assert 0 < row.pop("duration_seconds") < (ended - started).total_seconds()
    assert stats["sources"] == [
        {"source": "dailycourier", "runs": 1, "pages": 7, "errors": 0, "articles": 7, "clusters": 7},
        {"source": "nachrichten-blitz", "runs": 1, "pages": 2, "errors": 0, "articles": 2, "clusters": 1},
        {"source": "newsflash-hub", "runs": 1, "pages": 3, "errors": 0, "articles": 3, "clusters": 0},
        {"source": "trend-digest", "runs": 1, "pages": 3, "errors": 0, "articles": 3, "clusters": 0},
    ]
    assert stats["cluster_sizes"] == {"1": 3, "2": 3, "3-5": 2, "6-10": 0, "11+": 0}
    assert stats["totals"]["articles"] == 15
    assert stats["totals"]["clusters"] == 8

    table = _run(["newsdedup", "stats"], env, tmp_path).stdout
    rows = [
        [c.strip() for c in line.replace("┃", "│").split("│")]
        for line in table.splitlines()
        if "│" in line or "┃" in line
    ]
    assert [row[:6] for row in rows[:5]] == [
        ["source", "runs", "pages", "errors", "articles", "clusters"],
        ["dailycourier", "1", "7", "0", "7", "7"],
        ["nachrichten-blitz", "1", "2", "0", "2", "1"],
        ["newsflash-hub", "1", "3", "0", "3", "0"],
        ["trend-digest", "1", "3", "0", "3", "0"],
    ]
    assert rows[5:11] == [
        ["cluster size", "clusters"],
        ["1", "3"],
        ["2", "3"],
        ["3-5", "2"],
        ["6-10", "0"],
        ["11+", "0"],
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def json_worker(
    redis_url: str, postgres_url: str, site_server: SiteServer, tmp_path: Path
) -> Iterator[Worker]:
    """A prefork worker (two pool processes) with JSON logs and metrics on a free port of 127.0.0.1."""
    env = child_env(
        NEWSDEDUP_REDIS_URL=redis_url,
        NEWSDEDUP_DATABASE_URL=postgres_url,
        NEWSDEDUP_LOG_FORMAT="json",
        NEWSDEDUP_METRICS_PORT=str(_free_port()),
    )
    with running_worker(env, tmp_path, postgres_url) as running:
        yield running


def _metrics(port: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # not the fixture sites' proxy
    with direct.open(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        body = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if sample.name.startswith("newsdedup_")
    }


@pytest.mark.slow
def test_worker_logs_json_serves_metrics_and_sends_task_events(json_worker: Worker, tmp_path: Path) -> None:
    """A crawl in service mode sends 15 pages to a prefork worker with NEWSDEDUP_LOG_FORMAT=json. Every
    line the worker logs after its banner is JSON; each page has one processing line with its
    source, url and the id of its task. The metrics endpoint sums both pool processes: 15 pages by
    status (as the log lines say), 15 observations of processing time, a created cluster per new page,
    15 articles in the index. Task events are on (`celery inspect conf`), so Flower sees the tasks."""
    _run(["newsdedup", "crawl"], json_worker.env, tmp_path)
    json_worker.wait_for(tasks=15, articles=15)

    lines = [json.loads(line) for line in json_worker.log().splitlines() if line.startswith("{")]
    pages = [line for line in lines if line["logger"] == PROCESSING]
    succeeded, _ = json_worker.finished()
    assert len(pages) == 15
    assert {p["task_id"] for p in pages} == succeeded
    assert all(p["url"].split("/")[2].split(".")[0] == p["source"] for p in pages)
    statuses = [p["message"].split()[0] for p in pages]

    values = _metrics(json_worker.env["NEWSDEDUP_METRICS_PORT"])
    by_status = {
        dict(labels)["status"]: value
        for (name, labels), value in values.items()
        if name == "newsdedup_pages_processed_total"
    }
    assert by_status == {s: float(statuses.count(s)) for s in set(statuses)}
    assert statuses.count("new") + statuses.count("joined") == 15
    assert values[("newsdedup_page_processing_seconds_count", ())] == 15.0
    assert values[("newsdedup_clusters_created_total", ())] == float(statuses.count("new"))
    assert values[("newsdedup_index_articles", ())] == 15.0

    inspect = _run(
        [sys.executable, "-m", "celery", "-A", "workers.app", "inspect", "conf", "--json", "--timeout", "10"],
        json_worker.env,
        tmp_path,
    )
    (conf,) = json.loads(inspect.stdout.strip().splitlines()[-1]).values()
    assert (conf["worker_send_task_events"], conf["task_send_sent_event"]) == (True, True)
