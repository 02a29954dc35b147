"""Real faults for tests: a redis-server of the test's own that can be killed and started again, and the
fixture sites served by a server that holds pages back until the test lets them through.

``RedisServer`` is ``bench.services.own_redis`` made restartable: it persists every write (append-only
file, fsync always) in a folder of the test's, so what it accepted before a kill is there after a restart.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import redis

from newsdedup.demo.server import SiteServer
from workers.messages import decode

# Only keeps a broken server from hanging a test: a local redis-server answers within milliseconds.
START_DEADLINE = 10.0
POLL = 0.05


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class RedisServer:
    """A redis-server on 127.0.0.1 on a port of its own, persisting to ``folder``; not started yet."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not on PATH"
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A client that answers in str."""
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True)

    def start(self) -> RedisServer:
        """Start it (again, on the same port and files) and wait until it answers."""
        assert self.process is None, "already running"
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        command += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = self.client()
        deadline = time.monotonic() + START_DEADLINE
        try:
            while True:
                try:
                    client.ping()
                    return self
                except (redis.ConnectionError, redis.BusyLoadingError):
                    assert self.process.poll() is None, f"redis-server exited with {self.process.returncode}"
                    assert time.monotonic() < deadline, f"redis-server did not answer in {START_DEADLINE} s"
                    time.sleep(POLL)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: the server dies at once, as in a crash; what it had acknowledged is on disk."""
        assert self.process is not None, "not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def queued(redis_url: str, queue: str = "celery") -> list[tuple[str, list[Any]]]:
    """(task name, args) of every Celery message on a Redis list, in delivery order (kombu pushes on
    the left and pops on the right)."""
    client = redis.Redis.from_url(redis_url)
    try:
        messages = []
        for raw in reversed(client.lrange(queue, 0, -1)):
            task, args, _kwargs = decode(raw)
            messages.append((task, args))
        return messages
    finally:
        client.close()


def queued_pages(redis_url: str) -> list[dict[str, Any]]:
    """The pages of the ``process_page`` messages waiting in the default queue, in delivery order."""
    pages = []
    for task, args in queued(redis_url):
        assert task == "newsdedup.process_page", task
        pages.append(args[0])
    return pages


class GatedSiteServer(SiteServer):
    """The fixture sites, with article pages (paths starting ``/20``) numbered as they are requested:
    page ``i`` is answered once every gate ``g <= i`` of ``gates`` is open. Gate 0 is open."""

    def __init__(self, gates: list[int]) -> None:
        super().__init__()
        self._events = {gate: threading.Event() for gate in gates}
        self._events.setdefault(0, threading.Event()).set()
        self._lock = threading.Lock()
        self.tickets: list[str] = []  # article URLs in the order they were requested
        base: Any = self._httpd.RequestHandlerClass
        server = self

        class Handler(base):  # type: ignore[misc]
            def do_GET(self) -> None:
                server._wait_turn(self.path)
                super().do_GET()

        self._httpd.RequestHandlerClass = Handler

    def _wait_turn(self, path: str) -> None:
        url_path = path.split("://", 1)[-1].partition("/")[2]
        if not url_path.startswith("20"):
            return
        with self._lock:
            ticket = len(self.tickets)
            self.tickets.append(path)
        for gate, event in self._events.items():
            if gate <= ticket:
                event.wait()

    def __enter__(self) -> GatedSiteServer:
        self.start()
        return self

    def open(self, gate: int) -> None:
        self._events[gate].set()

    def stop(self) -> None:
        for event in self._events.values():
            event.set()  # no request thread stays blocked
        super().stop()
