"""The exact overlap of two shingle sets, and the verdict on it: copy, part, or nothing.

Candidates come from the indexes; this decides. Two texts tell the same story when
- they are **identical** (same normalised words), or
- they are a **copy** of each other: Jaccard similarity at least ``min_jaccard``, or each holds at
  least ``min_containment`` of the other (spun, noisy and updated copies, translations of the same
  words), or
- one is **part** of the other: at least ``min_containment`` of the smaller text's shingles are in
  the larger, which holds much more besides (excerpts; stories spliced into live-blog posts).
Texts with fewer than ``min_shingles`` shingles only ever match when identical: an overlap of a
handful of shingles is chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from dedup.crosslang import Span, passage
from dedup.params import Params
from dedup.shingles import Hashes

Kind = Literal["identical", "copy", "part", "translation", "source"]


@dataclass(frozen=True)
class Overlap:
    """Shared shingles of texts a and b, and each text's number of shingles."""

    shared: int
    size_a: int
    size_b: int

    @property
    def jaccard(self) -> float:
        union = self.size_a + self.size_b - self.shared
        return self.shared / union if union else 0.0

    @property
    def a_in_b(self) -> float:
        """Share of a's shingles that are in b."""
        return self.shared / self.size_a if self.size_a else 0.0

    @property
    def b_in_a(self) -> float:
        return self.shared / self.size_b if self.size_b else 0.0


def spans(a: Hashes, b: Hashes) -> tuple[Span | None, Span | None]:
    """Where two texts' shared shingles lie in each, from their shingle sequences (distinct hashes in
    text order, ``dedup.shingles.shingle_sequence``): the span from the first to the last tenth of
    them, as fractions of each text. None for both when they share nothing."""
    shared = np.intersect1d(a, b)
    if shared.shape[0] == 0:
        return None, None
    found = []
    for sequence in (a, b):
        at = np.flatnonzero(np.isin(sequence, shared, assume_unique=True)) / max(1, sequence.shape[0])
        found.append(passage(at, np.ones(at.shape[0])))
    return found[0], found[1]


def overlap(a: Hashes, b: Hashes) -> Overlap:
    """Exact overlap of two sorted, distinct hash arrays."""
    shared = int(np.intersect1d(a, b, assume_unique=True).shape[0])
    return Overlap(shared, int(a.shape[0]), int(b.shape[0]))


@dataclass(frozen=True)
class Verdict:
    """Whether two texts tell the same story, how (kind), and the rule that decided, in words."""

    kind: Kind | None
    rule: str


def judge(o: Overlap, params: Params, identical: bool = False) -> Verdict:
    """The verdict on an overlap, by the rules above."""
    if identical:
        return Verdict("identical", "identical: the same words")
    smaller = min(o.size_a, o.size_b)
    if smaller < params.min_shingles:
        return Verdict(None, f"too short to compare: {smaller} shingles (below {params.min_shingles})")
    low, high = sorted((o.a_in_b, o.b_in_a))
    c, j = params.min_containment, params.min_jaccard
    if high >= c and low < c and o.jaccard < 1.0:
        return Verdict(
            "part", f"part: {high:.2f} of the smaller text is in the larger (≥ {c}), {low:.2f} back"
        )
    if o.jaccard >= j:
        return Verdict("copy", f"copy: Jaccard {o.jaccard:.2f} ≥ {j}")
    if low >= c:
        return Verdict("copy", f"copy: each holds ≥ {c} of the other ({low:.2f}, {high:.2f})")
    return Verdict(None, f"different: Jaccard {o.jaccard:.2f} < {j} and containment {high:.2f} < {c}")
