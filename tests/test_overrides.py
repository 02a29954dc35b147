"""Operator overrides (`clusters merge|split|set-canonical`): stored, obeyed by every later derivation
of the clusters (a new copy, a reprocessed page, `index rebuild --links`, `reindex`), listed by
`clusters show`; and the rules of ``dedup.overrides`` when overrides disagree."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from dedup.overrides import Constraint, apply, chosen_canonical
from dedup.partition import Partition
from newsdedup.cli import app
from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.report import iter_cluster_views
from newsdedup.service.runtime import Runtime
from storage.models import Override
from tests.stories import story

BRIDGE, LIBRARY = story("bridge"), story("library")
ORIGIN = "http://dailycourier.example/2026/03/swing-bridge-closure.html"  # a publisher source
HUB = "http://newsflash-hub.example/news/bridge"
DIGEST = "http://trend-digest.example/bridge-closure"
MIRROR = "http://mirror.example/bridge"
LIBRARY_URL = "http://newsflash-hub.example/news/library"


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def process(runtime: Runtime, url: str, text: str) -> str:
    return process_page(Page(url=url, text=text), runtime).status


def clusters(runtime: Runtime) -> list[tuple[str, set[str]]]:
    """(canonical URL, member URLs) of every cluster, by cluster id."""
    return [(v.canonical.url, {m.url for m in v.members}) for v in iter_cluster_views(runtime)]


def cluster_of(runtime: Runtime, url: str) -> int:
    return next(v.id for v in iter_cluster_views(runtime) if url in {m.url for m in v.members})


def rebuild_and_reindex() -> None:
    assert invoke("index", "rebuild", "--links").exit_code == 0
    assert invoke("reindex").exit_code == 0


def urls_in(output: str) -> list[str]:
    """The member URLs of the cluster tables in the output, in order."""
    return [line.split("│")[1].strip() for line in output.splitlines() if "│" in line and "://" in line]


def test_a_merge_holds_after_a_new_copy_a_relink_and_a_reindex(runtime: Runtime) -> None:
    """Two unrelated stories merged by the operator print as one cluster, keep the larger cluster's
    id, stay one cluster when a new copy of one of them arrives, and after `index rebuild --links`
    and `reindex`."""
    process(runtime, HUB, BRIDGE.text)
    process(runtime, DIGEST, BRIDGE.text)
    process(runtime, LIBRARY_URL, LIBRARY.text)
    bridge, library = cluster_of(runtime, HUB), cluster_of(runtime, LIBRARY_URL)
    merged = invoke(
        "clusters", "merge", str(bridge), str(library), "--note", "one event", "--operator", "ann"
    )
    assert merged.exit_code == 0, merged.output
    assert merged.output.splitlines()[0].startswith(f"cluster {bridge} · 3 articles · ")
    assert urls_in(merged.output) == [HUB, DIGEST, LIBRARY_URL]

    assert process(runtime, MIRROR, LIBRARY.text) == "joined"
    assert clusters(runtime) == [(HUB, {HUB, DIGEST, LIBRARY_URL, MIRROR})]
    rebuild_and_reindex()
    assert clusters(runtime) == [(HUB, {HUB, DIGEST, LIBRARY_URL, MIRROR})]


def test_a_split_holds_when_the_page_is_processed_again_and_after_a_relink(runtime: Runtime) -> None:
    """A copy split off its story stays a cluster of its own when processed again with the same text
    and with a changed text, and after `index rebuild --links` and `reindex`; the command prints both
    clusters, the split-off one first."""
    for url in (HUB, DIGEST, MIRROR):
        process(runtime, url, BRIDGE.text)
    story_id = cluster_of(runtime, HUB)
    result = invoke("clusters", "split", str(story_id), DIGEST)
    assert result.exit_code == 0, result.output
    assert urls_in(result.output) == [DIGEST, HUB, MIRROR]
    expected = [(HUB, {HUB, MIRROR}), (DIGEST, {DIGEST})]
    assert clusters(runtime) == expected

    assert process(runtime, DIGEST, BRIDGE.text) == "unchanged"
    assert process(runtime, DIGEST, BRIDGE.text + "\nA paragraph the copy added later.") == "updated"
    assert sorted(clusters(runtime)) == sorted(expected)
    rebuild_and_reindex()
    assert sorted(clusters(runtime)) == sorted(expected)


def test_a_canonical_choice_beats_a_later_publisher_page(runtime: Runtime) -> None:
    """The operator's canonical stays canonical when the publisher's own page (which the rule would
    prefer) arrives later, and after `index rebuild --links` and `reindex`."""
    process(runtime, HUB, BRIDGE.text)
    process(runtime, DIGEST, BRIDGE.text)
    story_id = cluster_of(runtime, HUB)
    result = invoke("clusters", "set-canonical", str(story_id), DIGEST)
    assert result.exit_code == 0, result.output
    assert urls_in(result.output) == [DIGEST, HUB]
    assert "★ │ " + DIGEST in result.output

    assert process(runtime, ORIGIN, BRIDGE.text) == "joined"
    assert clusters(runtime) == [(DIGEST, {HUB, DIGEST, ORIGIN})]
    rebuild_and_reindex()
    assert clusters(runtime) == [(DIGEST, {HUB, DIGEST, ORIGIN})]


def test_clusters_show_lists_the_overrides_that_touch_the_cluster(runtime: Runtime) -> None:
    """`clusters show` ends with one line per override naming a member, oldest first: when, what,
    by whom and why."""
    for url in (HUB, DIGEST, MIRROR):
        process(runtime, url, BRIDGE.text)
    process(runtime, LIBRARY_URL, LIBRARY.text)
    bridge, library = cluster_of(runtime, HUB), cluster_of(runtime, LIBRARY_URL)
    assert invoke("clusters", "merge", str(bridge), str(library), "--operator", "ann").exit_code == 0
    assert invoke("clusters", "split", str(bridge), MIRROR, "--note", "a different edition").exit_code == 0
    assert invoke("clusters", "set-canonical", str(bridge), DIGEST).exit_code == 0
    with runtime.sessions() as session:
        when = [o.created_at.strftime("%Y-%m-%d %H:%M UTC") for o in session.scalars(select(Override))]
    shown = invoke("clusters", "show", str(bridge))
    assert shown.exit_code == 0, shown.output
    tail = shown.output.splitlines()[-4:]
    assert tail == [
        "overrides (operator corrections, oldest first; the latest wins)",
        f"  #1 {when[0]} merge of clusters {bridge} and {library} (by ann)",
        f"  #2 {when[1]} split of {MIRROR} from cluster {bridge} (a different edition)",
        f"  #3 {when[2]} canonical: {DIGEST}",
    ]
    mirror = invoke("clusters", "show", str(cluster_of(runtime, MIRROR)))
    assert mirror.output.splitlines()[-3:] == tail[:1] + tail[1:3]


def test_corrections_refuse_unknown_clusters_and_foreign_urls_in_one_line(runtime: Runtime) -> None:
    """An unknown cluster id, a URL that is not a member, a split of every member and a merge with
    itself: one line each, exit status 1, nothing stored."""
    process(runtime, HUB, BRIDGE.text)
    process(runtime, LIBRARY_URL, LIBRARY.text)
    bridge = cluster_of(runtime, HUB)
    cases = {
        ("merge", str(bridge), "999"): "Error: no cluster 999: `newsdedup clusters list` shows the ids\n",
        ("merge", str(bridge), str(bridge)): f"Error: cluster {bridge} cannot be merged with itself\n",
        ("split", str(bridge), LIBRARY_URL): (
            f"Error: {LIBRARY_URL} is not in cluster {bridge}: "
            f"`newsdedup clusters show {bridge}` lists its members\n"
        ),
        ("split", str(bridge), HUB): (
            f"Error: these are all the members of cluster {bridge}: nothing is left to split from\n"
        ),
        ("set-canonical", "999", HUB): "Error: no cluster 999: `newsdedup clusters list` shows the ids\n",
    }
    for args, message in cases.items():
        result = invoke("clusters", *args)
        assert (result.exit_code, result.output) == (1, message)
    with runtime.sessions() as session:
        assert list(session.scalars(select(Override))) == []


def test_the_latest_override_wins_when_two_disagree() -> None:
    """A split after a merge takes its articles out of the merged cluster; a merge after a split puts
    them back; of two canonical choices in one cluster the later counts; related clusters follow."""
    derived = Partition([frozenset({1, 2}), frozenset({3, 4}), frozenset({5})], related={5: frozenset({0})})
    merge = Constraint(1, "merge", frozenset({1, 2, 3, 4}))
    split = Constraint(2, "split", frozenset({2, 3}), apart=frozenset({1, 4}))
    merge_again = Constraint(3, "merge", frozenset({2, 1}))
    assert apply(derived, [merge, split]) == Partition(
        [frozenset({1, 4}), frozenset({2, 3}), frozenset({5})], related={5: frozenset({0})}
    )
    assert apply(derived, [split, merge_again, merge]) == Partition(
        [frozenset({1, 2, 3, 4}), frozenset({5})], related={5: frozenset({0})}
    )
    first, later = Constraint(4, "canonical", frozenset({3})), Constraint(5, "canonical", frozenset({1}))
    assert chosen_canonical([1, 2, 3, 4], [later, first]) == 1
    assert chosen_canonical([2, 4], [later, first]) is None


def test_clusters_why_names_the_override_that_decided(runtime: Runtime) -> None:
    """`clusters why` says when an operator merge holds two unlinked articles together, and when an
    operator split keeps two linked articles apart."""
    process(runtime, HUB, BRIDGE.text)
    process(runtime, DIGEST, BRIDGE.text)
    process(runtime, LIBRARY_URL, LIBRARY.text)
    bridge, library = cluster_of(runtime, HUB), cluster_of(runtime, LIBRARY_URL)
    assert invoke("clusters", "merge", str(bridge), str(library)).exit_code == 0
    merged = invoke("clusters", "why", HUB, LIBRARY_URL).output.splitlines()[-1]
    assert merged == (
        f"clusters:          same cluster {bridge}: held together by an operator merge"
        " (`clusters show` lists it)"
    )
    assert invoke("clusters", "split", str(bridge), DIGEST).exit_code == 0
    split = invoke("clusters", "why", HUB, DIGEST).output.splitlines()[-1]
    assert split == (
        f"clusters:          different clusters ({bridge}, {cluster_of(runtime, DIGEST)}): kept apart by an"
        " operator split (`clusters show` lists it)"
    )


def test_clusters_show_json_carries_the_overrides(runtime: Runtime) -> None:
    """`clusters show --json`: the export line of the cluster plus its overrides, each with kind, the
    clusters it was made on, the URLs it names (a merge: all of them), note, operator and time."""
    process(runtime, HUB, BRIDGE.text)
    process(runtime, LIBRARY_URL, LIBRARY.text)
    bridge, library = cluster_of(runtime, HUB), cluster_of(runtime, LIBRARY_URL)
    assert invoke("clusters", "merge", str(bridge), str(library), "--note", "one event").exit_code == 0
    with runtime.sessions() as session:
        created = session.scalars(select(Override.created_at)).one().isoformat()
    view = json.loads(invoke("clusters", "show", "--json", str(bridge)).output)
    assert (view["cluster_id"], view["size"], view["canonical_url"]) == (bridge, 2, HUB)
    assert view["overrides"] == [
        {
            "id": 1,
            "kind": "merge",
            "clusters": [bridge, library],
            "urls": [HUB, LIBRARY_URL],
            "note": "one event",
            "operator": None,
            "created_at": created,
        }
    ]


def test_after_a_split_what_reaches_only_the_split_off_articles_goes_with_them() -> None:
    """Of a split cluster's other articles, those linked to the members it was split from stay; those
    that reach the split-off articles only (a copy of them) go with them; one linked to both stays."""
    derived = Partition([frozenset({1, 2, 3, 4, 5})])
    split = Constraint(1, "split", frozenset({3}), apart=frozenset({1, 2}))
    links = [(1, 2), (2, 3), (3, 4), (3, 5), (1, 5)]
    assert apply(derived, [split], links) == Partition([frozenset({1, 2, 5}), frozenset({3, 4})])


def test_a_new_copy_linked_to_both_sides_of_a_split_goes_with_the_rest(runtime: Runtime) -> None:
    """After a split, a new verbatim copy of the story links to the split-off page and to the rest
    alike: it joins the rest, and the split-off page stays on its own."""
    for url in (HUB, DIGEST, MIRROR):
        process(runtime, url, BRIDGE.text)
    assert invoke("clusters", "split", str(cluster_of(runtime, HUB)), MIRROR).exit_code == 0
    copy = "http://copies.example/bridge"
    assert process(runtime, copy, BRIDGE.text) == "joined"
    assert sorted(clusters(runtime)) == [(MIRROR, {MIRROR}), (HUB, {HUB, DIGEST, copy})]
