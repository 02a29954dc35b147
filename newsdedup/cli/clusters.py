"""``newsdedup clusters list|show|export|why`` (and merge|split|set-canonical, from ``corrections``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from config.redact import redact_text
from dedup.params import Params
from newsdedup.cli.context import reads
from newsdedup.cli.corrections import merge, set_canonical, split
from newsdedup.cli.diff import plain_lines, side_by_side
from newsdedup.cli.errors import CLIError
from newsdedup.cli.export import export_progress, write_csv, write_jsonl
from newsdedup.cli.render import ShortURL, cluster_table, override_dict, override_line, shown
from newsdedup.service.explain import ExplainedArticle, Explanation, UnknownArticle, explain
from newsdedup.service.report import (
    article_text,
    cluster_count,
    cluster_detail,
    cluster_list,
    iter_cluster_views,
)
from newsdedup.service.runtime import Runtime

_HEAD_CHARS = 600
_MIN_SIZE = click.option(
    "--min-size",
    type=click.IntRange(min=1),
    default=1,
    help="Only clusters with at least this many articles.",
)


@click.group()
def clusters() -> None:
    """Inspect the clusters: one per story."""


clusters.add_command(merge)
clusters.add_command(split)
clusters.add_command(set_canonical)


@clusters.command("list")
@_MIN_SIZE
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many clusters.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@reads
def list_clusters(runtime: Runtime, min_size: int, limit: int | None, as_json: bool) -> None:
    """Clusters, largest first: id, size, canonical URL and title."""
    rows = cluster_list(runtime, min_size=min_size, limit=limit)
    if as_json:
        for row in rows:
            line = {
                "cluster_id": row.id,
                "size": row.size,
                "canonical_url": row.canonical_url,
                "canonical_title": row.canonical_title,
            }
            click.echo(redact_text(json.dumps(line, ensure_ascii=False)))
        return
    table = Table(show_edge=False)
    table.add_column("id", justify="right")
    table.add_column("size", justify="right")
    table.add_column("canonical")
    table.add_column("title", overflow="fold")
    for row in rows:
        table.add_row(
            str(row.id), str(row.size), ShortURL(row.canonical_url or "-"), shown(row.canonical_title or "-")
        )
    console = Console()
    console.print(table)
    console.print(f"{len(rows)} cluster{'s' if len(rows) != 1 else ''}")


@clusters.command("show")
@click.argument("cluster_id", type=int)
@click.option(
    "--diff", "diff_url", default=None, metavar="URL", help="Compare this member with the canonical."
)
@click.option("--json", "as_json", is_flag=True, help="The cluster as one JSON object (the export line).")
@reads
def show(runtime: Runtime, cluster_id: int, diff_url: str | None, as_json: bool) -> None:
    """One cluster: the head of the canonical text, every member with its source link, and the
    overrides that touch it. With --diff URL: that member against the canonical, paragraph by
    paragraph (side by side, changes highlighted, on a terminal; -/+ lines otherwise)."""
    detail = cluster_detail(runtime, cluster_id)
    if detail is None:
        raise CLIError(f"no cluster {cluster_id}: `newsdedup clusters list` shows the ids")
    view, text, overrides = detail.view, detail.canonical_text, detail.overrides
    if diff_url is not None:
        member = next((m for m in view.members if diff_url in (m.url, m.final_url)), None)
        if member is None:
            raise CLIError(
                f"{diff_url} is not in cluster {cluster_id}: "
                f"`newsdedup clusters show {cluster_id}` lists its members"
            )
        _print_diff(view.canonical.url, member.url, text, article_text(runtime, member.article_id))
        return
    if as_json:
        line = view.as_dict() | {"overrides": [override_dict(o) for o in overrides]}
        click.echo(redact_text(json.dumps(line, ensure_ascii=False)))
        return
    console = Console()
    console.print(cluster_table(view))
    console.print()
    # Lines that hold URLs are not wrapped by us (soft_wrap): the terminal folds them, a copy stays whole.
    console.print(Text.assemble(("canonical", "bold"), shown(f" {view.canonical.url}")), soft_wrap=True)
    console.print(shown(text[:_HEAD_CHARS] + ("…" if len(text) > _HEAD_CHARS else "")))
    spliced = [m for m in view.members if m.related_clusters]
    if spliced or view.related:
        console.print()
        console.print("[bold]spliced posts[/bold] (they carry more than one story)")
        for member in spliced:
            others = ", ".join(f"cluster {c}" for c in member.related_clusters)
            console.print(shown(f"  {member.url}: a member here, also carries {others}"), soft_wrap=True)
        for url, home in view.related:
            console.print(
                shown(f"  {url}: a member of cluster {home}, also carries this story"), soft_wrap=True
            )
    claimed = [m for m in view.members if m.claimed_source_url]
    if claimed:
        console.print()
        console.print("[bold]source links[/bold]")
        for member in claimed:
            console.print(shown(f"  {member.url} -> {member.claimed_source_url}"), soft_wrap=True)
    if overrides:
        console.print()
        console.print("[bold]overrides[/bold] (operator corrections, oldest first; the latest wins)")
        for override in overrides:
            console.print(shown(f"  {override_line(override)}"))


def _print_diff(canonical_url: str, member_url: str, canonical: str, member: str) -> None:
    console = Console()
    if console.is_terminal:
        console.print(side_by_side(canonical_url, member_url, canonical, member))
    else:
        click.echo("\n".join(plain_lines(canonical_url, member_url, canonical, member)))


@clusters.command("export")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    help="jsonl: one line per cluster; csv: one row per member.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of stdout.",
)
@_MIN_SIZE
@reads
def export(runtime: Runtime, output_format: str, output: Path | None, min_size: int) -> None:
    """Every cluster (singletons included): as JSON lines (cluster_id, canonical_url, size, members)
    or as CSV, one row per member. A progress bar on stderr on a terminal when the output goes to a file."""
    write = write_csv if output_format == "csv" else write_jsonl
    if output is not None and not output.parent.is_dir():
        raise CLIError(f"{output.parent}: no such folder")
    total = cluster_count(runtime, min_size)
    with export_progress(total, to_terminal=output is None and sys.stdout.isatty()) as advance:
        views = iter_cluster_views(runtime, min_size=min_size)
        if output is None:
            count = write(sys.stdout, views, advance)
        else:
            partial = output.with_name(output.name + ".partial")
            with partial.open("w", encoding="utf-8", newline="") as f:
                count = write(f, views, advance)
            partial.replace(output)  # a reader never sees half a file
    if output is not None:
        click.echo(f"exported {count} clusters to {output}", err=True)


@clusters.command("why")
@click.argument("url_a")
@click.argument("url_b")
@reads
def why(runtime: Runtime, url_a: str, url_b: str) -> None:
    """Why two stored articles are, or are not, in one cluster: their sizes, the estimated and
    exact Jaccard similarity, containment each way, across languages the evidence and its score, the
    thresholds, the verdict on the pair, and the rule that joined or separated their clusters (a
    direct link, a chain, a translation tie and its margin, a splice, an override)."""
    p = runtime.params
    try:
        e = explain(runtime, url_a, url_b)
    except UnknownArticle as error:
        raise CLIError(f"{error}: `newsdedup clusters show ID` lists stored URLs") from error
    o = e.comparison.overlap
    assert o is not None  # compare fills it in every language
    lines = [*_describe("A", e.a, o.size_a), *_describe("B", e.b, o.size_b), ""]
    estimate = "- (a text too short to sign)" if e.estimated_jaccard is None else f"{e.estimated_jaccard:.3f}"
    proposes = "proposes" if e.lsh_would_propose else "does not propose"
    lines += [
        f"estimated Jaccard: {estimate} (MinHash, {p.num_perm} permutations)",
        f"exact Jaccard:     {o.jaccard:.3f} ({o.shared} shingles shared)",
        f"containment:       A in B {o.a_in_b:.3f}, B in A {o.b_in_a:.3f}",
        f"candidates:        MinHash LSH {proposes} them (threshold {p.lsh_threshold}); "
        f"{e.shared_anchors} anchors shared ({p.min_shared_anchors} make a candidate)",
        f"thresholds:        copy: Jaccard ≥ {p.min_jaccard}, "
        f"or each holds ≥ {p.min_containment} of the other;",
        f"                   part: ≥ {p.min_containment} of the smaller in the larger; "
        f"both texts ≥ {p.min_shingles} shingles",
        *_evidence_lines(e, p),
        f"verdict:           {_verdict(e, p)}",
        f"clusters:          {e.rule}",
    ]
    click.echo(redact_text("\n".join(lines)))  # stored URLs: any password in them shows as ***


def _verdict(e: Explanation, p: Params) -> str:
    c = e.comparison
    if c.agreement is None:
        assert c.verdict is not None  # one language: the overlap's verdict
        return c.verdict.rule
    if c.kind == "source":
        return f"source link: one names the other as its source; pair score {c.score:.3f}"
    score = c.score or 0.0
    bar = p.translation_min_score
    # Enough decimals that a score just under the bar does not print as the bar.
    shown = f"{score:.4f}" if score < bar <= round(score, 3) else f"{score:.3f}"
    return (
        f"a translation if it stands out: pair score {shown} "
        f"({'at or above' if score >= p.translation_min_score else 'below'} "
        f"{p.translation_min_score}); the derivation decides against the background (below)"
    )


def _evidence_lines(e: Explanation, p: Params) -> list[str]:
    """Across languages: the evidence (names, numbers, glossed words) and how it agrees."""
    a = e.comparison.agreement
    if a is None:
        return []
    return [
        f"evidence:          {a.matches} distinct terms in the same order, weight {a.common:.1f} "
        f"of {a.total_a:.1f} (A) and {a.total_b:.1f} (B): score {a.score:.3f}",
        f"                   shared, weightiest first: {', '.join(e.shared_terms) or '-'}",
        f"                   a translation tie needs ≥ {p.translation_min_score} over ≥ "
        f"{p.translation_min_matches} terms and {p.translation_margin} × the background of one side; "
        f"a source link counts with ≥ {p.source_link_min_score}",
    ]


def _describe(label: str, article: ExplainedArticle, shingle_count: int) -> list[str]:
    return [
        f"{label}  {article.url}",
        f"   article {article.id}, cluster {article.cluster_id}, {article.language or '?'}, "
        f"{shingle_count} shingles",
    ]
