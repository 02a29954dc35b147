"""CompactRedisStorage on the real Redis: the same answers as MemoryStorage, no id lost to
concurrent writers, a clear() that stays within its prefix, 32-bit ids, and the layout guard."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import redis

from dedup.candidates import CandidateIndex, Entry
from dedup.index_storage import IndexStorage, MemoryStorage
from dedup.key_index import SharedKeyIndex
from dedup.lsh import LSHIndex
from dedup.redis_storage import MAX_ID, CompactRedisStorage, LayoutError, group_bits_for

PREFIX = "test:compact"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def key_pool(rng: random.Random) -> list[bytes]:
    """Bucket keys of the shapes the indexes use (LSH: 2 bytes of band and 8 of hash; anchors and
    evidence: 4 bytes) and a few others, several sharing their group."""
    lsh = [band.to_bytes(2, "big") + rng.randbytes(8) for band in range(3) for _ in range(8)]
    # Same band and first hash bytes: the same group, different fields.
    lsh += [lsh[0][:5] + rng.randbytes(5) for _ in range(4)]
    short = [rng.randbytes(4) for _ in range(16)]
    short += [short[0][:2] + rng.randbytes(2) for _ in range(4)]
    odd = [b"", b"\x00", b"\x00\x00", rng.randbytes(1), rng.randbytes(3), rng.randbytes(12)]
    return lsh + short + odd


@pytest.mark.parametrize(
    ("group_bits", "inline_ids"),
    [(None, 16), (None, 2), (None, 1), (6, 3)],
    ids=["default", "spill-at-2", "spill-at-1", "few-groups"],
)
def test_answers_match_memory_storage(client: redis.Redis, group_bits: int | None, inline_ids: int) -> None:
    """A fixed-seed random mix of adds (single and bulk, repeated ones), removes (of present and
    absent ids and keys) and counts with and without cap gives, after every step, exactly the
    counts and size MemoryStorage gives. A small inline limit makes buckets spill to their own sets
    and come back; few group bits make many keys share one group."""
    storage = CompactRedisStorage(client, PREFIX, group_bits=group_bits, inline_ids=inline_ids)
    assert_answers_match_memory_storage(storage, seed=1729 + inline_ids)


def test_hash_tagged_answers_match_memory_storage(client: redis.Redis) -> None:
    """The layout of a Redis Cluster (keys spread over hash tags, an article's keys in one script call
    a tag, its member entry last) on a standalone server: the same random mix, the same answers as
    MemoryStorage after every step, buckets spilling and coming back."""
    storage = CompactRedisStorage(client, PREFIX, inline_ids=2, tags=5)
    assert_answers_match_memory_storage(storage, seed=1730)
    assert {key.split(b":")[2] for key in client.scan_iter(PREFIX + ":*")} == {b"{%d}" % t for t in range(5)}


def assert_answers_match_memory_storage(storage: IndexStorage, seed: int, steps: int = 1500) -> None:
    """The random mix of the tests above on ``storage``, compared with MemoryStorage at every step."""
    rng = random.Random(seed)
    memory = MemoryStorage()
    keys = key_pool(rng)
    ids = [0, 1, 127, 128, 2**31 - 1, 2**31, MAX_ID, *rng.sample(range(MAX_ID), 20), *range(2, 40)]
    given: dict[int, list[bytes]] = {}

    def some_keys() -> list[bytes]:
        # Now and then the same key twice in one call.
        chosen = rng.sample(keys, rng.randrange(0, 9))
        return chosen + chosen[:1] if chosen and rng.random() < 0.2 else chosen

    for step in range(steps):
        action = rng.random()
        if action < 0.45:
            article = rng.choice(ids)
            chosen = some_keys()
            storage.add(article, chosen)
            memory.add(article, chosen)
            given.setdefault(article, []).extend(chosen)
        elif action < 0.5:
            batch = [(rng.choice(ids), some_keys()) for _ in range(rng.randrange(1, 6))]
            storage.add_many(batch)
            for article, chosen in batch:
                memory.add(article, chosen)
                given.setdefault(article, []).extend(chosen)
        elif action < 0.7:
            article = rng.choice(ids)
            known = given.get(article, [])
            chosen = (
                rng.sample(known, rng.randrange(0, len(known) + 1)) if rng.random() < 0.8 else some_keys()
            )
            storage.remove(article, chosen)
            memory.remove(article, chosen)
        else:
            chosen = some_keys()
            cap = rng.choice([None, None, 0, 1, 2, 3, 4, 8, 16, 17, 30])
            assert storage.counts(chosen, cap) == memory.counts(chosen, cap), f"step {step}, cap {cap}"
        assert storage.size() == memory.size(), f"step {step}"

    for cap in (None, 1, 2, 5, 20):
        assert storage.counts(keys, cap) == memory.counts(keys, cap)
        for key in keys:
            assert storage.counts([key], cap) == memory.counts([key], cap)


def test_concurrent_writers_lose_no_id(redis_url: str) -> None:
    """Eight writers, each with its own connection, append 150 ids apiece to the same three buckets
    at once (one through add_many), the shared buckets growing past the inline limit and spilling
    while they write; half of the writers then remove a third of their ids, again at once. Every id
    that was added and not removed is in every bucket, exactly once, and size() counts them."""
    keys = [b"\x00\x01" + b"\xab" * 8, b"\x00\x01" + b"\xab" * 4 + b"\xcd" * 4, b"\x12\x34\x56\x78"]
    writers = 8
    per_writer = 150
    start = threading.Barrier(writers)
    errors: list[BaseException] = []
    kept: set[int] = set()
    lock = threading.Lock()

    def write(number: int) -> None:
        connection = redis.Redis.from_url(redis_url)
        try:
            storage = CompactRedisStorage(connection, PREFIX)
            mine = [number * 1_000_000 + i for i in range(per_writer)]
            start.wait()
            if number == 0:
                storage.add_many([(article, keys) for article in mine])
            else:
                for article in mine:
                    storage.add(article, keys)
            start.wait()
            removed = set(mine[::3]) if number % 2 else set()
            for article in removed:
                storage.remove(article, keys)
            with lock:
                kept.update(set(mine) - removed)
        except BaseException as error:
            errors.append(error)
            start.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors

    storage = CompactRedisStorage(redis.Redis.from_url(redis_url), PREFIX)
    for key in keys:
        assert storage.counts([key]) == dict.fromkeys(kept, 1)
    assert storage.counts(keys) == dict.fromkeys(kept, 3)
    assert storage.size() == len(kept)


def test_clear_removes_its_prefix_and_nothing_else(client: redis.Redis) -> None:
    """clear() unlinks every key under ``<prefix>:`` (groups, spilled buckets, members, count,
    layout, and keys it did not write there), even for a prefix with glob characters, and leaves
    another storage's keys, keys that only begin like the prefix, and unrelated keys alone. The
    cleared storage is empty and works again."""
    rng = random.Random(7)
    for prefix in (PREFIX, "test:[compact]*?"):
        client.flushdb()
        storage = CompactRedisStorage(client, prefix, inline_ids=2)
        other = CompactRedisStorage(client, prefix + "2")
        keys = [rng.randbytes(10) for _ in range(50)] + [rng.randbytes(4) for _ in range(50)]
        storage.add_many([(article, rng.sample(keys, 10)) for article in range(300)])
        other.add_many([(article, rng.sample(keys, 10)) for article in range(100)])
        client.set(f"{prefix}:stray", b"x")
        client.mset({prefix: b"1", f"{prefix}x:1": b"2", "other:1": b"3"})
        names: list[bytes] = client.keys("*")  # type: ignore[assignment]  # sync client
        before = {name: client.dump(name) for name in names}
        mine = {name for name in before if name.startswith(f"{prefix}:".encode())}
        assert any(client.type(name) == b"set" for name in mine)  # spilled buckets too

        storage.clear()

        assert {name: client.dump(name) for name in client.keys("*")} == {
            name: dump for name, dump in before.items() if name not in mine
        }
        assert storage.size() == 0
        assert storage.counts(keys) == {}
        assert other.size() == 100
        storage.add(5, keys[:3])
        assert storage.counts(keys) == {5: 3}


def test_ids_of_32_bits_round_trip(client: redis.Redis) -> None:
    """Ids from 0 to 2**32 - 1 come back as they went in, from a bucket kept in its group and from
    one spilled to a set and moved back; ids outside 32 bits are refused."""
    storage = CompactRedisStorage(client, PREFIX, inline_ids=4)
    extremes = [0, 1, 255, 256, 2**16, 2**24 - 1, 2**31 - 1, 2**31, 2**32 - 2, MAX_ID]
    inline, spilled = b"\x00\x07" + b"\x01" * 8, b"\x00\x07" + b"\x02" * 8
    for article in extremes[:4]:
        storage.add(article, [inline])
    for article in extremes:
        storage.add(article, [spilled])
    assert storage.counts([inline]) == dict.fromkeys(extremes[:4], 1)
    assert storage.counts([spilled]) == dict.fromkeys(extremes, 1)
    assert storage.counts([inline, spilled]) == {
        **dict.fromkeys(extremes, 1),
        **dict.fromkeys(extremes[:4], 2),
    }
    group, field = storage.locate(spilled)
    assert client.hget(group, field) == b""  # spilled
    for article in extremes[:8]:
        storage.remove(article, [spilled])
    value = client.hget(group, field)  # moved back into the group
    assert isinstance(value, bytes)
    assert sorted(value[i : i + 4] for i in range(0, len(value), 4)) == sorted(
        a.to_bytes(4, "little") for a in extremes[8:]
    )
    assert storage.counts([spilled]) == dict.fromkeys(extremes[8:], 1)
    assert storage.size() == 2  # removing an article from its buckets forgets it
    for bad in (-1, MAX_ID + 1):
        with pytest.raises(ValueError, match="32 bits"):
            storage.add(bad, [inline])


def test_cap_leaves_out_buckets_of_more_ids(client: redis.Redis) -> None:
    """A bucket of exactly ``cap`` ids counts, one of ``cap + 1`` does not, whether the bucket is
    in its group or spilled; a cap below 1 leaves out every bucket."""
    storage = CompactRedisStorage(client, PREFIX, inline_ids=4)
    small, large = b"\xaa\xbb\xcc\x01", b"\xaa\xbb\xcc\x02"  # one group, two fields
    storage.add_many([(article, [small]) for article in range(3)])
    storage.add_many([(article, [large]) for article in range(10)])
    assert storage.counts([small, large], cap=3) == dict.fromkeys(range(3), 1)
    assert storage.counts([small, large], cap=2) == {}
    assert storage.counts([small, large], cap=10) == {
        **dict.fromkeys(range(10), 1),
        **dict.fromkeys(range(3), 2),
    }
    assert storage.counts([small, large], cap=9) == dict.fromkeys(range(3), 1)
    assert storage.counts([small, large], cap=0) == {}


def test_groups_stay_compact(client: redis.Redis) -> None:
    """Keys of one group share one Redis hash, and a bucket that outgrows the inline limit moves
    to a set of its own instead of turning its group into a full hash table: the group keeps
    Redis's compact encoding (listpack; ziplist before Redis 7)."""
    storage = CompactRedisStorage(client, PREFIX)
    group_key = b"\x00\x03\x12\x34"
    keys = [group_key + bytes([i]) * 6 for i in range(40)]
    storage.add_many([(article, keys) for article in range(20)])
    group, _ = storage.locate(keys[0])
    assert {storage.locate(key)[0] for key in keys} == {group}
    assert client.hlen(group) == 40
    assert client.object("encoding", group) in (b"listpack", b"ziplist")
    assert client.hget(group, keys[0][4:]) == b""
    assert storage.counts(keys[:2]) == dict.fromkeys(range(20), 2)


