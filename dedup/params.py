"""The thresholds of the dedup core: each declared once, here, with its default, its bounds and what
it means. The service's settings (``config.settings.Settings``) inherit these fields, so each is also
a setting of the same name (``NEWSDEDUP_<NAME>``, or ``<name>`` in the settings file); the core is
handed a plain ``Params``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Params(BaseModel):
    """The thresholds of the dedup core, passed down as one value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: MinHash permutations. 128 gives a standard error of about 0.044 on a Jaccard estimate.
    num_perm: int = Field(128, ge=16, le=1024)
    #: The MinHash LSH index finds near-copies: the bands and rows are datasketch's optimum for this
    #: Jaccard similarity. It only proposes candidates; the exact checks below decide.
    lsh_threshold: float = Field(0.5, gt=0.0, le=1.0)
    #: An LSH band bucket with more than LSH_BUCKET_CAP articles (a text posted over and over, a
    #: template page) proposes no candidates, as an anchor or evidence bucket over ANCHOR_BUCKET_CAP
    #: does not: a page's candidates, and the work of finding them, stay bounded however large the
    #: index grows. The price: a page's near-copies in such buckets are not proposed by them (exact
    #: copies still are, by content hash, and its anchors and other bands still propose).
    lsh_bucket_cap: int = Field(1000, ge=1)
    #: The anchor index finds partial copies (excerpts, splices): one shingle in ANCHOR_MODULUS is an
    #: anchor, and an article sharing at least MIN_SHARED_ANCHORS anchors is a candidate. A bucket with
    #: more than ANCHOR_BUCKET_CAP articles is a stock phrase and is not used to propose candidates.
    anchor_modulus: int = Field(8, ge=1, le=1024)
    min_shared_anchors: int = Field(3, ge=1)
    anchor_bucket_cap: int = Field(1000, ge=1)
    #: Two articles tell the same story when their exact Jaccard similarity reaches MIN_JACCARD (a copy),
    #: or when MIN_CONTAINMENT of one's shingles are in the other (a part: an excerpt, a spliced story).
    min_jaccard: float = Field(0.25, gt=0.0, le=1.0)
    min_containment: float = Field(0.6, gt=0.0, le=1.0)
    #: Spliced posts (two stories in one post) are recognised from their own text (dedup/splices.py): two
    #: of its parts, not linked to each other, lie in passages of it that overlap by less than
    #: SPLICE_MAX_OVERLAP of the shorter. In one language a part lies within the post (MIN_CONTAINMENT of
    #: its shingles); across languages it matches one passage of the post, at least SPLICE_MIN_SHARE of
    #: it, with a passage score of at least SPLICE_PASSAGE_SCORE. A splice never joins two stories: it
    #: joins the one that accounts for most of it, and is related to the other.
    splice_max_overlap: float = Field(0.3, ge=0.0, lt=1.0)
    #: ... and which are apart in their own right: in one language they share less than
    #: SPLICE_MAX_SHARED of their shingles (either way) and their evidence agrees less than
    #: SPLICE_MAX_AGREEMENT (two machine translations of one story share few shingles but agree in
    #: names); across languages their evidence agrees less than TRANSLATION_MIN_SCORE.
    splice_max_shared: float = Field(0.2, ge=0.0, le=1.0)
    splice_max_agreement: float = Field(0.3, ge=0.0, le=1.0)
    splice_min_share: float = Field(0.2, ge=0.0, le=1.0)
    #: A part lies mostly within the post: the match covers at least SPLICE_PART_WITHIN of the part
    #: (from its first to its last tenth of matched terms), where only a passage of the post does.
    splice_part_within: float = Field(0.6, ge=0.0, le=1.0)
    splice_passage_score: float = Field(0.15, gt=0.0, le=1.0)
    #: Look for translated copies at all (dedup/evidence.py); off saves the evidence stage's time.
    translations: bool = True
    #: Translations: an article in another language sharing at least MIN_SHARED_EVIDENCE evidence terms
    #: of weight EVIDENCE_MIN_WEIGHT or more is a candidate. Its pair score (dedup/crosslang.py: common
    #: weight over the geometric mean of both sides' totals, publication times as a factor) is stored as
    #: a link when it reaches EVIDENCE_LINK_MIN_SCORE (it counts towards the backgrounds, and may mark a
    #: splice).
    evidence_min_weight: float = Field(0.5, ge=0.0, le=5.0)
    #: Words written in lower case weigh this share of their rarity in the evidence: they are the words
    #: of one language, seldom found in another's text, while names and numbers cross languages whole.
    evidence_lower_case_weight: float = Field(0.3, ge=0.0, le=1.0)
    min_shared_evidence: int = Field(3, ge=1)
    evidence_link_min_score: float = Field(0.06, ge=0.0, le=1.0)
    #: ... and two groups of different languages join (dedup/attachment.py) only when their best pair's
    #: score reaches TRANSLATION_MIN_SCORE over TRANSLATION_MIN_MATCHES terms and is at least
    #: TRANSLATION_MARGIN times the background of one side: the mean of its TRANSLATION_BACKGROUND_K
    #: best scores with other stories of the other language. Then only leader to leader.
    translation_min_score: float = Field(0.10, gt=0.0, le=1.0)
    translation_min_matches: int = Field(3, ge=1)
    translation_margin: float = Field(2.0, ge=0.0)
    translation_background_k: int = Field(3, ge=1)
    #: ... and a merge of two stories through translations must not contradict one language: a group
    #: that would join a story already told in its language must agree with that version at least this
    #: much in its evidence (two translations of one story agree, two stories about one event seldom).
    translation_sibling_score: float = Field(0.3, ge=0.0, le=1.0)
    #: A pair published more than TRANSLATION_TIME_GRACE_DAYS apart has its score divided by
    #: 1 + (days - grace) / TRANSLATION_TIME_SCALE_DAYS (0 turns the time factor off).
    translation_time_grace_days: float = Field(3.0, ge=0.0)
    translation_time_scale_days: float = Field(30.0, ge=0.0)
    #: A page whose source link names a stored article in another language is linked to it with a score
    #: of at least SOURCE_LINK_SCORE, when their evidence agrees at all (SOURCE_LINK_MIN_SCORE).
    source_link_score: float = Field(0.3, gt=0.0, le=1.0)
    source_link_min_score: float = Field(0.02, ge=0.0, le=1.0)
    #: Words per shingle for scripts written with spaces.
    shingle_words: int = Field(4, ge=1, le=16)
    #: Characters per shingle for scripts written without spaces (Chinese, Japanese, Thai, ...).
    shingle_chars: int = Field(3, ge=1, le=16)
    #: Below this many distinct shingles an overlap is chance: such an article is stored, but only
    #: ever joins an article with exactly the same words.
    min_shingles: int = Field(20, ge=1)
    #: A cleaned page with fewer characters than this has no story to cluster and is rejected.
    min_text_chars: int = Field(200, ge=1)
    #: A line of at most BOILERPLATE_MAX_CHARS characters that BOILERPLATE_MIN_PAGES other stored pages
    #: of the same host carry word for word is the site's, not the story's (dedup/boilerplate.py): it is
    #: left out of the page's text. 0 turns the rule off (no lines are counted either).
    boilerplate_min_pages: int = Field(5, ge=0)
    boilerplate_max_chars: int = Field(200, ge=1)
