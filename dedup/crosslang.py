"""How the evidence of two texts in two languages agrees (``dedup.evidence``), as a score of the pair.

A translation keeps the order of what it translates, so the two evidence sequences are aligned by a
weighted longest common subsequence of their distinct terms (each term once, at its first
occurrence: a name repeated twenty times is still one name). A shared term counts with the lower of
its two weights. The score judges coverage on both sides, the common weight over the geometric mean
of the two totals: a short text whose few terms a long article happens to contain does not score as
a translation of it, nor does a long one that holds a short one's numbers.

Publication times are a factor: news is translated and reposted within days, while two unrelated
stories that share names are as often months apart. The score is divided by ``1 + (days - grace) /
scale`` for pairs more than ``grace`` days apart.

The alignment also says *where* in each text the agreement lies: the span from the first to the last
tenth of the matched weight. A spliced post matches each of its stories in a different span
(``dedup.passages``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dedup.evidence import Evidence

# Where the matched weight lies: from this quantile of it to one minus it.
_SPAN_QUANTILE = 0.1

Span = tuple[float, float]


@dataclass(frozen=True)
class Match:
    """The agreement of two evidence sequences: the weight of their common subsequence, its length,
    each side's total weight, and where the match lies in each (fractions of its distinct terms)."""

    common: float
    matches: int
    total_a: float
    total_b: float
    span_a: Span | None = None
    span_b: Span | None = None

    @property
    def score(self) -> float:
        """The common weight over the geometric mean of the totals: 1.0 for the same terms in the same
        order, low when either side has much that the other lacks."""
        if self.total_a <= 0 or self.total_b <= 0:
            return 0.0
        return self.common / float(np.sqrt(self.total_a * self.total_b))

    def passage_score(self, side: str) -> float:
        """The score of the passage of one side (``"a"`` or ``"b"``) that the match lies in, against the
        whole other side: how well that passage alone would match. For a spliced post, each of its
        stories matches one passage much better than the whole post."""
        span = self.span_a if side == "a" else self.span_b
        total, other = (self.total_a, self.total_b) if side == "a" else (self.total_b, self.total_a)
        if span is None or total <= 0 or other <= 0:
            return 0.0
        return self.common / float(np.sqrt(total * passage_share(span) * other))


def passage_share(span: Span) -> float:
    """The share of a text that the passage around a span of matches makes up: the span holds
    1 - 2 * ``_SPAN_QUANTILE`` of the matched weight, so the passage is that much wider (and a bare
    point still a little)."""
    return min(1.0, (span[1] - span[0]) / (1 - 2 * _SPAN_QUANTILE) + 0.05)


def match(a: Evidence, b: Evidence) -> Match:
    """The agreement of two evidence sequences (see the module docstring)."""
    tokens_a, weights_a = a.distinct()
    tokens_b, weights_b = b.distinct()
    total_a, total_b = float(weights_a.sum()), float(weights_b.sum())
    common = np.intersect1d(tokens_a, tokens_b, assume_unique=True)
    if common.shape[0] == 0:
        return Match(0.0, 0, total_a, total_b)
    in_a = np.isin(tokens_a, common, assume_unique=True)
    in_b = np.isin(tokens_b, common, assume_unique=True)
    pos_a, pos_b = np.flatnonzero(in_a), np.flatnonzero(in_b)
    lower = dict(zip(tokens_a[in_a].tolist(), weights_a[in_a].tolist(), strict=True))
    for token, w in zip(tokens_b[in_b].tolist(), weights_b[in_b].tolist(), strict=True):
        lower[token] = min(lower[token], w)
    seq_a, seq_b = tokens_a[in_a].tolist(), tokens_b[in_b].tolist()
    value, pairs = _aligned(seq_a, seq_b, lower)
    if not pairs:
        return Match(0.0, 0, total_a, total_b)
    matched = np.array([lower[seq_a[i]] for i, _ in pairs])
    return Match(
        common=value,
        matches=len(pairs),
        total_a=total_a,
        total_b=total_b,
        span_a=passage(pos_a[[i for i, _ in pairs]] / max(1, tokens_a.shape[0]), matched),
        span_b=passage(pos_b[[j for _, j in pairs]] / max(1, tokens_b.shape[0]), matched),
    )


def time_factor(days_apart: float | None, grace_days: float, scale_days: float) -> float:
    """What the publication times make of a score: 1 within ``grace_days``, then falling as
    1 / (1 + (days - grace) / scale). Unknown times (None) and a scale of 0 change nothing."""
    if days_apart is None or scale_days <= 0 or days_apart <= grace_days:
        return 1.0
    return 1.0 / (1.0 + (days_apart - grace_days) / scale_days)


def _aligned(
    seq_a: list[int], seq_b: list[int], weight: dict[int, float]
) -> tuple[float, list[tuple[int, int]]]:
    """The weighted longest common subsequence of two sequences of distinct terms, and its aligned
    positions (index in a, index in b), in order."""
    n, m = len(seq_a), len(seq_b)
    table = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        row, above, token = table[i], table[i - 1], seq_a[i - 1]
        for j in range(1, m + 1):
            if token == seq_b[j - 1]:
                row[j] = above[j - 1] + weight[token]
            else:
                row[j] = above[j] if above[j] >= row[j - 1] else row[j - 1]
    pairs: list[tuple[int, int]] = []
    i, j = n, m
    while i and j:
        if seq_a[i - 1] == seq_b[j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif table[i - 1][j] >= table[i][j - 1]:
            i -= 1
        else:
            j -= 1
    pairs.reverse()
    return table[n][m], pairs


def passage(positions: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]) -> Span:
    """Where matched positions (fractions of a text) lie: from the first to the last ``_SPAN_QUANTILE``
    of their weight, in position order."""
    order = np.argsort(positions, kind="stable")
    positions, weights = positions[order], weights[order]
    cumulative = np.cumsum(weights) / weights.sum()
    last = positions.shape[0] - 1
    start = positions[min(last, int(np.searchsorted(cumulative, _SPAN_QUANTILE)))]
    end = positions[min(last, int(np.searchsorted(cumulative, 1 - _SPAN_QUANTILE)))]
    return float(start), float(end)
