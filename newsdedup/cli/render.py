"""Terminal output shared by the commands: clusters as rich tables.

What comes from a crawled page (URLs, titles, texts) is shown through :func:`shown`: as rich
``Text``, never as a string (rich would read ``[bold]`` in a string as markup and ``:smile:`` as an
emoji code), and with the password of any URL in it replaced by ``***``.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from config.redact import redact_text
from newsdedup.service.report import ClusterView
from storage.views import OverrideRow


def shown(value: str) -> Text:
    """Text read from a crawled page, for the terminal: verbatim, but for the passwords of URLs."""
    return Text(redact_text(value))


# A URL cell is never narrower than this (unless the URL is shorter).
URL_MIN_WIDTH = 24
ELLIPSIS = "…"


def middle(text: str, width: int) -> str:
    """The text in at most ``width`` characters: if longer, its start and end around an ellipsis, the
    start the longer part (a URL's host and first path segments say most)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    head = (width - 1) * 3 // 5
    tail = width - 1 - head
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


class ShortURL:
    """A URL as a table cell: on one line, shortened in the middle to the column's width (a URL folded
    over lines cannot be pasted, and a mid-word fold misleads). ``--json`` gives the full values."""

    def __init__(self, url: str) -> None:
        self.url = redact_text(url)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(len(self.url), URL_MIN_WIDTH), len(self.url))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(middle(self.url, options.max_width), no_wrap=True, overflow="crop")


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
    table.add_column("url")
    table.add_column("source")
    table.add_column("lang")
    table.add_column("similarity", justify="right")
    spliced = any(m.related_clusters for m in view.members)
    if spliced:
        table.add_column("also in")
    for member in view.members:
        row: list[str | Text | ShortURL] = [
            "★" if member.is_canonical else "",
            ShortURL(member.url),
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
