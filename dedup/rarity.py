"""How rare a word is in general language, in every language wordfreq ships, from one compact table.

The evidence of a translation (``dedup.evidence``) is what survives translating: names, numbers and
rare words. A word common in *any* language weighs little, since a chance match on it says nothing;
a word no frequency list knows is probably a name and weighs most. Rarity is measured on the Zipf
scale (log10 of frequency per billion words): ``weight = MAX_WEIGHT - zipf``, at least 0.

wordfreq's lists (42 languages) are merged into one table on first use: per word the highest
frequency in any list, keyed by a 64-bit hash of the word. The table is a folder of two ``.npy``
files in the cache folder (``dedup.cache_folder.mapped``) that every process memory-maps, so the
prefork pool's children share its pages instead of each holding its own copy of the dictionaries.
Nothing is downloaded.

Words rarer than ``MIN_ZIPF`` in every list are left out of the table: they weigh as unknown words.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from xxhash import xxh3_64_intdigest

from dedup import cache_folder

log = logging.getLogger(__name__)

MAX_WEIGHT = 5.0
#: Below this Zipf frequency a word weighs as one no list knows (``MAX_WEIGHT - MIN_ZIPF`` is close
#: to the maximum anyway); leaving them out halves the table.
MIN_ZIPF = 1.5
# 2: the table is a folder mapped through dedup.cache_folder (1 was two loose files).
_VERSION = 2
_WORDLIST = "best"
# Zipf values are kept in a byte: units of 1/20.
_SCALE = 20.0


@cache
def covered_languages() -> frozenset[str]:
    """The languages wordfreq has a frequency list for: read from the list kept beside the table in the
    cache folder, written there the first time (importing wordfreq takes a quarter of a second of
    every process's start otherwise)."""
    path = cache_folder.folder() / f"rarity-v{_VERSION}-languages.txt"
    try:
        kept = frozenset(path.read_text(encoding="utf-8").split())
        if kept:
            return kept
    except OSError:
        pass
    import wordfreq

    languages = frozenset(wordfreq.available_languages(wordlist=_WORDLIST))
    try:
        cache_folder.write_file(path, "\n".join(sorted(languages)).encode())
    except OSError as e:
        log.warning("cannot keep the list of wordfreq's languages in %s: %s", path, e)
    return languages


def weights(words: list[str]) -> npt.NDArray[np.float64]:
    """The weight of each word (case-folded before the lookup): ``MAX_WEIGHT`` minus its highest
    Zipf frequency in any language, 0 for the most common words, ``MAX_WEIGHT`` for unknown ones."""
    keys, zipfs = _table()
    if not words or keys.shape[0] == 0:
        return np.full(len(words), MAX_WEIGHT)
    hashed = np.fromiter((xxh3_64_intdigest(w.casefold().encode()) for w in words), np.uint64, len(words))
    at = np.minimum(np.searchsorted(keys, hashed), keys.shape[0] - 1)
    found = keys[at] == hashed
    zipf = np.where(found, zipfs[at].astype(np.float64) / _SCALE, 0.0)
    result: npt.NDArray[np.float64] = np.maximum(0.0, MAX_WEIGHT - zipf)
    return result


def weight(word: str) -> float:
    """``weights`` of one word."""
    return float(weights([word])[0])


@cache
def _table() -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint8]]:
    """The word hashes (sorted) and their Zipf values, memory-mapped from the cache folder; built there
    from the installed wordfreq lists the first time (about 15 s, once per machine)."""
    return cache_folder.mapped(f"rarity-v{_VERSION}", "word rarity table (wordfreq)", _write, _open)


def _write(folder: Path) -> None:
    keys, zipfs = _build()
    np.save(folder / "keys.npy", keys)
    np.save(folder / "zipf.npy", zipfs)


def _open(folder: Path) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint8]]:
    keys = np.load(folder / "keys.npy", mmap_mode="r")
    zipfs = np.load(folder / "zipf.npy", mmap_mode="r")
    if keys.shape != zipfs.shape:
        raise ValueError(f"{folder}: {keys.shape[0]} words but {zipfs.shape[0]} values")
    return keys, zipfs


def _build() -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint8]]:
    import wordfreq

    hashes: list[npt.NDArray[np.uint64]] = []
    values: list[npt.NDArray[np.uint8]] = []
    floor = 10 ** (MIN_ZIPF - 9)
    for language in sorted(covered_languages()):
        frequencies = wordfreq.get_frequency_dict(language, wordlist=_WORDLIST)
        words = [w for w, f in frequencies.items() if f >= floor]
        freq = np.fromiter((frequencies[w] for w in words), np.float64, len(words))
        hashes.append(np.fromiter((xxh3_64_intdigest(w.encode()) for w in words), np.uint64, len(words)))
        values.append(np.round((np.log10(freq) + 9.0) * _SCALE).clip(0, 255).astype(np.uint8))
    keys = np.concatenate(hashes)
    zipfs = np.concatenate(values)
    # Per word the highest value of any language: sort by hash, then by value descending; keep the first.
    order = np.lexsort((-zipfs.astype(np.int16), keys))
    keys, zipfs = keys[order], zipfs[order]
    first = np.ones(keys.shape[0], dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return keys[first], zipfs[first]
