"""MinHash signatures (datasketch's affine32 scheme) of shingle sets, and their comparison.

A signature is ``num_perm`` uint32 minima: 512 bytes at 128 permutations. The shingles arrive as
32-bit hashes (``dedup.shingles.shingle_hashes``), the same in every process. ``Signer.sign``
computes exactly what datasketch's ``MinHash.update_batch`` computes from those hashes (a test
compares them), as one numpy expression over all permutations, with the permutations datasketch
draws for the seed. datasketch itself is imported only to compare (tests, benchmarks): it imports
scipy, half a second and 50 MB at every start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from dedup.shingles import Hashes, fmix32

if TYPE_CHECKING:
    from datasketch import MinHash

Signature = npt.NDArray[np.uint32]


def _identity(value: int) -> int:
    # Shingles arrive already hashed: see dedup.shingles.shingle_hashes.
    return value


# Fixed: signatures stored today must compare with signatures computed next year.
_SEED = 1
_SCHEME = "affine32"


def permutations(num_perm: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """The (a, b) of each permutation h -> a * h + b modulo 2**32, drawn as datasketch 2's
    ``MinHash._init_permutations`` draws them for the affine32 scheme: from numpy's legacy
    Mersenne Twister with the seed, a odd (a bijection), then b. A test compares them."""
    generator = np.random.RandomState(_SEED)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class Signer:
    """Builds signatures with one fixed set of permutations (computed once, reused per text)."""

    def __init__(self, num_perm: int) -> None:
        self.num_perm = num_perm
        self._a, self._b = permutations(num_perm)
        # As columns: the products are laid out one permutation a row, so that each row's minimum
        # is taken over contiguous memory.
        self._a_column = self._a[:, np.newaxis]
        self._b_column = self._b[:, np.newaxis]

    def sign(self, hashes: Hashes) -> Signature:
        """The MinHash of the hashed shingle set: min over shingles of a * fmix32(h) + b modulo 2**32,
        per permutation (a, b), as datasketch's affine32 scheme defines it."""
        if hashes.shape[0] == 0:
            return np.full(self.num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
        permuted = self._a_column * fmix32(hashes.astype(np.uint32, copy=False))
        permuted += self._b_column
        signature: Signature = permuted.min(axis=1)
        return signature

    def sign_with_datasketch(self, hashes: Hashes) -> Signature:
        """The same signature through datasketch's own ``update_batch`` (slower; for comparison)."""
        from datasketch import MinHash

        minhash = MinHash(
            num_perm=self.num_perm,
            seed=_SEED,
            hashfunc=_identity,
            permutations=(self._a, self._b),
            scheme=_SCHEME,
        )
        minhash.update_batch(hashes.tolist())
        return np.asarray(minhash.hashvalues, dtype=np.uint32)

    def minhash(self, signature: Signature) -> MinHash:
        """A datasketch MinHash holding this signature, for datasketch's own APIs (tests, benchmarks)."""
        from datasketch import MinHash

        return MinHash(
            num_perm=self.num_perm,
            seed=_SEED,
            hashvalues=signature,
            permutations=(self._a, self._b),
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
