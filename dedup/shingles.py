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
_TOKEN = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+")
_UNSPACED_CHAR = re.compile(rf"[{_UNSPACED}]")


def tokens(text: str) -> list[str]:
    """Case-folded, NFKC-normalised words, and single characters of unspaced scripts."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def is_unspaced(toks: list[str]) -> bool:
    """True when most tokens are characters of a script written without spaces."""
    unspaced = sum(1 for t in toks if len(t) == 1 and _UNSPACED_CHAR.match(t))
    return unspaced * 2 > len(toks)


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
    """The shingles' xxh32 hashes, sorted and distinct: the set that signatures, anchors and exact
    overlaps are computed from."""
    return np.unique(
        np.fromiter((xxh32_intdigest(s.encode()) for s in shingles(text, words, chars)), np.uint32)
    )
