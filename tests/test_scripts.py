"""Scripts beyond Latin, Cyrillic, Chinese and Japanese: Hebrew, Arabic, Greek, Korean, Devanagari.

The stories in tests/fixtures/scripts were written for these tests: for each language a story
(``*-story.txt``) and an unrelated one in the same script (``*-other.txt``).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from dedup.language import detect_language
from dedup.shingles import MARKS, WORD, is_unspaced, normalize, shingle_hashes, tokens, words

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scripts"
# The shingle sizes of config.defaults: 4-word shingles, 3-character shingles for unspaced scripts.
WORDS, CHARS = 4, 3
LANGUAGES = ["he", "ar", "el", "ko", "hi"]


def story(language: str, name: str = "story") -> str:
    return (FIXTURES / f"{language}-{name}.txt").read_text(encoding="utf-8").strip()


def overlap(a: str, b: str) -> tuple[int, int]:
    """Shingles two texts share, and how many the two have together: the exact Jaccard's terms."""
    x, y = shingle_hashes(a, WORDS, CHARS), shingle_hashes(b, WORDS, CHARS)
    return len(np.intersect1d(x, y)), len(np.union1d(x, y))


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        pytest.param(
            # Pointed (niqqud): the points go, the words stay whole and spelled as in unpointed text.
            "הַמֶּמְשָׁלָה הֶחְלִיטָה הַיּוֹם לְהַעֲלוֹת אֶת שְׂכַר הַמִּינִימוּם.",
            ["הממשלה", "החליטה", "היום", "להעלות", "את", "שכר", "המינימום"],
            id="hebrew",
        ),
        pytest.param(
            # Harakat (fatha, damma, shadda, tanwin) and a tatweel in "الـرئيس".
            "قال الـرئيسُ إنَّ الحكومةَ ستُعلنُ القرارَ غداً.",
            ["قال", "الرئيس", "إن", "الحكومة", "ستعلن", "القرار", "غدا"],
            id="arabic",
        ),
        pytest.param(
            # "Μαΐου": case folding decomposes "ΐ" into iota and two marks; the word stays whole.
            "Στις 12 Μαΐου η Βουλή ψήφισε τον νέο νόμο.",
            ["στισ", "12", "μα\u0390ου", "η", "βουλή", "ψήφισε", "τον", "νέο", "νόμο"],
            id="greek",
        ),
        pytest.param(
            # Hangul stays one token a syllable (see test_korean_is_shingled_by_characters).
            "서울시는 27일 심야 운행을 발표했다.",
            ["서", "울", "시", "는", "27", "일", "심", "야", "운", "행", "을", "발", "표", "했", "다"],
            id="korean",
        ),
        pytest.param(
            # Vowel signs (ा ि ी े ं), viramas (्) and a nukta (क़ is क and ़ after NFKC) stay in
            # their words; the danda (।) ends a sentence.
            "भारत के प्रधानमंत्री ने आज दिल्ली में नए क़ानून पर बैठक की।",
            ["भारत", "के", "प्रधानमंत्री", "ने", "आज", "दिल्ली", "में", "नए", "क\u093cानून", "पर", "बैठक", "की"],
            id="hindi",
        ),
    ],
)
def test_tokens_keep_whole_words(sentence: str, expected: list[str]) -> None:
    """A word is one token with its combining marks; optional vowel points and the tatweel are
    dropped. (Python's ``\\w`` does not match marks: before, "प्रधानमंत्री" was five tokens, "प",
    "रध", "नम", "त", "र"; "ستُعلنُ" two, "ست" and "علن"; "Μαΐου" two, "μαι" and "ου".)"""
    assert tokens(sentence) == expected


@pytest.mark.parametrize(
    ("language", "old", "new", "shared", "union"),
    [
        (
            "he",
            "ראש העירייה אמר בישיבה כי העבודות יתחילו בחודש מרץ הבא ויימשכו כארבע שנים.",
            "לדברי ראש העירייה, העבודות יחלו כבר בסתיו ויסתיימו בתוך שלוש שנים וחצי.",
            86,
            117,
        ),
        (
            "ar",
            "ومن المتوقع أن تبدأ أعمال البناء في الربيع المقبل وأن تستمر ثلاث سنوات.",
            "وتنطلق الأشغال خلال الصيف القادم على أن تنتهي قبل نهاية العقد.",
            90,
            120,
        ),
        (
            "el",
            "Οι εταιρείες υποσχέθηκαν ότι τα εισιτήρια θα ισχύουν για άλλη ημερομηνία χωρίς επιπλέον χρέωση.",
            "Οι ακτοπλοϊκές εταιρείες θα επιστρέψουν τα χρήματα σε όσους το ζητήσουν.",
            84,
            113,
        ),
        (
            "ko",
            "노동조합은 인력 충원 없이 운행 시간을 늘리면 안전 문제가 생길 수 있다며 반대 의견을 냈다.",
            "노조 측은 현재 인원으로는 밤늦은 운행을 감당하기 어렵다고 주장했다.",
            195,
            259,
        ),
        (
            "hi",
            "इन बसों में महिलाओं के लिए मुफ़्त यात्रा की सुविधा भी जारी रहेगी।",
            "बसों का किराया पुरानी बसों जितना ही रहेगा।",
            106,
            133,
        ),
    ],
)
def test_copy_with_a_changed_sentence_overlaps_and_other_story_does_not(
    language: str, old: str, new: str, shared: int, union: int
) -> None:
    """A copy of a story with one sentence rewritten keeps most of its shingles (exact Jaccard above
    0.7, the numbers pinned); an unrelated story in the same script shares none. Hindi shows what
    splitting at marks did: word fragments such as "क" and "म" made 3 shingles of the unrelated story
    "shared" (of 404), and 230 shingles for the copy pair instead of 133."""
    original = story(language)
    assert original.count(old) == 1
    copy = original.replace(old, new)
    assert overlap(original, copy) == (shared, union)
    assert shared / union > 0.7
    assert overlap(original, story(language, "other"))[0] == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_is_detected(language: str) -> None:
    """py3langid names each story's language and the unrelated one's, sure enough that a source's
    hint (here a wrong one) is not needed."""
    assert detect_language(story(language), hint="en") == language
    assert detect_language(story(language, "other"), hint="en") == language


