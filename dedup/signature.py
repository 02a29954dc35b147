"""MinHash signatures (datasketch, affine32 scheme) of shingle sets, and their comparison.

A signature is ``num_perm`` uint32 minima: 512 bytes at 128 permutations. Shingles are hashed
with xxh32, which is fast and the same in every process (Python's ``hash`` is not).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import xxhash
from datasketch import MinHash

from dedup.shingles import Hashes

Signature = npt.NDArray[np.uint32]


def _identity(value: int) -> int:
    # Shingles arrive already hashed (xxh32): see dedup.shingles.shingle_hashes.
    return value


# Fixed: signatures stored today must compare with signatures computed next year.
_SEED = 1
_SCHEME = "affine32"


class Signer:
    """Builds signatures with one fixed set of permutations (computed once, reused per text)."""

    def __init__(self, num_perm: int) -> None:
        self.num_perm = num_perm
        self._template = MinHash(
            num_perm=num_perm, seed=_SEED, hashfunc=xxhash.xxh32_intdigest, scheme=_SCHEME
        )

    def sign(self, hashes: Hashes) -> Signature:
        """The MinHash of the hashed shingle set, exactly as datasketch computes it from the shingles
        with xxh32 as hash function."""
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
