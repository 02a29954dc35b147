"""The candidate index: MinHash LSH (near-copies), anchors (partial copies) and evidence
(translations) side by side."""

from __future__ import annotations

from dataclasses import dataclass

from dedup.anchors import AnchorIndex
from dedup.lsh import LSHIndex
from dedup.shingles import Hashes
from dedup.signature import Signature


@dataclass
class CandidateIndex:
    """Stored articles that may tell the same story as a new one; the exact checks decide."""

    lsh: LSHIndex
    anchors: AnchorIndex
    evidence: AnchorIndex

    def insert(self, article_id: int, signature: Signature, anchors: Hashes, evidence: Hashes) -> None:
        self.lsh.insert(article_id, signature)
        self.anchors.insert(article_id, anchors)
        self.evidence.insert(article_id, evidence)

    def remove(self, article_id: int, signature: Signature, anchors: Hashes, evidence: Hashes) -> None:
        self.lsh.remove(article_id, signature)
        self.anchors.remove(article_id, anchors)
        self.evidence.remove(article_id, evidence)

    def query(self, signature: Signature, anchors: Hashes, evidence: Hashes) -> set[int]:
        return self.lsh.query(signature) | self.anchors.query(anchors) | self.evidence.query(evidence)

    def clear(self) -> None:
        self.lsh.storage.clear()
        self.anchors.storage.clear()
        self.evidence.storage.clear()

    def __len__(self) -> int:
        return len(self.lsh)
