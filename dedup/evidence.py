"""Cross-language evidence: what a translation keeps of its original, in a space both share.

A translated repost shares almost no word shingles with its original, but it keeps the numbers,
the names (spelled in Latin, or transliterated to it), and, through a dictionary, the meaning of
Chinese and Japanese words (``dedup.glossary``). A text's evidence is the sequence of those tokens
in the order they occur, each normalised (ASCII, lower case, first five letters, so that "Serbia"
and "Serbien" agree) and weighted by its rarity: common words of the major languages weigh
nothing, names and long numbers weigh most.

Two texts are compared by the weighted longest common subsequence of their evidence, divided by
the smaller text's total weight: a translation keeps the order of what it translates, while two
different articles about one event share names and numbers in another order and in fewer numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from anyascii import anyascii
from wordfreq import zipf_frequency
from xxhash import xxh3_128_digest, xxh32_intdigest

from dedup import glossary

# Frequency lists that decide which words are common; a word common in any of them weighs nothing.
_FREQUENCY_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "cs", "pl", "ru", "id", "tr", "sv")
_MAX_WEIGHT = 5.0
_MIN_WEIGHT = 0.5
_PREFIX = 5
_CJK_RUN = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
_LONGEST_HEADWORD = 10
# Weights are kept in a byte: units of 1/40.
_SCALE = 40.0
# Agreements of stored evidence remembered per process (about 150 bytes each).
_MEMO_LIMIT = 100_000
_memo: dict[tuple[bytes, bytes], Agreement] = {}

Tokens = npt.NDArray[np.uint32]
Weights = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Evidence:
    """The evidence sequence of one text: token hashes and their weights, in text order."""

    tokens: Tokens
    weights: Weights

    @classmethod
    def empty(cls) -> Evidence:
        return cls(np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.uint8))

    @property
    def total(self) -> float:
        return float(self.weights.sum()) / _SCALE

    def rare(self, min_weight: float) -> Tokens:
        """The distinct tokens of at least this weight: what the evidence index keys on."""
        tokens: Tokens = np.unique(self.tokens[self.weights >= int(min_weight * _SCALE)])
        return tokens

    def to_bytes(self) -> bytes:
        return self.tokens.astype("<u4").tobytes() + self.weights.astype(np.uint8).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Evidence:
        n = len(data) // 5
        return cls(
            np.frombuffer(data[: 4 * n], dtype="<u4").astype(np.uint32),
            np.frombuffer(data[4 * n :], dtype=np.uint8).copy(),
        )


def evidence(text: str, language: str | None) -> Evidence:
    """The evidence sequence of a cleaned text in the given language."""
    found = terms(text, language)
    return Evidence(
        np.array([xxh32_intdigest(key.encode()) for key, _ in found], dtype=np.uint32),
        np.array([min(255, round(weight * _SCALE)) for _, weight in found], dtype=np.uint8),
    )


def terms(text: str, language: str | None) -> list[tuple[str, float]]:
    """The evidence of a text as readable terms (normalised keys) with their weights, in text order."""
    table = glossary.japanese() if language == "ja" else None
    pairs: list[tuple[str, float]] = []
    for piece in _CJK_RUN.split(text):
        if not piece:
            continue
        if _CJK_RUN.fullmatch(piece):
            table = table or glossary.chinese()
            for run in piece.split("・"):
                for words in _segment(run, table):
                    # A headword is one concept: its rarest gloss word stands for it.
                    best = max(words, key=_word_weight)
                    pairs.append((best, _word_weight(best)))
        else:
            for token in _TOKEN.findall(piece):
                if token[0].isdigit():
                    number = re.sub(r"[.,]", "", token)
                    pairs.append((number, 2.0 if len(number) <= 2 else 4.0))
                else:
                    pairs.append((token, _word_weight(token.lower())))
    found: list[tuple[str, float]] = []
    for token, weight in pairs:
        key = _normalise(token)
        if len(key) >= 2 and weight > _MIN_WEIGHT:
            found.append((key, weight))
    return found


@dataclass(frozen=True)
class Agreement:
    """How two evidence sequences agree: the weight of their common subsequence, its length, and
    each sequence's total weight."""

    common: float
    matches: int
    total_a: float
    total_b: float

    @property
    def score(self) -> float:
        """The common weight over the smaller total: 1.0 when all of the smaller one is in the other,
        in the same order."""
        smaller = min(self.total_a, self.total_b)
        return self.common / smaller if smaller else 0.0


def agreement(a: Evidence, b: Evidence) -> Agreement:
    """The weighted longest common subsequence of two evidence sequences."""
    common = np.intersect1d(a.tokens, b.tokens)
    if common.shape[0] == 0:
        return Agreement(0.0, 0, a.total, b.total)
    ka = np.isin(a.tokens, common)
    kb = np.isin(b.tokens, common)
    seq_a, wa = a.tokens[ka].tolist(), a.weights[ka].tolist()
    seq_b, wb = b.tokens[kb].tolist(), b.weights[kb].tolist()
    value, count = _weighted_lcs(seq_a, wa, seq_b, wb)
    return Agreement(value / _SCALE, count, a.total, b.total)


def stored_agreement(a: bytes, b: bytes) -> Agreement:
    """``agreement`` of two stored evidence sequences (``Evidence.to_bytes``), remembered: every
    re-clustering of a story compares the same stored articles again."""
    key = (xxh3_128_digest(a), xxh3_128_digest(b))
    found = _memo.get(key)
    if found is None:
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        found = _memo[key] = agreement(Evidence.from_bytes(a), Evidence.from_bytes(b))
    return found


def _weighted_lcs(seq_a: list[int], wa: list[int], seq_b: list[int], wb: list[int]) -> tuple[float, int]:
    """Longest common subsequence where a match of tokens scores the lower of their weights."""
    previous = [(0.0, 0)] * (len(seq_b) + 1)
    for token_a, weight_a in zip(seq_a, wa, strict=True):
        current = [(0.0, 0)] * (len(seq_b) + 1)
        for j, (token_b, weight_b) in enumerate(zip(seq_b, wb, strict=True), start=1):
            if token_a == token_b:
                value, count = previous[j - 1]
                current[j] = (value + min(weight_a, weight_b), count + 1)
            else:
                current[j] = previous[j] if previous[j][0] >= current[j - 1][0] else current[j - 1]
        previous = current
    return previous[-1]


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


@lru_cache(maxsize=200_000)
def _word_weight(word: str) -> float:
    """Rarity: 0 for words common in any major language, up to 5 for words no list knows."""
    zipf = max(zipf_frequency(word, lang) for lang in _FREQUENCY_LANGUAGES)
    return max(0.0, _MAX_WEIGHT - zipf)


def _normalise(token: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", anyascii(token).lower())
    return key if key.isdigit() else key[:_PREFIX]
