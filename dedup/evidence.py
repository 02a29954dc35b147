"""Cross-language evidence: what a translation keeps of its original, in a space both share.

A translated repost shares almost no word shingles with its original, but it keeps the numbers,
the names (spelled in Latin, or transliterated to it), and, through a dictionary, the meaning of
Chinese and Japanese words (``dedup.glossary``). A text's evidence is the sequence of those terms
in the order they occur, each normalised (ASCII, lower case, first five letters, so that "Serbia"
and "Serbien" agree) and weighted by its rarity (``dedup.rarity``): a word common in any of the
languages wordfreq knows weighs nothing, a word no list knows (a name) weighs most; numbers weigh
by how many significant digits they have, years and small numbers little.

A text in a language no frequency list covers keeps only what cannot be a common word of it: its
capitalised words (names) and numbers in scripts with case, and its words at a low flat weight in
scripts without. Without that, every word of such a text would weigh like a name.

How two evidence sequences are compared is ``dedup.crosslang``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from anyascii import anyascii
from xxhash import xxh32_intdigest

from dedup import glossary, rarity
from dedup.shingles import MARKS, normalize

_MIN_WEIGHT = 0.5
#: A word of a language without a frequency list, in a script without case (no way to tell a name).
UNCOVERED_WEIGHT = 1.0
#: The default of ``lower_case_weight`` (the setting EVIDENCE_LOWER_CASE_WEIGHT).
LOWER_CASE_WEIGHT = 0.3
_PREFIX = 5
_CJK_RUN = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
# A number, or a word with its combining marks (Devanagari vowel signs and viramas, Thai vowels).
_TOKEN = re.compile(rf"\d+(?:[.,]\d+)*|(?:[^\W\d_]|[{MARKS}])+")
_LONGEST_HEADWORD = 10
# Weights are kept in a byte: units of 1/40.
_SCALE = 40.0
_NOT_KEY = re.compile(r"[^a-z0-9]")
# Words whose rarity and key are remembered (a few tens of MB at most), then forgotten all at once.
_MEMO_LIMIT = 200_000
_rarity_memo: dict[str, float] = {}

Tokens = npt.NDArray[np.uint32]
Weights = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Evidence:
    """The evidence sequence of one text: term hashes and their weights, in text order."""

    tokens: Tokens
    weights: Weights

    @classmethod
    def empty(cls) -> Evidence:
        return cls(np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.uint8))

    @property
    def total(self) -> float:
        return float(self.weights.sum()) / _SCALE

    def rare(self, min_weight: float) -> Tokens:
        """The distinct terms of at least this weight: what the evidence index keys on."""
        tokens: Tokens = np.unique(self.tokens[self.weights >= int(min_weight * _SCALE)])
        return tokens

    def distinct(self) -> tuple[Tokens, npt.NDArray[np.float64]]:
        """Each term once, in the order of its first occurrence, with the highest weight it has (two
        words can share a five-letter key)."""
        if self.tokens.shape[0] == 0:
            return self.tokens, np.zeros(0)
        keys, first, inverse = np.unique(self.tokens, return_index=True, return_inverse=True)
        highest = np.zeros(keys.shape[0], dtype=np.uint8)
        np.maximum.at(highest, inverse, self.weights)
        order = np.argsort(first, kind="stable")
        tokens: Tokens = keys[order]
        return tokens, highest[order].astype(np.float64) / _SCALE

    def to_bytes(self) -> bytes:
        return self.tokens.astype("<u4").tobytes() + self.weights.astype(np.uint8).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Evidence:
        n = len(data) // 5
        return cls(
            np.frombuffer(data[: 4 * n], dtype="<u4").astype(np.uint32),
            np.frombuffer(data[4 * n :], dtype=np.uint8).copy(),
        )


def evidence(text: str, language: str | None, lower_case_weight: float = LOWER_CASE_WEIGHT) -> Evidence:
    """The evidence sequence of a cleaned text in the given language."""
    found = terms(text, language, lower_case_weight)
    return Evidence(
        np.array([xxh32_intdigest(key.encode()) for key, _ in found], dtype=np.uint32),
        np.array([min(255, round(weight * _SCALE)) for _, weight in found], dtype=np.uint8),
    )


def terms(
    text: str, language: str | None, lower_case_weight: float = LOWER_CASE_WEIGHT
) -> list[tuple[str, float]]:
    """The evidence of a text as readable terms (normalised keys) with their weights, in text order.
    Words written in lower case (and dictionary glosses of common nouns) weigh ``lower_case_weight``
    times their rarity: they are the words of one language, which another language's text seldom has,
    while names and numbers cross languages whole."""
    covered = language is None or language in rarity.covered_languages()
    table = glossary.japanese() if language == "ja" else None
    pairs: list[tuple[str, float]] = []
    words: list[tuple[int, str]] = []  # (position in pairs, word) to weigh in one lookup
    for piece in _CJK_RUN.split(normalize(text)):
        if not piece:
            continue
        if _CJK_RUN.fullmatch(piece):
            table = table or glossary.chinese()
            for run in piece.split("・"):
                for glosses in _segment(run, table):
                    # A headword is one concept: its rarest gloss word stands for it.
                    best = max(glosses, key=_gloss_weight)
                    scale = lower_case_weight if best.islower() else 1.0
                    pairs.append((best, _gloss_weight(best) * scale))
            continue
        for token in _TOKEN.findall(piece):
            if token[0].isdigit():
                number = token.replace(".", "").replace(",", "")
                pairs.append((number, number_weight(number)))
            elif covered or not token.islower():
                words.append((len(pairs), token))
                pairs.append((token, 0.0))
    if words:
        found = _rarities([w for _, w in words])
        for (at, word), value in zip(words, found, strict=True):
            if not covered and word.lower() == word.upper():
                value = min(value, UNCOVERED_WEIGHT)  # no case, no list: cannot tell a name
            elif word.islower():
                value *= lower_case_weight
            pairs[at] = (word, value)
    kept: list[tuple[str, float]] = []
    for token, value in pairs:
        key = _normalise(token)
        if len(key) >= 2 and value > _MIN_WEIGHT:
            kept.append((key, value))
    return kept


def number_weight(digits: str) -> float:
    """A number's weight: what a chance match on it is worth. Numbers below 100 and years occur in
    most news texts; beyond that, each significant digit (trailing zeros are not) makes a match rarer."""
    digits = "".join(c for c in digits if c.isdecimal())
    if not digits:
        return 1.0
    value = int(digits[:18])
    if value < 100:
        return 1.0
    if 1900 <= value <= 2099 and len(digits) == 4:
        return 1.5
    significant = len(digits.lstrip("0").rstrip("0")) or 1
    return min(4.0, 1.0 + 0.75 * significant)


@lru_cache(maxsize=100_000)
def _gloss_weight(word: str) -> float:
    """A gloss word weighs as the English word it is."""
    return rarity.weight(word)


def _segment(run: str, table: glossary.Glossary) -> list[tuple[str, ...]]:
    """Greedy longest-match segmentation of a CJK run into dictionary headwords' glosses."""
    found: list[tuple[str, ...]] = []
    i = 0
    while i < len(run):
        for length in range(min(_LONGEST_HEADWORD, len(run) - i), 0, -1):
            words = table.get(run[i : i + length])
            if words:
                found.append(words)
                i += length
                break
        else:
            i += 1
    return found


def _rarities(words: list[str]) -> list[float]:
    """``rarity.weights`` of the words, remembered per word: most words of a text were seen before,
    and hashing and looking each up again cost more than the rest of the evidence together."""
    missing = [w for w in dict.fromkeys(words) if w not in _rarity_memo]
    if len(_rarity_memo) + len(missing) > _MEMO_LIMIT:
        _rarity_memo.clear()
        missing = list(dict.fromkeys(words))
    if missing:
        _rarity_memo.update(zip(missing, rarity.weights(missing).tolist(), strict=True))
    return [_rarity_memo[w] for w in words]


@lru_cache(maxsize=_MEMO_LIMIT)
def _normalise(token: str) -> str:
    key = _NOT_KEY.sub("", anyascii(token).lower())
    return key if key.isdigit() else key[:_PREFIX]
