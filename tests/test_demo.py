"""``newsdedup demo`` end to end: the real console script serves the fixture sites, crawls them with
the real spiders, clusters every page into an SQLite file and prints the clusters.

The demo runs once per module, with Redis and the database URL pointing at nothing, to prove it
needs neither. Its SQLite file is read back through ``newsdedup clusters export``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from newsdedup.demo.server import SITES
from tests.conftest import FIXTURES, ROOT

EXPECTED: dict[str, Any] = json.loads((SITES / "EXPECTED.json").read_text(encoding="utf-8"))
EXPECTED_CLUSTERS: list[list[str]] = EXPECTED["clusters"]
ARTICLES = {url for cluster in EXPECTED_CLUSTERS for url in cluster}
# Each article's story: the index of its cluster in EXPECTED.json.
STORY_OF = {url: i for i, cluster in enumerate(EXPECTED_CLUSTERS) for url in cluster}
# The demo only ever runs for a few seconds; the deadline only stops a hung demo from hanging the suite.
DEADLINE = 180
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
UNREACHABLE_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:1/nowhere"


def _sources() -> dict[str, dict[str, Any]]:
    with (ROOT / "config" / "sources.toml").open("rb") as f:
        return {s["name"]: s for s in tomllib.load(f)["source"]}


SOURCES = _sources()
SOURCE_OF_HOST = {urlsplit(s["start_urls"][0]).hostname: name for name, s in SOURCES.items()}


def _copies(how: str) -> dict[str, str]:
    """From the README's page table: each copy whose kind of copying starts with ``how``, and its origin."""
    copies = {}
    for line in (SITES / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("http://") and cells[4].startswith(how):
            origin = re.search(r"http://\S+?/(?=[\s)]|$)", cells[4])
            assert origin, line
            copies[cells[0]] = origin.group(0)
    return copies


VERBATIM = _copies("verbatim copy of")


def _env(**settings: str) -> dict[str, str]:
    """A child environment without the developer's NEWSDEDUP_* settings, proxies or colours, and
    wide enough that rich prints every URL on one line."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("NEWSDEDUP_")
        and name.lower() not in ("http_proxy", "https_proxy", "no_proxy", "force_color", "columns")
    }
    env.update(NEWSDEDUP_CONFIG=str(FIXTURES / "empty-settings.toml"), COLUMNS="250", NO_COLOR="1")
    env.update(settings)
    return env


@dataclass
class DemoRun:
    returncode: int
    stdout: str
    stderr: str
    database: Path
    clusters: list[dict[str, Any]]

    @property
    def cluster_of(self) -> dict[str, int]:
        return {m["url"]: c["cluster_id"] for c in self.clusters for m in c["members"]}

    @property
    def member_sets(self) -> set[frozenset[str]]:
        return {frozenset(m["url"] for m in c["members"]) for c in self.clusters}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """`newsdedup -v demo --database DIR/demo.db` run once, then its clusters exported from that file."""
    workdir = tmp_path_factory.mktemp("demo")
    database = workdir / "demo.db"
    env = _env(NEWSDEDUP_REDIS_URL=UNREACHABLE_REDIS, NEWSDEDUP_DATABASE_URL=UNREACHABLE_DATABASE)
    try:
        run = subprocess.run(
            ["newsdedup", "-v", "demo", "--database", str(database)],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"newsdedup demo did not finish within {DEADLINE} s")
    clusters: list[dict[str, Any]] = []
    if run.returncode == 0:
        export_file = workdir / "clusters.jsonl"
        export = subprocess.run(
            ["newsdedup", "clusters", "export", "--format", "jsonl", "--output", str(export_file)],
            cwd=workdir,
            env=_env(NEWSDEDUP_DATABASE_URL=f"sqlite:///{database}"),
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
        assert export.returncode == 0, export.stderr
        lines = export_file.read_text(encoding="utf-8").splitlines()
        clusters = [json.loads(line) for line in lines]
        assert export.stderr.strip() == f"exported {len(clusters)} clusters to {export_file}"
    return DemoRun(run.returncode, run.stdout, run.stderr, database, clusters)


def _table_rows(lines: list[str]) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("│")] for line in lines if "│" in line]


def test_demo_runs_without_redis_or_postgresql(demo: DemoRun) -> None:
    """With NEWSDEDUP_REDIS_URL and NEWSDEDUP_DATABASE_URL pointing at nothing, the demo exits 0
    without a traceback and writes its SQLite file where --database says."""
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Traceback" not in demo.stderr
    assert demo.database.read_bytes().startswith(b"SQLite format 3\x00")
    assert demo.clusters


def test_demo_stores_exactly_the_article_pages(demo: DemoRun) -> None:
    """Every article page of the fixture sites is stored once, with its source and language; the
    home pages, the about/contact/privacy pages and the robots-disallowed page are not."""
    stored = [m for c in demo.clusters for m in c["members"]]
    assert sorted(m["url"] for m in stored) == sorted(ARTICLES)
    assert len(stored) == 15
    urls = {m["url"] for m in stored}
    assert not urls & set(EXPECTED["non_articles"])
    assert not urls & set(EXPECTED["index_pages"])
    assert not urls & set(EXPECTED["robots_disallowed"])
    for member in stored:
        source = SOURCE_OF_HOST[urlsplit(member["url"]).hostname]
        assert member["source"] == source, member
        assert member["language"] == SOURCES[source]["language"], member
    assert sum(c["size"] for c in demo.clusters) == len(stored)
    assert all(c["size"] == len(c["members"]) for c in demo.clusters)


def test_demo_clusters_verbatim_copies_with_their_origin(demo: DemoRun) -> None:
    """Each verbatim repost (the three newsflash-hub copies and trend-digest's battery story) is in
    the cluster of the dailycourier.example article it copies."""
    assert VERBATIM == {
        "http://newsflash-hub.example/2026/03/11/storm-edda-power-cuts-schools-closed/": (
            "http://dailycourier.example/2026/03/11/storm-edda-live-38000-homes-without-power-and-61-schools-closed/"
        ),
        "http://newsflash-hub.example/2026/03/13/tram-extension-approved/": (
            "http://dailycourier.example/2026/03/12/city-council-approves-tram-extension/"
        ),
        "http://newsflash-hub.example/2026/03/13/recycling-plant-fire-400-homes-evacuated/": (
            "http://dailycourier.example/2026/03/12/recycling-plant-fire-forces-evacuation-of-400-homes/"
        ),
        "http://trend-digest.example/story/lumen-grid-raises-38m-to-build-first-factory/": (
            "http://dailycourier.example/2026/03/13/lumen-grid-raises-38m-for-first-battery-factory/"
        ),
    }
    cluster_of = demo.cluster_of
    for copy, origin in VERBATIM.items():
        assert STORY_OF[copy] == STORY_OF[origin]  # the README and EXPECTED.json agree
        assert cluster_of[copy] == cluster_of[origin], (copy, origin)


def test_demo_canonical_is_the_origin(demo: DemoRun) -> None:
    """Every cluster with copies has the dailycourier.example origin as canonical, listed first and
    the only member marked canonical, with similarity 1 to itself."""
    with_copies = [c for c in demo.clusters if c["size"] > 1]
    assert len(with_copies) >= len({STORY_OF[copy] for copy in VERBATIM})
    for cluster in demo.clusters:
        members = cluster["members"]
        assert [m["is_canonical"] for m in members] == [True] + [False] * (len(members) - 1)
        assert members[0]["url"] == cluster["canonical_url"]
        assert members[0]["similarity"] == 1.0
    for cluster in with_copies:
        assert urlsplit(cluster["canonical_url"]).hostname == "dailycourier.example", cluster
        for member in cluster["members"]:
            assert EXPECTED["canonical"][member["url"]] == cluster["canonical_url"], member


def test_demo_never_merges_different_stories(demo: DemoRun) -> None:
    """Precision: no cluster holds articles of two different stories of EXPECTED.json."""
    for cluster in demo.clusters:
        stories = {STORY_OF[m["url"]] for m in cluster["members"]}
        assert len(stories) == 1, cluster


def test_demo_obeys_robots_txt(demo: DemoRun) -> None:
    """The page that trend-digest's robots.txt disallows is refused by the robots middleware and never
    downloaded; the crawl summary counts that one refusal for trend-digest."""
    [disallowed] = EXPECTED["robots_disallowed"]
    assert f"Forbidden by robots.txt: <GET {disallowed}>" in demo.stderr
    crawled = set(re.findall(r"Crawled \(\d+\) <GET (\S+)>", demo.stderr))
    assert disallowed not in crawled
    assert {f"http://{host}/robots.txt" for host in SOURCE_OF_HOST} <= crawled
    assert crawled >= ARTICLES


def test_demo_prints_crawl_summary(demo: DemoRun) -> None:
    """The demo names the four sites it serves, prints one summary row per source (pages, new,
    joined, robots refusals) and their totals, and a closing line with the page, story and copy counts."""
    lines = demo.stdout.splitlines()
    assert re.fullmatch(
        r"serving 4 fixture sites through http://127\.0\.0\.1:\d+: "
        r"dailycourier\.example, nachrichten-blitz\.example, newsflash-hub\.example, trend-digest\.example",
        lines[0].rstrip(),
    ), lines[0]
    header = next(line for line in lines if "┃" in line)
    assert [cell.strip() for cell in header.split("┃")] == [
        "source",
        "pages",
        "new",
        "joined",
        "robots forbidden",
        "finished",
    ]
    summary = {row[0]: row[1:] for row in _table_rows(lines) if row[0] in SOURCES}
    pages = {
        name: sum(1 for url in ARTICLES if SOURCE_OF_HOST[urlsplit(url).hostname] == name) for name in SOURCES
    }
    assert pages == {"dailycourier": 7, "newsflash-hub": 3, "trend-digest": 3, "nachrichten-blitz": 2}
    assert set(summary) == set(SOURCES)
    for name, (page_count, new, joined, forbidden, finished) in summary.items():
        assert int(page_count) == pages[name]
        assert int(new) + int(joined) == pages[name]
        assert int(forbidden) == (1 if name == "trend-digest" else 0)
        assert finished == "finished"
    totals = next(row for row in _table_rows(lines) if row[0] == "4 sources")
    new, joined = (sum(int(row[i]) for row in summary.values()) for i in (1, 2))
    assert totals == ["4 sources", "15", str(new), str(joined), "1", ""]
    copies = sum(1 for c in demo.clusters if c["size"] > 1)
    assert (
        f"15 pages crawled from 4 sources, {len(demo.clusters)} stories, {copies} with copies; done in"
        in demo.stdout
    )
    assert f"Stored in {demo.database}: inspect with" in demo.stdout


def test_demo_prints_every_cluster(demo: DemoRun) -> None:
    """For every stored cluster the output has a heading with its id, member count and canonical
    title, the canonical row starred, and one row per member with URL, source, language and the
    similarity to the canonical (two decimals); where a member is a spliced post, a last column
    names the other clusters it carries."""
    printed: dict[int, tuple[str, list[list[str]]]] = {}
    current: int | None = None
    for line in demo.stdout.splitlines():
        heading = re.match(r"cluster (\d+) · (.*)$", line.strip())
        if heading:
            current = int(heading.group(1))
            printed[current] = (heading.group(2), [])
        elif current is not None and "│" in line:
            printed[current][1].append([cell.strip() for cell in line.split("│")])
    assert set(printed) == {c["cluster_id"] for c in demo.clusters}
    for cluster in demo.clusters:
        members = cluster["members"]
        title_line, rows = printed[cluster["cluster_id"]]
        count = f"{len(members)} article{'s' if len(members) != 1 else ''}"
        assert title_line == f"{count} · {members[0]['title']}"
        spliced = any(m["related_clusters"] for m in members)
        assert rows == [
            [
                "★" if m["is_canonical"] else "",
                m["url"],
                m["source"],
                m["language"],
                f"{m['similarity']:.2f}",
                *([", ".join(f"cluster {c}" for c in m["related_clusters"])] if spliced else []),
            ]
            for m in members
        ]
        assert rows[0][1] == cluster["canonical_url"]
    # Largest clusters first, then by id.
    by_size = sorted(demo.clusters, key=lambda c: (-c["size"], c["cluster_id"]))
    assert list(printed) == [c["cluster_id"] for c in by_size]


def test_demo_finds_every_expected_story(demo: DemoRun) -> None:
    """The full grouping of EXPECTED.json: the excerpt (trend-digest fire story), the splice
    (trend-digest storm story) and the German translation (nachrichten-blitz tram story) join their
    stories too, and every article's canonical is the one EXPECTED.json names."""
    assert demo.member_sets == {frozenset(cluster) for cluster in EXPECTED_CLUSTERS}
    canonical = {m["url"]: c["canonical_url"] for c in demo.clusters for m in c["members"]}
    assert canonical == EXPECTED["canonical"]


def _run_demo(workdir: Path) -> str:
    """stdout of `newsdedup demo` in this folder, with what differs by design (the sites' port, the
    folder, the seconds taken) replaced."""
    run = subprocess.run(
        ["newsdedup", "demo", "--database", str(workdir / "demo.db")],
        cwd=workdir,
        env=_env(NEWSDEDUP_REDIS_URL=UNREACHABLE_REDIS, NEWSDEDUP_DATABASE_URL=UNREACHABLE_DATABASE),
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", run.stdout.replace(str(workdir), "DIR"))
    return re.sub(r"done in [0-9.]+ s", "done in N s", out)


def test_the_demo_prints_the_same_every_time(demo: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Two more runs of the demo print the same, character for character (but for the port, folder
    and seconds): the same new/joined split per source and the same cluster ids, because the demo
    crawls its sources one after another, one request at a time, and processes the pages in the
    order they come: the origin publisher first."""
    first = _run_demo(tmp_path_factory.mktemp("again"))
    second = _run_demo(tmp_path_factory.mktemp("again"))
    assert first == second
    # The origin publisher, crawled first, brings every story it has; the autoblogs' copies join them.
    assert _table_rows(first.splitlines())[:4] == [
        ["dailycourier", "7", "7", "0", "0", "finished"],
        ["newsflash-hub", "3", "0", "3", "0", "finished"],
        ["trend-digest", "3", "0", "3", "1", "finished"],
        ["nachrichten-blitz", "2", "1", "1", "0", "finished"],
    ]
