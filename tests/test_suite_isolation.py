"""The test suite runs beside another run of itself: its own Redis server, and no fixed metrics port."""

from __future__ import annotations

import os
import shutil

import pytest
import redis

from config import load_settings
from tests.conftest import REDIS_HOST


@pytest.mark.skipif(
    bool(os.environ.get("NEWSDEDUP_TEST_REDIS")) or shutil.which("redis-server") is None,
    reason="NEWSDEDUP_TEST_REDIS names the Redis to use, or there is no redis-server binary to start one",
)
def test_the_run_has_a_redis_server_of_its_own_and_serves_no_metrics_port() -> None:
    """The tests' Redis is a server this run started on a free port (not the machine's 6379, where
    another run could flush its queues); it answers with persistence off. Workers the tests start
    serve no metrics unless a test gives them a free port."""
    client = redis.Redis.from_url(REDIS_HOST)
    assert not REDIS_HOST.endswith(":6379")
    assert client.config_get("save") == {"save": ""}
    client.close()
    assert load_settings().metrics_port == 0
