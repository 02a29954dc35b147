"""Properties over arbitrary input: the cleaner and the ingest parser never let an exception escape,
and every input ends stored or rejected with a reason.

Hypothesis generates the input: arbitrary text (control characters and lone surrogates included),
HTML-like soup, arbitrary bytes as a crawled body, and ingest files of arbitrary bytes and of JSON
documents with arbitrary fields.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.bodies import BodyCheck
from dedup.document import Document, NoStoryText, prepare
from dedup.params import Params
from dedup.signature import Signer
from newsdedup.service.ingest import BadLine, read_documents
from newsdedup.service.processing import process_page
from newsdedup.service.runtime import Runtime
from storage import queries

PARAMS = Params()
SIGNER = Signer(PARAMS.num_perm)
URL = "http://hostile.example/story/"
STORED = {"new", "joined", "updated", "unchanged"}
# A story long enough to be stored, for the examples of what hypothesis found.
LONG = " ".join(f"Harbour bridge reopened after repairs number {n} of the deck." for n in range(5))
# Found by hypothesis: a NUL in a text or a title (PostgreSQL refuses it), a lone surrogate anywhere
# (no UTF-8 for it), a NUL in a URL or language, and "://" taken for an absolute URL.
FOUND = "\n".join(
    json.dumps(d)
    for d in [
        {"url": "http://hostile.example/nul", "text": LONG + "\x00", "title": "a\x00b"},
        {"url": "http://hostile.example/lone", "html": f"<html><body><p>{LONG} \ud800</p></body></html>"},
        {"url": "http://hostile.example/title", "text": LONG + " again", "title": "\udfff"},
        {"url": "http://hostile.example/\x00", "text": LONG},
        {"url": "http://hostile.example/lang", "text": LONG, "language": "e\x00"},
        {"url": "://", "text": LONG},
    ]
).encode()

# Every code point, lone surrogates included (JSON's \ud800 escapes make them).
any_char = st.characters(exclude_categories=())
any_text = st.text(any_char, max_size=400)
# Words of any script's letters, digits and punctuation; and the odd characters a page may hold.
word = st.text(st.characters(categories=("L", "M", "N", "P", "S")), min_size=1, max_size=12)
oddity = st.one_of(
    st.sampled_from(["\x00", "\ud800", "\udfff", "\x1b", "\ufffd", "\u2028", "\t", "\n"]), any_char
)


@st.composite
def stories(draw: st.DrawFn) -> str:
    """Story-like text, often long enough for the cleaner, with a few odd characters in it."""
    parts = draw(st.lists(word, min_size=30, max_size=150))
    for _ in range(draw(st.integers(0, 4))):
        parts.insert(draw(st.integers(0, len(parts))), draw(oddity))
    return " ".join(parts)


TAGS = [
    "<html>",
    "<head>",
    "<title>",
    "</title>",
    "<body>",
    "<article>",
    "</article>",
    "<h1>",
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    "<script>",
    "<!--",
    "-->",
    "<br>",
    "&amp;",
    "&#0;",
    "&#xD800;",
    '<meta property="og:type" content="article">',
    '<meta property="og:type" content="website">',
    '<meta charset="iso-8859-1">',
    '<link rel="canonical" href="http://x.example/">',
    '<a href="http://origin.example/a">Source link</a>',
    "[ad_1]",
    '<script type="application/ld+json">{"@type": "NewsArticle"}</script>',
]
soup = st.lists(st.one_of(st.sampled_from(TAGS), any_text, word), max_size=30).map("".join)


@st.composite
def pages(draw: st.DrawFn) -> str:
    """An HTML page: a head and an article of story paragraphs, with soup around and between them."""
    head = "".join(draw(st.lists(st.sampled_from(TAGS), max_size=3)))
    paragraphs = draw(st.lists(st.tuples(stories(), soup), min_size=1, max_size=4))
    article = "".join(f"<p>{story}</p>{noise}" for story, noise in paragraphs)
    return (
        f"<html><head>{head}<title>{draw(any_text)}</title></head>"
        f"<body>{draw(soup)}<article><h1>{draw(word)}</h1>{article}</article>{draw(soup)}</body></html>"
    )


texts = st.one_of(any_text, stories(), soup, pages())


def _clean(html: str | None = None, text: str | None = None) -> Document | str:
    """The cleaner's verdict: the document, or the reason it was rejected (any other exception escapes)."""
    try:
        return prepare(SIGNER, PARAMS, url=URL, html=html, text=text)
    except NoStoryText as e:
        return str(e)


