"""Terminal output shared by the commands: clusters as rich tables.

What comes from a crawled page (URLs, titles, texts) is shown through :func:`shown`: as rich
``Text``, never as a string (rich would read ``[bold]`` in a string as markup and ``:smile:`` as an
emoji code), and with the password of any URL in it replaced by ``***``.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from config.redact import redact_text
from newsdedup.service.report import ClusterView
from storage.views import OverrideRow


def shown(value: str) -> Text:
    """Text read from a crawled page, for the terminal: verbatim, but for the passwords of URLs."""
    return Text(redact_text(value))


def plural(count: int, word: str) -> str:
    """'1 cluster', '2 clusters'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def cluster_table(view: ClusterView) -> Table:
    """One cluster: a heading with the canonical, a row per member."""
    canonical = view.canonical
    title = Text.assemble(
        (f"cluster {view.id}", "bold"),
        f" · {plural(len(view.members), 'article')} · ",
        (redact_text(canonical.title or "(no title)"), "italic"),
    )
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False, expand=False)
    table.add_column("", width=1)
    table.add_column("url", overflow="fold")
    table.add_column("source")
    table.add_column("lang")
    table.add_column("similarity", justify="right")
    spliced = any(m.related_clusters for m in view.members)
    if spliced:
        table.add_column("also in")
    for member in view.members:
        row: list[str | Text] = [
            "★" if member.is_canonical else "",
            shown(member.url),
            member.source or "-",
            member.language or "-",
            "-" if member.similarity is None else f"{member.similarity:.2f}",
        ]
        if spliced:
            row.append(", ".join(f"cluster {c}" for c in member.related_clusters))
        table.add_row(*row)
    return table


def print_clusters(console: Console, views: list[ClusterView]) -> None:
    for view in views:
        console.print(cluster_table(view))
        console.print()


def override_line(override: OverrideRow) -> str:
    """One override as `clusters show` lists it: '#3 2026-11-27 08:50 UTC merge of clusters 4 and 9 (by
    ann: same event)'."""
    when = override.created_at.strftime("%Y-%m-%d %H:%M UTC")
    if override.kind == "merge":
        what = f"merge of clusters {override.cluster_a} and {override.cluster_b}"
    elif override.kind == "split":
        what = f"split of {', '.join(override.urls)} from cluster {override.cluster_a}"
    else:
        what = f"canonical: {', '.join(override.urls)}"
    by = f"by {override.operator}" if override.operator else ""
    detail = ": ".join(part for part in (by, override.note or "") if part)
    return f"#{override.id} {when} {what}" + (f" ({detail})" if detail else "")


def override_dict(override: OverrideRow) -> dict[str, object]:
    """One override for `--json` output (URLs redacted by the caller)."""
    return {
        "id": override.id,
        "kind": override.kind,
        "clusters": [c for c in (override.cluster_a, override.cluster_b) if c is not None],
        "urls": list(override.urls),
        "note": override.note,
        "operator": override.operator,
        "created_at": override.created_at.isoformat(),
    }
