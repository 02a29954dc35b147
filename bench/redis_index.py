"""Redis index benchmark: python bench/redis_index.py [N] [--baseline-n M] [--queries Q]

Fills a Redis of its own (``redis-server`` on a free port of 127.0.0.1, no persistence, stopped
at the end) with N articles of random MinHash signatures as LSH band keys (25 bands x 5 rows, the
banding of threshold 0.5 at 128 permutations), then measures for ``CompactRedisStorage``:

- inserts per second (``add_many``: one script per article, pipelined), key hashing excluded;
- ``used_memory`` growth per article (INFO memory, before and after);
- the latency of Q queries (``counts()`` of a random inserted article's 25 keys), p50 and p99.

It measures the old ``RedisStorage`` (one set per bucket) the same way on the first M articles
(default: N, at most 1,000,000), its inserts pipelined alike (its ``add`` commands, 1,000 articles
a pipeline), and prints both and their ratios. 1 M and 1 M take about 6 minutes on 2 cores.
Random signatures share no bucket: every bucket holds one article, the case of a large index of
mostly distinct stories.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import services
from dedup.index_storage import IndexStorage, MemoryStorage
from dedup.lsh import LSHIndex
from dedup.redis_storage import CompactRedisStorage

NUM_PERM = 128
THRESHOLD = 0.5
CHUNK = 10_000  # articles generated, and inserted, at a time
BATCH = 1000  # articles per pipeline
PREFIX = "newsdedup:lsh"  # the service's own prefix: key names as long as in production
SEED = 20260310

Keys = list[bytes]


@contextmanager
def own_redis() -> Iterator[redis.Redis]:
    """A redis-server of this benchmark's own on a free port of 127.0.0.1, stopped on exit."""
    with services.own_redis() as url:
        client = redis.Redis.from_url(url)
        try:
            version = client.info("server")["redis_version"]
            print(f"redis-server {version} at {url}", flush=True)
            yield client
        finally:
            client.close()


def chunk_keys(index: LSHIndex, chunk: int) -> list[Keys]:
    """The band keys of articles chunk * CHUNK .. (chunk + 1) * CHUNK - 1, the same in every call."""
    rng = np.random.default_rng([SEED, chunk])
    signatures = rng.integers(0, 2**32, size=(CHUNK, NUM_PERM), dtype=np.uint32)
    return [index.band_keys(signature) for signature in signatures]


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


@dataclass
class Result:
    name: str
    articles: int
    inserts_per_s: float
    bytes_per_article: float
    p50_ms: float
    p99_ms: float
    keys: int