def test_korean_is_shingled_by_characters() -> None:
    """Korean is written with spaces, but particles and endings are written onto the word ("서울시는",
    "서울시가", "서울시를" are one noun), so it stays shingled by characters: the same noun with two
    particles still shares its characters' shingle, and the stories count as unspaced text."""
    assert is_unspaced(tokens(story("ko")))
    assert not is_unspaced(tokens(story("hi")))
    assert set(shingle_hashes("서울시는", WORDS, CHARS).tolist()) & set(
        shingle_hashes("서울시가", WORDS, CHARS).tolist()
    ) == set(shingle_hashes("서울시", WORDS, CHARS).tolist())


def test_optional_vowel_points_do_not_change_shingles() -> None:
    """Most Arabic and Hebrew news is written without vowel points; a copy that has them (harakat,
    niqqud), or a tatweel, or bidirectional marks, has exactly the same shingles."""
    arabic = "قال الوزير إن المشروع سيضيف أربعة أرصفة جديدة إلى الميناء"
    pointed = "قالَ الوزيرُ إنَّ المشروعَ سيُضيفُ أربعةَ أرصفةٍ جديدةٍ إلى الميـناء\u200f"
    assert np.array_equal(shingle_hashes(arabic, WORDS, CHARS), shingle_hashes(pointed, WORDS, CHARS))
    hebrew = "הממשלה החליטה היום להעלות את שכר המינימום"
    pointed = "הַמֶּמְשָׁלָה הֶחְלִיטָה הַיּוֹם לְהַעֲלוֹת אֶת שְׂכַר הַמִּינִימוּם"
    assert np.array_equal(shingle_hashes(hebrew, WORDS, CHARS), shingle_hashes(pointed, WORDS, CHARS))


def test_zero_width_joiners_do_not_split_words() -> None:
    """A zero-width non-joiner inside a Persian word ("می‌گوید", "he says") keeps it one word, the
    same as written without it; so do a zero-width joiner in Devanagari and a soft hyphen."""
    assert tokens("وزیر خارجه می\u200cگوید") == ["وزیر", "خارجه", "میگوید"] == tokens("وزیر خارجه میگوید")
    assert tokens("क्\u200dष") == tokens("क्ष") == ["क्ष"]
    assert tokens("Bundes\u00adregierung") == ["bundesregierung"]


def test_words_are_the_tokens_of_spaced_scripts() -> None:
    """``words`` (for dedup.evidence) gives the tokens of texts in spaced scripts, keeps case when
    asked, and leaves characters of unspaced scripts out; ``WORD`` on a ``normalize``-d text finds
    the same words, case kept."""
    for language in ("he", "ar", "el", "hi"):
        assert words(story(language)) == tokens(story(language))
    assert words("Μαΐου ΒΟΥΛΗ", fold=False) == ["Μαΐου", "ΒΟΥΛΗ"]
    assert words("東京で Reuters が 12 日") == ["reuters", "12"]
    text = "قال الـرئيسُ إنَّ ﻻ"  # the last is the lam-alef ligature NFKC takes apart
    assert WORD.findall(normalize(text)) == words(text, fold=False) == ["قال", "الرئيس", "إن", "لا"]
    assert normalize("plain ASCII") == "plain ASCII"


def test_thai_character_tokens_keep_their_marks() -> None:
    """An unspaced script's character keeps the marks written on it: "ที่" (Thai) is one token, and
    a Thai text still counts as unspaced."""
    toks = tokens("ที่ประชุม")
    assert toks == ["ที่", "ป", "ร", "ะ", "ชุ", "ม"]
    assert is_unspaced(toks)


def test_dotted_capital_i_folds_to_i() -> None:
    """Case folding turns Turkish "İ" into "i" and a combining dot; "İstanbul" and "istanbul" are one
    word (before, "İstanbul" was "i" and "stanbul")."""
    assert tokens("İstanbul istanbul") == ["istanbul", "istanbul"]


def test_marks_class_holds_every_combining_mark() -> None:
    """``MARKS`` is built from the planes that hold marks; it matches every code point of category
    Mn, Mc or Me that this Python's Unicode database knows, and nothing else."""
    mark = re.compile(f"[{MARKS}]")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        is_mark = unicodedata.category(char) in ("Mn", "Mc", "Me")
        assert bool(mark.match(char)) == is_mark, hex(code)
