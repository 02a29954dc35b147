"""A real ``newsdedup worker`` (Celery, prefork) for the end-to-end tests: started in a process group of
its own, its log in a file, what the log says about ``process_page`` tasks, its pool's processes, and a
clean stop (SIGTERM, then SIGKILL to the group) however the test ends."""

from __future__ import annotations

import ast
import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

# Deadlines only keep a broken worker from hanging the suite; nothing is timed.
PROCESSING_DEADLINE = 120
SHUTDOWN_DEADLINE = 30
POLL = 0.1

_SUCCEEDED = re.compile(r"Task newsdedup\.process_page\[([0-9a-f-]+)\] succeeded in \S+: (\{.*\})\s*$")
_FAILED = re.compile(r"Task newsdedup\.process_page\[([0-9a-f-]+)\] raised unexpected")
_RECEIVED = re.compile(r"Task newsdedup\.process_page\[([0-9a-f-]+)\] received")
_RETRY = re.compile(r"Task newsdedup\.process_page\[([0-9a-f-]+)\] retry: (.*)$")

T = TypeVar("T")


def child_env(**settings: str) -> dict[str, str]:
    """This test's environment (the conftest's settings, the fixture server as proxy) plus these."""
    env = dict(os.environ)
    env.update(
        PYTHONUNBUFFERED="1",
        COLUMNS="200",
        # The fixture sites answer in milliseconds: no need for the production start delay.
        NEWSDEDUP_AUTOTHROTTLE_START_DELAY="0",
    )
    env.update(settings)
    return env


def wait_until(check: Callable[[], T | None], what: str, deadline: float = PROCESSING_DEADLINE) -> T:
    """Poll ``check`` until it returns something other than None or False; fail at the deadline."""
    end = time.monotonic() + deadline
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > end:
            pytest.fail(f"not within {deadline} s: {what}")
        time.sleep(POLL)


@dataclass
class Worker:
    """A running `newsdedup worker` and what its log says about process_page tasks."""

    process: subprocess.Popen[bytes]
    log_file: Path
    database_url: str
    env: dict[str, str]
    _engine: Any = field(default=None, repr=False)

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def outcomes(self) -> list[dict[str, Any]]:
        """The results of the process_page tasks that succeeded, in the order they finished."""
        return [ast.literal_eval(m.group(2)) for m in map(_SUCCEEDED.search, self.log().splitlines()) if m]

    def received(self) -> list[str]:
        """Ids of the process_page tasks the worker received, in order."""
        return _RECEIVED.findall(self.log())

    def finished(self) -> tuple[set[str], set[str]]:
        """Ids of the process_page tasks that succeeded, and of those that failed."""
        log = self.log()
        succeeded = {m.group(1) for m in map(_SUCCEEDED.search, log.splitlines()) if m}
        return succeeded, set(_FAILED.findall(log))

    def retries(self) -> dict[str, list[str]]:
        """Per process_page task id, the reasons of its retries, in order."""
        found: dict[str, list[str]] = {}
        for m in map(_RETRY.search, self.log().splitlines()):
            if m:
                found.setdefault(m.group(1), []).append(m.group(2))
        return found

    def pool(self) -> list[int]:
        """Process ids of the worker's pool children (from /proc)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def article_count(self) -> int:
        """Articles stored in the worker's database (0 before the worker created the tables)."""
        if self._engine is None:
            self._engine = create_engine(self.database_url)
        try:
            with self._engine.connect() as conn:
                return int(conn.execute(text("SELECT count(*) FROM articles")).scalar_one())
        except DBAPIError:
            return 0

    def wait_for(self, tasks: int, articles: int) -> None:
        """Poll until `tasks` process_page tasks have finished (succeeded or failed) and `articles`
        articles are stored, or fail at the deadline; fails at once if the worker dies."""
        deadline = time.monotonic() + PROCESSING_DEADLINE
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode}:\n{self.log()}")
            succeeded, failed = self.finished()
            if len(succeeded) + len(failed) >= tasks:
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"after {PROCESSING_DEADLINE} s the worker had finished {len(succeeded) + len(failed)} "
                    f"of {tasks} process_page tasks:\n{self.log()}"
                )
            time.sleep(POLL)
        errors = [line for line in self.log().splitlines() if _FAILED.search(line)]
        assert not failed, "process_page tasks failed in the worker (its log is below):\n" + "\n".join(errors)
        # Every task has committed before Celery logs its success; the count is final here.
        assert self.article_count() == articles, self.log()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


@contextlib.contextmanager
def running_worker(
    env: dict[str, str],
    cwd: Path,
    database_url: str,
    *,
    concurrency: int = 2,
    log_name: str = "worker.log",
    command: tuple[str, ...] = ("newsdedup", "worker"),
) -> Iterator[Worker]:
    """`newsdedup worker --pool=prefork --concurrency=N` (or another ``command`` that starts a Celery
    worker) with this environment; stopped with SIGTERM (then SIGKILL to its process group) however
    the test ends. Its log is printed at the end, so a failing test shows it."""
    log_file = cwd / log_name
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--pool=prefork", f"--concurrency={concurrency}"],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the pool children go down with it
        )
    running = Worker(process, log_file, database_url, env)
    try:
        yield running
    finally:
        running.close()
        stop(process)
        print(f"--- worker log ({log_file}) ---\n{running.log()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (Celery's warm shutdown), then SIGKILL to the whole process group if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=SHUTDOWN_DEADLINE)
    kill_group(process)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the worker's process group (the group this test started), and reap the worker."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=SHUTDOWN_DEADLINE)