def measure(
    name: str,
    client: redis.Redis,
    storage: IndexStorage,
    insert: Callable[[list[tuple[int, Keys]]], None],
    n: int,
    queries: int,
) -> Result:
    """Insert articles 0 .. n - 1 with ``insert``, then query random ones."""
    lsh = LSHIndex(MemoryStorage(), THRESHOLD, NUM_PERM)
    rng = random.Random(SEED)
    wanted = sorted(rng.choices(range(n), k=queries))
    wanted_set = set(wanted)
    saved: dict[int, Keys] = {}
    client.flushall()
    before = used_memory(client)
    spent = hashing = 0.0
    started = time.perf_counter()
    for chunk in range((n + CHUNK - 1) // CHUNK):
        t0 = time.perf_counter()
        keys = chunk_keys(lsh, chunk)
        first = chunk * CHUNK
        items = [(first + i, k) for i, k in enumerate(keys) if first + i < n]
        saved.update((a, k) for a, k in items if a in wanted_set)
        t1 = time.perf_counter()
        for at in range(0, len(items), BATCH):
            insert(items[at : at + BATCH])
        t2 = time.perf_counter()
        hashing += t1 - t0
        spent += t2 - t1
        done = first + len(items)
        if chunk % 10 == 9 or done == n:
            print(
                f"  {name}: {done:>9,} articles, {done / spent:>8,.0f} inserts/s, "
                f"{(used_memory(client) - before) / done:>6,.0f} B/article, "
                f"{time.perf_counter() - started:5.0f} s",
                flush=True,
            )
    after = used_memory(client)
    print(f"  {name}: band keys computed in {hashing:.0f} s (not counted); querying", flush=True)
    latencies = np.empty(queries)
    order = wanted[:]
    rng.shuffle(order)
    for q, article in enumerate(order):
        t0 = time.perf_counter()
        found = storage.counts(saved[article])
        latencies[q] = time.perf_counter() - t0
        if found[article] != lsh.bands:
            sys.exit(f"{name}: article {article} is in {found[article]} of its {lsh.bands} buckets")
    return Result(
        name=name,
        articles=n,
        inserts_per_s=n / spent,
        bytes_per_article=(after - before) / n,
        p50_ms=float(np.percentile(latencies, 50)) * 1000,
        p99_ms=float(np.percentile(latencies, 99)) * 1000,
        keys=int(client.dbsize()),
    )


def encodings(client: redis.Redis, samples: int = 2000) -> dict[str, int]:
    """The encodings of randomly sampled keys."""
    found: dict[str, int] = {}
    for _ in range(samples):
        key = client.randomkey()
        if key is None:
            break
        kind = f"{_text(client.type(key))}/{_text(client.object('encoding', key))}"
        found[kind] = found.get(kind, 0) + 1
    return found


def _text(reply: object) -> str:
    return reply.decode() if isinstance(reply, bytes) else str(reply)


class RedisStorage(IndexStorage):
    """The first Redis storage of the project, kept here as the baseline: one Redis set per bucket,
    ``<prefix>:<key hex>``."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._members = f"{prefix}:members"

    def _bucket(self, key: bytes) -> str:
        return f"{self.prefix}:{key.hex()}"

    def add(self, article_id: int, keys: Sequence[bytes]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.sadd(self._bucket(key), article_id)
        pipe.sadd(self._members, article_id)
        pipe.execute()

    def remove(self, article_id: int, keys: Sequence[bytes]) -> None:
        raise NotImplementedError("the baseline is only inserted into and queried")

    def counts(self, keys: Sequence[bytes], cap: int | None = None) -> Counter[int]:
        pipe = self.client.pipeline(transaction=False)
        for key in sorted(set(keys)):
            pipe.smembers(self._bucket(key))
        found: Counter[int] = Counter()
        for members in pipe.execute():
            if cap is None or len(members) <= cap:
                found.update(int(m) for m in members)
        return found

    def size(self) -> int:
        return int(self.client.scard(self._members))

    def clear(self) -> None:
        for key in self.client.scan_iter(match=f"{self.prefix}:*", count=1000):
            self.client.unlink(key)


def legacy_insert(storage: RedisStorage) -> Callable[[list[tuple[int, Keys]]], None]:
    """RedisStorage.add's commands, for a batch of articles in one pipeline."""

    def insert(items: list[tuple[int, Keys]]) -> None:
        pipe = storage.client.pipeline(transaction=False)
        for article_id, keys in items:
            for key in keys:
                pipe.sadd(storage._bucket(key), article_id)
            pipe.sadd(storage._members, article_id)
        pipe.execute()

    return insert


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000, help="articles (default 1,000,000)")
    parser.add_argument("--baseline-n", type=int, help="articles for RedisStorage (default N, at most 1 M)")
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--group-bits", type=int, help="CompactRedisStorage group_bits (default: its own)")
    args = parser.parse_args()
    n: int = args.n
    baseline_n: int = args.baseline_n or min(n, 1_000_000)

    with own_redis() as client:
        compact = CompactRedisStorage(client, PREFIX, group_bits=args.group_bits, batch=BATCH)
        new = measure("compact", client, compact, compact.add_many, n, args.queries)
        kinds = encodings(client)
        print(f"  compact: sampled key encodings {kinds}", flush=True)
        legacy = RedisStorage(client, PREFIX)
        old = measure("sets", client, legacy, legacy_insert(legacy), baseline_n, args.queries)
        client.flushall()

    rows = [
        ("articles", f"{new.articles:,}", f"{old.articles:,}", ""),
        ("Redis keys", f"{new.keys:,}", f"{old.keys:,}", ""),
        (
            "used_memory / article",
            f"{new.bytes_per_article:,.0f} B",
            f"{old.bytes_per_article:,.0f} B",
            f"{new.bytes_per_article / old.bytes_per_article:.2f}x",
        ),
        (
            "inserts / s",
            f"{new.inserts_per_s:,.0f}",
            f"{old.inserts_per_s:,.0f}",
            f"{new.inserts_per_s / old.inserts_per_s:.2f}x",
        ),
        ("query p50", f"{new.p50_ms:.3f} ms", f"{old.p50_ms:.3f} ms", f"{new.p50_ms / old.p50_ms:.2f}x"),
        ("query p99", f"{new.p99_ms:.3f} ms", f"{old.p99_ms:.3f} ms", f"{new.p99_ms / old.p99_ms:.2f}x"),
    ]
    widths = [
        max(len(row[i]) for row in [("", "compact", "sets (old)", "compact/old"), *rows]) for i in range(4)
    ]
    print()
    for row in [("", "compact", "sets (old)", "compact/old"), *rows]:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    targets = [
        ("memory <= 1.5 KB/article", new.bytes_per_article <= 1536),
        (">= 5,000 inserts/s", new.inserts_per_s >= 5000),
        ("p99 <= 5 ms", new.p99_ms <= 5),
    ]
    print("\ntargets: " + ", ".join(f"{label}: {'met' if ok else 'MISSED'}" for label, ok in targets))


if __name__ == "__main__":
    main()
