"""Articles by the keys they hold (anchors, rare evidence terms): a query returns the articles
sharing at least ``min_shared`` of its keys, ignoring keys so common that they name no story."""

from __future__ import annotations

import numpy as np

from dedup.index_storage import IndexStorage
from dedup.shingles import Hashes


class SharedKeyIndex:
    """Article ids by 32-bit key; a query returns the articles sharing at least ``min_shared`` keys,
    leaving out buckets of more than ``bucket_cap`` articles (stock phrases, common names)."""

    def __init__(self, storage: IndexStorage, min_shared: int, bucket_cap: int) -> None:
        self.storage = storage
        self.min_shared = min_shared
        self.bucket_cap = bucket_cap

    @staticmethod
    def keys(values: Hashes) -> list[bytes]:
        """Each value as 4 bytes, big-endian: packed at once, then cut (about half the time of
        ``int.to_bytes`` value by value: 9 against 17 us for an article's 70 anchors)."""
        packed = np.asarray(values, dtype=np.uint32).astype(">u4").tobytes()
        return [packed[at : at + 4] for at in range(0, len(packed), 4)]

    def insert(self, article_id: int, values: Hashes) -> None:
        self.storage.add(article_id, self.keys(values))

    def remove(self, article_id: int, values: Hashes) -> None:
        self.storage.remove(article_id, self.keys(values))

    def query(self, values: Hashes) -> set[int]:
        counts = self.storage.counts(self.keys(values), cap=self.bucket_cap)
        return {article for article, shared in counts.items() if shared >= self.min_shared}

    def __len__(self) -> int:
        return self.storage.size()
