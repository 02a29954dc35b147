"""MinHash LSH, which proposes near-copies as candidates.

The LSH bands and rows are the ones datasketch's ``MinHashLSH`` picks for the threshold, and a
band's bucket is chosen by the band's values exactly as there, so the candidates are the ones
``MinHashLSH`` would return for the same signatures (tests compare both). datasketch itself is not
imported here: it imports scipy, half a second and 50 MB at every start.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import xxhash

from dedup.index_storage import IndexStorage
from dedup.signature import Signature

# datasketch's default weights of false positives and false negatives.
_FALSE_POSITIVE_WEIGHT = 0.5
_FALSE_NEGATIVE_WEIGHT = 0.5


@lru_cache(maxsize=16)
def banding(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) minimising the weighted false positive and false negative
    probabilities, as datasketch's ``_optimal_param`` does: over every b bands of r rows with
    b * r <= num_perm, the integrals over s in [0, threshold] of P(candidate) = 1 - (1 - s**r)**b
    and over [threshold, 1] of 1 - P(candidate); the first (b, r) in its order with the least error.

    datasketch integrates with scipy's ``quad``; here Gauss-Legendre quadrature, which is exact (up
    to rounding) for these polynomials of degree b * r <= num_perm with num_perm // 2 + 1 nodes."""
    from numpy.polynomial.legendre import leggauss  # only here: the rest of numpy.polynomial is unused

    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    bands = np.array([b for b, _ in pairs], dtype=np.float64)[:, np.newaxis]
    rows = np.array([r for _, r in pairs], dtype=np.float64)[:, np.newaxis]
    nodes, weights = leggauss(num_perm // 2 + 1)

    def integral(low: float, high: float, candidate: bool) -> np.ndarray:
        s = (high - low) / 2 * nodes + (high + low) / 2
        probability = 1 - (1 - s**rows) ** bands
        values = probability if candidate else 1 - probability
        result: np.ndarray = (high - low) / 2 * (values @ weights)
        return result

    error = _FALSE_POSITIVE_WEIGHT * integral(0.0, threshold, True)
    error += _FALSE_NEGATIVE_WEIGHT * integral(threshold, 1.0, False)
    return pairs[int(np.argmin(error))]


@lru_cache(maxsize=16)
def _band_prefixes(bands: int) -> tuple[bytes, ...]:
    return tuple(band.to_bytes(2, "big") for band in range(bands))


def band_keys(signature: Signature, bands: int, rows: int) -> list[bytes]:
    """One key per band: the band number, then xxh64 of the band's values (big-endian, as datasketch
    hashes them). Two signatures are LSH candidates when they share a key."""
    big_endian = signature.astype(">u4", copy=False).tobytes()
    width = 4 * rows
    return [
        prefix + xxhash.xxh64_digest(big_endian[start : start + width])
        for prefix, start in zip(_band_prefixes(bands), range(0, bands * width, width), strict=True)
    ]


class LSHIndex:
    """Article ids by MinHash signature; a query returns the likely similar ones. A band bucket of
    more than ``bucket_cap`` articles proposes none of them (None: no cap)."""

    def __init__(
        self, storage: IndexStorage, threshold: float, num_perm: int, bucket_cap: int | None = None
    ) -> None:
        self.storage = storage
        self.num_perm = num_perm
        self.bucket_cap = bucket_cap
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
        return set(self.storage.counts(self.band_keys(signature), cap=self.bucket_cap))

    def __len__(self) -> int:
        return self.storage.size()
