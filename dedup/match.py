"""Verification of LSH candidates: which stored articles really tell the same story."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dedup.signature import Signature, estimated_jaccard


@dataclass(frozen=True)
class Candidate:
    """A stored article that the LSH index returned."""

    article_id: int
    cluster_id: int
    signature: Signature


@dataclass(frozen=True)
class Match:
    """A candidate that passed verification, with its estimated Jaccard similarity."""

    article_id: int
    cluster_id: int
    similarity: float


def verify(signature: Signature, candidates: Iterable[Candidate], threshold: float) -> list[Match]:
    """Candidates whose estimated Jaccard similarity reaches the threshold, best first.

    Ties are broken by the lower cluster id, then the lower article id, so that the order never
    depends on the order in which the index returned them.
    """
    matches = [
        Match(c.article_id, c.cluster_id, similarity)
        for c in candidates
        if (similarity := estimated_jaccard(signature, c.signature)) >= threshold
    ]
    return sorted(matches, key=lambda m: (-m.similarity, m.cluster_id, m.article_id))
