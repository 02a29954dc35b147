"""Index buckets in Redis, packed: hashes of short fields in Redis's compact listpack encoding.

``RedisStorage`` keeps one Redis set per bucket. A MinHash index of a million articles has 25
million buckets, nearly all of one article, and a Redis key costs about 100 bytes before it holds
anything (its dict entry, its name, its object header, the set), so that index costs 3.1 KB an
article. ``CompactRedisStorage`` keeps the same buckets in 0.7 KB (bench/redis_index.py: 1 M
articles of random signatures, 25 bands, Redis 7.0 with its default settings).

Layout (``P`` is the prefix; the group and field split is explained below)::

    P:<group hex>               hash: field = the rest of the bucket key -> the bucket's ids,
                                4 bytes little-endian each, or b"" when it has spilled (next line)
    P:<group hex>:<field hex>   set of decimal ids: a bucket of more than ``inline_ids`` ids
    P:m:<id >> 7 hex>           hash: field = id & 127 (decimal) -> b"": the indexed articles
    P:count                     how many articles are indexed (``size()``)
    P:layout                    the layout the keys were written with: a storage of another one
                                raises LayoutError instead of missing every bucket the others wrote

(With hash tags for a Redis Cluster, every ``P:`` above is ``P:{<tag hex>}:``: see "Redis Cluster".)

Why it is small. A hash of at most ``hash-max-listpack-entries`` (128 by default) fields, none
longer than ``hash-max-listpack-value`` (64) bytes, is one flat allocation in which a field of six
bytes costs 8 bytes and a 4-byte id 6; the key's own cost (about 90 bytes: dict entry, name, object
header) is shared by the fields of the group. A bucket of one article costs 14 bytes plus its share
of the group's cost.

Groups. A bucket key's leading ``g`` bits name its group and the key from byte ``g // 8`` on is the
field (the bits of a byte split between them are in both, so group and field give back the key).
LSH keys are 2 bytes of band and 8 of xxh64: ``g = 33`` (the band and 17 hash bits) makes 25 x
2**17 = 3.3 M groups, 7.6 fields each at 1 M articles and 76 at 10 M; groups stay under the
128-entry limit up to about 12 M articles. (A group past the limit is still right, only stored as a
real hash table, several times larger.) ``group_bits=32`` halves the groups: 0.55 KB an article at
1 M instead of 0.71 KB, but groups start to outgrow the limit at about 6 M articles. Anchor and
evidence keys (4 hash bytes) get ``g = 22``: 4 M groups, 17 fields each at 1 M articles of 70
anchors. Pass ``group_bits`` for other sizes: 10 to 100 keys a group at the largest expected index.
A group name's width (``ceil(g / 4)`` hex digits) tells its ``g``, so keys of different lengths
under one prefix never share a bucket.

Large buckets. An id is appended to its bucket's value while the bucket holds fewer than
``inline_ids`` ids (16: 64 bytes, the listpack value limit); the next one moves the bucket to a set
of its own and leaves b"" in the group as a marker, so the group stays compact and queries know
where to look from the lookup they make anyway. A set gives O(1) duplicate checks for the large
buckets of common keys; up to 512 ids it is an intset (4 bytes an id), beyond that a hash table
(about 60 bytes an id), which only very common keys reach. A spilled bucket that shrinks to half of
``inline_ids`` moves back. A query with a cap learns a bucket's size from its value's length or
SCARD before reading any id, so a bucket over the cap costs one lookup however large it has grown;
``capped`` counts those buckets.

Atomicity and round trips. Adding, removing and counting are Lua scripts (registered once, run by
EVALSHA), one per article or query on a standalone Redis: concurrent writers never lose an id, and
a query is one round trip. The fields travel as one argument (the group names, declared
keys, are one each): fewer arguments for the client to pack, its main cost. An add call carries the
ids beside the fields (4 bytes a bucket), so one call may add many articles: ``add_many`` sends 64
articles a call (``ARTICLES_PER_CALL``), ``batch`` articles a pipeline. A query takes about 0.15 ms
(p99 0.3 ms) on loopback.

Redis Cluster. A script may only touch keys of one slot, so with ``tags`` > 1 every key carries a
hash tag: group ``n``'s is ``n mod tags`` (``P:{1f}:<group hex>``), and each tag has its own layout
key and count (``P:{1f}:layout``, ``P:{1f}:count``); an article's member entry is under the tag of
``(id >> 7) mod tags``. A spilled bucket's set is named after its group, tag included, so it shares
the group's slot. An article's keys are grouped by tag, one script call a tag, all sent in one
pipeline (redis-py's cluster pipeline sends each node its calls): 25 LSH keys over 32 tags are
about 18 calls; ``add_many`` sends one call a tag for many articles. Each call is atomic, an
article's calls together are not: an add writes the buckets before the member, a remove the member
first, so ``size()`` never counts an article that
is half there; both are idempotent, and a failed one is repeated by the page's retry. Many more
tags than nodes keep the nodes even: slots move between nodes, a tag's keys always together.

Ids are ints from 0 to 2**32 - 1. ``clear()`` unlinks every key that starts with ``P:``, in
batches, so prefixes must not nest (``lsh`` and ``lsh:x``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import redis
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import NoScriptError

from dedup.index_storage import IndexStorage, Keys

# The largest id: ids are stored as 4 bytes.
MAX_ID = 2**32 - 1
# LSH keys (2 bytes of band, 8 of xxh64) and other keys (4 hash bytes): see the module docstring.
LSH_KEY_BYTES = 10
LSH_GROUP_BITS = 33
SHORT_GROUP_BITS = 22
# Articles of one ``P:m:`` hash: at most 128 fields keeps it a listpack.
MEMBER_BITS = 7
LAYOUT_VERSION = 1
# A group holds at most this many fields when its index is at the capacity it was sized for (see
# group_bits_for): half the listpack limit or less, so an index can outgrow its capacity two- to
# fourfold before its groups leave the compact encoding.
FIELDS_AT_CAPACITY = 64
# The hash tags of an index on a Redis Cluster, unless told otherwise. Each tag an article's keys reach
# is a script call (its 25 bands, 70 anchors and 76 evidence terms reach 76 of 32 tags, 109 of 128),
# and more tags spread the keys more evenly (bench/redis_cluster.py, 3 masters: the fullest held 0.40
# of the keys with 32 tags, 0.34 with 128; a page's index work took about 4 ms more than on one
# server with 32, 7 ms with 128). A cluster can use at most as many masters as there are tags.
CLUSTER_TAGS = 32
# Hash tags at most: Redis Cluster has 16,384 slots.
MAX_TAGS = 16384
# Articles whose entries of one hash tag add_many sends in one script call, times the tags: a call of
# 64 articles on one server (up to 5,000 keys, a few milliseconds of Redis's time: other clients'
# calls are not held up long), about as many per tag on a cluster.
ARTICLES_PER_CALL = 64
# A cap no bucket reaches (ids are 32-bit), sent when counts() has none.
_NO_CAP = 2**33
_SCAN_BATCH = 2000

# Every script: KEYS[1] is the layout key, ARGV[1] the layout this client writes, ARGV[2] the
# bucket fields as one argument of length-prefixed strings. Helpers: the layout check, the fields,
# the set of a spilled bucket, a packed id in decimal, where an id sits in a packed value.
_LUA_HELPERS = """
local function layout_error(create)
  local current = redis.call('GET', KEYS[1])
  if not current then
    if create then redis.call('SET', KEYS[1], ARGV[1]) end
  elseif current ~= ARGV[1] then
    return redis.error_reply('LAYOUT the index under this prefix was written as "' .. current .. '"')
  end
  return nil
