"""Anchors: a content-defined sample of a text's shingle hashes, for finding partial copies.

A MinHash estimates the Jaccard similarity of whole texts, and an excerpt of 30 % of a story, or a
story spliced into a post twice its length, has a low one. Anchors find them: every shingle whose
hash is 0 modulo ``modulus`` is an anchor, so a shared passage shares its anchors wherever it
stands in either text (no alignment needed), and about one shingle in ``modulus`` is indexed.
"""

from __future__ import annotations

import numpy as np

from dedup.index_storage import IndexStorage
from dedup.shingles import Hashes


def anchors(hashes: Hashes, modulus: int) -> Hashes:
    """The anchors among the shingle hashes."""
    selected: Hashes = hashes[hashes % np.uint32(modulus) == 0]
    return selected


class AnchorIndex:
    """Article ids by key (anchors; evidence tokens); a query returns the articles sharing at least
    ``min_shared`` keys."""

    def __init__(self, storage: IndexStorage, min_shared: int, bucket_cap: int) -> None:
        self.storage = storage
        self.min_shared = min_shared
        self.bucket_cap = bucket_cap

    @staticmethod
    def keys(anchors: Hashes) -> list[bytes]:
        return [int(a).to_bytes(4, "big") for a in anchors]

    def insert(self, article_id: int, anchors: Hashes) -> None:
        self.storage.add(article_id, self.keys(anchors))

    def remove(self, article_id: int, anchors: Hashes) -> None:
        self.storage.remove(article_id, self.keys(anchors))

    def query(self, anchors: Hashes) -> set[int]:
        counts = self.storage.counts(self.keys(anchors), cap=self.bucket_cap)
        return {article for article, shared in counts.items() if shared >= self.min_shared}

    def __len__(self) -> int:
        return self.storage.size()
