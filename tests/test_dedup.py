"""The dedup core on its own: shingles, signatures, the LSH index, verification, canonical choice."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest
import redis
import xxhash
from datasketch import MinHash, MinHashLSH

from dedup.anchors import anchors
from dedup.canonical import Member, choose_canonical
from dedup.index_storage import MemoryStorage, make_storage
from dedup.key_index import SharedKeyIndex
from dedup.lsh import LSHIndex, banding
from dedup.redis_storage import CompactRedisStorage
from dedup.shingles import Hashes, shingle_hashes, shingles, tokens
from dedup.signature import Signer, estimated_jaccard, from_bytes, to_bytes
from dedup.urls import normalize_url


def test_word_shingles_are_normalised_word_ngrams() -> None:
    """Case, punctuation and Unicode forms do not change shingles; n words make one shingle."""
    assert tokens("The Council's ＶＯＴＥ: 31–17!") == ["the", "council", "s", "vote", "31", "17"]
    assert shingles("One two three four five", words=4, chars=3) == {
        "one two three four",
        "two three four five",
    }
    assert shingles("Short text", words=4, chars=3) == {"short text"}
    assert shingles("", words=4, chars=3) == set()


def test_unspaced_scripts_get_character_shingles() -> None:
    """Chinese and Japanese text, written without spaces, is shingled by characters."""
    assert shingles("东京都发表了", words=4, chars=3) == {"东京都", "京都发", "都发表", "发表了"}
    assert shingles("東京都は12日に発表", words=4, chars=3) == {
        "東京都",
        "京都は",
        "都は12",
        "は12日",
        "12日に",
        "日に発",
        "に発表",
    }


def _hashes(items: set[str]) -> Hashes:
    """A set of strings as shingle hashes (xxh32, sorted, distinct), the way shingle_hashes makes them."""
    return np.unique(np.fromiter((xxhash.xxh32_intdigest(s.encode()) for s in items), np.uint32))


def test_shingle_hashes_are_one_distinct_hash_per_distinct_shingle() -> None:
    """shingle_hashes gives one sorted, distinct 32-bit hash per distinct shingle, the same for texts
    that differ only in case, spacing and punctuation, and others for other word orders."""
    text = "one two three four five one two three four five six"
    hashes = shingle_hashes(text, words=4, chars=3)
    assert hashes.dtype == np.uint32
    assert hashes.tolist() == sorted(set(hashes.tolist()))
    assert len(hashes) == len(shingles(text, words=4, chars=3)) == 6
    assert np.array_equal(
        shingle_hashes("ONE two, three  four; FIVE one two three four five six", 4, 3), hashes
    )
    assert not set(shingle_hashes("two one three four", 4, 3).tolist()) & set(hashes.tolist())
    assert len(shingle_hashes("东京都发表了", words=4, chars=3)) == 4


def test_signature_is_datasketch_minhash_of_the_shingle_hashes() -> None:
    """Our numpy signature equals the hash values of a datasketch MinHash (affine32, seed 1) fed the
    same shingle hashes, one by one and in a batch, and it survives storage unchanged."""
    words = [f"w{i}" for i in range(300)]
    hashes = shingle_hashes(" ".join(words), 4, 3)
    reference = MinHash(num_perm=128, seed=1, hashfunc=lambda h: h, scheme="affine32")
    for h in hashes.tolist():
        reference.update(h)

    signer = Signer(128)
    signature = signer.sign(hashes)

    assert np.array_equal(signature, reference.hashvalues)
    assert np.array_equal(signature, signer.sign_with_datasketch(hashes))
    assert np.array_equal(from_bytes(to_bytes(signature)), signature)
    assert len(to_bytes(signature)) == 512


def test_estimated_jaccard_tracks_the_true_jaccard() -> None:
    """Two sets with Jaccard 0.6 get an estimate within 0.1 of it at 256 permutations, and equal
    sets get exactly 1."""
    signer = Signer(256)
    a = {f"s{i}" for i in range(0, 800)}
    b = {f"s{i}" for i in range(200, 1000)}  # |a ∩ b| = 600, |a ∪ b| = 1000
    assert abs(estimated_jaccard(signer.sign(_hashes(a)), signer.sign(_hashes(b))) - 0.6) < 0.1
    assert estimated_jaccard(signer.sign(_hashes(a)), signer.sign(_hashes(set(a)))) == 1.0


def _random_sets(count: int, seed: int) -> list[set[str]]:
    """Sets in families: members of a family overlap heavily, families do not."""
    rng = random.Random(seed)
    sets = []
    for family in range(count // 4):
        base = [f"f{family}-{i}" for i in range(200)]
        for _ in range(4):
            keep = rng.uniform(0.3, 1.0)
            sets.append(
                {x for x in base if rng.random() < keep} | {f"noise{rng.random()}" for _ in range(20)}
            )
    return sets


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_index_returns_what_datasketch_minhashlsh_returns(threshold: float) -> None:
    """On the same signatures, our index and datasketch's MinHashLSH (same threshold, same banding)
    return exactly the same candidates for every query."""
    signer = Signer(128)
    signatures = [signer.sign(_hashes(s)) for s in _random_sets(80, seed=7)]
    ours = LSHIndex(MemoryStorage(), threshold=threshold, num_perm=128)
    theirs = MinHashLSH(threshold=threshold, num_perm=128)
    assert (ours.bands, ours.rows) == (theirs.b, theirs.r) == banding(threshold, 128)
    for key, signature in enumerate(signatures):
        ours.insert(key, signature)
        theirs.insert(key, signer.minhash(signature))

    for signature in signatures:
        assert ours.query(signature) == set(theirs.query(signer.minhash(signature)))
    assert len(ours) == len(signatures)


def test_redis_storage_gives_the_memory_storage_answers(redis_url: str) -> None:
    """The shared index in Redis holds and returns exactly what the in-process one does, including
    the per-article counts and the bucket cap, and forgets removed articles and, on clear, everything."""
    signer = Signer(128)
    signatures = [signer.sign(_hashes(s)) for s in _random_sets(40, seed=3)]
    memory = LSHIndex(MemoryStorage(), threshold=0.5, num_perm=128)
    shared = LSHIndex(make_storage(redis_url, prefix="test:lsh"), threshold=0.5, num_perm=128)
    assert isinstance(shared.storage, CompactRedisStorage)
    for key, signature in enumerate(signatures):
        memory.insert(key, signature)
        shared.insert(key, signature)
    for signature in signatures:
        keys = memory.band_keys(signature)
        assert shared.storage.counts(keys) == memory.storage.counts(keys)
        assert shared.storage.counts(keys, cap=2) == memory.storage.counts(keys, cap=2)

    shared.remove(0, signatures[0])
    memory.remove(0, signatures[0])
    assert 0 not in shared.query(signatures[0])
    assert shared.query(signatures[1]) == memory.query(signatures[1])
    assert len(shared) == len(memory) == len(signatures) - 1

    shared.storage.clear()
    assert len(shared) == 0
    assert redis.Redis.from_url(redis_url).keys("test:lsh:*") == []


def test_unknown_storage_url_is_refused() -> None:
    """The storage factory raises on anything that is neither None (memory) nor a Redis URL."""
    with pytest.raises(ValueError, match="unknown index storage URL 'memcached://x'"):
        make_storage("memcached://x", prefix="x")


def test_anchor_index_finds_an_excerpt_that_minhash_lsh_misses() -> None:
    """A 30 % excerpt has a Jaccard similarity of 0.3 with its story: MinHash LSH at 0.5 does not
    propose it, the anchor index does, and an unrelated text is proposed by neither."""
    words = [f"w{i}" for i in range(600)]
    story = " ".join(words)
    excerpt = " ".join(words[:180])
    other = " ".join(f"x{i}" for i in range(600))
    signer = Signer(128)
    lsh = LSHIndex(MemoryStorage(), threshold=0.5, num_perm=128)
    index = SharedKeyIndex(MemoryStorage(), min_shared=3, bucket_cap=1000)
    story_hashes = shingle_hashes(story, 4, 3)
    lsh.insert(1, signer.sign(story_hashes))
    index.insert(1, anchors(story_hashes, 8))

    excerpt_hashes = shingle_hashes(excerpt, 4, 3)
    assert lsh.query(signer.sign(excerpt_hashes)) == set()
    assert index.query(anchors(excerpt_hashes, 8)) == {1}
    assert index.query(anchors(shingle_hashes(other, 4, 3), 8)) == set()
    assert anchors(story_hashes, 8).tolist() == [h for h in story_hashes.tolist() if h % 8 == 0]


def _member(i: int, **fields: object) -> Member:
    values: dict[str, object] = {
        "id": i,
        "url": f"https://site{i}.example/story",
        "final_url": None,
        "publisher": False,
        "claimed_source_url": None,
        "published_at": datetime(2026, 3, 12, 8, i, tzinfo=UTC),
        "fetched_at": None,
    }
    values.update(fields)
    return Member(**values)  # type: ignore[arg-type]  # test data built field by field


def test_canonical_prefers_publisher_then_link_target_then_earliest() -> None:
    """The rule, one step at a time: a publisher's page wins over earlier pages; without one, the page
    the others' source links point at wins; without links, the earliest published; then the lowest id."""
    linked = "https://site3.example/story"
    earliest, target, copy_a, copy_b = (
        _member(1, published_at=datetime(2026, 3, 1, tzinfo=UTC)),
        _member(3),
        _member(4, claimed_source_url="http://www.site3.example/story/?utm_source=feed"),
        _member(5, claimed_source_url=linked),
    )
    assert choose_canonical([earliest, target, copy_a, copy_b]).id == 3
    publisher = _member(9, publisher=True)
    assert choose_canonical([earliest, target, copy_a, copy_b, publisher]).id == 9
    assert choose_canonical([_member(6), earliest, _member(7)]).id == 1
    assert choose_canonical([_member(8, published_at=None), _member(2, published_at=None)]).id == 2
    with pytest.raises(ValueError, match="without members"):
        choose_canonical([])


