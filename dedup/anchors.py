"""Anchors: a content-defined sample of a text's shingle hashes, for finding partial copies.

A MinHash estimates the Jaccard similarity of whole texts, and an excerpt of 30 % of a story, or a
story spliced into a post twice its length, has a low one. Anchors find them: every shingle whose
hash is 0 modulo ``modulus`` is an anchor, so a shared passage shares its anchors wherever it
stands in either text (no alignment needed), and about one shingle in ``modulus`` is indexed
(``dedup.key_index``).
"""

from __future__ import annotations

import numpy as np

from dedup.shingles import Hashes


def anchors(hashes: Hashes, modulus: int) -> Hashes:
    """The anchors among the shingle hashes."""
    selected: Hashes = hashes[hashes % np.uint32(modulus) == 0]
    return selected
