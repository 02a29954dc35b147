"""Capacity of the whole candidate index: python bench/capacity.py [N] [REDIS_N]

The LSH benchmarks (index_memory.py, redis_index.py) measure the MinHash LSH alone; a stored
article also has its anchors and its rare evidence terms in two more indexes. This one inserts N
articles (default 1,000,000) into the whole ``CandidateIndex``, built as the runtime builds it: in
process (``MemoryStorage``, one ``insert`` at a time; N = 0 skips it) and in a Redis of its own
(REDIS_N articles, default N, filled in pipelines as a reindex fills it; then 20,000 more one at a
time, as workers insert). It prints bytes an article for each index and in all, insert rates and
query latency. The Redis run is made twice: with ``CompactRedisStorage``'s default groups (the
baseline) and with the groups the runtime sizes for an index capacity of REDIS_N
(``NEWSDEDUP_INDEX_CAPACITY``).

Each article gets as many anchors and evidence terms as a document of the development corpus (or of
the demo's fixture pages when the corpus is absent), drawn in turn, and random values for them and
for its signature: every key distinct, so every bucket holds one article. That is an upper bound on
memory: real anchors of copies and real evidence terms (names, numbers) share buckets.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
import redis

from bench.index_memory import rss
from bench.services import own_redis
from bench.texts import html_pages
from config import load_settings
from dedup.candidates import CandidateIndex
from dedup.document import NoStoryText, prepare
from dedup.index_storage import IndexStorage, MemoryStorage
from dedup.key_index import SharedKeyIndex
from dedup.lsh import LSHIndex
from dedup.redis_storage import CompactRedisStorage, group_bits_for
from newsdedup.service.index import (
    ANCHOR_PREFIX,
    EVIDENCE_PREFIX,
    INDEX_PREFIX,
    KEYS_PER_ARTICLE,
    LEADING_BITS,
)
from newsdedup.service.runtime import Runtime

QUERIES = 5_000
INSERTS = 20_000
Keys = npt.NDArray[np.uint32]
Article = tuple[Keys, Keys, Keys]  # signature, anchors, evidence terms


def key_counts() -> list[tuple[int, int]]:
    """(anchors, rare evidence terms) of each real document."""
    runtime = Runtime.from_settings(load_settings().model_copy(update={"redis_url": None}))
    counts = []
    for url, html in html_pages():
        try:
            document = prepare(runtime.signer, runtime.params, url=url, html=html)
        except NoStoryText:
            continue
        rare = document.evidence.rare(runtime.params.evidence_min_weight)
        counts.append((int(document.anchors.shape[0]), int(rare.shape[0])))
    return counts


def articles(n: int, counts: list[tuple[int, int]], num_perm: int) -> Iterator[Article]:
    rng = np.random.default_rng(1)
    for i in range(n):
        anchors, terms = counts[i % len(counts)]
        keys = rng.integers(0, 2**32, size=num_perm + anchors + terms, dtype=np.uint32)
        yield keys[:num_perm], keys[num_perm : num_perm + anchors], keys[num_perm + anchors :]


def build(make: Callable[[str], IndexStorage]) -> CandidateIndex:
    """The index as the runtime builds it, its storages named by the runtime's prefixes."""
    s = load_settings()
    return CandidateIndex(
        lsh=LSHIndex(make(INDEX_PREFIX), s.lsh_threshold, s.num_perm),
        anchors=SharedKeyIndex(make(ANCHOR_PREFIX), s.min_shared_anchors, s.anchor_bucket_cap),
        evidence=SharedKeyIndex(make(EVIDENCE_PREFIX), s.min_shared_evidence, s.anchor_bucket_cap),
    )


