"""The thresholds of the dedup core, as one value passed down from the settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Params:
    """See ``config/defaults.py`` for what each one means and its default."""

    num_perm: int = 128
    lsh_threshold: float = 0.5
    anchor_modulus: int = 8
    min_shared_anchors: int = 3
    anchor_bucket_cap: int = 1000
    min_jaccard: float = 0.25
    min_containment: float = 0.6
    splice_max_overlap: float = 0.2
    shingle_words: int = 4
    shingle_chars: int = 3
    min_shingles: int = 20
    min_text_chars: int = 200
