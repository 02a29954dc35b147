"""Translated copies: evidence (names, numbers, glossed words) across languages, source links, and
the rule by which a translation joins its original's cluster."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from dedup import glossary
from dedup.evidence import agreement, evidence, terms
from dedup.partition import Link, partition
from newsdedup.cli import app
from newsdedup.report import iter_cluster_views
from workers.page import Page
from workers.processing import process_page
from workers.runtime import Runtime

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
    assert glossary.chinese()["塞尔维亚"] == ("serbia",)
    assert glossary.chinese()["塞爾維亞"] == ("serbia",)  # traditional characters too
    assert glossary.japanese()["ニュージーランド"][:2] == ("new", "zealand")
    assert "rogers" in glossary.japanese()["ロジャース"]


def test_translations_agree_and_a_story_about_the_same_event_does_not() -> None:
    """The German, Chinese and Japanese translations agree with the English original above the
    translation threshold (0.15); another article about the same announcement, in English, agrees
    with the translations below it."""
    e = {name: evidence(text(name), language) for name, language in LANGUAGES.items()}
    for translation in ("buses.de", "buses.zh", "buses.ja"):
        assert agreement(e["buses.en"], e[translation]).score >= 0.15, translation
        assert agreement(e["depots.en"], e[translation]).score < 0.15, translation


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

    with runtime.sessions() as session:
        views = list(iter_cluster_views(session))
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
    tail = "\n".join(text("buses.de").splitlines()[3:])
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


def test_each_cluster_joins_only_its_best_translation_partner() -> None:
    """A translation (3) links to its original (1, score 0.4) and, weaker, to an article about the same
    event (2, score 0.2) whose own translation (4) scores higher with it: 3 joins 1, 4 joins 2, and the
    two stories stay apart."""
    links = [
        Link(1, 3, 0.0, 0.0, 0.0, translation=0.4),
        Link(2, 3, 0.0, 0.0, 0.0, translation=0.2),
        Link(2, 4, 0.0, 0.0, 0.0, translation=0.5),
    ]
    result = partition([1, 2, 3, 4], links, lambda x, y: False, 0.6, 0.15)
    assert result.clusters == [frozenset({1, 3}), frozenset({2, 4})]


def test_clusters_why_explains_a_translation_by_its_evidence(runtime: Runtime) -> None:
    """`clusters why` on an original and its Chinese translation shows the evidence score, the terms
    they share and the rule that linked them."""
    process_page(Page(url=ORIGIN, text=text("buses.en")), runtime)
    process_page(Page(url="http://blog-zh.example/post", text=text("buses.zh")), runtime)

    result = CliRunner().invoke(app, ["clusters", "why", ORIGIN, "http://blog-zh.example/post"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("evidence:") and "score 0.2" in line for line in lines), result.output
    shared = next(line for line in lines if "shared, weightiest first:" in line)
    for term in ("2027", "250", "denni", "nitro"):
        assert term in shared
    assert any(line.startswith("verdict:           translation: evidence") for line in lines)
    assert any(line.startswith("clusters:          same cluster") for line in lines)