def test_url_normalisation_ignores_scheme_www_tracking_and_trailing_slash() -> None:
    """Two spellings of one address compare equal; different paths or real parameters do not."""
    assert normalize_url("https://www.Site.example/a/?utm_source=x&fbclid=1#top") == "site.example/a"
    assert normalize_url("http://site.example/a") == "site.example/a"
    assert normalize_url("http://site.example/a?id=2&utm_medium=y") == "site.example/a?id=2"
    assert normalize_url("http://site.example:8080/a") == "site.example:8080/a"
    assert normalize_url("http://site.example/b") != normalize_url("http://site.example/a")


class _ModelStorage:
    """The obvious bucket storage (a set per key), as the reference for the compact one."""

    def __init__(self) -> None:
        self.buckets: dict[bytes, set[int]] = {}
        self.ids: set[int] = set()

    def add(self, article_id: int, keys: list[bytes]) -> None:
        for key in keys:
            self.buckets.setdefault(key, set()).add(article_id)
        self.ids.add(article_id)

    def remove(self, article_id: int, keys: list[bytes]) -> None:
        for key in keys:
            self.buckets.get(key, set()).discard(article_id)
        self.ids.discard(article_id)

    def counts(self, keys: list[bytes], cap: int | None) -> dict[int, int]:
        found: dict[int, int] = {}
        for key in set(keys):
            bucket = self.buckets.get(key, set())
            if bucket and (cap is None or len(bucket) <= cap):
                for article_id in bucket:
                    found[article_id] = found.get(article_id, 0) + 1
        return found