end
local function split_fields(blob)
  local fields, pos = {}, 1
  while pos <= #blob do
    local n = string.byte(blob, pos)
    fields[#fields + 1] = string.sub(blob, pos + 1, pos + n)
    pos = pos + 1 + n
  end
  return fields
end
local function spill_name(group, field)
  local hex = string.gsub(field, '.', function(c) return string.format('%02x', string.byte(c)) end)
  return group .. ':' .. hex
end
local function decimal(packed, at)
  return string.format('%d', (struct.unpack('<I4', packed, at)))
end
local function find_id(value, id)
  local at = 1
  while true do
    local p = string.find(value, id, at, true)
    if not p then return nil end
    if p % 4 == 1 then return p end
    at = p + 1
  end
end
"""

# KEYS: layout, count, ARGV[4] member hashes, then the bucket groups. ARGV: layout, the groups' fields,
# the groups' ids (4 bytes little-endian each, one a group: a call may add many articles), the
# number of member hashes, their fields, inline ids. The ids of one call are of one hash tag's keys.
_ADD = (
    _LUA_HELPERS
    + """
local err = layout_error(true)
if err then return err end
local fields = split_fields(ARGV[2])
local ids = ARGV[3]
local members = tonumber(ARGV[4])
local limit = 4 * tonumber(ARGV[6])
local first = 3 + members
for i = first, #KEYS do
  local group, field = KEYS[i], fields[i - first + 1]
  local at = 4 * (i - first) + 1
  local id = string.sub(ids, at, at + 3)
  -- A new bucket (nearly every bucket of a new story) is one command.
  if redis.call('HSETNX', group, field, id) == 0 then
    local value = redis.call('HGET', group, field)
    if value == '' then
      redis.call('SADD', spill_name(group, field), decimal(id, 1))
    elseif not find_id(value, id) then
      if #value < limit then
        redis.call('HSET', group, field, value .. id)
      else
        local spilled = {decimal(id, 1)}
        for j = 1, #value, 4 do spilled[#spilled + 1] = decimal(value, j) end
        redis.call('SADD', spill_name(group, field), unpack(spilled))
        redis.call('HSET', group, field, '')
      end
    end
  end
end
-- The members last: an article is counted once its buckets are in.
local added = 0
local member_fields = split_fields(ARGV[5])
for i = 1, members do
  added = added + redis.call('HSETNX', KEYS[2 + i], member_fields[i], '')
end
if added > 0 then redis.call('INCRBY', KEYS[2], added) end
return 0
"""
)

# KEYS and ARGV as _ADD's.
_REMOVE = (
    _LUA_HELPERS
    + """
local err = layout_error(false)
if err then return err end
local fields = split_fields(ARGV[2])
local ids = ARGV[3]
local members = tonumber(ARGV[4])
local refill = math.floor(tonumber(ARGV[6]) / 2)
-- The members first: an article is no longer counted once its removal has begun.
local removed = 0
local member_fields = split_fields(ARGV[5])
for i = 1, members do
  removed = removed + redis.call('HDEL', KEYS[2 + i], member_fields[i])
end
if removed > 0 then redis.call('DECRBY', KEYS[2], removed) end
local first = 3 + members
for i = first, #KEYS do
  local group, field = KEYS[i], fields[i - first + 1]
  local at = 4 * (i - first) + 1
  local id = string.sub(ids, at, at + 3)
  local dec = decimal(id, 1)
  local value = redis.call('HGET', group, field)
  if value == '' then
    local set = spill_name(group, field)
    if redis.call('SREM', set, dec) == 1 then
      local n = redis.call('SCARD', set)
      if n == 0 then
        redis.call('HDEL', group, field)
      elseif n <= refill then
        local packed = {}
        for _, m in ipairs(redis.call('SMEMBERS', set)) do
          packed[#packed + 1] = struct.pack('<I4', tonumber(m))
        end
        redis.call('HSET', group, field, table.concat(packed))
        redis.call('DEL', set)
      end
    end
  elseif value then
    local p = find_id(value, id)
    if p then
      if #value == 4 then
        redis.call('HDEL', group, field)
      else
        redis.call('HSET', group, field, string.sub(value, 1, p - 1) .. string.sub(value, p + 4))
      end
    end
  end
end
return 0
"""
)

# KEYS: layout, then the bucket groups. ARGV: layout, fields, cap.
# Returns the ids of every bucket within the cap, packed (4 bytes little-endian each) and
# concatenated, and the number of buckets left out for holding more. A bucket's size is known before
# its ids are read (the length of its value, SCARD), so a capped bucket costs one lookup however
# large it is. A spilled bucket's ids are packed here too: one reply string for the client to parse,
# not one per id.
_COUNTS = (
    _LUA_HELPERS
    + """
local err = layout_error(false)
if err then return err end
local fields = split_fields(ARGV[2])
local cap = tonumber(ARGV[3])
local packed = {}
local capped = 0
for i = 2, #KEYS do
  local group, field = KEYS[i], fields[i - 1]
  local value = redis.call('HGET', group, field)
  if value == '' then
    local set = spill_name(group, field)
    if redis.call('SCARD', set) <= cap then
      for _, m in ipairs(redis.call('SMEMBERS', set)) do
        packed[#packed + 1] = struct.pack('<I4', tonumber(m))
      end
    else
      capped = capped + 1
    end
  elseif value then
    if #value <= 4 * cap then packed[#packed + 1] = value else capped = capped + 1 end
  end
end
return {table.concat(packed), capped}
"""
)


# A script call: its KEYS and its ARGV.
_Call = tuple[list[str], list[bytes | str | int]]


def group_bits_for(capacity: int, keys_per_article: float, leading_bits: int = 0) -> int:
    """Group bits that put at most FIELDS_AT_CAPACITY fields in a group when ``capacity`` articles
    are indexed, each with ``keys_per_article`` keys per value of their ``leading_bits`` (an LSH
    key's band is its first 16 bits, and an article has one key per band: 16 and 1).

    Fewer groups than the defaults at the size one expects save the ~90 bytes a key costs: a
    million articles of the whole candidate index take about a third less (bench/capacity.py).
    """
    if capacity < 1 or keys_per_article <= 0:
        raise ValueError(f"capacity ({capacity}) and keys_per_article ({keys_per_article}) must be positive")
    groups = max(2.0, capacity * keys_per_article / FIELDS_AT_CAPACITY)
    return leading_bits + math.ceil(math.log2(groups))


class LayoutError(RuntimeError):
    """The prefix holds an index written with another layout (group bits, inline ids)."""


class CompactRedisStorage(IndexStorage):
    """Buckets packed into Redis hashes of listpack encoding (see the module docstring).

    ``group_bits`` sets the groups (None: 33 bits for LSH keys, 22 for others), ``inline_ids`` how
    many ids a bucket keeps in its group before it spills and ``tags`` over how many hash tags the
    keys are spread (1: none, for a standalone Redis; more for a Redis Cluster, see "Redis
    Cluster" in the module docstring); every client of a prefix must use the same (they fail with
    ``LayoutError`` otherwise, until the index is cleared and rebuilt). ``batch`` is the number of
    articles per pipeline in ``add_many``. ``capped`` counts the buckets that ``counts`` left out
    for holding more than its cap.
    """

    def __init__(
        self,
        client: redis.Redis | RedisCluster,
        prefix: str,
        *,
        group_bits: int | None = None,
        inline_ids: int = 16,
        tags: int = 1,
        batch: int = 1000,
    ) -> None:
        if client.get_connection_kwargs().get("decode_responses"):
            raise ValueError("CompactRedisStorage needs a client that returns bytes (decode_responses=False)")
        if group_bits is not None and group_bits < 1:
            raise ValueError(f"group_bits must be positive, not {group_bits}")
        if not 1 <= inline_ids <= 64:
            raise ValueError(f"inline_ids must be between 1 and 64, not {inline_ids}")
        if not 1 <= tags <= MAX_TAGS:
            raise ValueError(f"tags must be between 1 and {MAX_TAGS}, not {tags}")
        if "{" in prefix or "}" in prefix:
            raise ValueError(f"the prefix {prefix!r} must not hold braces: the storage sets the hash tags")
        self.client = client
        self.prefix = prefix
        self.group_bits = group_bits
        self.inline_ids = inline_ids
        self.tags = tags
        self.batch = max(1, batch)
        # Buckets that counts() left out for holding more than its cap, since this storage was made.
        self.capped = 0
        groups = (
            str(group_bits)
            if group_bits is not None
            else f"{LSH_GROUP_BITS} for {LSH_KEY_BYTES}-byte keys, else {SHORT_GROUP_BITS}"
        )
        self.layout = f"compact v{LAYOUT_VERSION}; group bits {groups}; inline ids {inline_ids}"
        if tags > 1:
            self.layout += f"; hash tags {tags}"
        # Each tag's key prefix: the prefix itself when there is one tag (the layout of a standalone
        # Redis, as it always was).
        self._tagged = [prefix] if tags == 1 else [f"{prefix}:{{{t:x}}}" for t in range(tags)]
        self._splits: dict[int, tuple[int, int, int, int, bytes]] = {}
        self._add_script: Script = client.register_script(_ADD)
        self._remove_script: Script = client.register_script(_REMOVE)
        self._counts_script: Script = client.register_script(_COUNTS)

    # -- the interface ---------------------------------------------------------------------------

    def add(self, article_id: int, keys: Keys) -> None:
        calls = self._calls([(article_id, keys)])
        if len(calls) == 1:
            with self._layout_errors():
                self._add_script(*calls[0])
        else:
            self._pipelined([(self._add_script, call) for call in calls])

    def add_many(self, items: Iterable[tuple[int, Keys]]) -> None:
        """Add many articles, ``batch`` of them a pipeline, each hash tag's entries of up to
        ``ARTICLES_PER_CALL`` x ``tags`` articles in one script call: for rebuilds and bulk loads."""
        per_call = ARTICLES_PER_CALL * self.tags
        for batch in _batches(items, self.batch):
            calls = [
                call
                for start in range(0, len(batch), per_call)
                for call in self._calls(batch[start : start + per_call])
            ]
            self._pipelined([(self._add_script, call) for call in calls])

    def remove(self, article_id: int, keys: Keys) -> None:
        # The member goes first: an article whose removal stops half-way is not counted (see add).
        calls = self._calls([(article_id, keys)])[::-1]
        if self.tags == 1:
            with self._layout_errors():
                self._remove_script(*calls[0])
        else:
            self._pipelined([(self._remove_script, call) for call in calls])

    def counts(self, keys: Keys, cap: int | None = None) -> Counter[int]:
        found: Counter[int] = Counter()
        if len(keys) == 0:
            return found
        limit = _NO_CAP if cap is None else cap
        calls: list[_Call] = [
            ([self._tagged[tag] + ":layout", *groups], [self.layout, fields, limit])
            for tag, (groups, fields) in self._locate(keys).items()
        ]
        if len(calls) == 1:
            with self._layout_errors():
                replies: list[Any] = [self._counts_script(*calls[0])]
        else:
            replies = self._pipelined([(self._counts_script, call) for call in calls])
        for packed, capped in replies:
            self.capped += int(capped)
            if packed:
                found.update(np.frombuffer(packed, dtype="<u4").tolist())
        return found

    def size(self) -> int:
        names = [tagged + ":count" for tagged in self._tagged]
        if isinstance(self.client, RedisCluster):
            counts: list[bytes | None] = self.client.mget_nonatomic(names)
        else:
            counts = self.client.mget(names)  # type: ignore[assignment]  # sync client
        return sum(int(count) for count in counts if count)

    def clear(self) -> None:
        batch: list[bytes] = []
        for key in self.client.scan_iter(match=_escape_glob(self.prefix) + ":*", count=_SCAN_BATCH):
            batch.append(key)
            if len(batch) >= _SCAN_BATCH:
                self.client.unlink(*batch)
                batch.clear()
        if batch:
            self.client.unlink(*batch)

    # -- where a bucket lives --------------------------------------------------------------------

    def bits_for(self, key_length: int) -> int:
        """The group bits of keys of this many bytes."""
        if self.group_bits is not None:
            return min(self.group_bits, 8 * key_length)
        if key_length == LSH_KEY_BYTES:
            return LSH_GROUP_BITS
        return min(SHORT_GROUP_BITS, 8 * key_length)

    def locate(self, key: bytes) -> tuple[str, bytes]:
        """The group hash and the field of a bucket key."""
        read, shift, width, cut, _ = self._split(len(key))
        group = int.from_bytes(key[:read], "big") >> shift
        return f"{self._tagged[group % self.tags]}:{group:0{width}x}", key[cut:]

    def _split(self, key_length: int) -> tuple[int, int, int, int, bytes]:
        """For keys of this length: the bytes read for the group, the right shift, the hex width of
        the group, the first byte of the field, and the field's length as a byte."""
        split = self._splits.get(key_length)
        if split is None:
            bits = self.bits_for(key_length)
            read, cut = (bits + 7) // 8, bits // 8
            if key_length - cut > 255:
                raise ValueError(f"a key of {key_length} bytes is too long for CompactRedisStorage")
            split = (read, 8 * read - bits, (bits + 3) // 4, cut, bytes((key_length - cut,)))
            self._splits[key_length] = split
        return split

    def _locate(self, keys: Keys) -> dict[int, tuple[list[str], bytes]]:
        """By hash tag: the group hashes of the distinct keys, and their fields as one argument (each
        field after its length, a byte)."""
        distinct = list(dict.fromkeys(keys))
        lengths = {len(key) for key in distinct}
        if len(lengths) == 1:
            (alike,) = lengths
            if alike > 0 and self._split(alike)[0] <= 8:
                return self._locate_alike(distinct, alike)
        by_tag: dict[int, tuple[list[str], list[bytes]]] = {}
        for key in distinct:
            read, shift, width, cut, length = self._split(len(key))
            group = int.from_bytes(key[:read], "big") >> shift
            groups, fields = by_tag.setdefault(group % self.tags, ([], []))
            groups.append(f"{self._tagged[group % self.tags]}:{group:0{width}x}")
            fields.append(length)
            fields.append(key[cut:])
        return {tag: (groups, b"".join(fields)) for tag, (groups, fields) in by_tag.items()}

    def _locate_alike(self, keys: list[bytes], length: int) -> dict[int, tuple[list[str], bytes]]:
        """``_locate`` for distinct keys of one length whose group fits in 64 bits (every index's
        keys), computed for all keys at once: an article's 70 anchors in a third of the time they take
        one at a time."""
        read, shift, width, cut, size = self._split(length)
        rows = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, length)
        # The group: the first ``read`` bytes as a big-endian number, shifted right; in hex, the last
        # ``width`` of 16 digits.
        head = np.zeros((rows.shape[0], 8), dtype=np.uint8)
        head[:, 8 - read :] = rows[:, :read]
        numbers = head.view(">u8").ravel() >> np.uint64(shift)
        digits = numbers.astype(">u8").tobytes().hex()
        fields = np.empty((rows.shape[0], 1 + length - cut), dtype=np.uint8)
        fields[:, 0] = size[0]
        fields[:, 1:] = rows[:, cut:]
        if self.tags == 1:
            prefix = self.prefix
            groups = [f"{prefix}:{digits[end - width : end]}" for end in range(16, 16 * len(keys) + 1, 16)]
            return {0: (groups, fields.tobytes())}
        tags = (numbers % np.uint64(self.tags)).astype(np.int64)
        order = np.argsort(tags, kind="stable")
        found, starts = np.unique(tags[order], return_index=True)
        bounds = [*starts.tolist(), len(order)]
        located: dict[int, tuple[list[str], bytes]] = {}
        for i, tag in enumerate(found.tolist()):
            members = order[bounds[i] : bounds[i + 1]]
            tagged = self._tagged[tag]
            groups = [f"{tagged}:{digits[16 * j + 16 - width : 16 * j + 16]}" for j in members.tolist()]
            located[tag] = (groups, fields[members].tobytes())
        return located

    def _calls(self, items: list[tuple[int, Keys]]) -> list[_Call]:
        """KEYS and ARGV of the add (or remove) script calls of these articles, one a hash tag; the
        calls that carry member entries last (an add counts an article once its buckets are in, a
        remove, sending them in reverse, stops counting it first)."""
        groups: dict[int, list[str]] = {}
        fields: dict[int, list[bytes]] = {}
        ids: dict[int, list[bytes]] = {}
        members: dict[int, list[str]] = {}
        member_fields: dict[int, list[bytes]] = {}
        for article_id, keys in items:
            if not 0 <= article_id <= MAX_ID:
                raise ValueError(f"article id {article_id} does not fit in 32 bits")
            packed = article_id.to_bytes(4, "little")
            for tag, (tag_groups, tag_fields) in self._locate(keys).items():
                groups.setdefault(tag, []).extend(tag_groups)
                fields.setdefault(tag, []).append(tag_fields)
                ids.setdefault(tag, []).append(packed * len(tag_groups))
            tag = (article_id >> MEMBER_BITS) % self.tags
            field = str(article_id & ((1 << MEMBER_BITS) - 1)).encode()
            members.setdefault(tag, []).append(f"{self._tagged[tag]}:m:{article_id >> MEMBER_BITS:x}")
            member_fields.setdefault(tag, []).extend((bytes((len(field),)), field))
        calls: list[_Call] = []
        for tag in sorted(groups.keys() | members.keys(), key=lambda t: (t in members, t)):
            tagged = self._tagged[tag]
            tag_members = members.get(tag, [])
            args: list[bytes | str | int] = [
                self.layout,
                b"".join(fields.get(tag, [])),
                b"".join(ids.get(tag, [])),
                len(tag_members),
                b"".join(member_fields.get(tag, [])),
                self.inline_ids,
            ]
            calls.append(([tagged + ":layout", tagged + ":count", *tag_members, *groups.get(tag, [])], args))
        return calls

    def _pipelined(self, calls: list[tuple[Script, _Call]]) -> list[Any]:
        """Run script calls in one pipeline (one per node of a cluster) and return their replies. A
        cluster pipeline cannot load scripts, so a node that does not know one (new, restarted or a
        replica just promoted) has them loaded and the calls sent again: every script call here may
        run twice."""
        for attempt in (1, 2):
            pipe = self.client.pipeline(transaction=False)
            for script, (keys, args) in calls:
                script(keys, args, client=pipe)
            try:
                with self._layout_errors():
                    return pipe.execute()
            except NoScriptError:
                if attempt == 2:
                    raise
                for script in (self._add_script, self._remove_script, self._counts_script):
                    self.client.script_load(script.script)
        raise AssertionError("unreachable")

    @contextmanager
    def _layout_errors(self) -> Iterator[None]:
        """A script's layout refusal as a LayoutError."""
        try:
            yield
        except redis.ResponseError as error:
            text = str(error)
            at = text.find("LAYOUT ")
            if at < 0:
                raise
            raise LayoutError(
                f"{self.prefix!r}: {text[at + 7 :]}, this storage writes {self.layout!r}: clear the "
                "index and rebuild it, or use the same settings"
            ) from error


def _batches(items: Iterable[tuple[int, Keys]], size: int) -> Iterator[list[tuple[int, Keys]]]:
    batch: list[tuple[int, Keys]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _escape_glob(text: str) -> str:
    """The text as a literal in a Redis glob pattern."""
    return "".join("\\" + c if c in "\\*?[]" else c for c in text)
