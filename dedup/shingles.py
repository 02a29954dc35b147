"""Text to shingles: normalised tokens, then overlapping n-grams of them.

Scripts written with spaces give word tokens; scripts written without them (Chinese, Japanese,
Thai, ...) give one token per character, shingled into character n-grams instead of word n-grams.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import numpy.typing as npt
from xxhash import xxh32_intdigest

Hashes = npt.NDArray[np.uint32]

# Characters of scripts that do not separate words with spaces.
_UNSPACED = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\uac00-\ud7af"  # Hangul syllables (spaced, but short words: characters shingle better)
)
# Combines a shingle's token hashes: an odd constant, so no token's bits are lost.
_MULTIPLIER = np.uint32(0x01000193)
_TOKEN = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+")
_UNSPACED_CHAR = re.compile(rf"[{_UNSPACED}]")
_WORD = re.compile(r"\w+")
_MEMO_LIMIT = 2_000_000
_memo: dict[str, int] = {}


def tokens(text: str) -> list[str]:
    """Case-folded, NFKC-normalised words, and single characters of unspaced scripts."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    # Most texts have no character of an unspaced script: a plain word pattern is faster.
    pattern = _TOKEN if _UNSPACED_CHAR.search(text) else _WORD
    return pattern.findall(text)


def is_unspaced(toks: list[str]) -> bool:
    """True when most tokens are characters of a script written without spaces."""
    return len(_UNSPACED_CHAR.findall("".join([t for t in toks if len(t) == 1]))) * 2 > len(toks)


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


def fmix32(values: Hashes) -> Hashes:
    """MurmurHash3's 32-bit finaliser, element-wise: a fixed bijection that spreads the bits."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    mixed: Hashes = values ^ (values >> np.uint32(16))
    return mixed
