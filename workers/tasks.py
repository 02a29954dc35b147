"""The Celery tasks. Each is a thin shell around plain code, takes JSON and is idempotent."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import Any

import redis
from sqlalchemy.exc import OperationalError

from config.sources import find_source
from workers import processing
from workers.app import app
from workers.page import BadPage, parse_page
from workers.runtime import get_runtime

log = logging.getLogger(__name__)

# A database or Redis that is briefly away: try again later instead of losing the page.
_TRANSIENT = (OperationalError, redis.ConnectionError, redis.TimeoutError)


class CrawlFailed(RuntimeError):
    """The crawl's child process ended with an error."""


@app.task(name="newsdedup.process_page", autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=10)
def process_page(page: dict[str, Any]) -> dict[str, Any]:
    """Clean, cluster and store one page (a ``workers.page.Page`` as JSON)."""
    try:
        parsed = parse_page(page)
    except BadPage as e:
        url = page.get("url") if isinstance(page, dict) else None
        log.error("rejected page %s: %s", url, e)
        return {"url": url, "status": "rejected", "reason": str(e)}
    return processing.process_page(parsed, get_runtime()).as_dict()


@app.task(name="newsdedup.crawl_source")
def crawl_source(name: str) -> dict[str, Any]:
    """Crawl one source in a child process (a Twisted reactor cannot restart inside a worker)."""
    runtime = get_runtime()
    find_source(runtime.sources, name)  # an unknown name fails here, with the known names
    timeout = runtime.settings.crawl_timeout_seconds + 60
    child = subprocess.run(
        [sys.executable, "-m", "crawler", name],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
        check=False,
    )
    if child.returncode != 0:
        tail = "\n".join(child.stderr.strip().splitlines()[-5:])
        raise CrawlFailed(f"crawl of {name} exited with {child.returncode}: {tail}")
    lines = child.stdout.strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1])[name] if lines else {}
    log.info("crawled %s: %s", name, result)
    return result


@app.task(name="newsdedup.rebuild_index")
def rebuild_index() -> int:
    """Rebuild the shared LSH index from the stored signatures."""
    return get_runtime().rebuild_index()
