"""``newsdedup clusters merge|split|set-canonical``: operator corrections, stored as overrides that
every later derivation of the clusters obeys (``dedup.overrides``)."""

from __future__ import annotations

from collections.abc import Callable

import click
from rich.console import Console
from sqlalchemy.orm import Session

from newsdedup.cli.context import writes
from newsdedup.cli.errors import CLIError
from newsdedup.cli.render import print_clusters
from newsdedup.service.corrections import CorrectionError
from newsdedup.service.corrections import merge as merge_clusters
from newsdedup.service.corrections import set_canonical as choose_canonical
from newsdedup.service.corrections import split as split_cluster
from newsdedup.service.report import cluster_view
from newsdedup.service.runtime import Runtime

_NOTE = click.option(
    "--note", default=None, help="Why: stored with the override and shown by `clusters show`."
)
_OPERATOR = click.option("--operator", default=None, help="Who: stored with the override.")


@click.command("merge")
@click.argument("cluster_a", type=int)
@click.argument("cluster_b", type=int)
@_NOTE
@_OPERATOR
@writes
def merge(runtime: Runtime, cluster_a: int, cluster_b: int, note: str | None, operator: str | None) -> None:
    """Hold two clusters together, whatever their links say, and print the result."""
    _correct(runtime, lambda s, r: merge_clusters(s, r, cluster_a, cluster_b, note, operator))


@click.command("split")
@click.argument("cluster_id", type=int)
@click.argument("urls", nargs=-1, required=True)
@_NOTE
@_OPERATOR
@writes
def split(
    runtime: Runtime, cluster_id: int, urls: tuple[str, ...], note: str | None, operator: str | None
) -> None:
    """Take the articles at URLS out of a cluster into one of their own, and print both."""
    _correct(runtime, lambda s, r: split_cluster(s, r, cluster_id, list(urls), note, operator))


@click.command("set-canonical")
@click.argument("cluster_id", type=int)
@click.argument("url")
@_NOTE
@_OPERATOR
@writes
def set_canonical(
    runtime: Runtime, cluster_id: int, url: str, note: str | None, operator: str | None
) -> None:
    """Make the article at URL the canonical version of its cluster, and print the cluster."""
    _correct(runtime, lambda s, r: choose_canonical(s, r, cluster_id, url, note, operator))


def _correct(runtime: Runtime, action: Callable[[Session, Runtime], list[int]]) -> None:
    try:
        with runtime.sessions.begin() as session:
            cluster_ids = action(session, runtime)
    except CorrectionError as error:
        raise CLIError(str(error)) from error
    with runtime.sessions() as session:
        views = [v for v in (cluster_view(session, c) for c in cluster_ids) if v is not None]
    print_clusters(Console(), views)
