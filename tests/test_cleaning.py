"""Cleaning a page to its story: extraction, repost residue, the claimed origin link."""

from __future__ import annotations

import pytest
from lxml.html import fromstring

from dedup.document import NoStoryText, prepare
from dedup.extract import extract, strip_site_name
from dedup.params import Params
from dedup.residue import claimed_origin, strip_residue
from dedup.signature import Signer
from newsdedup.demo.server import SITES
from tests.conftest import EXAMPLES, FIXTURES

ARTICLE_SIGNS = FIXTURES / "article-signs" / "harbourgazette.example"

EXAMPLE = EXAMPLES / "repost-id-cnn-liveblog.txt"
needs_example = pytest.mark.skipif(
    not EXAMPLE.exists(),
    reason=f"the example repost is not here ({EXAMPLE}); it sits beside the checkout in CI",
)

CNN_LIVE = "https://edition.cnn.com/europe/live-news/russia-ukraine-war-news-08-17-22"
STORY = [
    "The city council approved the tram extension on Wednesday night after a five-hour debate.",
    "Councillors voted 31 to 17 in favour of the plan, which adds nine stops along Millfield Road.",
    "Construction is due to start next spring and take three years, the council said.",
]


@needs_example
def test_example_repost_loses_markers_and_trailer_and_keeps_the_story() -> None:
    """The real repost that started the project: [ad_N] markers and the Source link trailer go, every
    story paragraph stays, in order and unchanged."""
    raw = EXAMPLE.read_text(encoding="utf-8")
    story_lines = [line.strip() for line in raw.splitlines()[1:-2]]  # between [ad_1] and [ad_2]

    cleaned = strip_residue(raw)

    assert "[ad_" not in cleaned
    assert "Source link" not in cleaned
    assert cleaned.splitlines() == story_lines
    assert cleaned.startswith("Tentara Pembebasan Rakyat China akan mengirim pasukan ke Rusia")
    assert cleaned.endswith("Uliana Pavlova dari CNN berkontribusi melaporkan ke pos ini.")


@needs_example
def test_example_repost_as_html_gives_the_same_story() -> None:
    """Wrapped in an autoblog page the way the plugins publish it, the example cleans to the same text."""
    raw = EXAMPLE.read_text(encoding="utf-8").splitlines()
    paragraphs = "".join(f"<p>{line}</p>" for line in raw[1:-2])
    html = (
        "<html><head><title>Berita</title></head><body><article><h1>Latihan Vostok-2022</h1>"
        '<div class="entry-content"><div class="code-block">[ad_1]</div>'
        f'{paragraphs}<div class="code-block">[ad_2]</div>'
        f'<p><a href="{CNN_LIVE}">Source link</a></p>'
        "</div></article></body></html>"
    )
    document = prepare(Signer(128), Params(), url="https://berita.example/archives/1", html=html)

    assert document.text.splitlines() == [line.strip() for line in raw[1:-2]]
    assert document.claimed_source_url == CNN_LIVE
    assert document.language in ("id", "ms")  # langid does not always tell Indonesian from Malay


@pytest.mark.parametrize(
    ("trailer", "kept"),
    [
        ("Source link", False),
        ("Source: The Daily Courier", False),
        ("Quelle: Tagesschau", False),
        ("Read more at The Guardian", False),
        ("Weiterlesen bei Spiegel Online", False),
        ("Sources say the minister will resign next week.", True),
        ("Via Appia was the first of the great Roman roads.", True),
    ],
)
def test_attribution_trailers_go_and_sentences_that_look_alike_stay(trailer: str, kept: bool) -> None:
    """A trailing attribution line is removed; a story sentence that merely starts with 'Sources' or
    'Via' is not."""
    cleaned = strip_residue("\n".join([*STORY, trailer]))
    assert cleaned.splitlines() == ([*STORY, trailer] if kept else STORY)


