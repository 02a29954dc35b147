"""MinHash signatures (datasketch, affine32 scheme) of shingle sets, and their comparison.

A signature is ``num_perm`` uint32 minima: 512 bytes at 128 permutations. The shingles arrive as
32-bit hashes (``dedup.shingles.shingle_hashes``), the same in every process. ``Signer.sign``
computes exactly what datasketch's ``MinHash.update_batch`` computes from those hashes (a test
compares them), as one numpy expression over all permutations.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from datasketch import MinHash

from dedup.shingles import Hashes, fmix32

Signature = npt.NDArray[np.uint32]


def _identity(value: int) -> int:
    # Shingles arrive already hashed: see dedup.shingles.shingle_hashes.
    return value


# Fixed: signatures stored today must compare with signatures computed next year.
_SEED = 1
_SCHEME = "affine32"


class Signer:
    """Builds signatures with one fixed set of permutations (computed once, reused per text)."""

    def __init__(self, num_perm: int) -> None:
        self.num_perm = num_perm
        self._template = MinHash(num_perm=num_perm, seed=_SEED, hashfunc=_identity, scheme=_SCHEME)
        a, b = self._template.permutations
        self._a = np.asarray(a, dtype=np.uint32)
        self._b = np.asarray(b, dtype=np.uint32)

    def sign(self, hashes: Hashes) -> Signature:
        """The MinHash of the hashed shingle set: min over shingles of a * fmix32(h) + b modulo 2**32,
        per permutation (a, b), as datasketch's affine32 scheme defines it."""
        if hashes.shape[0] == 0:
            return np.full(self.num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
        mixed = fmix32(hashes.astype(np.uint32, copy=False))
        permuted = np.multiply.outer(mixed, self._a, dtype=np.uint32)
        permuted += self._b
        signature: Signature = permuted.min(axis=0)
        return signature

    def sign_with_datasketch(self, hashes: Hashes) -> Signature:
        """The same signature through datasketch's own ``update_batch`` (slower; for comparison)."""
        minhash = MinHash(
            num_perm=self.num_perm,
            seed=_SEED,
            hashfunc=_identity,
            permutations=self._template.permutations,
            scheme=_SCHEME,
        )
        minhash.update_batch(hashes.tolist())
        return np.asarray(minhash.hashvalues, dtype=np.uint32)

    def minhash(self, signature: Signature) -> MinHash:
        """A datasketch MinHash holding this signature, for datasketch's own APIs."""
        return MinHash(
            num_perm=self.num_perm,
            seed=_SEED,
            hashvalues=signature,
            permutations=self._template.permutations,
            scheme=_SCHEME,
        )


def estimated_jaccard(a: Signature, b: Signature) -> float:
    """Share of equal minima: the MinHash estimate of the two sets' Jaccard similarity."""
    if a.shape != b.shape:
        raise ValueError(f"signatures of different lengths: {a.shape[0]} and {b.shape[0]}")
    equal = int(np.count_nonzero(a == b))
    return equal / int(a.shape[0])


def to_bytes(signature: Signature) -> bytes:
    """Little-endian uint32s, for storage."""
    return signature.astype("<u4", copy=False).tobytes()


def from_bytes(data: bytes) -> Signature:
    """The signature that :func:`to_bytes` stored."""
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)
