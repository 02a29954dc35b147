"""``newsdedup articles find URL|TEXT``: which cluster holds a stored article, or which clusters are
closest to a text that is not stored."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.table import Table

from config.redact import redact_text
from dedup.document import NoStoryText
from newsdedup.cli.context import reads
from newsdedup.cli.errors import CLIError
from newsdedup.cli.render import ShortURL, plural, shown
from newsdedup.service.find import Match, closest_clusters, stored_article
from newsdedup.service.runtime import Runtime
from storage.views import StoredArticle


@click.group()
def articles() -> None:
    """Look up articles: stored ones by URL, others by their text."""


@articles.command("find")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@reads
def find(runtime: Runtime, query: str, as_json: bool) -> None:
    """The cluster of the stored article at QUERY (a URL), or the clusters whose articles tell the
    story of QUERY (a text; `-` reads it from stdin), best first: cluster id, canonical URL,
    similarity and relation (copy, part, translation, source)."""
    text = sys.stdin.read() if query == "-" else query
    if _looks_like_url(text):
        article = stored_article(runtime, text.strip())
        if article is None:
            raise CLIError(
                f"no stored article at {text.strip()}: pass the text itself to find its closest clusters"
            )
        _print_stored(article, as_json)
        return
    try:
        matches = closest_clusters(runtime, text)
    except NoStoryText as error:
        raise CLIError(f"not a story: {error}") from error
    _print_matches(matches, as_json)


def _looks_like_url(text: str) -> bool:
    words = text.split()
    return len(words) == 1 and "://" in words[0]


def _print_stored(article: StoredArticle, as_json: bool) -> None:
    line = {
        "url": article.url,
        "article_id": article.article_id,
        "cluster_id": article.cluster_id,
        "size": article.cluster_size,
        "canonical_url": article.canonical_url,
        "is_canonical": article.is_canonical,
    }
    if as_json:
        click.echo(redact_text(json.dumps(line, ensure_ascii=False)))
        return
    role = "its canonical version" if article.is_canonical else f"canonical {article.canonical_url}"
    size = "?" if article.cluster_size is None else plural(article.cluster_size, "article")
    Console().print(
        shown(
            f"{article.url}: stored, article {article.article_id}, cluster {article.cluster_id} ({size}), "
            f"{role}"
        )
    )


def _print_matches(matches: list[Match], as_json: bool) -> None:
    if as_json:
        for match in matches:
            click.echo(redact_text(json.dumps(match.as_dict(), ensure_ascii=False)))
        return
    console = Console()
    if not matches:
        console.print("no stored cluster tells this story")
        return
    table = Table(show_edge=False)
    table.add_column("cluster", justify="right")
    table.add_column("canonical")
    table.add_column("score", justify="right")
    table.add_column("relation")
    table.add_column("closest member")
    for m in matches:
        table.add_row(
            str(m.cluster_id), ShortURL(m.canonical_url or "-"), f"{m.score:.3f}", m.relation, ShortURL(m.url)
        )
    console.print(table)
    console.print(plural(len(matches), "cluster"))
