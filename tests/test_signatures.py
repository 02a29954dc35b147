"""The fast signature path gives exactly what it gave before it was made fast, and what datasketch gives.

Shingle hashes, tokens and signatures are stored in databases: the numpy tokeniser and hashing of
``dedup.shingles``, the permutations of ``dedup.signature``, the banding and band keys of
``dedup.lsh`` must not change a bit. ``Reference`` below is a verbatim copy of the implementation
they replaced (regular expressions for the tokens, datasketch's own permutations and banding), and
every function is compared with it and with datasketch itself.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import xxhash
from datasketch import MinHash, MinHashLSH
from datasketch.lsh import _optimal_param
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import shingles
from dedup.lsh import band_keys, banding
from dedup.shingles import Hashes, is_unspaced, shingle_hashes, shingle_sequence, tokens, words
from dedup.signature import Signer, permutations

WORDS, CHARS = 4, 3
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scripts"


class Reference:
    """dedup/shingles.py, dedup/signature.py and dedup/lsh.py as they were before (commit e284294),
    copied verbatim except for the names."""

    _UNSPACED_RANGES = (
        (0x0E00, 0x0EFF),
        (0x1000, 0x109F),
        (0x1780, 0x17FF),
        (0x3040, 0x30FF),
        (0x3400, 0x4DBF),
        (0x4E00, 0x9FFF),
        (0xF900, 0xFAFF),
        (0xAC00, 0xD7AF),
    )
    _UNSPACED = "".join(f"{chr(a)}-{chr(b)}" for a, b in _UNSPACED_RANGES)

    @staticmethod
    def _char_class(code_points: list[int]) -> str:
        spans: list[list[int]] = []
        for c in sorted(code_points):
            if spans and spans[-1][1] == c - 1:
                spans[-1][1] = c
            else:
                spans.append([c, c])
        return "".join(
            re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in spans
        )

    @staticmethod
    def _marks() -> list[int]:
        planes = (range(0x20000), range(0xE0000, 0xE1000))
        return [c for plane in planes for c in plane if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me")]

    @staticmethod
    def _removed() -> list[int]:
        invisible = [0x00AD, 0x034F, 0x061C, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF]
        invisible += [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
        tatweel = [0x0640]
        pointed = (
            range(0x0591, 0x05C8),
            range(0x0610, 0x061B),
            range(0x064B, 0x0660),
            range(0x0670, 0x0671),
            range(0x06D6, 0x06EE),
            range(0x0898, 0x08A0),
            range(0x08CA, 0x0900),
        )
        points = [c for r in pointed for c in r if unicodedata.category(chr(c)) == "Mn"]
        return invisible + tatweel + points

    def __init__(self) -> None:
        self._MULTIPLIER = np.uint32(0x01000193)
        self._MARK_POINTS = self._marks()
        self.MARKS = self._char_class(self._MARK_POINTS)
        _UNSPACED, MARKS = self._UNSPACED, self.MARKS
        self._WORD_BODY = rf"[{MARKS}]*[^\W{_UNSPACED}]+(?:[{MARKS}]+[^\W{_UNSPACED}]+)*[{MARKS}]*"
        self.WORD = re.compile(self._WORD_BODY)
        self._TOKEN = re.compile(rf"[{_UNSPACED}][{MARKS}]*|{self._WORD_BODY}")
        unspaced_points = {c for a, b in self._UNSPACED_RANGES for c in range(a, b + 1)}
        self._UNSPACED_BASE = re.compile(
            f"[{self._char_class(sorted(unspaced_points - set(self._MARK_POINTS)))}]"
        )
        self._REMOVED_POINTS = self._removed()
        self._REMOVED = re.compile(f"[{self._char_class(self._REMOVED_POINTS)}]")
        special = [c for c in {*self._MARK_POINTS, *self._REMOVED_POINTS} if c < 0x10000]
        self._SPECIAL = re.compile(f"[{_UNSPACED}{self._char_class(special)}\U00010000-\U0010ffff]")
        self._PLAIN_WORD = re.compile(r"\w+")
        self._memo: dict[str, int] = {}

    def words(self, text: str, fold: bool = True) -> list[str]:
        return self._split(text, fold, self.WORD)

    def tokens(self, text: str) -> list[str]:
        return self._split(text, True, self._TOKEN)

    def _split(self, text: str, fold: bool, pattern: re.Pattern[str]) -> list[str]:
        if text.isascii():
            return self._PLAIN_WORD.findall(text.casefold() if fold else text)
        text = unicodedata.normalize("NFKC", text)
        if fold:
            text = text.casefold()
        if not self._SPECIAL.search(text):
            return self._PLAIN_WORD.findall(text)
        text = self._REMOVED.sub("", text)
        if fold:
            text = unicodedata.normalize("NFC", text).replace("i\u0307", "i")
        return pattern.findall(text)

    def is_unspaced(self, toks: list[str]) -> bool:
        return len(self._UNSPACED_BASE.findall("".join(toks))) * 2 > len(toks)

    def token_hashes(self, toks: list[str]) -> Hashes:
        missing = set(toks).difference(self._memo)
        self._memo.update((t, xxhash.xxh32_intdigest(t.encode())) for t in missing)
        return np.fromiter(map(self._memo.__getitem__, toks), np.uint32, len(toks))

    def shingle_hashes(self, text: str, words: int, chars: int) -> Hashes:
        toks = self.tokens(text)
        unspaced = self.is_unspaced(toks)
        size = chars if unspaced else words
        if not toks:
            return np.zeros(0, dtype=np.uint32)
        hashed = self.token_hashes(toks)
        if len(toks) < size:
            size = len(toks)
        combined = hashed[: len(toks) - size + 1].copy()
        for offset in range(1, size):
            combined *= self._MULTIPLIER
            combined += hashed[offset : len(toks) - size + 1 + offset]
        return np.unique(self.fmix32(combined))

    def shingle_sequence(self, text: str, words: int, chars: int) -> Hashes:
        toks = self.tokens(text)
        if not toks:
            return np.zeros(0, dtype=np.uint32)
        size = min(chars if self.is_unspaced(toks) else words, len(toks))
        hashed = self.token_hashes(toks)
        combined = hashed[: len(toks) - size + 1].copy()
        for offset in range(1, size):
            combined *= self._MULTIPLIER
            combined += hashed[offset : len(toks) - size + 1 + offset]
        mixed = self.fmix32(combined)
        _, first = np.unique(mixed, return_index=True)
        ordered: Hashes = mixed[np.sort(first)]
        return ordered

    @staticmethod
    def fmix32(values: Hashes) -> Hashes:
        values = values ^ (values >> np.uint32(16))
        values = values * np.uint32(0x85EBCA6B)
        values = values ^ (values >> np.uint32(13))
        values = values * np.uint32(0xC2B2AE35)
        mixed: Hashes = values ^ (values >> np.uint32(16))
        return mixed

    def sign(self, hashes: Hashes, num_perm: int) -> Hashes:
        template = MinHash(num_perm=num_perm, seed=1, hashfunc=lambda v: v, scheme="affine32")
        a, b = (np.asarray(p, dtype=np.uint32) for p in template.permutations)
        if hashes.shape[0] == 0:
            return np.full(num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
        mixed = self.fmix32(hashes.astype(np.uint32, copy=False))
        permuted = np.multiply.outer(mixed, a, dtype=np.uint32)
        permuted += b
        signature: Hashes = permuted.min(axis=0)
        return signature

    @staticmethod
    def banding(threshold: float, num_perm: int) -> tuple[int, int]:
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        return int(lsh.b), int(lsh.r)

    @staticmethod
    def band_keys(signature: Hashes, bands: int, rows: int) -> list[bytes]:
        big_endian = signature.astype(">u4", copy=False)
        return [
            band.to_bytes(2, "big")
            + xxhash.xxh64_digest(big_endian[band * rows : (band + 1) * rows].tobytes())
            for band in range(bands)
        ]


REFERENCE = Reference()

TEXTS = {
    "empty": "",
    "blank": " \n\t ",
    "one word": "Regierung",
    "two words": "Die Regierung",
    "three words": "die REGIERUNG tritt",
    "ascii": "The Council's VOTE: 31-17! snake_case, x2 and 3.14 -- (p. 12) [a] {b} <c> @d #e $f %g &i",
    "punctuation only": "... !!! --- ??? “” «»",
    "accented latin": "Der Bundesrat hat am Freitag über die Straße in Köln abgestimmt; ça a été « dur ».",
    "accents not composed": "e\u0301te\u0301 a\u0328 q\u0307 x\u0301\u0302 ŉ ǰ",
    "turkish": "İstanbul'da İSTANBUL istanbul IĞDIR ılık İzmir'e",
    "greek": "Στις 12 Μαΐου η Βουλή ψήφισε τον νέο νόμο ΐ ΰ ς Σ.",
    "arabic harakat": "قال الـرئيسُ إنَّ الحكومةَ ستُعلنُ القرارَ غداً. ﻻ وزیر خارجه می\u200cگوید",
    "hebrew niqqud": "הַמֶּמְשָׁלָה הֶחְלִיטָה הַיּוֹם לְהַעֲלוֹת אֶת שְׂכַר הַמִּינִימוּם.",
    "devanagari": "भारत के प्रधानमंत्री ने आज दिल्ली में नए क़ानून पर बैठक की। क्\u200dष",
    "thai": "ที่ประชุมคณะรัฐมนตรีมีมติเห็นชอบ ๑๒ ฿ ั lone mark, wordั after a word",
    "chinese": "东京都发表了新的规定，北京时间１２日上午，“我们”表示：好！",
    "japanese": "東京都は12日に発表・カタカナ「テスト」ー。ﾊﾝｶｸ",
    "korean": "서울시는 27일 심야 운행을 발표했다. 서울시가 ᄀᄏ",
    "khmer myanmar lao": "ភាសាខ្មែរ မြန်မာဘာသာ ພາສາລາວ",
    "mixed": "Reuters 报道 that 東京 will host 12 events in 2026 — Μαΐου, İstanbul, القرارَ, ที่",
    "mixed without marks": "Reuters报道that東京will host 12 events・in 2026年, 서울 and Straße",
    "cjk beyond plane 1": "𠀀𠀁 abc 𪜀 def",
    "emoji and symbols": "smile 😀 ok ✓ ½ ² ① ™ ﬁne ﬂow Ⅻ",
    "invisible": "Bundes\u00adregierung a\u200bb c\u200dd \u202aright\u202c \ufeffbom \u2066iso\u2069",
    "controls": "a\x00b\x1fc\x7fd\u0085e\u2028f",
    "lone surrogate": "x\ud800y \udfff z",
    "underscores digits": "__init__ v1_2 ٣٤ ０９ 𝟗 x²",
    "only removed characters": "\u200d\u0640\u064e",
    "only marks": "\u0301\u0308 \u0e31\u0e48 \u0301\u0e31a \u3099",
    "marks around words": "\u0301ab\u0301c 字\u0301d ก\u0e31e\u0301 ・\u0301x \u0e31\u0301 \u0301\u0e31",
    "compatibility characters": "…\xa0´¨ª¹½ ＡＢＣ１２ ｶﾞｷﾞ\u3000e\u0301 ﬁ\u2002x",
}
TEXTS.update({f"fixture {f.stem}": f.read_text(encoding="utf-8") for f in sorted(FIXTURES.glob("*.txt"))})


def _same(text: str) -> None:
    """Every output of the shingles module for the text equals the reference's."""
    expected = REFERENCE.tokens(text)
    assert tokens(text) == expected
    assert is_unspaced(expected) == REFERENCE.is_unspaced(expected)
    assert words(text) == REFERENCE.words(text)
    assert words(text, fold=False) == REFERENCE.words(text, fold=False)
    for size in ((WORDS, CHARS), (1, 1), (2, 5)):
        for ours, theirs in (
            (shingle_hashes(text, *size), REFERENCE.shingle_hashes(text, *size)),
            (shingle_sequence(text, *size), REFERENCE.shingle_sequence(text, *size)),
        ):
            assert ours.dtype == theirs.dtype == np.uint32
            assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_tokens_and_shingle_hashes_are_the_reference_ones(name: str) -> None:
    """Tokens, words, unspaced-ness, shingle hashes and sequences equal the regular expressions' for
    texts of every script and shape: ASCII, accents, Turkish İ, Greek, pointed Arabic and Hebrew,
    Devanagari, Thai, Chinese, Japanese, Korean, mixed, empty, a few words."""
    _same(TEXTS[name])
    _same(TEXTS[name] * 3)
    _same(" ".join(TEXTS.values()))