def _storable(value: str | None) -> bool:
    if value is None:
        return True
    value.encode("utf-8")  # no lone surrogate
    return "\x00" not in value


def _assert_cleaned(outcome: Document | str) -> None:
    event("rejected" if isinstance(outcome, str) else "cleaned")
    if isinstance(outcome, str):
        assert outcome.strip(), "a rejection without a reason"
        return
    assert len(outcome.text) >= PARAMS.min_text_chars
    assert _storable(outcome.text)
    assert _storable(outcome.title)
    assert _storable(outcome.canonical_url)
    assert _storable(outcome.claimed_source_url)


@settings(max_examples=200, deadline=None)
@given(value=texts, as_html=st.booleans())
@example(value=LONG + "\ud800", as_html=False)
@example(
    value=f"<html><head><title>\x00\udfff</title></head><body><p>{LONG}\x00</p></body></html>", as_html=True
)
def test_cleaner_stores_or_rejects_any_text(value: str, as_html: bool) -> None:
    """Any text, as a page's HTML or as its plain text, gives a document whose text, title and links a
    database can store (no NUL, no lone surrogate, long enough), or a NoStoryText with a reason."""
    _assert_cleaned(_clean(html=value) if as_html else _clean(text=value))


@settings(max_examples=200, deadline=None)
@given(
    body=st.one_of(st.binary(max_size=4096), texts.map(lambda s: s.encode("utf-8", "surrogatepass"))),
    charset=st.sampled_from(
        ["", "; charset=utf-8", "; charset=iso-8859-1", "; charset=shift_jis", "; charset=x"]
    ),
)
def test_any_crawled_body_is_dropped_rejected_or_stored(body: bytes, charset: str) -> None:
    """Any bytes served as text/html (with any declared charset) go through the crawler's body check
    and the cleaner: dropped as binary with a reason, rejected with a reason, or a storable document."""
    response = HtmlResponse(URL, body=body, headers={"Content-Type": f"text/html{charset}"})
    try:
        checked = BodyCheck(get_crawler()).process_response(Request(URL), response)
    except IgnoreRequest as e:
        dropped = str(e)
    else:
        assert isinstance(checked, HtmlResponse)
        _assert_cleaned(_clean(html=checked.text))
        return
    event("dropped")
    assert dropped.startswith("binary data, not text: ")