def test_other_layouts_are_refused(client: redis.Redis) -> None:
    """A storage with other group bits or inline limit than the one that wrote the prefix refuses
    to add, remove and count (it would look in the wrong places) until the prefix is cleared."""
    CompactRedisStorage(client, PREFIX).add(1, [b"\x00\x01" + b"\x05" * 8])
    other = CompactRedisStorage(client, PREFIX, group_bits=24)
    with pytest.raises(LayoutError):
        other.add(2, [b"\x00\x01" + b"\x05" * 8])
    with pytest.raises(LayoutError):
        other.add_many([(2, [b"\x00\x01" + b"\x05" * 8])])
    with pytest.raises(LayoutError):
        other.counts([b"\x00\x01" + b"\x05" * 8])
    with pytest.raises(LayoutError):
        other.remove(1, [b"\x00\x01" + b"\x05" * 8])
    other.clear()
    other.add(2, [b"\x00\x01" + b"\x05" * 8])
    assert other.counts([b"\x00\x01" + b"\x05" * 8]) == {2: 1}


@pytest.mark.parametrize(
    ("capacity", "keys", "leading", "bits"),
    [(1_000_000, 1, 16, 30), (10_000_000, 1, 16, 34), (1_000_000, 70, 0, 21), (100, 1, 0, 1), (1, 1, 16, 17)],
)
def test_group_bits_put_at_most_64_fields_in_a_group_at_capacity(
    capacity: int, keys: int, leading: int, bits: int
) -> None:
    """The group bits for an index of ``capacity`` articles: the fewest groups (at least two per
    leading value) that hold the capacity's keys with at most 64 fields each, so between 32 and 64."""
    assert group_bits_for(capacity, keys, leading) == bits
    groups = 2 ** (bits - leading)
    assert capacity * keys / groups <= 64
    if groups > 2:
        assert capacity * keys / groups > 32


