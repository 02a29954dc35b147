"""MinHash LSH, which proposes near-copies as candidates.

The LSH bands and rows are the ones datasketch's ``MinHashLSH`` picks for the threshold, and a
band's bucket is chosen by the band's values exactly as there, so the candidates are the ones
``MinHashLSH`` would return for the same signatures.
"""

from __future__ import annotations

from functools import lru_cache

import xxhash
from datasketch import MinHashLSH

from dedup.index_storage import IndexStorage
from dedup.signature import Signature


@lru_cache(maxsize=16)
def banding(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) minimising false positives plus false negatives, per datasketch."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


def band_keys(signature: Signature, bands: int, rows: int) -> list[bytes]:
    """One key per band: the band number, then xxh64 of the band's values (big-endian, as datasketch
    hashes them). Two signatures are LSH candidates when they share a key."""
    big_endian = signature.astype(">u4", copy=False)
    return [
        band.to_bytes(2, "big") + xxhash.xxh64_digest(big_endian[band * rows : (band + 1) * rows].tobytes())
        for band in range(bands)
    ]


class LSHIndex:
    """Article ids by MinHash signature; a query returns the likely similar ones."""

    def __init__(self, storage: IndexStorage, threshold: float, num_perm: int) -> None:
        self.storage = storage
        self.num_perm = num_perm
        self.bands, self.rows = banding(threshold, num_perm)

    def band_keys(self, signature: Signature) -> list[bytes]:
        if signature.shape[0] != self.num_perm:
            raise ValueError(f"signature has {signature.shape[0]} values, the index expects {self.num_perm}")
        return band_keys(signature, self.bands, self.rows)

    def insert(self, article_id: int, signature: Signature) -> None:
        self.storage.add(article_id, self.band_keys(signature))

    def remove(self, article_id: int, signature: Signature) -> None:
        self.storage.remove(article_id, self.band_keys(signature))

    def query(self, signature: Signature) -> set[int]:
        return set(self.storage.counts(self.band_keys(signature)))

    def __len__(self) -> int:
        return self.storage.size()
