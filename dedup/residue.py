"""What autoblogs leave around a copied story, and how to take it off.

Reposting plugins wrap the copied text in ad shortcodes (``[ad_1]`` ... ``[ad_2]``), end it with an
attribution trailer (``Source link``, ``Source: Site``, ``Read more at Site``), and interleave
share-button labels, cookie notices and ``ALSO READ: <other headline>`` lines. None of that is
the story, and all of it is shared between unrelated posts of one site, so it must not reach
the shingles.

The phrases of each kind, per language, are data: ``residue_phrases.toml`` beside this module (its
opening comment says how to add a language). A line's language is not known reliably, so every
language's phrases apply to every line; each kind stays anchored at the start of a line (or is the
whole line), so story sentences are not hit. Matching ignores case, accents and other combining marks.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import sys
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from lxml.html import HtmlElement

from dedup import cache_folder
from dedup.shingles import MARK_POINTS, MARKS
from dedup.urls import site

PHRASES_FILE = Path(__file__).with_name("residue_phrases.toml")
# The keys of a language's table; every kind but "share" holds regular expressions.
KINDS = ("attribution", "read_at", "interstitial", "related_heading", "share", "cookie")
REGEX_KINDS = tuple(kind for kind in KINDS if kind != "share")
# The top-level list of share targets that every language shares (Facebook, WhatsApp...).
NETWORKS_KEY = "networks"
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")

# WordPress-style shortcodes: [ad_1], [/ad], [adinserter block="3"], [the_ad id="12"].
_SHORTCODE = re.compile(r"\[/?[a-z][a-z0-9_-]*(?:\s+[^\[\]\n]{0,80})?\]")
_AD_SHORTCODE = re.compile(r"\[/?ad[s]?(?:[_-]?\d+)?\]", re.IGNORECASE)

# A line that attributes the text to its origin; only ever short.
_ATTRIBUTION_MAX_CHARS = 120
# A line that points the reader at another post of the same site.
_INTERSTITIAL_MAX_CHARS = 240
_COOKIE_MAX_CHARS = 400
# No rule looks at a longer line (the related-posts heading and share-button rows are far shorter).
_CHROME_MAX_CHARS = max(_ATTRIBUTION_MAX_CHARS, _INTERSTITIAL_MAX_CHARS, _COOKIE_MAX_CHARS)
_SHARE_MAX_WORDS = 8
# Longer than any address a database column or a browser keeps: not a real source link.
_MAX_URL_CHARS = 2048
# A link with a scheme or a host of its own ("https://x", "//x"): only those can leave the page's host.
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:|//")

# Scripts written without spaces between words: a phrase in them has no word boundary to end at.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PHRASE_END = rf"(?:(?<=[{_UNSPACED}])|(?!\w))"
_PHRASE_START = rf"(?:(?=[{_UNSPACED}])|(?<!\w))"
# After an attribution label: a colon (also full-width), a dash, or the end of the line. A hyphen counts
# only before white space: "Source - Reuters" is a trailer, "Source-code leaks" is not.
_LABEL_END = r"\s*(?:[:\uff1a\u2013\u2014]|-(?=\s|$)|$)"
# Before an interstitial phrase or a related-posts heading: bullets and opening brackets ("▶ 관련기사",
# "【関連記事】", "[Related: ...]"); after the phrase of an interstitial line, what separates it from the
# headline it points at.
_LEAD = r"[\s\[\u3010(\uff08\u25b6\u25ba\u2022\u00bb*]*"
_INTERSTITIAL_END = r"\s*(?:[:\uff1a\u2013\u2014|\]\u3011)\uff09]|-(?=\s))"
_HEADING_END = r"\s*[\]\u3011)\uff09]?\s*[:\uff1a]?"

# Made equal before matching, on both sides: apostrophes, Arabic and Persian yeh and kaf, a zero-width
# non-joiner (Persian) and a space; invisible characters and the Arabic tatweel go.
_UNIFY = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u064a": "\u06cc",
        "\u0649": "\u06cc",
        "\u0643": "\u06a9",
        "\u200c": " ",
        "\u200b": None,
        "\u2060": None,
        "\ufeff": None,
        "\u00ad": None,
        "\u0640": None,
    }
)
# A space in a phrase followed by a quantifier would quantify the white space, not what the writer meant.
_QUANTIFIED_SPACE = re.compile(r" [?*+{]")


class PhraseFileError(ValueError):
    """The phrase file cannot be used: the message names the file, the table and the entry."""


@dataclass(frozen=True)
class Phrases:
    """The phrase file: per language code, per kind, its entries; and the shared share targets."""

    languages: Mapping[str, Mapping[str, tuple[str, ...]]]
    networks: tuple[str, ...]


@dataclass(frozen=True)
class _Rules:
    attribution: re.Pattern[str]
    interstitial: re.Pattern[str]
    related_heading: re.Pattern[str]
    cookie: re.Pattern[str]
    share_words: frozenset[str]


def load_phrases(path: Path = PHRASES_FILE) -> Phrases:
    """The phrases of the file, checked: known kinds only, lists of non-empty strings, every regular
    expression compiling and matching something. Raises PhraseFileError saying what is wrong where.

    Compiling each expression on its own is most of the cost of loading (about 70 ms), so a file
    whose exact bytes passed once, under this Python, is remembered in the cache folder and its
    expressions are not compiled one by one again."""
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise PhraseFileError(f"{path}: {e}") from e
    checked = _checked_marker(raw)
    check_expressions = not checked.exists()
    languages: dict[str, dict[str, tuple[str, ...]]] = {}
    networks: tuple[str, ...] = ()
    for key, value in data.items():
        if key == NETWORKS_KEY:
            networks = _entries(path, key, value)
            continue
        if not isinstance(value, dict) or not _LANGUAGE_CODE.fullmatch(key):
            raise PhraseFileError(f"{path}: {key!r} is neither a language table ([xx]) nor {NETWORKS_KEY!r}")
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise PhraseFileError(f"{path}: [{key}] has unknown keys {unknown}; the kinds are {list(KINDS)}")
        table = {kind: _entries(path, f"[{key}] {kind}", entries) for kind, entries in value.items()}
        for kind in REGEX_KINDS if check_expressions else ():
            for entry in table.get(kind, ()):
                _check_expression(path, f"[{key}] {kind}", entry)
        languages[key] = table
    if check_expressions:
        with contextlib.suppress(OSError):  # not remembered: checked again next time
            cache_folder.write_file(checked, b"")
    return Phrases(languages=languages, networks=networks)


def _checked_marker(raw: bytes) -> Path:
    """The cache folder's file that says a phrase file of these bytes passed the checks under this
    Python (its ``re`` decides what compiles)."""
    digest = hashlib.sha256(raw + sys.version.encode()).hexdigest()
    return cache_folder.folder() / "residue-phrases-checked" / digest


def _entries(path: Path, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(e, str) and e.strip() for e in value):
        raise PhraseFileError(f"{path}: {where} must be a list of non-empty strings")
    return tuple(value)


def _check_expression(path: Path, where: str, entry: str) -> None:
    if _QUANTIFIED_SPACE.search(entry):
        raise PhraseFileError(
            f"{path}: {where} entry {entry!r}: a space means white space; for optional white space write \\s*"
        )
    try:
        compiled = re.compile(_expression(entry), re.IGNORECASE)
    except re.error as e:
        raise PhraseFileError(f"{path}: {where} entry {entry!r} is not a regular expression: {e}") from e
    if compiled.fullmatch("") is not None:
        raise PhraseFileError(
            f"{path}: {where} entry {entry!r} matches an empty line: it would match every line"
        )


def _expression(entry: str) -> str:
    """An entry as the regular expression that is matched against folded lines."""
    return re.sub(" +", r"\\s+", _fold(entry).strip())


def _alternatives(entries: list[str]) -> str:
    unique = dict.fromkeys(_expression(e) for e in entries)
    return "|".join(f"(?:{e})" for e in sorted(unique, key=len, reverse=True))


@functools.cache
def _rules() -> _Rules:
    phrases = load_phrases(PHRASES_FILE)
    of: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for table in phrases.languages.values():
        for kind, entries in table.items():
            of[kind].extend(entries)
    share_words = {w for entry in [*of["share"], *phrases.networks] for w in _words(_fold(entry))}
    return _Rules(
        attribution=re.compile(
            rf"(?:{_alternatives(of['attribution'])}){_LABEL_END}|(?:{_alternatives(of['read_at'])}){_PHRASE_END}",
            re.IGNORECASE,
        ),
        interstitial=re.compile(
            rf"{_LEAD}(?:{_alternatives(of['interstitial'])}){_INTERSTITIAL_END}", re.IGNORECASE
        ),
        related_heading=re.compile(
            rf"{_LEAD}(?:{_alternatives(of['related_heading'])}){_HEADING_END}", re.IGNORECASE
        ),
        cookie=re.compile(rf"{_PHRASE_START}(?:{_alternatives(of['cookie'])})", re.IGNORECASE),
        share_words=frozenset(share_words),
    )


def _fold(text: str) -> str:
    """The text without combining marks (accents, cedillas, Arabic vowel signs...), with the look-alike
    characters of _UNIFY made equal: what the rules match, on both sides."""
    if text.isascii():
        return text
    bare = unicodedata.normalize("NFD", text).translate(_marks().nonspacing)
    return unicodedata.normalize("NFC", bare.translate(_UNIFY))


def _words(folded: str) -> list[str]:
    """The words of a folded line, lower case: runs of letters, digits and marks (a hyphen inside a word
    stays: "e-mail")."""
    return [
        w for w in (t.strip("-") for t in _marks().word.findall(folded.casefold().replace("_", " "))) if w
    ]


@dataclass(frozen=True)
class _Marks:
    nonspacing: dict[int, None]
    word: re.Pattern[str]


@functools.cache
def _marks() -> _Marks:
    """The combining marks of Unicode (those dedup.shingles finds), looked up once: the nonspacing ones
    to delete (str.translate), all of them as part of a word (a regular expression)."""
    nonspacing = {code: None for code in MARK_POINTS if unicodedata.category(chr(code)) == "Mn"}
    return _Marks(nonspacing=nonspacing, word=re.compile(rf"[\w{MARKS}\-]+"))


def strip_residue(text: str) -> str:
    """The story without shortcodes, attribution trailers, share labels and interstitial links.

    A story ends at its attribution trailer or at a "Related posts" heading in its second half:
    what follows those is other stories' teasers, not this one.
    """
    lines = [_strip_shortcodes(line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not _is_chrome_line(line)]
    for i in range(len(lines) - 1, len(lines) // 2 - 1, -1):
        if i > 0 and (_is_attribution(lines[i]) or _is_related_heading(lines[i])):
            del lines[i:]
    while lines and _is_attribution(lines[-1]):
        lines.pop()
    return "\n".join(lines)


def _strip_shortcodes(line: str) -> str:
    line = _AD_SHORTCODE.sub(" ", line)
    if _SHORTCODE.fullmatch(line.strip()):
        return ""
    return line


def _is_attribution(line: str) -> bool:
    return len(line) <= _ATTRIBUTION_MAX_CHARS and _rules().attribution.match(_fold(line)) is not None


def _is_related_heading(line: str) -> bool:
    return len(line) <= _CHROME_MAX_CHARS and _rules().related_heading.fullmatch(_fold(line)) is not None


def _is_chrome_line(line: str) -> bool:
    if len(line) > _CHROME_MAX_CHARS:
        return False
    rules = _rules()
    folded = _fold(line)
    if len(line) <= _INTERSTITIAL_MAX_CHARS and rules.interstitial.match(folded):
        return True
    if len(line) <= _COOKIE_MAX_CHARS and rules.cookie.search(folded):
        return True
    return _is_share_row(folded, rules.share_words)


def _is_share_row(folded: str, share_words: frozenset[str]) -> bool:
    """At most _SHARE_MAX_WORDS words, each a share word or a number (the words of _words, one at a time:
    most lines fail at their first word)."""
    count = 0
    for match in _marks().word.finditer(folded.casefold().replace("_", " ")):
        word = match.group().strip("-")
        if not word:
            continue
        count += 1
        if count > _SHARE_MAX_WORDS or not (word in share_words or word.isdigit()):
            return False
    return count > 0


def claimed_origin(tree: HtmlElement, page_url: str | None) -> str | None:
    """The URL that an attribution link (``Source link``, ``Source: X``, ``Read more at X``) points at.

    Only links to another host count: a site's links to itself are navigation. The last such link
    wins, since trailers come after the story.
    """
    page_host = _host(page_url) if page_url else None
    found: str | None = None
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        if not _ABSOLUTE.match(href):
            continue  # a relative link stays on the page's own host: navigation
        # The words first: few links are worded as attributions, and resolving every URL cost more.
        parent = anchor.getparent()
        context = " ".join((parent.text_content() if parent is not None else anchor.text_content()).split())
        if not (_is_attribution(context) or _is_attribution(" ".join(anchor.text_content().split()))):
            continue
        target = urljoin(page_url or "", href)
        host = _host(target)
        if len(target) <= _MAX_URL_CHARS and host and host != page_host:
            found = target
    return found


def _host(url: str) -> str | None:
    """The site of a URL, port included (``dedup.urls.site``): a link between two sites served on
    one address is a link to another site."""
    return site(url) or None
