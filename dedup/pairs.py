"""The verdict on a pair of articles: the one decision that both verification (a new page against its
candidates) and ``clusters why`` (two stored articles) make.

In one language the exact overlap of their shingles decides (``dedup.overlap``): a copy, a part, or
nothing. Across languages their evidence is matched (``dedup.crosslang``): the pair gets a score (times
a factor for the time between them); it becomes a link when the score reaches EVIDENCE_LINK_MIN_SCORE,
or, with a source link from one to the other and any agreement, a ``source`` link of at least
SOURCE_LINK_SCORE. Whether two stories then join is the derivation's business (``dedup.partition``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from dedup.crosslang import Match, Span, match, time_factor
from dedup.evidence import Evidence
from dedup.overlap import Overlap, Verdict, judge, overlap, spans
from dedup.params import Params
from dedup.shingles import Hashes


@dataclass(frozen=True)
class Side:
    """One article of a pair, as the verdict reads it."""

    content_hash: str
    language: str | None
    published_at: datetime | None
    # The shingle hashes in the order each first occurs in the text.
    sequence: Hashes
    # Stored evidence may come encoded: it is decoded only when a pair across languages reads it.
    evidence: Evidence | bytes
    # The same hashes sorted (the set), when the caller has them; else sorted when a pair in one
    # language needs them (a pair across languages never does).
    hashes: Hashes | None = None

    def shingle_set(self) -> Hashes:
        return self.hashes if self.hashes is not None else np.sort(self.sequence)

    def decoded_evidence(self) -> Evidence:
        return self.evidence if isinstance(self.evidence, Evidence) else Evidence.from_bytes(self.evidence)


@dataclass(frozen=True)
class PairVerdict:
    """What the rules find for a pair: ``kind`` is the link it makes (None: no link)."""

    kind: str | None
    # In one language: the overlap, the rule that decided, and where the two agree in each text.
    overlap: Overlap | None = None
    verdict: Verdict | None = None
    # Across languages: the evidence match and the pair's score.
    agreement: Match | None = None
    score: float | None = None
    span_a: Span | None = None
    span_b: Span | None = None

    @property
    def cross_language(self) -> bool:
        return self.agreement is not None


def languages_differ(a: str | None, b: str | None) -> bool:
    """Two known, different languages (an unknown language is compared as the same)."""
    return a is not None and b is not None and a != b


def days_apart(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return abs((a.replace(tzinfo=None) - b.replace(tzinfo=None)).total_seconds()) / 86400


def judge_pair(a: Side, b: Side, claimed: bool, params: Params) -> PairVerdict:
    """The verdict on the pair; ``claimed`` when one names the other as its source."""
    if languages_differ(a.language, b.language):
        return _across(a, b, claimed, params)
    o = overlap(a.shingle_set(), b.shingle_set())
    verdict = judge(o, params, identical=a.content_hash == b.content_hash)
    span_a, span_b = spans(a.sequence, b.sequence) if verdict.kind is not None else (None, None)
    return PairVerdict(verdict.kind, o, verdict, span_a=span_a, span_b=span_b)


def pair_score(agreed: Match, days: float | None, claimed: bool, params: Params) -> tuple[str, float]:
    """The kind and score of a cross-language pair: its evidence score times the time factor, or, when
    one names the other as its source and their evidence agrees at all, at least ``source_link_score``."""
    score = agreed.score * time_factor(
        days, params.translation_time_grace_days, params.translation_time_scale_days
    )
    if claimed and agreed.score >= params.source_link_min_score:
        return "source", max(score, params.source_link_score)
    return "translation", score


def _across(a: Side, b: Side, claimed: bool, params: Params) -> PairVerdict:
    agreed = match(a.decoded_evidence(), b.decoded_evidence())
    kind, score = pair_score(agreed, days_apart(a.published_at, b.published_at), claimed, params)
    linked = kind == "source" or score >= params.evidence_link_min_score
    return PairVerdict(
        kind if linked else None, agreement=agreed, score=score, span_a=agreed.span_a, span_b=agreed.span_b
    )