# One or two of each kind of character that decides where a token starts and ends: ASCII word and
# other characters, marks (of a spaced and of an unspaced script), characters of unspaced scripts
# (word, other), removed ones, ones that NFKC or case folding changes, beyond plane 0 and 1.
_TRICKY = [
    *"ab Z_9.,-é字か・क\u093fαİﬁ，１ｶﾞ\xa0…ǰ가\u1100\u1161e\ud800",
    *"\u0301\u0308\u093f\u094d\u0e31\u0e48\u0e01\u0e32\u3099\u309a\u0e4e\u17b6\u102b\u0345",
    *"\u200d\u064e\u0640\u05b8\U0001f600\U00020000",
]


# Characters that take every path: ASCII, Latin letters and marks, the removed points, unspaced
# scripts, Hangul jamo, punctuation, spaces, surrogates, characters beyond planes 0 and 1.
_CHARACTERS = st.one_of(
    st.characters(max_codepoint=0x7F),
    st.characters(min_codepoint=0xA0, max_codepoint=0x24F),
    st.sampled_from(_TRICKY),
    st.characters(min_codepoint=0x2000, max_codepoint=0x206F),
    st.characters(min_codepoint=0xFF00, max_codepoint=0xFFEF),
    st.sampled_from(
        "İıΐΰςΣσßẞŉǰ\u0301\u0307\u0328\u064e\u0651\u0640\u05b8\u05bc\u093f\u094d\u093c\u0e31\u0e48"
        "\u200c\u200d\u200f\u00ad\ufeff\u3099\u309aーー・「」，。１ａＡｶﾞ\u1100\u1161\u11a8가각ﬁ①½"
        "\ud800\U00020000\U0001f600\U0001d7d7\U000e0100 \t\n\u3000\xa0"
    ),
    st.characters(min_codepoint=0x0E00, max_codepoint=0x0EFF),
    st.characters(min_codepoint=0x3040, max_codepoint=0x30FF),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4E20),
    st.characters(min_codepoint=0x0590, max_codepoint=0x06FF),
    st.characters(min_codepoint=0x0900, max_codepoint=0x097F),
    st.characters(),
)


