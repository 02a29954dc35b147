"""Where index buckets live: an abstract storage, an in-memory one, a Redis one, one factory.

A bucket is named by a key of bytes (a band of a MinHash signature, an anchor) and holds the ids of
the articles that have that key. Both indexes, MinHash LSH and anchors, keep their buckets here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Sequence

import redis

Keys = Sequence[bytes]


class IndexStorage(ABC):
    """Buckets of article ids, by key."""

    @abstractmethod
    def add(self, article_id: int, keys: Keys) -> None:
        """Put the article into the bucket of each key."""

    @abstractmethod
    def remove(self, article_id: int, keys: Keys) -> None:
        """Take the article out of those buckets."""

    @abstractmethod
    def counts(self, keys: Keys, cap: int | None = None) -> Counter[int]:
        """For every article in the buckets of these keys, in how many of them it is. Buckets of
        more than ``cap`` articles are left out."""

    @abstractmethod
    def size(self) -> int:
        """How many articles are indexed."""

    @abstractmethod
    def clear(self) -> None:
        """Forget every article."""


class MemoryStorage(IndexStorage):
    """Buckets in this process: the embedded mode, rebuilt from the database at start."""

    def __init__(self) -> None:
        self._buckets: defaultdict[bytes, set[int]] = defaultdict(set)
        self._ids: set[int] = set()

    def add(self, article_id: int, keys: Keys) -> None:
        for key in keys:
            self._buckets[key].add(article_id)
        self._ids.add(article_id)

    def remove(self, article_id: int, keys: Keys) -> None:
        for key in keys:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.discard(article_id)
                if not bucket:
                    del self._buckets[key]
        self._ids.discard(article_id)

    def counts(self, keys: Keys, cap: int | None = None) -> Counter[int]:
        found: Counter[int] = Counter()
        for key in set(keys):
            bucket = self._buckets.get(key)
            if bucket and (cap is None or len(bucket) <= cap):
                found.update(bucket)
        return found

    def size(self) -> int:
        return len(self._ids)

    def clear(self) -> None:
        self._buckets.clear()
        self._ids.clear()


class RedisStorage(IndexStorage):
    """Buckets as Redis sets, shared by every worker: ``<prefix>:<key hex>``."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._members = f"{prefix}:members"

    def _bucket(self, key: bytes) -> str:
        return f"{self.prefix}:{key.hex()}"

    def add(self, article_id: int, keys: Keys) -> None:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.sadd(self._bucket(key), article_id)
        pipe.sadd(self._members, article_id)
        pipe.execute()

    def remove(self, article_id: int, keys: Keys) -> None:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.srem(self._bucket(key), article_id)
        pipe.srem(self._members, article_id)
        pipe.execute()

    def counts(self, keys: Keys, cap: int | None = None) -> Counter[int]:
        unique = sorted(set(keys))
        pipe = self.client.pipeline(transaction=False)
        for key in unique:
            if cap is None:
                pipe.smembers(self._bucket(key))
            else:
                # A capped bucket is only read when it is small enough: SCARD first, in the same trip.
                pipe.scard(self._bucket(key))
        replies = pipe.execute()
        if cap is not None:
            small = [key for key, n in zip(unique, replies, strict=True) if 0 < n <= cap]
            pipe = self.client.pipeline(transaction=False)
            for key in small:
                pipe.smembers(self._bucket(key))
            replies = pipe.execute()
        found: Counter[int] = Counter()
        for members in replies:
            found.update(int(m) for m in members)
        return found

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


def make_storage(redis_url: str | None, prefix: str) -> IndexStorage:
    """Redis storage for a Redis URL, memory storage for None; anything else is an error."""
    if redis_url is None:
        return MemoryStorage()
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"unknown index storage URL {redis_url!r}: expected redis://, rediss:// or unix://")
    return RedisStorage(redis.Redis.from_url(redis_url), prefix=prefix)
