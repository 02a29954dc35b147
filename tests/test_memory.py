"""Memory and start-up: the big tables (the dictionaries' glossaries, the language model, the list of
wordfreq's languages) are built once into the cache folder and memory-mapped from there, answering
exactly as the dicts and objects they replace; the command line imports no crawler or Celery code
for commands that need none."""

from __future__ import annotations

import ast
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dedup import cache_folder, glossary, language, rarity
from dedup.evidence import terms

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Texts in several languages and scripts, and texts too short or odd to be sure about.
TEXTS = [
    "The mayor announced on Monday that the city will buy 250 electric buses by 2027.",
    "Der Bürgermeister kündigte am Montag an, dass die Stadt bis 2027 250 Elektrobusse kaufen wird.",
    "Le maire a annoncé lundi que la ville achètera 250 bus électriques d'ici 2027.",
    "Мэр объявил в понедельник, что город купит 250 электробусов к 2027 году.",
    "市长周一宣布，到2027年该市将购买250辆电动公交车。",
    "市長は月曜日、2027年までに電気バス250台を購入すると発表した。",
    "시장은 월요일 2027년까지 전기버스 250대를 구입하겠다고 발표했다.",
    "Ο δήμαρχος ανακοίνωσε τη Δευτέρα ότι η πόλη θα αγοράσει 250 ηλεκτρικά λεωφορεία.",
    "ok",
    "2027",
    "",
]


@pytest.fixture(scope="module")
def dictionaries() -> dict[str, glossary.Entries]:
    """The glossaries as the builders make them (dicts), once for the module (about 13 s)."""
    return {"cedict": glossary._build_cedict(), "jmdict": glossary._build_jmdict()}


@pytest.fixture
def empty_cache(tmp_path: Path) -> Iterator[Path]:
    """An empty cache folder for this test; the process's own one and its loaded tables afterwards."""
    before = cache_folder.folder()
    folder = tmp_path / "cache"
    cache_folder.use(folder)
    _forget_loaded_tables()
    yield folder
    cache_folder.use(before)
    _forget_loaded_tables()


def _forget_loaded_tables() -> None:
    glossary.chinese.cache_clear()
    glossary.japanese.cache_clear()
    language._identifier.cache_clear()
    rarity.covered_languages.cache_clear()


def misses(entries: glossary.Entries) -> list[str]:
    """Strings that are no headword: headwords with a character more or less, and others."""
    found = {h + "の" for h in list(entries)[::50]} | {h[:-1] for h in list(entries)[::50]}
    found |= {"", "Serbia", "塞尔维亚塞尔维亚", "\x00", "ニュージーランド\x00"}
    return sorted(found - entries.keys())


@pytest.mark.parametrize("name", ["cedict", "jmdict"])
def test_a_mapped_glossary_answers_exactly_as_its_dict(
    name: str, dictionaries: dict[str, glossary.Entries], tmp_path: Path
) -> None:
    """Written by ``glossary.write`` and mapped by ``Glossary.open``, a glossary gives every headword
    of the builder's dict the same tuple of gloss words, and None (``get``), KeyError (``[]``) and
    False (``in``) for strings that are no headword; its length is the dict's."""
    entries = dictionaries[name]
    glossary.write(entries, tmp_path)
    table = glossary.Glossary.open(tmp_path)
    assert len(table) == len(entries)
    assert all(table.get(h) == words for h, words in entries.items())
    assert [type(table.get(h)) for h in list(entries)[:3]] == [tuple, tuple, tuple]
    absent = misses(entries)
    assert len(absent) > 1000
    assert [table.get(h) for h in absent] == [None] * len(absent)
    assert not any(h in table for h in absent)
    with pytest.raises(KeyError):
        table[absent[0]]


def test_an_empty_glossary_maps_and_finds_nothing(tmp_path: Path) -> None:
    """A glossary of no entry (its records file is empty, which cannot be mapped) opens, has length 0
    and answers None."""
    glossary.write({}, tmp_path)
    table = glossary.Glossary.open(tmp_path)
    assert (len(table), table.get("公共汽车"), "" in table) == (0, None, False)


