"""Where the LSH buckets live: an abstract storage, an in-memory one, a Redis one, one factory.

A bucket is identified by its band number and the hash of that band of a signature; it holds
the ids of the articles whose signatures fall into it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Sequence

import redis

BandKeys = Sequence[bytes]


class IndexStorage(ABC):
    """Buckets of article ids, one bucket per (band, band hash)."""

    @abstractmethod
    def add(self, article_id: int, band_keys: BandKeys) -> None:
        """Put the article into one bucket per band."""

    @abstractmethod
    def remove(self, article_id: int, band_keys: BandKeys) -> None:
        """Take the article out of its buckets."""

    @abstractmethod
    def candidates(self, band_keys: BandKeys) -> set[int]:
        """Every article that shares at least one bucket with these band keys."""

    @abstractmethod
    def size(self) -> int:
        """How many articles are indexed."""

    @abstractmethod
    def clear(self) -> None:
        """Forget every article."""


class MemoryStorage(IndexStorage):
    """Buckets in this process: the embedded mode, rebuilt from the database at start."""

    def __init__(self) -> None:
        self._buckets: defaultdict[tuple[int, bytes], set[int]] = defaultdict(set)
        self._ids: set[int] = set()

    def add(self, article_id: int, band_keys: BandKeys) -> None:
        for band, key in enumerate(band_keys):
            self._buckets[band, key].add(article_id)
        self._ids.add(article_id)

    def remove(self, article_id: int, band_keys: BandKeys) -> None:
        for band, key in enumerate(band_keys):
            bucket = self._buckets.get((band, key))
            if bucket is not None:
                bucket.discard(article_id)
                if not bucket:
                    del self._buckets[band, key]
        self._ids.discard(article_id)

    def candidates(self, band_keys: BandKeys) -> set[int]:
        found: set[int] = set()
        for band, key in enumerate(band_keys):
            found |= self._buckets.get((band, key), set())
        return found

    def size(self) -> int:
        return len(self._ids)

    def clear(self) -> None:
        self._buckets.clear()
        self._ids.clear()


class RedisStorage(IndexStorage):
    """Buckets as Redis sets, shared by every worker: ``<prefix>:b<band>:<key hex>``."""

    def __init__(self, client: redis.Redis, prefix: str = "newsdedup:lsh") -> None:
        self.client = client
        self.prefix = prefix
        self._members = f"{prefix}:members"

    def _bucket(self, band: int, key: bytes) -> str:
        return f"{self.prefix}:b{band}:{key.hex()}"

    def add(self, article_id: int, band_keys: BandKeys) -> None:
        pipe = self.client.pipeline(transaction=False)
        for band, key in enumerate(band_keys):
            pipe.sadd(self._bucket(band, key), article_id)
        pipe.sadd(self._members, article_id)
        pipe.execute()

    def remove(self, article_id: int, band_keys: BandKeys) -> None:
        pipe = self.client.pipeline(transaction=False)
        for band, key in enumerate(band_keys):
            pipe.srem(self._bucket(band, key), article_id)
        pipe.srem(self._members, article_id)
        pipe.execute()

    def candidates(self, band_keys: BandKeys) -> set[int]:
        keys = [self._bucket(band, key) for band, key in enumerate(band_keys)]
        members: set[bytes] = self.client.sunion(keys)  # type: ignore[assignment]  # sync client
        return {int(m) for m in members}

    def size(self) -> int:
        return int(self.client.scard(self._members))

    def clear(self) -> None:
        batch: list[bytes] = []
        for key in self.client.scan_iter(match=f"{self.prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                self.client.unlink(*batch)
                batch.clear()
        if batch:
            self.client.unlink(*batch)


def make_storage(redis_url: str | None, prefix: str = "newsdedup:lsh") -> IndexStorage:
    """Redis storage for a Redis URL, memory storage for None; anything else is an error."""
    if redis_url is None:
        return MemoryStorage()
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"unknown index storage URL {redis_url!r}: expected redis://, rediss:// or unix://")
    return RedisStorage(redis.Redis.from_url(redis_url), prefix=prefix)
