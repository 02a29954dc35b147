"""Evidence of a text for finding its translations: rarity from every language wordfreq ships, names
over words, numbers by their digits, and languages without a frequency list handled gracefully."""

from __future__ import annotations

import pytest

from dedup import rarity
from dedup.crosslang import match, time_factor
from dedup.evidence import UNCOVERED_WEIGHT, evidence, number_weight, terms


def test_rarity_covers_every_language_wordfreq_ships() -> None:
    """The rarity table holds the common words of each of wordfreq's 42 languages, scripts beyond
    Latin included: each weighs (almost) nothing; a made-up name weighs the most."""
    assert len(rarity.covered_languages()) == 42
    common = ["und", "что", "的", "και", "של", "في", "और", "그리고", "và", "ve", "och", "że"]
    assert [round(w, 1) for w in rarity.weights(common)] == [0.0] * len(common)
    assert rarity.weight("Xqvorblat") == rarity.MAX_WEIGHT


@pytest.mark.parametrize(
    ("digits", "weight"),
    [
        ("7", 1.0),
        ("42", 1.0),
        ("2021", 1.5),
        ("1000", 1.75),
        ("250", 2.5),
        ("38000", 2.5),
        ("1986", 1.5),
        ("4711", 4.0),
    ],
)
def test_numbers_weigh_by_their_significant_digits(digits: str, weight: float) -> None:
    """Small numbers and years, in every news text, weigh little; each significant digit beyond makes a
    chance match rarer (trailing zeros do not count)."""
    assert number_weight(digits) == weight


def test_lower_case_words_weigh_less_than_names() -> None:
    """A rare word of the language weighs a share of what a name of the same rarity does: words of one
    language seldom appear in another's text, names do."""
    found = dict(terms("The Kvarnholm ferry kvarnholm", "en", lower_case_weight=0.3))
    assert found["kvarn"] == pytest.approx(0.3 * rarity.MAX_WEIGHT)
    names = [w for k, w in terms("The Kvarnholm ferry", "en", lower_case_weight=0.3) if k == "kvarn"]
    assert names == [rarity.MAX_WEIGHT]


def test_a_language_without_a_frequency_list_keeps_its_names_and_numbers() -> None:
    """Hausa has no wordfreq list: its lower-case words (which no list can tell from names) are left out
    instead of weighing like names; its capitalised words (names, and a sentence's first word) and
    numbers stay. In a script without case and without a list, every word weighs little."""
    hausa = "Shugaban kasar Najeriya Muhammadu Buhari ya gana da gwamnoni 36 a Abuja ranar Litinin"
    keys = [k for k, _ in terms(hausa, "ha")]
    assert keys == ["shuga", "najer", "muham", "buhar", "36", "abuja", "litin"]
    assert all(w <= UNCOVERED_WEIGHT for _, w in terms("ሰላም ለዓለም", "am"))


def test_a_translation_scores_on_both_sides_and_in_order() -> None:
    """The score is the common weight over the geometric mean of both totals: the same names in the
    same order score 1; a text holding a short one's terms among many others scores low."""
    short = evidence("Kvarnholm Sundbyberg Vallentuna", "sv")
    assert match(short, short).score == pytest.approx(1.0)
    others = [
        a + b for a in ("Brax", "Quell", "Zorv", "Tiln", "Skaav") for b in ("ebo", "imar", "usk", "ondel")
    ]
    long = evidence("Kvarnholm Sundbyberg Vallentuna " + " ".join(others), "sv")
    agreed = match(short, long)
    assert agreed.matches == 3
    assert agreed.common == pytest.approx(agreed.total_a)  # all of the short one is in the long one
    assert agreed.score == pytest.approx((agreed.total_a / agreed.total_b) ** 0.5)
    assert agreed.score < 0.35


def test_publication_times_far_apart_lower_the_score() -> None:
    """Within the grace period nothing changes; beyond it the score falls as 1 / (1 + days / scale)."""
    assert time_factor(2.0, 3.0, 30.0) == 1.0
    assert time_factor(33.0, 3.0, 30.0) == 0.5
    assert time_factor(None, 3.0, 30.0) == 1.0
    assert time_factor(400.0, 3.0, 0.0) == 1.0


def test_remembered_rarities_are_the_rarity_table_s() -> None:
    """Evidence remembers each word's rarity once looked up: a text's evidence is the same computed
    with the memory empty, full of its own words, and after the memory was cleared at its limit, and
    each remembered value is rarity.weights' value of the word."""
    from dedup import evidence as module

    text = "Mayor Okonkwo opened the Vasquez bridge on 14 March; 3,200 people crossed it that day."
    module._rarity_memo.clear()
    first = evidence(text, "en")
    second = evidence(text, "en")
    assert first.tokens.tolist() == second.tokens.tolist()
    assert first.weights.tolist() == second.weights.tolist()
    remembered = dict(module._rarity_memo)
    assert len(remembered) == 13  # the words; the numbers 14 and 3,200 weigh by their digits
    assert list(remembered.values()) == rarity.weights(list(remembered)).tolist()
    limit = module._MEMO_LIMIT
    try:
        module._MEMO_LIMIT = 3  # every text overflows it: the memory is cleared before each lookup
        third = evidence(text, "en")
    finally:
        module._MEMO_LIMIT = limit
    assert third.tokens.tolist() == first.tokens.tolist()
    assert third.weights.tolist() == first.weights.tolist()
