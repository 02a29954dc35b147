"""A raw page (HTML or text) to the document that gets clustered: clean text, language, signature."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import xxhash

from dedup.anchors import anchors
from dedup.boilerplate import drop_lines, line_keys
from dedup.evidence import Evidence, evidence
from dedup.extract import extract
from dedup.language import detect_language
from dedup.params import Params
from dedup.residue import strip_residue
from dedup.shingles import Hashes, shingle_sequence, tokens
from dedup.signature import Signature, Signer


class NoStoryText(ValueError):
    """The page has no story to cluster (empty, only site chrome, or not an article at all)."""


#: A page is binary data, not text, when more than BINARY_SHARE of its first BINARY_SAMPLE characters
#: are control characters or U+FFFD (what undecodable bytes become): an image or an archive served as
#: text/html. Text in a wrong charset, decoded with a few replacement characters, is still text.
BINARY_SHARE = 0.05
BINARY_SAMPLE = 8192
# The control characters (Unicode category Cc: U+0000-001F and U+007F-009F) but the five of text
# (tab, line feed, vertical tab, form feed, carriage return), and U+FFFD. One regex, not a loop per character.
_NOT_TEXT = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
# What no database stores as text: NUL (PostgreSQL) and lone surrogates (not encodable as UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class Document:
    """One cleaned, signed article, ready to be matched and stored."""

    title: str | None
    text: str
    language: str | None
    published_at: datetime | None
    canonical_url: str | None
    claimed_source_url: str | None
    content_hash: str
    # The shingle set (xxh32 hashes, sorted): exact overlaps are computed on it.
    hashes: Hashes
    # The same hashes in the order each first occurs in the text: where a shared passage lies.
    sequence: Hashes
    # A sample of the hashes that finds partial copies (dedup.anchors).
    anchors: Hashes
    # None when the text has too few shingles for a comparison to mean anything (see dedup.overlap).
    signature: Signature | None
    # Names, numbers and glossed words in text order, for finding translations (dedup.evidence).
    evidence: Evidence
    # The keys of the cleaned text's short lines (dedup.boilerplate), the host's boilerplate included:
    # from them the host's lines are counted.
    line_keys: tuple[int, ...] = ()

    @property
    def shingle_count(self) -> int:
        return int(self.hashes.shape[0])


def prepare(
    signer: Signer,
    params: Params,
    *,
    url: str,
    html: str | None = None,
    text: str | None = None,
    title: str | None = None,
    published_at: datetime | None = None,
    language: str | None = None,
    language_hint: str | None = None,
    boilerplate: Callable[[Sequence[int]], Set[int]] | None = None,
) -> Document:
    """Clean, identify and sign one page. Raises NoStoryText when nothing of a story is left.

    ``boilerplate`` says which of the keys of the text's short lines are the host's boilerplate (lines
    its other pages repeat: ``dedup.boilerplate``); those lines are left out. Without it, none are."""
    reason = binary_reason(html or text or "")
    if reason is not None:
        raise NoStoryText(reason)
    html, text, title = (storable(v) if v else v for v in (html, text, title))
    canonical_url = claimed = None
    if html:
        # The page's own word on what it is (og:type) does not decide: many news sites call their
        # articles "website". A page reaches here as an article (a feed or sitemap entry, an ingest line,
        # or a page the site spider kept); only the lack of story text rejects it.
        extracted = extract(html, url)
        body = extracted.text or (text or "")
        title = title or extracted.title
        published_at = published_at or extracted.published_at
        canonical_url = extracted.canonical_url
        claimed = extracted.claimed_source_url
    else:
        body = text or ""
    story = strip_residue(body)
    keys = line_keys(story, params.boilerplate_max_chars) if params.boilerplate_min_pages else []
    if boilerplate is not None and keys:
        story = drop_lines(story, boilerplate(keys), params.boilerplate_max_chars)
    if len(story) < params.min_text_chars:
        raise NoStoryText(
            f"{len(story)} characters of text after cleaning (at least {params.min_text_chars})"
        )
    language = language or detect_language(story, hint=language_hint)
    document = describe(
        signer,
        params,
        story,
        language=language,
        title=title,
        published_at=published_at,
        canonical_url=canonical_url,
        claimed_source_url=claimed,
    )
    return replace(document, line_keys=tuple(keys))


def describe(
    signer: Signer,
    params: Params,
    story: str,
    *,
    language: str | None,
    title: str | None = None,
    published_at: datetime | None = None,
    canonical_url: str | None = None,
    claimed_source_url: str | None = None,
) -> Document:
    """The document of a cleaned story in a known language: its shingles, anchors, signature and
    evidence. ``prepare`` ends here, and so does linking a stored text anew (it is clean already)."""
    sequence = shingle_sequence(story, params.shingle_words, params.shingle_chars)
    hashes = np.sort(sequence)
    return Document(
        title=title,
        text=story,
        language=language,
        published_at=published_at,
        canonical_url=canonical_url,
        claimed_source_url=claimed_source_url,
        content_hash=content_hash(story),
        hashes=hashes,
        sequence=sequence,
        anchors=anchors(hashes, params.anchor_modulus),
        signature=signer.sign(hashes) if hashes.shape[0] >= params.min_shingles else None,
        evidence=evidence(story, language, params.evidence_lower_case_weight)
        if params.translations
        else Evidence.empty(),
    )


def binary_reason(text: str) -> str | None:
    """Why the text is binary data rather than text (see BINARY_SHARE), or None for text."""
    sample = text[:BINARY_SAMPLE]
    bad = len(_NOT_TEXT.findall(sample))
    if not sample or bad <= BINARY_SHARE * len(sample):
        return None
    return f"binary data, not text: {bad} of the first {len(sample)} characters are control or undecodable"


def storable(text: str) -> str:
    """The text without NUL characters and with U+FFFD for lone surrogates: a database stores neither."""
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def content_hash(text: str) -> str:
    """Hash of the normalised words: equal for texts that differ only in case, spacing or punctuation."""
    return xxhash.xxh3_128_hexdigest(" ".join(tokens(text)).encode())