@settings(max_examples=400, deadline=None)
@given(st.text(_CHARACTERS, max_size=40))
def test_any_text_tokenises_as_the_reference_does(text: str) -> None:
    """Random texts mixing every kind of character the paths tell apart give the reference's outputs."""
    _same(text)


def test_short_texts_of_tricky_characters_tokenise_as_the_reference_does() -> None:
    """Five thousand short random strings of those characters: orders of marks, words and
    characters of unspaced scripts, many of which no written text holds."""
    rng = random.Random(7)
    for _ in range(5_000):
        text = "".join(rng.choice(_TRICKY) for _ in range(rng.randint(0, 12)))
        expected = REFERENCE.tokens(text)
        assert tokens(text) == expected, repr(text)
        assert shingles._spaced(text)[1] == len(REFERENCE._UNSPACED_BASE.findall("".join(expected)))


def test_tokens_never_hold_whitespace() -> None:
    """The fast path joins tokens with spaces and splits them again: no character a token can hold
    (a word character, a mark, a character of an unspaced script) is whitespace to ``str.split``."""
    held = shingles._WORD_FLAG | shingles._UNSPACED_FLAG | shingles._MARK_FLAG
    flags = shingles._FLAGS
    assert not [c for c in range(0x20000) if flags[c] & held and chr(c).isspace()]


