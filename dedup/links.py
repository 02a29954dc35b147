"""A link between two stored articles as an edge of the graph the clusters are derived from
(``dedup.partition``).

In one language a link is a verdict of ``dedup.overlap`` (identical, copy, part): the texts tell one
story. Across languages it is a scored pair (``dedup.crosslang``): whether it joins two stories is
decided when the clusters are derived, against the background of each side (``dedup.attachment``).
"""

from __future__ import annotations

from dataclasses import dataclass

from dedup.crosslang import Span


@dataclass(frozen=True)
class Edge:
    """Two articles and how they agree.

    In one language: the exact Jaccard similarity and each text's containment in the other (the share
    of a's shingles in b, and back). Across languages (``score`` set): the pair's score (publication
    times and a source link taken into account), the share of each side's evidence that is matched,
    the number of matched terms, and the passage score of each side. On both: where in each text the
    agreement lies (``span_a``, ``span_b``), when known.
    """

    a: int
    b: int
    jaccard: float = 0.0
    a_in_b: float = 0.0
    b_in_a: float = 0.0
    score: float | None = None
    matches: int = 0
    span_a: Span | None = None
    span_b: Span | None = None
    passage_a: float = 0.0
    passage_b: float = 0.0
    # Across languages: one names the other as its source (a source link).
    claimed: bool = False

    @property
    def across(self) -> bool:
        """A link between two languages."""
        return self.score is not None
