"""What the processes of ``test_spool`` run: a module of its own, light to import in a spawned process."""

from __future__ import annotations

from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import redis

from crawler.items import PageItem
from crawler.spool import Spool


def put_pages(folder: str, prefix: str, count: int, start: Event) -> None:
    """Spool ``count`` pages named ``http://PREFIX.example/NNN``, in order, once ``start`` is set."""
    start.wait()
    with Spool(Path(folder)) as spool:
        for i in range(count):
            url = f"http://{prefix}.example/{i:03d}"
            spool.put(PageItem(url, url, 200, "<html></html>", "2026-03-12T10:00:00+00:00", prefix).payload())


def replay_pages(folder: str, redis_url: str, start: Event) -> None:
    """Replay the spool once ``start`` is set, sending each page's URL to the Redis list ``sent``."""
    client = redis.Redis.from_url(redis_url)

    def send(page: dict[str, Any]) -> None:
        client.rpush("sent", page["url"])

    start.wait()
    with Spool(Path(folder)) as spool:
        spool.replay(send)
    client.close()