@pytest.mark.parametrize("seed", range(25))
def test_compact_memory_storage_answers_like_a_set_per_bucket(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random adds, re-adds after removal, removals and capped or uncapped counts give exactly what a
    set per bucket gives, across buffer flushes and segment merges (a tiny buffer forces many)."""
    monkeypatch.setattr("dedup.index_storage._BUFFER_PAIRS", 16)
    rng = random.Random(seed)
    model, storage = _ModelStorage(), MemoryStorage()
    live: dict[int, list[bytes]] = {}
    for _ in range(300):
        step = rng.random()
        if step < 0.6:
            article_id = rng.randrange(60)
            keys = [bytes([rng.randrange(40)]) for _ in range(rng.randrange(1, 6))]
            if article_id in live:
                model.remove(article_id, live[article_id])
                storage.remove(article_id, live[article_id])
            live[article_id] = keys
            model.add(article_id, keys)
            storage.add(article_id, keys)
        elif step < 0.75 and live:
            article_id = rng.choice(sorted(live))
            keys = live.pop(article_id)
            model.remove(article_id, keys)
            storage.remove(article_id, keys)
        else:
            keys = [bytes([rng.randrange(40)]) for _ in range(5)]
            cap = rng.choice([None, 2, 5])
            assert dict(storage.counts(keys, cap=cap)) == model.counts(keys, cap)
        assert storage.size() == len(model.ids)
