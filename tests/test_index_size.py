"""Bounded candidate sets: a bucket of the LSH, anchor or evidence index holding more articles than
its cap proposes nothing, one at the cap still proposes, in memory and in the real Redis; the
buckets left out are counted; the runtime's index takes its caps from the settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
import redis

from config import load_settings
from dedup.candidates import CandidateIndex
from dedup.index_storage import IndexStorage, MemoryStorage
from dedup.key_index import SharedKeyIndex
from dedup.lsh import LSHIndex
from dedup.redis_storage import CompactRedisStorage
from newsdedup.service.index import empty_index

CAP = 3
NUM_PERM = 128
# Four articles in one bucket (over the cap), three in another (at it).
CROWD = [1, 2, 3, 4]
FEW = [5, 6, 7]

MakeStorage = Callable[[str], IndexStorage]


@pytest.fixture(params=["memory", "redis"])
def make_storage(request: pytest.FixtureRequest) -> Iterator[MakeStorage]:
    """Storages of one kind, by prefix: MemoryStorage, or CompactRedisStorage on the tests' Redis."""
    if request.param == "memory":
        yield lambda _prefix: MemoryStorage()
        return
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield lambda prefix: CompactRedisStorage(client, f"test:size:{prefix}")
    client.close()


def values(*keys: int) -> np.ndarray:
    return np.array(keys, dtype=np.uint32)


def crowded_index(make_storage: MakeStorage) -> tuple[CandidateIndex, np.ndarray, np.ndarray]:
    """An index with caps of 3 holding four articles that share one signature, anchors and terms (so
    every bucket they fill is over the cap) and three that share another (every bucket at the cap);
    with the two signatures."""
    index = CandidateIndex(
        lsh=LSHIndex(make_storage("lsh"), threshold=0.5, num_perm=NUM_PERM, bucket_cap=CAP),
        anchors=SharedKeyIndex(make_storage("anchors"), min_shared=3, bucket_cap=CAP),
        evidence=SharedKeyIndex(make_storage("evidence"), min_shared=3, bucket_cap=CAP),
    )
    crowded, few = np.arange(NUM_PERM, dtype=np.uint32), np.arange(NUM_PERM, dtype=np.uint32) + 1000
    for article in CROWD:
        index.insert(article, crowded, values(8, 16, 24), values(1, 2, 3))
    for article in FEW:
        index.insert(article, few, values(32, 40, 48), values(4, 5, 6))
    return index, crowded, few


def test_a_key_bucket_over_the_cap_proposes_nothing_one_at_it_does(make_storage: MakeStorage) -> None:
    """With a cap of 3 and one shared key needed: key 10's bucket holds 4 articles and proposes none
    of them, key 20's holds 3 and proposes all three; a query of both keys gives exactly those three."""
    index = SharedKeyIndex(make_storage("anchors"), min_shared=1, bucket_cap=CAP)
    for article in CROWD:
        index.insert(article, values(10))
    for article in FEW:
        index.insert(article, values(20))

    assert index.query(values(10)) == set()
    assert index.query(values(20)) == {5, 6, 7}
    assert index.query(values(10, 20)) == {5, 6, 7}


def test_a_bucket_that_shrinks_back_to_the_cap_proposes_again(make_storage: MakeStorage) -> None:
    """Removing one of the four articles of an over-cap bucket brings it to the cap: it proposes the
    other three again."""
    index = SharedKeyIndex(make_storage("anchors"), min_shared=1, bucket_cap=CAP)
    for article in CROWD:
        index.insert(article, values(10))
    index.remove(4, values(10))

    assert index.query(values(10)) == {1, 2, 3}


def test_the_whole_index_caps_lsh_anchor_and_evidence_buckets(make_storage: MakeStorage) -> None:
    """Four articles with one signature, anchors and terms fill every bucket they have past a cap of
    3: the index proposes none of them; three with another signature, anchors and terms stay at the
    cap: each of the three parts alone proposes all three."""
    index, crowded, few = crowded_index(make_storage)
    none = values()
    other = np.arange(NUM_PERM, dtype=np.uint32) + 5000

    assert index.query(crowded, values(8, 16, 24), values(1, 2, 3)) == set()
    assert index.query(few, none, none) == {5, 6, 7}
    assert index.query(other, values(32, 40, 48), none) == {5, 6, 7}
    assert index.query(other, none, values(4, 5, 6)) == {5, 6, 7}


