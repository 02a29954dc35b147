"""Translated copies: evidence (names, numbers, glossed words) across languages, source links, and
the rule by which a translation joins its original's cluster."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from dedup import glossary
from dedup.crosslang import match
from dedup.evidence import evidence, terms
from dedup.links import Edge
from dedup.params import Params
from dedup.partition import partition
from newsdedup.cli import app
from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.report import iter_cluster_views
from newsdedup.service.runtime import Runtime

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "translations"
ORIGIN = "http://courier.example/2026/05/electric-buses"
LANGUAGES = {"buses.en": "en", "buses.de": "de", "buses.zh": "zh", "buses.ja": "ja", "depots.en": "en"}


def text(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")


def test_evidence_keeps_numbers_and_names_and_drops_common_words() -> None:
    """The German translation's evidence holds its numbers and names (normalised to five letters) and
    none of the words common in any major language."""
    found = [key for key, _ in terms(text("buses.de"), "de")]
    for key in ("sadiq", "2027", "250", "310", "croyd", "lewis", "green", "scarb"):
        assert key in found
    for common in ("der", "und", "die", "hat", "werde"):
        assert common not in found


def test_glossaries_give_english_words_for_chinese_and_japanese() -> None:
    """CC-CEDICT and JMdict (with JMnedict's katakana names) are read from the installed packages."""
    assert glossary.chinese()["塞尔维亚"] == ("Serbia",)  # a name keeps its capital
    assert glossary.chinese()["塞爾維亞"] == ("Serbia",)  # traditional characters too
    assert glossary.chinese()["公共汽车"] == ("bus",)
    assert glossary.japanese()["ニュージーランド"][:2] == ("New", "Zealand")
    assert "Rogers" in glossary.japanese()["ロジャース"]


def test_translations_agree_and_a_story_about_the_same_event_does_not() -> None:
    """The German, Chinese and Japanese translations agree with the English original above the
    translation threshold, over at least its number of terms; another article about the same
    announcement, in English, agrees with each translation below the threshold and three times less."""
    bar = Params().translation_min_score
    e = {name: evidence(text(name), language) for name, language in LANGUAGES.items()}
    for translation in ("buses.de", "buses.zh", "buses.ja"):
        agreed = match(e["buses.en"], e[translation])
        assert agreed.score >= bar, translation
        assert agreed.matches >= Params().translation_min_matches, translation
        other = match(e["depots.en"], e[translation]).score
        assert other < bar, translation
        assert agreed.score >= 3 * other, translation


def test_translations_join_their_original_and_the_original_stays_canonical(runtime: Runtime) -> None:
    """Processed in any order, the three translations join the English original's cluster, whose
    canonical is the original (published first); the other article about the same event stays alone."""
    pages = [
        Page(
            url=f"http://blog-{name.replace('.', '-')}.example/post",
            text=text(name),
            published_at=datetime(2026, 5, 5, 12, tzinfo=UTC),
        )
        for name in ("buses.ja", "depots.en", "buses.zh")
    ]
    pages.insert(1, Page(url=ORIGIN, text=text("buses.en"), published_at=datetime(2026, 5, 5, 8, tzinfo=UTC)))
    pages.append(
        Page(
            url="http://blog-buses-de.example/post",
            text=text("buses.de"),
            published_at=datetime(2026, 5, 5, 9, tzinfo=UTC),
        )
    )
    for page in pages:
        process_page(page, runtime)

    views = list(iter_cluster_views(runtime))
    found = {frozenset(m.url for m in v.members): v.canonical.url for v in views}
    assert found == {
        frozenset(
            {
                ORIGIN,
                "http://blog-buses-ja.example/post",
                "http://blog-buses-zh.example/post",
                "http://blog-buses-de.example/post",
            }
        ): ORIGIN,
        frozenset({"http://blog-depots-en.example/post"}): "http://blog-depots-en.example/post",
    }
    languages = {m.url: m.language for v in views for m in v.members}
    assert languages["http://blog-buses-zh.example/post"] == "zh"
    assert languages["http://blog-buses-ja.example/post"] == "ja"


def test_a_source_link_ties_a_loose_translation_to_the_page_it_names(runtime: Runtime) -> None:
    """A German post that renders only the end of the story (too little evidence for a translation
    on its own) but names the original in a Source link joins it; without the link it stays apart."""
    tail = "\n".join(text("buses.de").splitlines()[4:])
    html = (
        f"<html><body><article>{''.join(f'<p>{p}</p>' for p in tail.splitlines())}"
        f'<p><a href="{ORIGIN}">Source link</a></p></article></body></html>'
    )
    process_page(Page(url=ORIGIN, text=text("buses.en")), runtime)
    unnamed = process_page(Page(url="http://nachrichten.example/ohne-link", text=tail), runtime)
    named = process_page(Page(url="http://nachrichten.example/mit-link", html=html), runtime)

    origin_cluster = process_page(Page(url=ORIGIN, text=text("buses.en")), runtime).cluster_id
    assert unnamed.cluster_id != origin_cluster
    assert named.cluster_id == origin_cluster


def across(a: int, b: int, score: float, matches: int = 8) -> Edge:
    """A cross-language link of this score over this many terms, matching the whole of both texts."""
    return Edge(a, b, score=score, matches=matches, span_a=(0.1, 0.9), span_b=(0.1, 0.9))


LANG = {1: "en", 2: "de", 3: "ru", 4: "en", 5: "de", 6: "ja"}


def test_a_story_without_a_translation_stays_alone() -> None:
    """Ties below the translation threshold never join two stories, however few candidates there are:
    each cluster abstains instead of taking its best partner (the old forced choice)."""
    result = partition([1, 2, 3], [across(1, 2, 0.09), across(2, 3, 0.08)], Params(), LANG)
    assert result.clusters == [frozenset({1}), frozenset({2}), frozenset({3})]
    assert [t.accepted for t in result.ties] == [False, False]


def test_a_tie_that_does_not_stand_out_from_its_background_abstains() -> None:
    """The German article 2 scores 0.15 with English 1, but just as much with the unrelated English
    articles 4, 7 and 8 of the stream around it, and English 1 does as well with other German ones:
    no side's tie stands out (margin 2), so nothing joins. The same tie with a quiet background joins."""
    noisy = [across(1, 2, 0.15), across(2, 4, 0.14), across(2, 7, 0.14), across(2, 8, 0.13)]
    noisy += [across(1, 5, 0.14), across(1, 9, 0.14), across(1, 10, 0.13)]
    outside = {7: 70, 8: 80, 9: 90, 10: 100}
    language = {**LANG, 7: "en", 8: "en", 9: "de", 10: "de"}
    result = partition([1, 2, 4, 5], noisy, Params(), language, outside=outside)
    assert frozenset({1, 2}) not in result.clusters
    quiet = partition([1, 2], [across(1, 2, 0.15)], Params(), LANG)
    assert quiet.clusters == [frozenset({1, 2})]


def test_translations_join_through_their_origin_not_through_each_other() -> None:
    """Origin 1 (en) with its German translation 2; the Russian article 3 ties strongly only to 2, not
    to 1: the leaders (canonical groups) 1 and 3 do not match, so 3 stays apart. The Japanese 6 ties
    to the origin and joins."""
    links = [across(1, 2, 0.5), across(2, 3, 0.4), across(1, 6, 0.3)]
    result = partition([1, 2, 3, 6], links, Params(), LANG, leader=min)
    assert result.clusters == [frozenset({1, 2, 6}), frozenset({3})]


def test_a_merge_must_agree_with_the_version_already_told_in_a_language() -> None:
    """Story A is English 1 with German 2; English 4 ties to German 2 well enough, but 4 and 1, both
    English, agree in nothing: A is already told in English, and 4 is not that version, so no merge.
    When 4 does agree with 1 (another translation of one story), it joins."""
    links = [across(1, 2, 0.5), across(2, 4, 0.3)]
    params = Params()

    def disagree(x: int, y: int) -> float:
        return 0.05

    def agree(x: int, y: int) -> float:
        return 0.6

    apart = partition(
        [1, 2, 4], links, params, LANG, leader=lambda m: 2 if 2 in m else min(m), agreement=disagree
    )
    assert apart.clusters == [frozenset({1, 2}), frozenset({4})]
    together = partition(
        [1, 2, 4], links, params, LANG, leader=lambda m: 2 if 2 in m else min(m), agreement=agree
    )
    assert together.clusters == [frozenset({1, 2, 4})]


def test_a_translated_splice_joins_one_story_and_is_related_to_the_other() -> None:
    """Post 9 (de) translates English story 1 in its first half and Japanese story 6 in its second:
    each passage matches well on its own. 9 is a splice: it joins the story with the stronger passage,
    is related to the other, and 1 and 6 stay apart although 9 ties to both."""
    links = [
        Edge(
            1, 9, score=0.3, matches=10, span_a=(0.1, 0.9), span_b=(0.05, 0.45), passage_a=0.3, passage_b=0.45
        ),
        Edge(
            6, 9, score=0.2, matches=8, span_a=(0.1, 0.9), span_b=(0.55, 0.95), passage_a=0.2, passage_b=0.3
        ),
    ]
    result = partition([1, 6, 9], links, Params(), {1: "en", 6: "ja", 9: "de"})
    assert result.spliced == frozenset({9})
    assert result.clusters == [frozenset({1, 9}), frozenset({6})]
    assert result.related == {9: frozenset({1})}


def test_clusters_why_explains_a_translation_by_its_evidence(runtime: Runtime) -> None:
    """`clusters why` on an original and its Chinese translation shows the evidence score, the terms
    they share and the rule that linked them."""
    process_page(Page(url=ORIGIN, text=text("buses.en")), runtime)
    process_page(Page(url="http://blog-zh.example/post", text=text("buses.zh")), runtime)

    result = CliRunner().invoke(app, ["clusters", "why", ORIGIN, "http://blog-zh.example/post"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("evidence:") and "score 0.25" in line for line in lines), result.output
    shared = next(line for line in lines if "shared, weightiest first:" in line)
    for term in ("2027", "250", "denni"):
        assert term in shared
    assert any(
        line.startswith("verdict:           a translation if it stands out: pair score 0.25")
        for line in lines
    )
    clusters = next(line for line in lines if line.startswith("clusters:"))
    assert "joined by accepted translation ties, leader to leader" in clusters, clusters
    assert "no background" in clusters


# A German local story that opens with the lead of the bus story: a tie, but no translation.
POOL = (
    "Im Stadtteil Hohenfelde eröffnet am Samstag ein neues Schwimmbad mit einem Becken von 50 Metern Länge. "
    "Die Bezirksverwaltung rechnet mit 1200 Besuchern am ersten Wochenende und verlängert die "
    "Öffnungszeiten bis 22 Uhr. Der Eintritt kostet für Erwachsene 6,50 Euro, Kinder unter zwölf Jahren "
    "baden kostenlos. Bürgermeisterin Katrin Oldenburg-Wiese dankte dem Förderverein, der seit 2015 "
    "Spenden gesammelt hatte."
)


def test_clusters_why_says_when_a_translation_tie_abstains(runtime: Runtime) -> None:
    """`clusters why` on the original and a German post that only opens with the story's lead: their
    evidence agrees over two terms, so the tie abstains, and the line says why."""
    lead = text("buses.de").splitlines()[0]
    process_page(Page(url=ORIGIN, text=text("buses.en")), runtime)
    process_page(Page(url="http://nachrichten.example/bad", text=f"{lead}\n{POOL}"), runtime)

    result = CliRunner().invoke(app, ["clusters", "why", ORIGIN, "http://nachrichten.example/bad"])

    assert result.exit_code == 0, result.output
    clusters = next(line for line in result.output.splitlines() if line.startswith("clusters:"))
    assert clusters == (
        "clusters:          different clusters (1, 2): the translation tie abstains: score 0.144 over only"
        " 2 terms (a translation needs 3)"
    )
