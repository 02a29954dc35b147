"""Benchmark 1, signature and index: python -m bench.signatures [DOCS] [WORDS]

Documents per second for shingling + MinHash signature + LSH query + insert on cleaned texts of
WORDS words (default 2,000 texts of 600 words), one document at a time as the service does it,
newsdedup against the naive datasketch loop on the same texts (string shingles, per-shingle
``MinHash.update`` with datasketch's default SHA-1 hash, ``MinHashLSH.query`` and ``insert``), one
core, in the same process; prints both and the ratio, then what each of newsdedup's stages costs.

Times are the CPU time of this process (``time.process_time``), so other processes on the machine
do not count; the wall-clock rate is printed beside it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TypeVar

from datasketch import MinHash, MinHashLSH

from bench.texts import html_pages, word_windows
from dedup.extract import extract
from dedup.index_storage import MemoryStorage
from dedup.lsh import LSHIndex
from dedup.shingles import shingle_hashes, shingles, tokens
from dedup.signature import Signer

T = TypeVar("T")


def rates(run: Callable[[], None], count: int) -> tuple[float, float]:
    """Documents per second of CPU time and of wall-clock time."""
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return count / (time.process_time() - cpu), count / (time.perf_counter() - wall)


def ours(texts: list[str]) -> None:
    signer = Signer(128)
    index = LSHIndex(MemoryStorage(), threshold=0.5, num_perm=128)
    for i, text in enumerate(texts):
        signature = signer.sign(shingle_hashes(text, 4, 3))
        index.query(signature)
        index.insert(i, signature)


def naive(texts: list[str]) -> None:
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for i, text in enumerate(texts):
        minhash = MinHash(num_perm=128)
        for shingle in shingles(text, 4, 3):
            minhash.update(shingle.encode())
        lsh.query(minhash)
        lsh.insert(i, minhash)


def stages(texts: list[str]) -> dict[str, float]:
    """Microseconds of CPU time per document of each stage, each run over all texts in turn."""
    signer = Signer(128)
    index = LSHIndex(MemoryStorage(), threshold=0.5, num_perm=128)
    spent: dict[str, float] = {}

    def stage(name: str, run: Callable[[], T]) -> T:
        started = time.process_time()
        out = run()
        spent[name] = (time.process_time() - started) / len(texts) * 1e6
        return out

    stage("tokens (text to words, for comparison)", lambda: [tokens(t) for t in texts])
    hashes = stage("shingle hashes", lambda: [shingle_hashes(t, 4, 3) for t in texts])
    signatures = stage("signature", lambda: [signer.sign(h) for h in hashes])
    keys = stage("band keys", lambda: [index.band_keys(s) for s in signatures])
    stage(
        "bucket counts + add",
        lambda: [(index.storage.counts(k), index.storage.add(i, k)) for i, k in enumerate(keys)],
    )
    return spent


def main(count: int, words: int) -> None:
    cleaned = [extract(html, url).text for url, html in html_pages()]
    texts = word_windows(cleaned, words, count)
    print(f"{len(texts)} texts of {words} words, one core")
    some = texts[: max(200, count // 5)]
    naive_rate, naive_wall = rates(lambda: naive(some), len(some))
    our_rate, our_wall = rates(lambda: ours(texts), len(texts))
    print(f"  naive datasketch loop: {naive_rate:9.0f} documents/s (wall clock {naive_wall:.0f})")
    print(f"  newsdedup:             {our_rate:9.0f} documents/s (wall clock {our_wall:.0f})")
    print(f"  ratio: {our_rate / naive_rate:.1f}x (targets: 20x, 10,000 documents/s)")
    print("  newsdedup's stages, microseconds a document:")
    for name, micros in stages(texts).items():
        print(f"    {name:40s} {micros:7.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 600)
