"""The workers' Celery app with two faults, for the dead-letter tests (`celery -A tests.faulty_worker
worker`): a page whose URL holds ``/hangs/`` never ends (it sleeps past every time limit), and one whose
URL holds ``/kills-its-worker/`` ends its pool process at once, as a page that crashes the parser would.
Every other page is processed as usual."""

from __future__ import annotations

import os
import time
from typing import Any

from newsdedup.service import processing
from workers import tasks  # noqa: F401  # registers the tasks on the app
from workers.app import app

__all__ = ["app"]

_process_page = processing.process_page


def _faulty(page: Any, runtime: Any) -> Any:
    if "/hangs/" in page.url:
        time.sleep(3600)
    if "/kills-its-worker/" in page.url:
        os._exit(9)
    return _process_page(page, runtime)


processing.process_page = _faulty
