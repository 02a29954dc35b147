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
from newsdedup.report import ClusterView


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
