"""Text to shingles: normalised tokens, then overlapping n-grams of them.

Scripts written with spaces give word tokens; scripts written without them (Chinese, Japanese,
Thai, ...) give one token per character, shingled into character n-grams instead of word n-grams.

A word keeps its combining marks (Unicode categories Mn, Mc, Me: Devanagari vowel signs and
viramas, Thai vowels, accents NFKC cannot compose), which Python's ``\\w`` does not match: without
them "प्रधानमंत्री" fell apart into "प", "रध", "नम", "त", "र". A character of an unspaced script
keeps the marks that follow it ("ที่" is one token). Before that, ``normalize`` removes what does
not change a word: invisible format characters (zero-width (non-)joiners, as in Persian "می‌گوید",
bidirectional marks, soft hyphens), the Arabic tatweel (a stretch of the line), and the optional
vowel points of Arabic (harakat) and Hebrew (niqqud), which most news texts leave out: "غداً" and
"غدا", "שָׁלוֹם" and "שלום" are one word.

Other modules that need the same words (``dedup.evidence``) use ``normalize``, ``WORD`` or
``words``; ``MARKS`` is the character class of combining marks, for patterns of their own.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import numpy.typing as npt
from xxhash import xxh32_intdigest

Hashes = npt.NDArray[np.uint32]

# Characters of scripts that do not separate words with spaces.
_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK ideographs
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    # Hangul syllables. Korean is spaced, but its particles and endings are written onto the word
    # ("서울시는", "서울시가", "서울시를"), and spacing varies between writers: characters shingle better.
    (0xAC00, 0xD7AF),
)
_UNSPACED = "".join(f"{chr(a)}-{chr(b)}" for a, b in _UNSPACED_RANGES)


def _char_class(code_points: list[int]) -> str:
    """The body of a regex character class (between the brackets) matching these code points."""
    spans: list[list[int]] = []
    for c in sorted(code_points):
        if spans and spans[-1][1] == c - 1:
            spans[-1][1] = c
        else:
            spans.append([c, c])
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in spans
    )


def _marks() -> list[int]:
    """Every combining mark (Mn, Mc, Me) of the Unicode version Python knows. Planes 0, 1 and 14
    hold all of them (the others hold ideographs, private use or nothing), and reading only those
    takes about 10 ms at import instead of 100."""
    planes = (range(0x20000), range(0xE0000, 0xE1000))
    return [c for plane in planes for c in plane if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me")]


def _removed() -> list[int]:
    """What ``normalize`` removes: invisible format characters, the tatweel, and the optional vowel
    points of Arabic and Hebrew (the marks among these ranges; letters stay)."""
    invisible = [0x00AD, 0x034F, 0x061C, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF]
    invisible += [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
    tatweel = [0x0640]
    pointed = (
        range(0x0591, 0x05C8),  # Hebrew niqqud and cantillation
        range(0x0610, 0x061B),  # Arabic honorifics
        range(0x064B, 0x0660),  # Arabic harakat, shadda, sukun
        range(0x0670, 0x0671),  # superscript alef
        range(0x06D6, 0x06EE),  # Quranic annotation
        range(0x0898, 0x08A0),
        range(0x08CA, 0x0900),  # Arabic extended marks
    )
    points = [c for r in pointed for c in r if unicodedata.category(chr(c)) == "Mn"]
    return invisible + tatweel + points


# Combines a shingle's token hashes: an odd constant, so no token's bits are lost.
_MULTIPLIER = np.uint32(0x01000193)
_MARK_POINTS = _marks()
#: The body of a character class of every combining mark: ``rf"[{MARKS}]"``.
MARKS = _char_class(_MARK_POINTS)
# A word of a spaced script: letters, digits and underscores with the marks inside and after them.
_WORD_BODY = rf"[{MARKS}]*[^\W{_UNSPACED}]+(?:[{MARKS}]+[^\W{_UNSPACED}]+)*[{MARKS}]*"
#: One word of a spaced script in a ``normalize``-d text, its combining marks included. Characters
#: of unspaced scripts are part of no word.
WORD = re.compile(_WORD_BODY)
# A character of an unspaced script with its marks, or a word.
_TOKEN = re.compile(rf"[{_UNSPACED}][{MARKS}]*|{_WORD_BODY}")
# The characters of unspaced scripts that are not marks: each character token holds one.
_UNSPACED_BASE = re.compile(
    f"[{_char_class(sorted({c for a, b in _UNSPACED_RANGES for c in range(a, b + 1)} - set(_MARK_POINTS)))}]"
)
_REMOVED_POINTS = _removed()
_REMOVED = re.compile(f"[{_char_class(_REMOVED_POINTS)}]")
# A text with none of these (most texts) needs no removal and is split by the plain word pattern,
# faster. Every code point beyond the first plane counts as one: the class is one table lookup in
# the first plane, but one comparison for each of its ranges beyond it.
_SPECIAL = re.compile(
    f"[{_UNSPACED}{_char_class([c for c in {*_MARK_POINTS, *_REMOVED_POINTS} if c < 0x10000])}"
    "\U00010000-\U0010ffff]"
)
_PLAIN_WORD = re.compile(r"\w+")
_MEMO_LIMIT = 2_000_000
_memo: dict[str, int] = {}


def normalize(text: str) -> str:
    """The text in NFKC, without the characters that do not change a word (see the module's
    docstring); case is kept. What ``WORD`` is meant to be matched against."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    return _REMOVED.sub("", text) if _SPECIAL.search(text) else text


