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
    splice_max_overlap: float = 0.3
    splice_max_shared: float = 0.2
    splice_max_agreement: float = 0.3
    splice_min_share: float = 0.2
    splice_part_within: float = 0.6
    splice_passage_score: float = 0.15
    translations: bool = True
    evidence_min_weight: float = 0.5
    evidence_lower_case_weight: float = 0.3
    min_shared_evidence: int = 3
    evidence_link_min_score: float = 0.06
    translation_min_score: float = 0.10
    translation_min_matches: int = 3
    translation_margin: float = 2.0
    translation_background_k: int = 3
    translation_sibling_score: float = 0.3
    translation_time_grace_days: float = 3.0
    translation_time_scale_days: float = 30.0
    source_link_score: float = 0.3
    source_link_min_score: float = 0.02
    shingle_words: int = 4
    shingle_chars: int = 3
    min_shingles: int = 20
    min_text_chars: int = 200