def test_group_bits_refuse_a_capacity_of_nothing() -> None:
    """A capacity or a key count below one is a mistake, said as such."""
    with pytest.raises(ValueError, match=r"capacity \(0\) and keys_per_article \(70\) must be positive"):
        group_bits_for(0, 70)


def test_insert_many_fills_the_index_as_inserts_one_at_a_time_do(client: redis.Redis) -> None:
    """CandidateIndex.insert_many (pipelines on Redis, batches smaller than the articles) gives an
    index that answers every query exactly as one filled by insert, one article at a time, in memory."""
    rng = np.random.default_rng(7)
    entries: list[Entry] = []
    for article in range(60):
        signature = rng.integers(0, 2**32, size=128, dtype=np.uint32)
        if article % 3:  # every third article a near-copy of the one before: shared buckets
            signature[: 64 + article % 40] = entries[-1][1][: 64 + article % 40]
        anchors = rng.integers(0, 2**32, size=20, dtype=np.uint32)
        anchors[:5] = article // 4  # shared by groups of four
        entries.append((article, signature, anchors, anchors[:10] ^ np.uint32(1)))

    def index(storage: Callable[[str], IndexStorage]) -> CandidateIndex:
        return CandidateIndex(
            lsh=LSHIndex(storage("lsh"), 0.5, 128),
            anchors=SharedKeyIndex(storage("anchors"), 3, 1000),
            evidence=SharedKeyIndex(storage("evidence"), 3, 1000),
        )

    one_by_one = index(lambda _: MemoryStorage())
    for entry in entries:
        one_by_one.insert(*entry)
    bulk = index(lambda name: CompactRedisStorage(client, f"{PREFIX}:{name}", group_bits=8))
    assert bulk.insert_many(iter(entries), batch=7) == 60

    assert len(bulk) == len(one_by_one) == 60
    answers = [bulk.query(*entry[1:]) for entry in entries]
    assert answers == [one_by_one.query(*entry[1:]) for entry in entries]
    assert all(entry[0] in found for entry, found in zip(entries, answers, strict=True))
    assert sum(len(found) for found in answers) > 2 * 60  # the copies found each other
