"""The thresholds of the dedup core, as one value passed down from the settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Params:
    """See ``config/defaults.py`` for what each one means and its default."""

    num_perm: int = 128
    similarity_threshold: float = 0.5
    shingle_words: int = 4
    shingle_chars: int = 3
    min_shingles: int = 20
    min_text_chars: int = 200
