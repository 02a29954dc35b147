"""Pages that never finish, with a real Celery worker (``tests.faulty_worker``: a page that hangs and
one that kills its pool process): each goes to the dead letters after MAX_DELIVERIES deliveries, the
worker goes on with the other pages, and `newsdedup dead-letters` lists them and sends them again."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from newsdedup.cli import app
from tests.celery_worker import running_worker, wait_until
from tests.conftest import ROOT
from tests.fault_table import FaultRow, Record
from tests.test_faults import origin, prepare, send, service_env, stored
from workers.messages import decode

pytestmark = pytest.mark.slow

FAULTY_WORKER = (
    sys.executable,
    "-m",
    "celery",
    "-A",
    "tests.faulty_worker",
    "worker",
    "-Q",
    "celery",
    "-l",
    "INFO",
)


def letters(redis_url: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(
        app, ["dead-letters", "list", "--json"], env={"NEWSDEDUP_REDIS_URL": redis_url}
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_page_that_hangs_and_one_that_kills_its_worker_end_among_the_dead_letters(
    redis_url: str, postgres_url: str, tmp_path: Path, fault_row: Record
) -> None:
    """MAX_DELIVERIES 2, a soft time limit of 1 s and a hard one of 3 s. The page that hangs is
    interrupted at 1 s, tried once more, then buried ("timed out, 2 deliveries"); the page that kills
    its pool process is delivered twice, dying each time, and buried at its third delivery ("never
    finished …, 2 deliveries"); the good page sent after them is stored. `dead-letters replay --all`
    puts both pages back on the queue exactly as they were, and leaves no dead letter. Its row of the
    fault table is timed from the pages sent until both are buried and the good page stored."""
    prepare(postgres_url)
    hangs = {**origin("bridge"), "url": "http://slow.example/hangs/bridge"}
    kills = {**origin("library"), "url": "http://crash.example/kills-its-worker/library"}
    good = origin("bridge")
    env = service_env(
        redis_url,
        postgres_url,
        NEWSDEDUP_MAX_DELIVERIES="2",
        NEWSDEDUP_PAGE_SOFT_TIME_LIMIT_SECONDS="1",
        NEWSDEDUP_PAGE_TIME_LIMIT_SECONDS="3",
        NEWSDEDUP_RETRY_BACKOFF_MAX_SECONDS="1",
        PYTHONPATH=str(ROOT),  # the worker runs in tmp_path and imports tests.faulty_worker
    )
    with running_worker(env, tmp_path, postgres_url, concurrency=1, command=FAULTY_WORKER) as worker:
        pages = [hangs, kills, good]
        send(redis_url, *pages)
        sent = time.monotonic()
        found = wait_until(lambda: len(letters(redis_url)) == 2 and letters(redis_url), "both pages buried")
        wait_until(lambda: worker.article_count() == 1, "the good page stored")
        recovered = time.monotonic() - sent

    reasons = {letter["url"]: (letter["reason"], letter["deliveries"]) for letter in found}
    assert reasons == {
        hangs["url"]: ("timed out, 2 deliveries", 2),
        kills["url"]: ("never finished: it killed its worker or ran past the time limit, 2 deliveries", 2),
    }
    assert stored(postgres_url)["clusters"] == {frozenset({good["url"]})}

    replayed = CliRunner().invoke(
        app, ["dead-letters", "replay", "--all"], env={"NEWSDEDUP_REDIS_URL": redis_url}
    )

    assert (replayed.exit_code, replayed.stdout) == (0, "replayed 2 pages\n")
    assert letters(redis_url) == []
    queued = [decode(raw) for raw in reversed(redis.Redis.from_url(redis_url).lrange("celery", 0, -1))]
    assert sorted(args[0]["url"] for _, args, _ in queued) == sorted([hangs["url"], kills["url"]])
    assert {args[0]["url"]: args[0] for _, args, _ in queued}[kills["url"]] == kills
    result = stored(postgres_url)
    buried = {str(letter["url"]) for letter in found}
    fault_row(
        FaultRow(
            "a page that hangs and one that kills its pool process (MAX_DELIVERIES 2): "
            f"{len(buried)} pages to the dead letters, {len(queued)} replayed",
            len(pages),
            result["articles"],
            len({page["url"] for page in pages} - set(result["urls"]) - buried),
            len(result["twice"]),
            recovered,
        )
    )