def test_the_buckets_left_out_are_counted(make_storage: MakeStorage) -> None:
    """A query meeting the 25 band buckets, 3 anchor buckets and 3 evidence buckets of four articles
    (cap 3) counts 31 buckets left out; a query meeting only buckets at the cap counts none."""
    index, crowded, few = crowded_index(make_storage)
    assert index.lsh.bands == 25

    index.query(crowded, values(8, 16, 24), values(1, 2, 3))
    assert index.capped == 31
    assert [part.storage.capped for part in (index.lsh, index.anchors, index.evidence)] == [25, 3, 3]
    index.query(few, values(32, 40, 48), values(4, 5, 6))
    assert index.capped == 31


def test_an_uncapped_lsh_index_proposes_every_copy(make_storage: MakeStorage) -> None:
    """Without an LSH cap (an LSHIndex built without one, as before the setting), the four
    copies of one signature are all proposed."""
    index = CandidateIndex(
        lsh=LSHIndex(make_storage("lsh"), threshold=0.5, num_perm=NUM_PERM),
        anchors=SharedKeyIndex(make_storage("anchors"), min_shared=3, bucket_cap=CAP),
        evidence=SharedKeyIndex(make_storage("evidence"), min_shared=3, bucket_cap=CAP),
    )
    signature = np.arange(NUM_PERM, dtype=np.uint32)
    for article in CROWD:
        index.insert(article, signature, values(), values())

    assert index.query(signature, values(), values()) == {1, 2, 3, 4}


def test_the_runtime_index_takes_its_caps_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """NEWSDEDUP_LSH_BUCKET_CAP caps the band buckets and NEWSDEDUP_ANCHOR_BUCKET_CAP the anchor and
    evidence buckets of the index the runtime opens; by default both are 1000."""
    defaults = empty_index(load_settings())
    assert (defaults.lsh.bucket_cap, defaults.anchors.bucket_cap, defaults.evidence.bucket_cap) == (1000,) * 3
    monkeypatch.setenv("NEWSDEDUP_LSH_BUCKET_CAP", "7")
    monkeypatch.setenv("NEWSDEDUP_ANCHOR_BUCKET_CAP", "9")
    index = empty_index(load_settings())
    assert (index.lsh.bucket_cap, index.anchors.bucket_cap, index.evidence.bucket_cap) == (7, 9, 9)


@pytest.mark.parametrize("tags", [1, 7])
@pytest.mark.parametrize("group_bits", [None, 6, 21, 30, 33, 64])
@pytest.mark.parametrize("length", [1, 4, 10])
def test_keys_of_one_length_are_located_as_one_at_a_time(
    redis_url: str, group_bits: int | None, length: int, tags: int
) -> None:
    """The client's way of locating an article's keys all at once (keys of one length, as every
    index has) gives exactly the groups and fields of ``locate`` key by key, repeats dropped, for
    group bits splitting a byte or not, and groups wider than the key; with hash tags (a Redis
    Cluster's layout), split by tag, each group in the call of its number's tag."""
    client = redis.Redis.from_url(redis_url)
    storage = CompactRedisStorage(client, "test:size:locate", group_bits=group_bits, tags=tags)
    rng = np.random.default_rng(length)
    keys = [bytes(rng.integers(0, 256, length, dtype=np.uint8)) for _ in range(50)]
    keys += [b"\xff" * length, b"\x00" * length, keys[0]]
    expected: dict[int, tuple[list[str], bytes]] = {}
    for key in dict.fromkeys(keys):
        group, field = storage.locate(key)
        tag = int(group.rsplit(":", 1)[1], 16) % tags
        if tags > 1:
            assert group.startswith(f"test:size:locate:{{{tag:x}}}:")
        groups, fields = expected.get(tag, ([], b""))
        expected[tag] = ([*groups, group], fields + bytes((len(field),)) + field)

    assert storage._locate(keys) == expected
    client.close()


def test_memory_buckets_in_segments_are_capped_by_their_live_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """MemoryStorage's buckets moved into sorted segments (a buffer of 2 pairs here): four articles
    in one bucket are over a cap of 3 and counted as capped; after one is removed (its pair still in
    the segment, pending) the bucket is at the cap and proposes the other three."""
    monkeypatch.setattr("dedup.index_storage._BUFFER_PAIRS", 2)
    storage = MemoryStorage()
    for article in CROWD:
        storage.add(article, [b"k"])
    assert storage.counts([b"k"], cap=CAP) == {}
    assert storage.capped == 1
    storage.remove(4, [b"k"])
    assert storage.counts([b"k"], cap=CAP) == {1: 1, 2: 1, 3: 1}
    assert storage.capped == 1
