"""Run crawls in this process: the CLI's ``crawl`` and the child process of the ``crawl_source`` task.

A Twisted reactor starts once per process, so a process runs one batch of crawls and ends.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import default_settings
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import defer

from config import Settings, Source
from config.logs import formatter
from config.redact import install_log_redaction
from crawler.embedded import EmbeddedProcessing
from crawler.limits import dropped
from crawler.progress import CrawlProgress, follow
from crawler.scrapy_settings import scrapy_settings
from crawler.spider_loader import spider_for
from newsdedup.service.runtime import Runtime
from storage.db import DatabaseURLError
from storage.stats import record_crawl_run

log = logging.getLogger(__name__)
_handler: logging.Handler | None = None

# The stats a crawl summary reports, and the names it gives them.
SUMMARY_STATS = {
    "downloader/response_count": "responses",
    "item_scraped_count": "pages",
    "newsdedup/new": "new",
    "newsdedup/joined": "joined",
    "newsdedup/updated": "updated",
    "newsdedup/unchanged": "unchanged",
    "newsdedup/rejected": "rejected",
    "newsdedup/enqueued": "enqueued",
    "newsdedup/spooled": "spooled",
    "newsdedup/replayed": "replayed",
    "newsdedup/refused/private_address": "refused_private",
    "robotstxt/forbidden": "robots_forbidden",
    "newsdedup/charset_corrected": "charset_corrected",
    "log_count/ERROR": "errors",
    # Responses of 400 and up the spider could not use (a start URL that is gone among them).
    "httperror/response_ignored_count": "http_errors",
    "finish_reason": "finish_reason",
}


def crawl(
    sources: list[Source],
    settings: Settings,
    overrides: dict[str, Any] | None = None,
    install_root_handler: bool = True,
    progress: CrawlProgress | None = None,
    in_turn: bool = False,
) -> dict[str, dict[str, Any]]:
    """Crawl the sources now, together; returns a summary per source name. ``progress`` is shown how
    each source's crawl stands while they run (crawler.progress). ``in_turn`` crawls one source after
    another, in the order given, instead of all at once (the demo: the same pages in the same order).

    ``install_root_handler=False`` leaves logging to the caller (the CLI has its own handler). Each
    source's run is recorded in the ``crawl_runs`` table when the crawls end (``record_runs``).
    """
    if install_root_handler:
        install_log_handler(settings)
    # One runtime for the crawl: its crawlers' pipelines process with it (embedded mode), and the
    # runs are recorded with it.
    runtime = Runtime.from_settings(settings)
    embedded = EmbeddedProcessing(runtime) if settings.embedded else None
    process = CrawlerProcess(
        settings={
            **scrapy_settings(settings),
            "EMBEDDED_PROCESSING": embedded,
            "LOG_INSTALL_ROOT_HANDLER": False,  # install_log_handler's takes its place
            **(overrides or {}),
        }
    )
    crawlers = [(source.name, process.create_crawler(spider_for(source))) for source in sources]
    if in_turn:
        # Each crawl starts when the one before has ended (the CrawlerProcess runs until none is left).
        turn: defer.Deferred[Any] = defer.succeed(None)
        for _, crawler in crawlers:
            turn.addBoth(_then_crawl, process, crawler)
    else:
        for _, crawler in crawlers:
            process.crawl(crawler)
    finish = follow(crawlers, summary, progress) if progress is not None else None
    if embedded is not None:
        embedded.open()  # held for the whole run: crawls in turn share one processing thread
    try:
        process.start()
    finally:
        if embedded is not None:
            embedded.close()
        if finish is not None:
            finish()
    summaries = {name: summary(crawler) for name, crawler in crawlers}
    try:
        record_runs(runtime, {name: _times(crawler) for name, crawler in crawlers}, summaries)
    finally:
        runtime.close()
    return summaries


def _then_crawl(_: Any, process: CrawlerProcess, crawler: Crawler) -> defer.Deferred[Any]:
    return process.crawl(crawler)


def summary(crawler: Crawler) -> dict[str, Any]:
    stats = crawler.stats.get_stats() if crawler.stats else {}
    counts = {label: stats.get(key, 0) for key, label in SUMMARY_STATS.items()}
    # What the bounds stopped, by reason (crawler.limits): {"timeout": 1, "too_deep": 240, ...}.
    return {**counts, "dropped": dropped(stats)}


def install_log_handler(settings: Settings) -> None:
    """The root handler Scrapy would install, writing the lines of NEWSDEDUP_LOG_FORMAT (config.logs):
    Scrapy's text lines with the page's source and url appended, or JSON objects. Replaces the one an
    earlier call installed."""
    global _handler
    if _handler is not None:
        logging.root.removeHandler(_handler)
    _handler = logging.StreamHandler()
    _handler.setLevel(settings.log_level)
    scrapy_format = logging.Formatter(default_settings.LOG_FORMAT, default_settings.LOG_DATEFORMAT)
    _handler.setFormatter(formatter(settings.log_format, scrapy_format))
    logging.root.setLevel(logging.NOTSET)
    logging.root.addHandler(_handler)
    install_log_redaction()


def _times(crawler: Crawler) -> tuple[datetime, datetime]:
    """When the crawl started and finished (now, for a crawl that never opened its spider)."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    now = datetime.now(UTC)
    return stats.get("start_time", now), stats.get("finish_time", now)


def record_runs(
    runtime: Runtime, times: dict[str, tuple[datetime, datetime]], summaries: dict[str, dict[str, Any]]
) -> None:
    """One ``crawl_runs`` row per source in the runtime's database. A database that cannot take them
    costs the crawl nothing: the failure is logged, and only ``newsdedup stats`` misses the runs."""
    try:
        runtime.migrate()
        with runtime.sessions.begin() as session:
            for name, (started, finished) in times.items():
                run = {**summaries[name], "started_at": started, "finished_at": finished}
                record_crawl_run(session, name, run)
    except (SQLAlchemyError, DatabaseURLError) as e:
        log.error("crawl runs of %s not recorded: %s", ", ".join(times), e)