def words(text: str, fold: bool = True) -> list[str]:
    """The words of a text, the same as ``tokens`` gives (case-folded, unless ``fold`` is false),
    but without the characters of unspaced scripts: for a text in spaced scripts, ``tokens``."""
    return _split(text, fold, WORD)


def tokens(text: str) -> list[str]:
    """Case-folded, normalised (``normalize``) words, and single characters (with their marks) of
    unspaced scripts."""
    return _split(text, True, _TOKEN)


def _split(text: str, fold: bool, pattern: re.Pattern[str]) -> list[str]:
    if text.isascii():
        return _PLAIN_WORD.findall(text.casefold() if fold else text)
    text = unicodedata.normalize("NFKC", text)
    if fold:
        text = text.casefold()
    if not _SPECIAL.search(text):
        # No mark, nothing to remove, no character of an unspaced script: the plain pattern.
        return _PLAIN_WORD.findall(text)
    text = _REMOVED.sub("", text)
    if fold:
        # Case folding decomposes some letters ("ΐ" of "Μαΐου"); and it turns the Turkish "İ" into
        # "i" and a combining dot, which would make "İstanbul" and "istanbul" two words.
        text = unicodedata.normalize("NFC", text).replace("i\u0307", "i")
    return pattern.findall(text)


def is_unspaced(toks: list[str]) -> bool:
    """True when most tokens are characters of a script written without spaces."""
    # Each such token holds one character of the script that is not a mark, and words hold none.
    return len(_UNSPACED_BASE.findall("".join(toks))) * 2 > len(toks)


def token_hashes(toks: list[str]) -> Hashes:
    """xxh32 of each token. Hashes are remembered (most words of a text were seen before), up to
    ``_MEMO_LIMIT`` tokens."""
    missing = set(toks).difference(_memo)
    if len(_memo) + len(missing) > _MEMO_LIMIT:
        _memo.clear()
        missing = set(toks)
    _memo.update((t, xxh32_intdigest(t.encode())) for t in missing)
    return np.fromiter(map(_memo.__getitem__, toks), np.uint32, len(toks))


def shingles(text: str, words: int, chars: int) -> set[str]:
    """The distinct n-grams of the text: ``words``-grams of words, or ``chars``-grams of characters."""
    toks = tokens(text)
    unspaced = is_unspaced(toks)
    size = chars if unspaced else words
    joiner = "" if unspaced else " "
    if len(toks) < size:
        return {joiner.join(toks)} if toks else set()
    return {joiner.join(toks[i : i + size]) for i in range(len(toks) - size + 1)}


def shingle_hashes(text: str, words: int, chars: int) -> Hashes:
    """The text's shingle set as sorted, distinct 32-bit hashes: what signatures, anchors and exact
    overlaps are computed from.

    Each token is hashed once with xxh32; a shingle's hash combines its tokens' hashes in order
    (a polynomial modulo 2**32) and mixes the result (the MurmurHash3 finaliser), all in numpy,
    so a 600-word text costs one hash call per word instead of one per shingle.
    """
    toks = tokens(text)
    unspaced = is_unspaced(toks)
    size = chars if unspaced else words
    if not toks:
        return np.zeros(0, dtype=np.uint32)
    hashed = token_hashes(toks)
    if len(toks) < size:
        size = len(toks)
    combined = hashed[: len(toks) - size + 1].copy()
    for offset in range(1, size):
        combined *= _MULTIPLIER
        combined += hashed[offset : len(toks) - size + 1 + offset]
    return np.unique(fmix32(combined))


def shingle_sequence(text: str, words: int, chars: int) -> Hashes:
    """The same distinct hashes as ``shingle_hashes``, in the order each first occurs in the text:
    where in a text a shared passage lies (``dedup.overlap.spans``)."""
    toks = tokens(text)
    if not toks:
        return np.zeros(0, dtype=np.uint32)
    size = min(chars if is_unspaced(toks) else words, len(toks))
    hashed = token_hashes(toks)
    combined = hashed[: len(toks) - size + 1].copy()
    for offset in range(1, size):
        combined *= _MULTIPLIER
        combined += hashed[offset : len(toks) - size + 1 + offset]
    mixed = fmix32(combined)
    _, first = np.unique(mixed, return_index=True)
    ordered: Hashes = mixed[np.sort(first)]
    return ordered


def fmix32(values: Hashes) -> Hashes:
    """MurmurHash3's 32-bit finaliser, element-wise: a fixed bijection that spreads the bits."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    mixed: Hashes = values ^ (values >> np.uint32(16))
    return mixed
