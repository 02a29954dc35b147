"""Benchmark 3, index memory at scale: python bench/index_memory.py [N ...]

Inserts N synthetic signatures (random uint32 x 128, so every bucket is distinct: the most memory a
set of articles can take) into the in-process LSH index (threshold 0.5: 25 bands of 5 rows) through
its real insert path, then queries 10,000 of them. Prints bytes per article (growth of the process's
resident memory, and the index arrays alone), inserts per second, and p50/p99 query latency. In the
same run, datasketch's in-memory MinHashLSH takes 100,000 of the same signatures as the baseline.
Defaults: 1,000,000 and 10,000,000.
"""

from __future__ import annotations

import gc
import sys
import time

import numpy as np
from datasketch import MinHashLSH

from dedup.index_storage import MemoryStorage
from dedup.lsh import LSHIndex
from dedup.shingles import fmix32
from dedup.signature import Signature, Signer

QUERIES = 10_000
CHUNK = 100_000


def rss() -> int:
    """Resident memory of this process in bytes."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


_LANES = np.arange(128, dtype=np.uint32)


def synthetic_signature(article: int) -> Signature:
    """A random-looking signature that is a function of the article id (regenerated for queries)."""
    return fmix32(np.uint32(article) * np.uint32(128) + _LANES)


def signatures(start: int, count: int) -> Signature:
    ids = np.arange(start, start + count, dtype=np.uint32)[:, None]
    return fmix32(ids * np.uint32(128) + _LANES)


def ours(n: int) -> dict[str, float]:
    gc.collect()
    before = rss()
    storage = MemoryStorage()
    index = LSHIndex(storage, threshold=0.5, num_perm=128)
    started = time.perf_counter()
    for start in range(0, n, CHUNK):
        block = signatures(start, min(CHUNK, n - start))
        for offset, signature in enumerate(block):
            index.insert(start + offset, signature)
        print(f"  ... {start + len(block):,} inserted", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    gc.collect()
    grown = rss() - before
    latencies = []
    rng = np.random.default_rng(7)
    for article in rng.integers(0, n, size=QUERIES):
        query = synthetic_signature(int(article))
        t = time.perf_counter()
        found = index.query(query)
        latencies.append(time.perf_counter() - t)
        assert int(article) in found
    return {
        "bytes_per_article": grown / n,
        "array_bytes_per_article": storage.nbytes() / n,
        "inserts_per_s": n / elapsed,
        "p50_ms": float(np.percentile(latencies, 50)) * 1000,
        "p99_ms": float(np.percentile(latencies, 99)) * 1000,
    }


def baseline(n: int) -> dict[str, float]:
    gc.collect()
    before = rss()
    signer = Signer(128)
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    block = signatures(0, n)
    minhashes = [signer.minhash(row) for row in block]
    started = time.perf_counter()
    for i, m in enumerate(minhashes):
        lsh.insert(i, m, check_duplication=False)
    elapsed = time.perf_counter() - started
    del minhashes, block
    gc.collect()
    grown = rss() - before
    return {"bytes_per_article": grown / n, "inserts_per_s": n / elapsed}


def main(sizes: list[int]) -> None:
    base = baseline(100_000)
    print(
        f"datasketch MinHashLSH, 100,000 articles: {base['bytes_per_article']:,.0f} bytes/article, "
        f"{base['inserts_per_s']:,.0f} inserts/s"
    )
    for n in sizes:
        r = ours(n)
        print(
            f"newsdedup in-process index, {n:,} articles: {r['bytes_per_article']:,.0f} bytes/article "
            f"(arrays {r['array_bytes_per_article']:,.0f}), {r['inserts_per_s']:,.0f} inserts/s, "
            f"query p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms; "
            f"memory {base['bytes_per_article'] / r['bytes_per_article']:.1f}x less than MinHashLSH"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000_000, 10_000_000])