@pytest.mark.parametrize("num_perm", [64, 128, 256])
def test_permutations_are_datasketchs(num_perm: int) -> None:
    """The permutations are the ones datasketch draws for seed 1 and the affine32 scheme."""
    a, b = MinHash(num_perm=num_perm, seed=1, scheme="affine32").permutations
    ours = permutations(num_perm)
    assert ours[0].dtype == ours[1].dtype == np.uint32
    assert ours[0].tolist() == a.tolist()
    assert ours[1].tolist() == b.tolist()


@pytest.mark.parametrize("name", ["empty", "one word", "accented latin", "mixed", "fixture ko-story"])
@pytest.mark.parametrize("num_perm", [64, 128, 256])
def test_signature_is_the_reference_and_datasketchs(name: str, num_perm: int) -> None:
    """A signature equals the one computed before and datasketch's own MinHash of the shingle hashes."""
    hashes = shingle_hashes(TEXTS[name], WORDS, CHARS)
    signer = Signer(num_perm)
    signature = signer.sign(hashes)
    minhash = MinHash(num_perm=num_perm, seed=1, hashfunc=lambda v: v, scheme="affine32")
    minhash.update_batch(hashes.tolist())
    assert signature.dtype == np.uint32
    assert signature.tolist() == minhash.hashvalues.tolist()
    assert signature.tolist() == REFERENCE.sign(hashes, num_perm).tolist()
    assert signature.tolist() == signer.sign_with_datasketch(hashes).tolist()
    assert np.array_equal(signer.minhash(signature).hashvalues, signature)