def fill(
    index: CandidateIndex, n: int, counts: list[tuple[int, int]], label: str
) -> tuple[float, list[Article]]:
    """Insert n articles; return the insert rate and a sample of articles to query."""
    sample: list[Article] = []
    every = max(1, n // QUERIES)
    spent = 0.0
    for i, (signature, anchors, terms) in enumerate(articles(n, counts, load_settings().num_perm)):
        started = time.perf_counter()
        index.insert(i, signature, anchors, terms)
        spent += time.perf_counter() - started
        if i % every == 0:
            sample.append((signature, anchors, terms))
        if (i + 1) % 200_000 == 0:
            print(
                f"  {label}: {i + 1:,} articles, {(i + 1) / spent:,.0f} inserts/s",
                file=sys.stderr,
                flush=True,
            )
    return n / spent, sample


def latencies(index: CandidateIndex, sample: list[Article]) -> tuple[float, float]:
    spent = []
    for signature, anchors, terms in sample:
        started = time.perf_counter()
        index.query(signature, anchors, terms)
        spent.append(time.perf_counter() - started)
    return float(np.percentile(spent, 50)) * 1000, float(np.percentile(spent, 99)) * 1000


def in_process(n: int, counts: list[tuple[int, int]]) -> None:
    gc.collect()
    before = rss()
    storages: dict[str, MemoryStorage] = {}

    def make(name: str) -> IndexStorage:
        storages[name] = MemoryStorage()
        return storages[name]

    index = build(make)
    rate, sample = fill(index, n, counts, "in process")
    gc.collect()
    grown = rss() - before
    p50, p99 = latencies(index, sample)
    parts = ", ".join(f"{name.split(':')[-1]} {s.nbytes() / n:,.0f} B" for name, s in storages.items())
    print(f"in process, {n:,} articles:")
    print(f"  resident memory grown: {grown / n:,.0f} B an article (arrays: {parts})")
    print(f"  {rate:,.0f} inserts/s one at a time; query p50 {p50:.3f} ms, p99 {p99:.3f} ms")


def memory_of(client: redis.Redis, prefix: str) -> tuple[int, int]:
    """The keys under a prefix and the bytes MEMORY USAGE gives them, pipelined in batches."""
    keys = total = 0
    batch: list[bytes] = []
    for key in client.scan_iter(f"{prefix}:*", count=10_000):
        batch.append(key)
        if len(batch) == 10_000:
            total += _usage(client, batch)
            keys += len(batch)
            batch = []
    return keys + len(batch), total + _usage(client, batch)


def _usage(client: redis.Redis, keys: list[bytes]) -> int:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key)
    return sum(int(u or 0) for u in pipe.execute())


def in_redis(n: int, counts: list[tuple[int, int]], group_bits: dict[str, int | None], label: str) -> float:
    """Fill a Redis of its own with n articles in pipelines, as a reindex does, and print bytes an
    article; then time INSERTS more one at a time, as workers insert them, and queries."""
    with own_redis() as url:
        client = redis.Redis.from_url(url)
        base = int(client.info("memory")["used_memory"])
        index = build(lambda name: CompactRedisStorage(client, prefix=name, group_bits=group_bits[name]))
        num_perm = load_settings().num_perm
        entries = ((i, *keys) for i, keys in enumerate(articles(n, counts, num_perm)))
        started = time.perf_counter()
        index.insert_many(entries)
        bulk = n / (time.perf_counter() - started)
        used = int(client.info("memory")["used_memory"]) - base
        shares = {name: memory_of(client, name) for name in group_bits}
        more = list(articles(n + INSERTS, counts, num_perm))[n:]
        started = time.perf_counter()
        for i, (signature, anchors, terms) in enumerate(more, start=n):
            index.insert(i, signature, anchors, terms)
        one_by_one = INSERTS / (time.perf_counter() - started)
        p50, p99 = latencies(index, more[:: max(1, INSERTS // QUERIES)])
        client.close()
    total = sum(share for _, share in shares.values()) or 1
    parts = ", ".join(
        f"{name.split(':')[-1]} {used * share / total / n:,.0f} B in {keys:,} keys"
        for name, (keys, share) in shares.items()
    )
    print(f"Redis, {n:,} articles, {label}:")
    print(f"  used_memory grown: {used / n:,.0f} B an article ({parts}, split by MEMORY USAGE)")
    print(
        f"  {bulk:,.0f} articles/s in pipelines, {one_by_one:,.0f} one at a time (3 scripts an article);"
        f" query p50 {p50:.3f} ms, p99 {p99:.3f} ms"
    )
    return used / n


def main(n: int, redis_n: int) -> None:
    counts = key_counts()
    anchors = sum(a for a, _ in counts) / len(counts)
    terms = sum(t for _, t in counts) / len(counts)
    print(
        f"keys an article, as in {len(counts)} real documents:"
        f" {anchors:.0f} anchors, {terms:.0f} evidence terms"
    )
    if n:
        in_process(n, counts)
    default = in_redis(redis_n, counts, dict.fromkeys(KEYS_PER_ARTICLE), "default groups (baseline)")
    sized = in_redis(
        redis_n,
        counts,
        {
            name: group_bits_for(redis_n, KEYS_PER_ARTICLE[name], LEADING_BITS[name])
            for name in KEYS_PER_ARTICLE
        },
        f"groups sized for {redis_n:,} articles (NEWSDEDUP_INDEX_CAPACITY={redis_n})",
    )
    print(f"sized / default: {sized / default:.2f} of the memory")


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    main(size, int(sys.argv[2]) if len(sys.argv) > 2 else size)
