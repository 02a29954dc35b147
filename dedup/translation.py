"""The verdict on a pair of articles in two languages (see ``dedup.evidence``).

- a **translation**: the weighted common subsequence of their evidence covers at least
  ``translation_min_score`` of the smaller one, over at least ``translation_min_matches`` tokens;
- a **source** link: one names the other as its source and their evidence agrees at all
  (``source_link_min_score``); it counts with at least ``source_link_score``.
"""

from __future__ import annotations

from dedup.overlap import Verdict
from dedup.params import Params


def judge_translation(score: float, matches: int, claimed: bool, params: Params) -> tuple[Verdict, float]:
    """The verdict, and the score the link carries into the partition."""
    if claimed and score >= params.source_link_min_score:
        return (
            Verdict("source", f"source link: one names the other as its source, evidence {score:.2f}"),
            max(score, params.source_link_score),
        )
    if score >= params.translation_min_score and matches >= params.translation_min_matches:
        return (
            Verdict(
                "translation",
                f"translation: evidence {score:.2f} ≥ {params.translation_min_score} over {matches} tokens",
            ),
            score,
        )
    return (
        Verdict(
            None,
            f"different: evidence {score:.2f} over {matches} tokens "
            f"(a translation needs ≥ {params.translation_min_score} over ≥ {params.translation_min_matches})",
        ),
        score,
    )
