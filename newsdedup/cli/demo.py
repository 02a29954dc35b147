"""``newsdedup demo``: serve the fixture sites, crawl them, cluster the pages, print the clusters."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console

from config import Settings, defaults, load_sources
from newsdedup.cli.context import uses_settings
from newsdedup.cli.crawl import progress_for, summary_table
from newsdedup.cli.render import print_clusters
from newsdedup.demo.server import SiteServer
from newsdedup.service.report import iter_cluster_views
from newsdedup.service.runtime import Runtime

# Local sites answer in milliseconds: no need for the production start delay. One request at a time
# (and one source after another): the pages come in the same order on every run, and so the same
# new/joined split and cluster ids.
_DEMO_CRAWL = {"HANDOFF": "embedded", "AUTOTHROTTLE_START_DELAY": 0.0, "CONCURRENT_REQUESTS": 1}


@click.command()
@click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("data/demo.db"),
    help="SQLite file for the demo's results; recreated on every run.",
)
@click.option("--serve", is_flag=True, help="Keep serving the fixture sites afterwards, until Ctrl-C.")
@uses_settings
def demo(configured: Settings, database: Path, serve: bool) -> None:
    """Crawl the bundled fixture sites (an origin publisher, three autoblogs) on 127.0.0.1 with the
    real spiders, process every page with the real processing code into an SQLite file, print the clusters.

    Needs neither Redis nor PostgreSQL, and ignores NEWSDEDUP_DATABASE_URL and NEWSDEDUP_REDIS_URL.
    """
    from crawler.run import crawl  # Scrapy and Twisted: imported by the commands that crawl, only

    started = time.monotonic()
    console = Console()
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    settings = configured.model_copy(
        update={
            "database_url": f"sqlite:///{database}",
            "redis_url": None,
            "sources": defaults.PACKAGED_SOURCES,
        }
    )
    runtime = Runtime(settings=settings, sources=load_sources(settings.sources))
    with SiteServer() as server:
        console.print(
            f"serving {len(server.hosts)} fixture sites through {server.proxy_url}: "
            + ", ".join(server.hosts)
        )
        with _http_proxy(server.proxy_url):
            summaries = crawl(
                runtime.sources,
                settings,
                _DEMO_CRAWL,
                install_root_handler=False,
                progress=progress_for(settings),
                in_turn=True,
            )
        console.print(summary_table(summaries))
        console.print()
        views = list(iter_cluster_views(runtime.require_current_schema()))
        views.sort(key=lambda v: (-len(v.members), v.id))
        print_clusters(console, views)
        pages = sum(int(s["pages"]) for s in summaries.values())
        copies = sum(1 for v in views if len(v.members) > 1)
        console.print(
            f"{pages} pages crawled from {len(summaries)} sources, "
            f"{len(views)} stories, {copies} with copies; "
            f"done in {time.monotonic() - started:.1f} s. Stored in {database}: inspect with"
        )
        # Not wrapped by us: pasted, the command must stay one line.
        console.print(
            f"  NEWSDEDUP_DATABASE_URL=sqlite:///{database} newsdedup clusters list",
            soft_wrap=True,
            markup=False,
        )
        if serve:
            console.print(f"\nserving the sites until Ctrl-C; crawl them with http_proxy={server.proxy_url}")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    runtime.close()


@contextmanager
def _http_proxy(url: str) -> Iterator[None]:
    """Route the crawl's HTTP requests through the fixture server (Scrapy reads http_proxy)."""
    saved = {k: os.environ.get(k) for k in ("http_proxy", "no_proxy")}
    os.environ["http_proxy"] = url
    os.environ.pop("no_proxy", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
