"""Inspection commands: `clusters show --diff` (plain and on a terminal), `clusters show --json`,
`articles find` (a stored URL, a text that is not stored), `clusters export --format csv`, `sources
list --json`; passwords in URLs never shown."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from newsdedup.cli import app
from newsdedup.cli.diff import plain_lines, side_by_side
from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.report import iter_cluster_views
from newsdedup.service.runtime import Runtime
from tests.stories import story

BRIDGE, LIBRARY = story("bridge"), story("library")
P = BRIDGE.paragraphs
HUB = "http://newsflash-hub.example/news/bridge"
DIGEST = "http://trend-digest.example/bridge-closure"
SECRET = "http://ann:secret@mirror.example/bridge"
SHOWN_SECRET = "http://ann:***@mirror.example/bridge"
LIBRARY_URL = "http://newsflash-hub.example/news/library"
EDITED = P[1].replace("two of the four", "three of the four")
ADDED = "Readers can follow the works on the county website."


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")


def invoke(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def process(
    runtime: Runtime, url: str, text: str, published_at: str | None = None, title: str | None = None
) -> None:
    page = Page.model_validate({"url": url, "text": text, "published_at": published_at, "title": title})
    assert process_page(page, runtime).status in ("new", "joined")


def cluster_of(runtime: Runtime, url: str) -> int:
    return next(v.id for v in iter_cluster_views(runtime) if url in {m.url for m in v.members})


def test_plain_diff_marks_paragraphs_with_minus_and_plus() -> None:
    """Without a terminal the diff is unified-diff-like: two header lines, then `  ` for a paragraph
    both texts have, `-` for the canonical's and `+` for the member's (a changed paragraph is both)."""
    canonical = "Intro stays.\nThe old middle.\nGone at the end."
    member = "Intro stays.\nThe new middle.\n\nAdded at the end.\nAnd more."
    assert plain_lines("http://a.example/1", "http://b.example/2", canonical, member) == [
        "--- http://a.example/1 (canonical)",
        "+++ http://b.example/2",
        "  Intro stays.",
        "- The old middle.",
        "+ The new middle.",
        "- Gone at the end.",
        "+ Added at the end.",
        "+ And more.",
    ]


def test_terminal_diff_is_side_by_side_with_changed_words_coloured() -> None:
    """On a terminal: two columns; in a changed paragraph only the changed words are styled, removed
    ones bold red struck through on the left, added ones bold green on the right; a paragraph only the
    member has is green."""
    console = Console(force_terminal=True, width=80, color_system="standard")
    with console.capture() as captured:
        console.print(
            side_by_side("http://a/1", "http://b/2", "one two three\nkept", "one four three\nkept\nnew")
        )
    lines = captured.get().splitlines()
    assert "http://a/1 (canonical)" in lines[1]
    assert "http://b/2" in lines[1]
    assert lines[3] == (
        "│ one \x1b[1;9;31mtwo\x1b[0m three" + " " * 25 + "│ one \x1b[1;32mfour\x1b[0m three" + " " * 23 + "│"
    )
    assert lines[5] == "│ kept" + " " * 34 + "│ kept" + " " * 33 + "│"
    assert lines[7] == "│" + " " * 39 + "│ \x1b[1;32mnew" + " " * 33 + "\x1b[0m │"


def test_clusters_show_diff_compares_a_member_with_the_canonical(runtime: Runtime) -> None:
    """`clusters show ID --diff URL` prints the plain form when stdout is not a terminal; a URL that is
    not a member is one line, exit 1."""
    process(runtime, HUB, "\n".join(P[:3]), "2026-03-10T08:00:00Z")
    process(runtime, DIGEST, "\n".join([P[0], EDITED, ADDED]), "2026-03-11T08:00:00Z")
    cluster = cluster_of(runtime, HUB)
    result = invoke("clusters", "show", str(cluster), "--diff", DIGEST)
    assert (result.exit_code, result.output.splitlines()) == (
        0,
        [
            f"--- {HUB} (canonical)",
            f"+++ {DIGEST}",
            f"  {P[0]}",
            f"- {P[1]}",
            f"+ {EDITED}",
            f"- {P[2]}",
            f"+ {ADDED}",
        ],
    )
    wrong = invoke("clusters", "show", str(cluster), "--diff", LIBRARY_URL)
    assert (wrong.exit_code, wrong.output) == (
        1,
        f"Error: {LIBRARY_URL} is not in cluster {cluster}: "
        f"`newsdedup clusters show {cluster}` lists its members\n",
    )


def test_articles_find_names_the_cluster_of_a_stored_url_and_the_closest_clusters_of_a_text(
    runtime: Runtime,
) -> None:
    """A stored URL: its article, cluster and canonical, in one line or as JSON. A text that is not
    stored: the clusters it would link to, scored, with the relation and the closest member. A text
    of no stored story: says so. An unknown URL or too short a text: one line, exit 1."""
    process(runtime, HUB, BRIDGE.text, "2026-03-10T08:00:00Z")
    process(runtime, DIGEST, BRIDGE.text, "2026-03-11T08:00:00Z")
    process(runtime, LIBRARY_URL, LIBRARY.text)
    bridge = cluster_of(runtime, HUB)
    found = invoke("articles", "find", DIGEST)
    assert (found.exit_code, found.output) == (
        0,
        f"{DIGEST}: stored, article 2, cluster {bridge} (2 articles), canonical {HUB}\n",
    )
    as_json = invoke("articles", "find", "--json", HUB)
    assert json.loads(as_json.output) == {
        "url": HUB,
        "article_id": 1,
        "cluster_id": bridge,
        "size": 2,
        "canonical_url": HUB,
        "is_canonical": True,
    }
    excerpt = "\n".join(P[:4])
    table = invoke("articles", "find", excerpt)
    rows = [line.split("│") for line in table.output.splitlines() if "│" in line]
    assert [[cell.strip() for cell in row] for row in rows] == [[str(bridge), HUB, "0.495", "part", HUB]]
    assert table.output.splitlines()[-1] == "1 cluster"
    lines = invoke("articles", "find", "--json", "-", stdin=excerpt).output.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"cluster_id": bridge, "canonical_url": HUB, "score": 0.495, "relation": "part", "url": HUB}
    ]
    none = invoke("articles", "find", " ".join(["An unrelated story about tides and harbour seals."] * 8))
    assert (none.exit_code, none.output) == (0, "no stored cluster tells this story\n")
    unknown = invoke("articles", "find", "http://nowhere.example/x")
    assert (unknown.exit_code, unknown.output) == (
        1,
        "Error: no stored article at http://nowhere.example/x: "
        "pass the text itself to find its closest clusters\n",
    )
    short = invoke("articles", "find", "too short")
    assert (short.exit_code, short.output) == (
        1,
        "Error: not a story: 9 characters of text after cleaning (at least 200)\n",
    )


def test_export_csv_has_one_row_per_member_and_no_password(runtime: Runtime, tmp_path: Path) -> None:
    """`clusters export --format csv`: a header and one row per member, canonical first; a password in
    a URL shows as ***, in CSV and in JSON lines alike, and in `clusters show --json`."""
    process(runtime, HUB, BRIDGE.text, "2026-03-10T08:00:00Z", BRIDGE.title)
    process(runtime, SECRET, BRIDGE.text, "2026-03-11T08:00:00Z", BRIDGE.title)
    process(runtime, LIBRARY_URL, LIBRARY.text, title=LIBRARY.title)
    bridge, library = cluster_of(runtime, HUB), cluster_of(runtime, LIBRARY_URL)
    result = invoke("clusters", "export", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "secret" not in result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    title, library_title = BRIDGE.title, LIBRARY.title
    assert rows == [
        [
            "cluster_id",
            "canonical_url",
            "size",
            "url",
            "similarity",
            "language",
            "is_canonical",
            "title",
            "source",
            "published_at",
        ],
        [
            str(bridge),
            HUB,
            "2",
            HUB,
            "1.0",
            "en",
            "true",
            title,
            "newsflash-hub",
            "2026-03-10T08:00:00+00:00",
        ],
        [str(bridge), HUB, "2", SHOWN_SECRET, "1.0", "en", "false", title, "", "2026-03-11T08:00:00+00:00"],
        [
            str(library),
            LIBRARY_URL,
            "1",
            LIBRARY_URL,
            "1.0",
            "en",
            "true",
            library_title,
            "newsflash-hub",
            "",
        ],
    ]
    written = tmp_path / "clusters.csv"
    to_file = invoke("clusters", "export", "--format", "csv", "--output", str(written))
    # Not a terminal: no progress bar, only the count.
    assert (to_file.exit_code, to_file.output) == (0, f"exported 2 clusters to {written}\n")
    assert written.read_text(encoding="utf-8") == result.output
    jsonl = invoke("clusters", "export")
    assert "secret" not in jsonl.output
    assert SHOWN_SECRET in jsonl.output
    shown = invoke("clusters", "show", "--json", str(bridge))
    view = json.loads(shown.output)
    assert [m["url"] for m in view["members"]] == [HUB, SHOWN_SECRET]
    assert view["overrides"] == []


def test_sources_list_json_has_one_line_per_source() -> None:
    """`sources list --json`: one JSON object per source, in the file's order."""
    lines = [json.loads(line) for line in invoke("sources", "list", "--json").output.splitlines()]
    assert lines[0] == {
        "name": "dailycourier",
        "kind": "sitemap",
        "schedule": "*/30 * * * *",
        "language": "en",
        "publisher": True,
        "start_urls": ["http://dailycourier.example/sitemap.xml"],
    }
    assert [line["name"] for line in lines] == [
        "dailycourier",
        "newsflash-hub",
        "trend-digest",
        "nachrichten-blitz",
    ]