def test_shortcodes_share_labels_cookie_notes_and_interstitials_are_removed() -> None:
    """Residue inside the text goes, and only the residue: shortcodes anywhere, share-button rows,
    cookie notices and 'ALSO READ: <other headline>' lines."""
    text = "\n".join(
        [
            "[ad_1]",
            STORY[0],
            "Share this: Facebook Twitter WhatsApp",
            "ALSO READ: Ten hidden beaches you need to visit this summer",
            STORY[1] + " [ad_3]",
            "We use cookies to give you the best experience on our website.",
            '[adinserter block="2"]',
            STORY[2],
            "[ad_2]",
        ]
    )
    assert strip_residue(text).splitlines() == STORY


def test_claimed_origin_is_the_attribution_link_to_another_host() -> None:
    """The Source link's target is kept; links to the page's own host and plain links are not claims."""
    html = (
        '<html><body><p>Story text.</p><p><a href="http://blog.example/other">Related</a></p>'
        '<p><a href="http://blog.example/2026/03/source">Source link</a></p>'
        '<p>Source: <a href="https://www.origin.example/2026/03/12/story/">Origin Daily</a></p>'
        "</body></html>"
    )
    assert claimed_origin(fromstring(html), "http://blog.example/2026/03/13/copy/") == (
        "https://www.origin.example/2026/03/12/story/"
    )
    home_link = fromstring("<p><a href='https://x.example/'>Home</a></p>")
    assert claimed_origin(home_link, "http://blog.example/a") is None


def test_fixture_repost_page_extracts_title_date_text_and_origin() -> None:
    """A demo autoblog page: headline without the site-name suffix, the publication time, the story
    without the ad markers, and the origin named by its Source link."""
    page = SITES / "newsflash-hub.example" / "2026" / "03" / "13" / "tram-extension-approved" / "index.html"
    html = page.read_text(encoding="utf-8")
    url = "http://newsflash-hub.example/2026/03/13/tram-extension-approved/"

    extracted = extract(html, url)
    document = prepare(Signer(128), Params(), url=url, html=html)

    assert extracted.published_at is not None
    assert extracted.published_at.isoformat().startswith("2026-03-1")
    assert "[ad_" not in document.text
    assert "Source link" not in document.text
    assert document.text.startswith("Eastbrook City Council has approved a £212 million extension")
    assert (
        document.claimed_source_url
        == "http://dailycourier.example/2026/03/12/city-council-approves-tram-extension/"
    )
    assert document.language == "en"
    assert document.signature is not None
    assert document.signature.shape == (128,)


def test_site_name_suffix_is_stripped_only_when_it_names_the_site() -> None:
    """' | Trend Digest' goes from a Trend Digest page's title; a title that is only the site name, or
    whose ending is not the site name, stays as it is."""
    assert strip_site_name("Fire in Westgate | Trend Digest", "Trend Digest") == "Fire in Westgate"
    assert strip_site_name("Stadtrat tagt - Nachrichten Blitz", "Nachrichten Blitz") == "Stadtrat tagt"
    assert strip_site_name("Trend Digest", "Trend Digest") == "Trend Digest"
    assert strip_site_name("Storm - live updates", "Trend Digest") == "Storm - live updates"


def test_a_page_without_story_text_is_rejected() -> None:
    """A page whose text is too short after cleaning (an empty template with a caption) is rejected,
    not stored as a story; the reason says how much text was left."""
    html = (
        "<html><head><title>Gallery</title></head>"
        "<body><article><p>Photo: the quay at dawn.</p></article></body></html>"
    )
    with pytest.raises(NoStoryText, match=r"^24 characters of text after cleaning \(at least 200\)$"):
        prepare(Signer(128), Params(), url="http://harbourgazette.example/gallery/", html=html)


def test_a_real_article_is_not_refused_for_its_og_type() -> None:
    """A news article whose Open Graph type says "website" (as many news sites' pages do) is processed:
    og:type is metadata, not a verdict on the page; its whole story text is kept."""
    page = ARTICLE_SIGNS / "2026" / "04" / "02" / "night-ferries-to-the-islands-from-may" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert '<meta property="og:type" content="website">' in html
    document = prepare(
        Signer(128), Params(), url="http://harbourgazette.example/2026/04/02/night-ferries/", html=html
    )
    assert document.language == "en"
    assert len(document.text) > 1000
