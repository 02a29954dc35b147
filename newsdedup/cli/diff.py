"""A member's text against the canonical's, paragraph by paragraph: side by side with the changed
words highlighted on a terminal, unified-diff-like lines otherwise.

Paragraphs are aligned with difflib; a paragraph of one text replaced by one of the other is a pair,
compared word by word.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from rich.table import Table
from rich.text import Text

from config.redact import redact_text

REMOVED = "bold red strike"
ADDED = "bold green"


@dataclass(frozen=True)
class Row:
    """One line of the comparison: a paragraph both have (``" "``), one only the canonical has
    (``"-"``), one only the member has (``"+"``), or a pair that differs (``"~"``)."""

    kind: str
    left: str | None
    right: str | None


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in redact_text(text).splitlines() if line.strip()]


def rows(canonical: str, member: str) -> list[Row]:
    """The paragraphs of both texts, aligned."""
    a, b = paragraphs(canonical), paragraphs(member)
    found: list[Row] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            found += [Row(" ", p, p) for p in a[i1:i2]]
            continue
        left, right = a[i1:i2], b[j1:j2]
        paired = min(len(left), len(right))
        found += [Row("~", x, y) for x, y in zip(left[:paired], right[:paired], strict=True)]
        found += [Row("-", x, None) for x in left[paired:]]
        found += [Row("+", None, y) for y in right[paired:]]
    return found


def plain_lines(canonical_url: str, member_url: str, canonical: str, member: str) -> list[str]:
    """The comparison as text: ``  `` a paragraph both have, ``-`` the canonical's, ``+`` the member's."""
    lines = [f"--- {redact_text(canonical_url)} (canonical)", f"+++ {redact_text(member_url)}"]
    for row in rows(canonical, member):
        if row.kind == " ":
            lines.append(f"  {row.left}")
        if row.left is not None and row.kind != " ":
            lines.append(f"- {row.left}")
        if row.right is not None and row.kind != " ":
            lines.append(f"+ {row.right}")
    return lines


def side_by_side(canonical_url: str, member_url: str, canonical: str, member: str) -> Table:
    """The comparison as a two-column table: removed words red and struck through on the left, added
    words green on the right."""
    table = Table(show_lines=True, expand=True)
    table.add_column(Text(f"{redact_text(canonical_url)} (canonical)"), ratio=1, overflow="fold")
    table.add_column(Text(redact_text(member_url)), ratio=1, overflow="fold")
    for row in rows(canonical, member):
        if row.kind == "~" and row.left is not None and row.right is not None:
            table.add_row(*_words(row.left, row.right))
        else:
            table.add_row(
                Text(row.left or "", style=REMOVED if row.kind == "-" else ""),
                Text(row.right or "", style=ADDED if row.kind == "+" else ""),
            )
    return table


def _words(left: str, right: str) -> tuple[Text, Text]:
    a, b = left.split(), right.split()
    old, new = Text(), Text()
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            old.append(" ".join(a[i1:i2]) + " ")
            new.append(" ".join(b[j1:j2]) + " ")
            continue
        if i2 > i1:
            old.append(" ".join(a[i1:i2]), style=REMOVED)
            old.append(" ")
        if j2 > j1:
            new.append(" ".join(b[j1:j2]), style=ADDED)
            new.append(" ")
    old.rstrip()
    new.rstrip()
    return old, new