@pytest.mark.parametrize("num_perm", [64, 128, 256])
def test_banding_is_datasketchs(num_perm: int) -> None:
    """Bands and rows equal datasketch's optimum (``_optimal_param`` with its weights 0.5 and 0.5,
    as ``MinHashLSH`` picks them) for thresholds 0.3 to 0.9 in steps of 0.05."""
    for step in range(13):
        threshold = round(0.3 + 0.05 * step, 2)
        assert banding(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5), threshold
    assert banding(0.5, num_perm) == REFERENCE.banding(0.5, num_perm)


@pytest.mark.parametrize(("bands", "rows"), [(25, 5), (37, 3), (9, 13), (128, 1), (1, 128)])
def test_band_keys_are_the_reference_ones(bands: int, rows: int) -> None:
    """Band keys equal the ones computed before, for signatures of random values."""
    rng = np.random.default_rng(bands)
    for _ in range(20):
        signature = rng.integers(0, 1 << 32, 128, dtype=np.uint64).astype(np.uint32)
        assert band_keys(signature, bands, rows) == REFERENCE.band_keys(signature, bands, rows)


def test_run_time_path_does_not_import_datasketch_or_scipy() -> None:
    """Preparing documents, signing and querying the index import neither datasketch nor scipy
    (scipy alone costs half a second and 50 MB at every start)."""
    code = (
        "import sys, numpy as np\n"
        "import dedup.document\n"
        "from dedup.index_storage import MemoryStorage\n"
        "from dedup.lsh import LSHIndex\n"
        "from dedup.shingles import shingle_hashes\n"
        "from dedup.signature import Signer\n"
        "index = LSHIndex(MemoryStorage(), threshold=0.5, num_perm=128)\n"
        "signature = Signer(128).sign(shingle_hashes('one two three four five', 4, 3))\n"
        "index.insert(1, signature)\n"
        "assert index.query(signature) == {1}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'datasketch', 'scipy'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
