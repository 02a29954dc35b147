"""The candidate index: MinHash LSH (near-copies), anchors (partial copies) and evidence
(translations) side by side."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from dedup.key_index import SharedKeyIndex
from dedup.lsh import LSHIndex
from dedup.shingles import Hashes
from dedup.signature import Signature

# What the index holds of an article: its id, signature, anchors and rare evidence terms.
Entry = tuple[int, Signature, Hashes, Hashes]


@dataclass
class CandidateIndex:
    """Stored articles that may tell the same story as a new one; the exact checks decide.

    A bucket of more articles than its index's ``bucket_cap`` proposes nothing, so a query's work is
    bounded by the caps, not by the size of the index; ``capped`` counts the buckets left out so far.
    """

    lsh: LSHIndex
    anchors: SharedKeyIndex
    evidence: SharedKeyIndex

    def insert(self, article_id: int, signature: Signature, anchors: Hashes, evidence: Hashes) -> None:
        self.lsh.insert(article_id, signature)
        self.anchors.insert(article_id, anchors)
        self.evidence.insert(article_id, evidence)

    def insert_many(self, articles: Iterable[Entry], batch: int = 1000) -> int:
        """Insert (id, signature, anchors, evidence) entries, ``batch`` at a time into each index
        (one pipeline each on Redis, where one at a time costs a round trip per index and article);
        returns how many were inserted."""
        inserted = 0
        entries = iter(articles)
        while chunk := list(islice(entries, batch)):
            self.lsh.storage.add_many((e[0], self.lsh.band_keys(e[1])) for e in chunk)
            self.anchors.storage.add_many((e[0], self.anchors.keys(e[2])) for e in chunk)
            self.evidence.storage.add_many((e[0], self.evidence.keys(e[3])) for e in chunk)
            inserted += len(chunk)
        return inserted

    def remove(self, article_id: int, signature: Signature, anchors: Hashes, evidence: Hashes) -> None:
        self.lsh.remove(article_id, signature)
        self.anchors.remove(article_id, anchors)
        self.evidence.remove(article_id, evidence)

    def query(self, signature: Signature, anchors: Hashes, evidence: Hashes) -> set[int]:
        return self.lsh.query(signature) | self.anchors.query(anchors) | self.evidence.query(evidence)

    @property
    def capped(self) -> int:
        """Buckets that queries have left out for holding more articles than their cap."""
        return sum(part.storage.capped for part in (self.lsh, self.anchors, self.evidence))

    def clear(self) -> None:
        self.lsh.storage.clear()
        self.anchors.storage.clear()
        self.evidence.storage.clear()

    def __len__(self) -> int:
        return len(self.lsh)
