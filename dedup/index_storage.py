"""Where index buckets live: an abstract storage, an in-memory one (here), a Redis one
(``dedup.redis_storage``), one factory.

A bucket is named by a key of bytes (a band of a MinHash signature, an anchor) and holds the ids of
the articles that have that key. Both indexes, MinHash LSH and anchors, keep their buckets here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from xxhash import xxh3_64_intdigest

if TYPE_CHECKING:
    # Imported where Redis is used: the embedded mode never loads the client.
    from redis import Redis
    from redis.cluster import RedisCluster

Keys = Sequence[bytes]


class IndexStorage(ABC):
    """Buckets of article ids, by key. ``capped`` counts the buckets that ``counts`` left out for
    holding more than its cap, since the storage was made (the index-size benchmark reports it)."""

    capped: int = 0

    @abstractmethod
    def add(self, article_id: int, keys: Keys) -> None:
        """Put the article into the bucket of each key."""

    def add_many(self, items: Iterable[tuple[int, Keys]]) -> None:
        """Add many articles (a rebuild); a storage with round trips sends them in batches."""
        for article_id, keys in items:
            self.add(article_id, keys)

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


_BUFFER_PAIRS = 8192
_Keys64 = npt.NDArray[np.uint64]
_Ids = npt.NDArray[np.uint32]


class _Segment:
    """Pairs sorted by key."""

    def __init__(self, keys: _Keys64, ids: _Ids) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys: _Keys64 = keys[order]
        self.ids: _Ids = ids[order]

    def __len__(self) -> int:
        return int(self.keys.shape[0])


class MemoryStorage(IndexStorage):
    """Buckets in this process (the embedded mode, rebuilt from the database at start), compact:

    each (bucket key, article id) pair costs 12 bytes (a 64-bit key hash and a 32-bit id), against
    several hundred for a Python set per bucket, so an LSH index of 25 bands holds an article in
    about 300 bytes. New pairs go to a small dict; when it fills up it becomes a sorted segment, and
    segments of similar size are merged (as in a log-structured merge tree), so an insert costs
    amortised O(log n) and a query one binary search per segment. Removed pairs are remembered
    until the next merge drops them.
    """

    def __init__(self) -> None:
        self.capped = 0
        self._buffer: defaultdict[int, list[int]] = defaultdict(list)
        self._buffered = 0
        self._segments: list[_Segment] = []
        self._removed: set[tuple[int, int]] = set()
        self._members = np.zeros(1024, dtype=np.bool_)
        self._size = 0

    def add(self, article_id: int, keys: Keys) -> None:
        hashed = [xxh3_64_intdigest(key) for key in keys]
        for h in hashed:
            self._buffer[h].append(article_id)
        if self._removed:
            self._removed.difference_update((h, article_id) for h in hashed)
        self._buffered += len(hashed)
        self._mark(article_id, True)
        if self._buffered >= _BUFFER_PAIRS:
            self._flush()

    def remove(self, article_id: int, keys: Keys) -> None:
        for key in keys:
            hashed = xxh3_64_intdigest(key)
            bucket = self._buffer.get(hashed)
            while bucket is not None and article_id in bucket:
                bucket.remove(article_id)
                self._buffered -= 1
            # A copy may also sit in a segment.
            self._removed.add((hashed, article_id))
        self._mark(article_id, False)

    def counts(self, keys: Keys, cap: int | None = None) -> Counter[int]:
        hashed = list(dict.fromkeys(map(xxh3_64_intdigest, keys)))
        # Where each key's ids lie in each segment, and so its bucket's size before any id is read:
        # a bucket over the cap costs its binary searches however large it has grown. (Removed
        # pairs may make it smaller: an exact count only when some are pending.)
        spans: list[tuple[_Segment, npt.NDArray[np.intp], npt.NDArray[np.intp]]] = []
        sizes = np.array([len(self._buffer.get(h, ())) for h in hashed], dtype=np.int64)
        if self._segments:
            query = np.array(hashed, dtype=np.uint64)
            for segment in self._segments:
                starts = segment.keys.searchsorted(query, side="left")
                ends = segment.keys.searchsorted(query, side="right")
                spans.append((segment, starts, ends))
                sizes += ends - starts
        # Every article of every bucket that counts, once a bucket; counted at the end, in one call.
        found: list[int] = []
        for i in np.flatnonzero(sizes).tolist():
            if cap is not None and sizes[i] > cap and not self._removed:
                self.capped += 1
                continue
            h = hashed[i]
            ids = list(self._buffer.get(h, ()))
            for segment, starts, ends in spans:
                ids.extend(segment.ids[starts[i] : ends[i]].tolist())
            bucket = {a for a in ids if (h, a) not in self._removed} if self._removed else set(ids)
            if cap is not None and len(bucket) > cap:
                self.capped += 1
                continue
            found.extend(bucket)
        return Counter(found)

    def size(self) -> int:
        return self._size

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]  # resetting every field is what clear means

    def pairs(self) -> int:
        """How many (bucket, article) pairs are held (for the memory benchmark)."""
        return self._buffered + sum(len(s) for s in self._segments)

    def nbytes(self) -> int:
        """Bytes held by the segments' arrays."""
        return sum(s.keys.nbytes + s.ids.nbytes for s in self._segments) + self._members.nbytes

    def _mark(self, article_id: int, present: bool) -> None:
        if article_id >= self._members.shape[0]:
            grown = np.zeros(max(article_id + 1, 2 * self._members.shape[0]), dtype=np.bool_)
            grown[: self._members.shape[0]] = self._members
            self._members = grown
        if bool(self._members[article_id]) != present:
            self._members[article_id] = present
            self._size += 1 if present else -1

    def _flush(self) -> None:
        # Each bucket's key repeated once for each of its ids, without a Python step per pair.
        buckets = np.fromiter(self._buffer.keys(), np.uint64, len(self._buffer))
        sizes = np.fromiter(map(len, self._buffer.values()), np.int64, len(self._buffer))
        keys = np.repeat(buckets, sizes)
        ids = np.fromiter(chain.from_iterable(self._buffer.values()), np.uint32, self._buffered)
        self._buffer.clear()
        self._buffered = 0
        self._segments.append(_Segment(keys, ids))
        # Merge while the newest segment is at least half the size of the one before it.
        while len(self._segments) > 1 and 2 * len(self._segments[-1]) >= len(self._segments[-2]):
            newer, older = self._segments.pop(), self._segments.pop()
            self._segments.append(self._merge(older, newer))

    def _merge(self, older: _Segment, newer: _Segment) -> _Segment:
        keys = np.concatenate([older.keys, newer.keys])
        ids = np.concatenate([older.ids, newer.ids])
        if self._removed:
            dead = np.array([k for k, _ in self._removed], dtype=np.uint64)
            candidates = np.isin(keys, dead)
            if candidates.any():
                keep = np.ones(keys.shape[0], dtype=np.bool_)
                for position in np.nonzero(candidates)[0]:
                    if (int(keys[position]), int(ids[position])) in self._removed:
                        keep[position] = False
                keys, ids = keys[keep], ids[keep]
        return _Segment(keys, ids)


