"""The embedded mode's processing: pages processed in the crawling process, on one thread of their
own, so that the reactor keeps downloading while a page is cleaned and clustered (Scrapy's guidance for
blocking work in a pipeline: a thread, and a Deferred back).

One thread for every crawler of the process, in the order the pages arrive: the runtime's in-memory
index and its SQLite file take one writer at a time. The object is shared, never copied, when Scrapy
copies the settings that carry it.
"""

from __future__ import annotations

import logging
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from newsdedup.service.page import BadPage, parse_page
from newsdedup.service.processing import process_page
from newsdedup.service.runtime import Runtime

log = logging.getLogger(__name__)


class EmbeddedProcessing:
    """A runtime and the single thread that processes pages with it; opened by each crawler's pipeline,
    stopped when the last one closes."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._thread = ThreadPool(minthreads=1, maxthreads=1, name="newsdedup-processing")
        self._users = 0

    def open(self) -> None:
        if self._users == 0:
            self.runtime.migrate()
            self._thread.start()
        self._users += 1

    def close(self) -> None:
        self._users -= 1
        if self._users == 0:
            self._thread.stop()  # waits for the page being processed

    def process(self, page: dict[str, Any]) -> Deferred[str]:
        """The page's processing status (``new``, ``joined``, ... or ``rejected``), once processed."""
        # Imported here: importing the reactor installs it, and Scrapy installs its own first.
        from twisted.internet import reactor

        return deferToThreadPool(reactor, self._thread, self._process, page)

    def _process(self, page: dict[str, Any]) -> str:
        try:
            parsed = parse_page(page)
        except BadPage as e:
            log.error("rejected page %s: %s", page.get("url"), e)
            return "rejected"
        return process_page(parsed, self.runtime).status

    def __deepcopy__(self, memo: dict[int, Any]) -> EmbeddedProcessing:
        return self