def _offset(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


dates = st.datetimes(
    min_value=datetime(1, 1, 1),
    max_value=datetime(9999, 12, 31),
    timezones=st.integers(-1439, 1439).map(_offset),
).map(datetime.isoformat)
# A document as a producer means it: every field of the right kind, the values still arbitrary.
meant = st.fixed_dictionaries(
    {"url": st.builds("http://hostile.example/{}".format, word), "html": st.one_of(pages(), stories())},
    optional={
        "text": stories(),
        "title": any_text,
        "published_at": dates,
        "language": st.sampled_from(["en", "de", "fr", "xx"]),
        "source": st.sampled_from(["dailycourier", "hostile"]),
        "headers": st.dictionaries(word, word, max_size=2),
    },
)
# Anything in any field.
anything = st.one_of(any_text, st.integers(), st.none(), st.lists(st.integers(), max_size=2))
wild = st.fixed_dictionaries(
    {"url": st.one_of(any_text, st.builds("http://hostile.example/{}".format, any_text))},
    optional={
        "html": st.one_of(pages(), soup, anything),
        "text": st.one_of(stories(), anything),
        "title": anything,
        "published_at": st.one_of(dates, anything),
        "language": anything,
        "source": anything,
        "headers": st.one_of(st.dictionaries(any_text, anything, max_size=2), anything),
        "unknown": anything,
    },
)
document = st.one_of(meant, wild)
json_line = st.tuples(document, st.booleans()).map(lambda d: json.dumps(d[0], ensure_ascii=d[1]))
ingest_line = st.one_of(
    json_line.map(lambda line: line.encode("utf-8", "surrogatepass")),
    json_line.map(lambda line: line.encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
    st.sampled_from([b"", b"   ", b"{}", b"[]", b"null", b'{"url": "http://x.example/"}', b"\xff\xfe"]),
)
ingest_file = st.lists(ingest_line, max_size=6).map(b"\n".join)


def _expected_lines(data: bytes) -> set[int]:
    """The line numbers the parser must answer for: every line but the blank ones."""
    expected = set()
    for number, raw in enumerate(io.BytesIO(data), start=1):
        try:
            blank = not raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            blank = False
        if not blank:
            expected.add(number)
    return expected


@settings(max_examples=200, deadline=None)
@given(data=ingest_file)
def test_ingest_parser_answers_every_line(data: bytes) -> None:
    """Any ingest file gives exactly one answer per non-blank line, in order: a document, or a bad
    line with its number and a reason."""
    items = list(read_documents(io.BytesIO(data)))
    assert [item.line for item in items] == sorted(_expected_lines(data))
    for item in items:
        if isinstance(item, BadLine):
            assert item.reason.strip()


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=ingest_file)
@example(data=FOUND)
def test_every_ingested_document_is_stored_or_rejected_with_a_reason(runtime: Runtime, data: bytes) -> None:
    """Every document of any ingest file, processed as `newsdedup ingest` does (on SQLite and on
    PostgreSQL), ends stored (and then found in the database by its URL) or rejected with a reason."""
    for item in read_documents(io.BytesIO(data)):
        if isinstance(item, BadLine):
            continue
        outcome = process_page(item.page, runtime)
        event(outcome.status)
        if outcome.status == "rejected":
            assert outcome.reason is not None
            assert outcome.reason.strip()
            continue
        assert outcome.status in STORED
        with runtime.sessions() as session:
            assert queries.find_article(session, item.page.url) is not None


def test_what_hypothesis_found_is_stored_clean_or_refused_with_a_reason(runtime: Runtime) -> None:
    """The documents hypothesis found (on SQLite and PostgreSQL): a NUL in a text or title is dropped
    and a lone surrogate becomes U+FFFD, and the three pages are stored; a URL or language with a
    control character, and "://", are bad lines that say so."""
    items = list(read_documents(io.BytesIO(FOUND)))
    bad = {item.line: item.reason for item in items if isinstance(item, BadLine)}
    assert bad == {
        4: "url: 'http://hostile.example/\\x00' contains control characters or lone surrogates",
        5: "language: 'e\\x00' contains control characters or lone surrogates",
        6: "url: '://' is not an absolute URL",
    }
    pages = [item.page for item in items if not isinstance(item, BadLine)]
    assert [process_page(page, runtime).status for page in pages] == ["new", "joined", "joined"]
    with runtime.sessions() as session:
        stored = [queries.find_article(session, page.url) for page in pages]
    nul, lone, title = stored
    assert nul is not None
    assert (nul.title, nul.text) == ("ab", LONG)
    assert lone is not None
    assert lone.text.endswith(LONG[-20:] + " \ufffd")
    assert title is not None
    assert (title.title, title.text) == ("\ufffd", LONG + " again")
