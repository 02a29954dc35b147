"""``newsdedup clusters merge|split|set-canonical``: operator corrections, stored as overrides that
every later derivation of the clusters obeys (``dedup.overrides``)."""

from __future__ import annotations

from collections.abc import Callable

import click
from rich.console import Console

from newsdedup.cli.context import writes
from newsdedup.cli.errors import CLIError
from newsdedup.cli.render import print_clusters
from newsdedup.service.corrections import CorrectionError
from newsdedup.service.corrections import merge as merge_clusters
from newsdedup.service.corrections import set_canonical as choose_canonical
from newsdedup.service.corrections import split as split_cluster
from newsdedup.service.report import cluster_views
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
    _correct(runtime, lambda: merge_clusters(runtime, cluster_a, cluster_b, note, operator))


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
    _correct(runtime, lambda: split_cluster(runtime, cluster_id, list(urls), note, operator))


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
    _correct(runtime, lambda: choose_canonical(runtime, cluster_id, url, note, operator))


def _correct(runtime: Runtime, correction: Callable[[], list[int]]) -> None:
    """Make the correction, then print the clusters it leaves."""
    try:
        cluster_ids = correction()
    except CorrectionError as error:
        raise CLIError(str(error)) from error
    print_clusters(Console(), cluster_views(runtime, cluster_ids))