def make_storage(
    redis: str | Redis | RedisCluster | None,
    prefix: str,
    group_bits: int | None = None,
    cluster_tags: int | None = None,
) -> IndexStorage:
    """Redis storage for a Redis URL or client (its keys in groups of ``group_bits``, and for a
    Redis Cluster spread over ``cluster_tags`` hash tags, by default CLUSTER_TAGS: see
    CompactRedisStorage), memory storage for None; anything else is an error."""
    if redis is None:
        return MemoryStorage()
    from dedup.redis_storage import CLUSTER_TAGS, CompactRedisStorage  # it builds on this module

    client = connect(redis) if isinstance(redis, str) else redis
    from redis.cluster import RedisCluster

    tags = (cluster_tags or CLUSTER_TAGS) if isinstance(client, RedisCluster) else 1
    return CompactRedisStorage(client, prefix=prefix, group_bits=group_bits, tags=tags)


def connect(url: str) -> Redis | RedisCluster:
    """A client of the Redis at this URL: a Redis Cluster client if the server is a cluster node
    (``INFO cluster``), else a plain one. An unreachable server gives a plain client, whose first
    command raises the connection error as any other would."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"unknown index storage URL {url!r}: expected redis://, rediss:// or unix://")
    import redis  # only here: the embedded mode never loads the client
    from redis.cluster import RedisCluster

    client = redis.Redis.from_url(url)
    try:
        enabled = client.info("cluster").get("cluster_enabled")
    except redis.RedisError:
        return client
    if not enabled:
        return client
    client.close()
    return RedisCluster.from_url(url)
