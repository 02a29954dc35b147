"""The embedded crawl processes pages off the reactor thread: while one page is being cleaned and
clustered, the crawl keeps downloading and parsing the next ones.

The crawl runs in a child process (a Twisted reactor starts once per process), against the fixture
sites on 127.0.0.1, with processing slowed to half a second a page; the child records, for each page,
when the pipeline received it and when and on which thread it was processed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from config import defaults
from newsdedup.demo.server import SiteServer
from tests.conftest import ROOT, crawl_env

DEADLINE = 240
CHILD = """
import json, sys, threading, time
import crawler.embedded as embedded
import crawler.pipelines as pipelines
from config import load_settings, load_sources
from crawler.run import crawl

events = []
real_process, real_item = embedded.process_page, pipelines.HandOffPipeline.process_item

def slow_process(page, runtime):
    started = time.monotonic()
    time.sleep(0.5)
    outcome = real_process(page, runtime)
    events.append(("processed", started, time.monotonic(), threading.current_thread().name))
    return outcome

def received(self, item, spider=None):
    events.append(("received", time.monotonic(), None, threading.current_thread().name))
    return real_item(self, item, spider)

embedded.process_page = slow_process
pipelines.HandOffPipeline.process_item = received
settings = load_settings()
summary = crawl([s for s in load_sources(settings.sources) if s.name == "dailycourier"], settings,
                {"AUTOTHROTTLE_START_DELAY": 0.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 8})
print(json.dumps({"events": events, "summary": summary, "celery_app": "workers.app" in sys.modules}))
"""


@pytest.mark.slow
def test_downloads_go_on_while_a_page_is_processed(tmp_path: Path) -> None:
    """Every page is processed on the one processing thread, none on the reactor's; pages keep
    arriving at the pipeline while an earlier page is being processed (with processing on the reactor
    thread, none could); every page the crawl received is stored; and the embedded crawl never
    imported the Celery app (only Celery's cron parser, which checks the sources' schedules)."""
    with SiteServer() as server:
        env = crawl_env(defaults.PACKAGED_SOURCES, tmp_path / "crawl.db", proxy=server.proxy_url)
        child = subprocess.run(
            [sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=DEADLINE
        )
    assert child.returncode == 0, child.stderr[-3000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    received = [e for e in result["events"] if e[0] == "received"]
    processed = [e for e in result["events"] if e[0] == "processed"]
    assert result["celery_app"] is False
    assert len(received) == len(processed) == result["summary"]["dailycourier"]["pages"] > 3
    assert {e[3] for e in received} == {"MainThread"}
    assert {e[3] for e in processed} == {"PoolThread-newsdedup-processing-0"}
    during = [r for r in received if any(start < r[1] < end for _, start, end, _ in processed)]
    assert len(during) >= 2, (received, processed)
    stored = sum(result["summary"]["dailycourier"][s] for s in ("new", "joined", "updated", "unchanged"))
    assert stored + result["summary"]["dailycourier"]["rejected"] == len(processed)