def test_the_glossaries_of_the_api_are_mapped_and_answer_as_the_dicts(
    empty_cache: Path,
    dictionaries: dict[str, glossary.Entries],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``glossary.chinese()`` and ``japanese()`` build their tables into the cache folder (in a folder
    named with the format's version, after a log line saying so, leaving no partial folder behind)
    and answer as the builders' dicts, the examples of test_translations included."""
    monkeypatch.setattr(glossary, "_build_cedict", lambda: dictionaries["cedict"])
    monkeypatch.setattr(glossary, "_build_jmdict", lambda: dictionaries["jmdict"])
    with caplog.at_level(logging.INFO, logger="dedup.cache_folder"):
        chinese, japanese = glossary.chinese(), glossary.japanese()
    assert sorted(p.name for p in empty_cache.iterdir()) == [
        f"glossary-cedict-v{glossary._VERSION}",
        f"glossary-jmdict-v{glossary._VERSION}",
    ]
    assert [r.getMessage().split(" in ")[0] for r in caplog.records if r.name == "dedup.cache_folder"] == [
        "building the Chinese glossary (CC-CEDICT)",
        "building the Japanese glossary (JMdict)",
    ]
    assert chinese["塞尔维亚"] == ("Serbia",)
    assert chinese["塞爾維亞"] == ("Serbia",)
    assert chinese["公共汽车"] == ("bus",)
    assert japanese["ニュージーランド"] == dictionaries["jmdict"]["ニュージーランド"]
    assert japanese["ニュージーランド"][:2] == ("New", "Zealand")
    for name, table in (("cedict", chinese), ("jmdict", japanese)):
        entries = dictionaries[name]
        sample = list(entries)[::97]
        assert [table.get(h) for h in sample] == [entries[h] for h in sample]
        assert [table.get(h) for h in misses(entries)] == [None] * len(misses(entries))


def test_evidence_is_the_same_with_the_mapped_glossaries_as_with_the_dicts(
    dictionaries: dict[str, glossary.Entries], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evidence of the Chinese and Japanese translation fixtures, and of the test texts, is the
    same term for term, weight for weight, whether the glossaries are the mapped tables or the dicts."""
    texts = [(t, None) for t in TEXTS] + [
        ((FIXTURES / "translations" / f"buses.{lang}.txt").read_text(encoding="utf-8"), lang)
        for lang in ("zh", "ja")
    ]
    mapped = [terms(text, lang) for text, lang in texts]
    monkeypatch.setattr(glossary, "chinese", lambda: dictionaries["cedict"])
    monkeypatch.setattr(glossary, "japanese", lambda: dictionaries["jmdict"])
    assert [terms(text, lang) for text, lang in texts] == mapped
    assert len(mapped[-1]) > 20  # the Japanese fixture has glossed terms: the comparison is not empty


def test_a_table_is_built_once_then_mapped(empty_cache: Path) -> None:
    """``cache_folder.mapped`` calls the build function the first time only: a second load (a
    process that starts later, or another pool child) maps the folder the first one left."""
    built: list[Path] = []

    def build(folder: Path) -> None:
        built.append(folder)
        glossary.write({"公共汽车": ("bus",), "塞尔维亚": ("Serbia",)}, folder)

    first = cache_folder.mapped("glossary-test-v1", "test glossary", build, glossary.Glossary.open)
    second = cache_folder.mapped("glossary-test-v1", "test glossary", build, glossary.Glossary.open)
    assert len(built) == 1
    assert built[0].parent == empty_cache  # built beside its final place, then renamed
    assert [p.name for p in empty_cache.iterdir()] == ["glossary-test-v1"]
    assert (first["公共汽车"], second["公共汽车"], second.get("塞尔维亚")) == (
        ("bus",),
        ("bus",),
        ("Serbia",),
    )


def test_the_glossary_is_not_built_again_by_a_later_load(
    empty_cache: Path, dictionaries: dict[str, glossary.Entries], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once ``glossary.chinese()`` has built its table, a later process (here: the function's cache
    cleared) maps it: the builder is not called again."""
    calls: list[str] = []

    def build() -> glossary.Entries:
        calls.append("cedict")
        return dictionaries["cedict"]

    monkeypatch.setattr(glossary, "_build_cedict", build)
    assert glossary.chinese()["公共汽车"] == ("bus",)
    glossary.chinese.cache_clear()
    assert glossary.chinese()["公共汽车"] == ("bus",)
    assert calls == ["cedict"]


def test_a_damaged_table_is_built_again(empty_cache: Path) -> None:
    """A table folder whose file was deleted is moved away and built again, not misread."""
    calls: list[int] = []

    def build(folder: Path) -> None:
        calls.append(1)
        glossary.write({"公共汽车": ("bus",)}, folder)

    cache_folder.mapped("glossary-test-v1", "test glossary", build, glossary.Glossary.open)
    (empty_cache / "glossary-test-v1" / "offsets.npy").unlink()
    table = cache_folder.mapped("glossary-test-v1", "test glossary", build, glossary.Glossary.open)
    assert (len(calls), table["公共汽车"]) == (2, ("bus",))
    assert [p.name for p in empty_cache.iterdir()] == ["glossary-test-v1"]


def test_an_unwritable_cache_folder_still_gives_the_table(tmp_path: Path) -> None:
    """When the cache folder cannot be created (here a file is in its way), the table is built in a
    temporary folder, mapped, and the folder removed: the process works, only slower to start."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    before = cache_folder.folder()
    cache_folder.use(blocker / "cache")
    try:
        table = cache_folder.mapped(
            "glossary-test-v1",
            "test glossary",
            lambda folder: glossary.write({"公共汽车": ("bus",)}, folder),
            glossary.Glossary.open,
        )
    finally:
        cache_folder.use(before)
    assert table["公共汽车"] == ("bus",)


def test_the_mapped_language_model_answers_exactly_as_py3langid(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The language model unpacked into the cache folder and mapped gives, for texts in eight
    languages and a few odd ones, the same language and the same probability (to the last bit) as
    py3langid's stock identifier; its big arrays are memory-mapped; a second load maps the unpacked
    files without unpacking the model again."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    stock = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    mapped = language._identifier()
    assert [mapped.classify(t) for t in TEXTS] == [stock.classify(t) for t in TEXTS]
    assert [language.detect_language(t) for t in TEXTS] == [
        *("en", "de", "fr", "ru", "zh", "ja", "ko", "el"),
        *("sr", "sr", None),  # too short to tell: py3langid's guess; no text, no language
    ]
    assert isinstance(mapped.nb_ptc, np.memmap)
    assert isinstance(mapped.tk_nextmove, memoryview)
    assert [p.name.split("-")[:2] for p in empty_cache.iterdir()] == [["langid", f"v{language._VERSION}"]]

    def unpack_again(model: Path, folder: Path) -> None:
        raise AssertionError("the model was unpacked a second time")

    monkeypatch.setattr(language, "unpack", unpack_again)
    language._identifier.cache_clear()
    assert [language._identifier().classify(t) for t in TEXTS] == [stock.classify(t) for t in TEXTS]


def test_wordfreqs_languages_are_read_from_the_cache_folder(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first call writes wordfreq's 42 languages beside the rarity table; later ones read them
    from there and do not import wordfreq (here it cannot be imported at all)."""
    import wordfreq

    languages = rarity.covered_languages()
    assert languages == frozenset(wordfreq.available_languages(wordlist="best"))
    assert len(languages) == 42
    assert (empty_cache / f"rarity-v{rarity._VERSION}-languages.txt").exists()
    rarity.covered_languages.cache_clear()
    monkeypatch.setitem(sys.modules, "wordfreq", None)  # an import of it raises ImportError
    assert rarity.covered_languages() == languages


def _imported_by(args: list[str], cwd: Path) -> set[str]:
    """The modules ``newsdedup ARGS`` imported: the top-level packages, and the command line's own."""
    probe = (
        "import atexit, sys\n"
        "top = lambda: {m.split('.')[0] for m in sys.modules}\n"
        "cli = lambda: {m for m in sys.modules if m.startswith('newsdedup.cli')}\n"
        "atexit.register(lambda: print(sorted(top() | cli())))\n"
        f"sys.argv = ['newsdedup', *{args!r}]\n"
        "from newsdedup.cli import main\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return set(ast.literal_eval(out.stdout.strip().splitlines()[-1]))  # the printed list of names


def test_the_command_line_imports_no_crawler_or_celery_until_a_command_needs_it(tmp_path: Path) -> None:
    """``newsdedup --help`` (which lists every command) imports none of Scrapy, Twisted, Celery and
    Kombu; ``newsdedup ingest`` of a page imports neither Scrapy nor Twisted (only crawling needs
    them) and, of the command line, only the modules of ingest."""
    page = tmp_path / "page.jsonl"
    page.write_text('{"url": "http://a.example/1", "text": "' + "A short story. " * 40 + '"}\n')
    heavy = {"scrapy", "twisted", "celery", "kombu"}
    assert _imported_by(["--help"], tmp_path) & heavy == set()
    ingest = _imported_by(["ingest", "-q", str(page)], tmp_path)
    assert ingest & {"scrapy", "twisted"} == set()
    assert {m for m in ingest if m.startswith("newsdedup.cli")} == {
        *("newsdedup.cli", "newsdedup.cli.context", "newsdedup.cli.errors"),
        *("newsdedup.cli.ingest", "newsdedup.cli.render"),
    }


def test_a_broker_error_is_still_one_line_without_kombu_imported_by_the_command_line() -> None:
    """Kombu's OperationalError (raised only once Kombu is imported) still becomes the one-line
    'cannot reach Redis' message, now that the command line does not import Kombu itself."""
    import kombu.exceptions

    from newsdedup.cli.errors import one_line

    message = one_line(kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:1"))
    assert message is not None
    assert message.message == (
        "cannot reach Redis: Error 111 connecting to 127.0.0.1:1 "
        "(check NEWSDEDUP_REDIS_URL and that Redis is up)"
    )
