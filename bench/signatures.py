"""Benchmark 1, signature and index: python bench/signatures.py [DOCS] [WORDS]

Documents per second for shingling + MinHash signature + LSH query + insert on cleaned texts of
WORDS words (default 2,000 texts of 600 words), newsdedup against the naive datasketch loop on the
same texts (string shingles, per-shingle ``MinHash.update`` with datasketch's default SHA-1 hash,
``MinHashLSH.query`` and ``insert``), one core, in the same process; prints both and the ratio.
"""

from __future__ import annotations

import sys
import time

from datasketch import MinHash, MinHashLSH

from bench.texts import html_pages, word_windows
from dedup.extract import extract
from dedup.index_storage import MemoryStorage
from dedup.lsh import LSHIndex
from dedup.shingles import shingle_hashes, shingles
from dedup.signature import Signer


def ours(texts: list[str]) -> float:
    signer = Signer(128)
    index = LSHIndex(MemoryStorage(), threshold=0.5, num_perm=128)
    started = time.perf_counter()
    for i, text in enumerate(texts):
        signature = signer.sign(shingle_hashes(text, 4, 3))
        index.query(signature)
        index.insert(i, signature)
    return len(texts) / (time.perf_counter() - started)


def naive(texts: list[str]) -> float:
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    started = time.perf_counter()
    for i, text in enumerate(texts):
        minhash = MinHash(num_perm=128)
        for shingle in shingles(text, 4, 3):
            minhash.update(shingle.encode())
        lsh.query(minhash)
        lsh.insert(i, minhash)
    return len(texts) / (time.perf_counter() - started)


def main(count: int, words: int) -> None:
    cleaned = [extract(html, url).text for url, html in html_pages()]
    texts = word_windows(cleaned, words, count)
    print(f"{len(texts)} texts of {words} words, one core")
    naive_rate = naive(texts[: max(200, count // 5)])
    our_rate = ours(texts)
    print(f"  naive datasketch loop: {naive_rate:9.0f} documents/s")
    print(f"  newsdedup:             {our_rate:9.0f} documents/s")
    print(f"  ratio: {our_rate / naive_rate:.1f}x (targets: 20x, 10,000 documents/s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 600)
