"""Language of a cleaned text, with py3langid (its model ships inside the package).

py3langid's own loader decompresses its model (LZMA) into arrays and Python lists in every process:
74 MB and 0.4 s of CPU each time. Here the model is unpacked once into the cache folder
(``dedup.cache_folder``) as ``.npy`` files that every process memory-maps, so a process starts in
milliseconds and Celery's prefork children share the model's pages. The classifier is py3langid's
own ``LanguageIdentifier``, built from the mapped arrays: it answers exactly as the stock one does.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from xxhash import xxh3_64_hexdigest

from dedup import cache_folder

# langid reads the first 1,500 characters as well as the whole text, much faster.
_SAMPLE_CHARS = 1500
# Below this probability the source's language hint, when there is one, is trusted instead.
_MIN_CONFIDENCE = 0.9
_VERSION = 1


def detect_language(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code of the text's language; the hint when detection is unsure; None for no text."""
    sample = text[:_SAMPLE_CHARS].strip()
    if not sample:
        return hint
    language, probability = _identifier().classify(sample)
    if probability < _MIN_CONFIDENCE and hint:
        return hint
    return str(language)


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    model = Path(MODEL_DIR) / MODEL_FILE
    # The folder is named after the model file's contents: another py3langid release's model gets its own.
    digest = xxh3_64_hexdigest(model.read_bytes())
    return cache_folder.mapped(
        f"langid-v{_VERSION}-{digest}", "language model (py3langid)", lambda f: unpack(model, f), open_model
    )


def unpack(model: Path, folder: Path) -> None:
    """Write the arrays of py3langid's model file as the files ``open_model`` maps."""
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(model)
    np.save(folder / "ptc.npy", np.asarray(ptc))
    np.save(folder / "pc.npy", np.asarray(pc))
    # nextmove and row are stdlib arrays (unsigned, their own item size): the same integers in numpy.
    np.save(folder / "nextmove.npy", np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}"))
    # LanguageIdentifier walks its automaton through ``row << 8`` per state: kept shifted, as it keeps it.
    np.save(folder / "rowbase.npy", np.frombuffer(row, dtype=f"u{row.itemsize}").astype(np.uint64) << 8)
    np.save(folder / "output.npy", np.asarray(output, dtype=np.int64))
    (folder / "classes.txt").write_text("\n".join(classes), encoding="utf-8")


def open_model(folder: Path) -> Any:
    """py3langid's LanguageIdentifier (with normalised probabilities) on the mapped arrays.

    The automaton's tables are walked one byte at a time in Python: they are handed over as
    memoryviews, whose items are Python ints, as fast to index as the stdlib arrays py3langid loads
    itself. The score table stays a numpy array (it is multiplied, not walked)."""
    from py3langid.langid import LanguageIdentifier

    classes = (folder / "classes.txt").read_text(encoding="utf-8").split("\n")
    ptc = np.load(folder / "ptc.npy", mmap_mode="r")
    pc = np.load(folder / "pc.npy")  # one number per language: read, not mapped
    if ptc.shape[1:] != pc.shape or pc.shape != (len(classes),):
        raise ValueError(f"{folder}: the model's arrays do not fit together")
    identifier = LanguageIdentifier(
        ptc, pc, classes, _view(folder / "nextmove.npy"), _view(folder / "output.npy"), True, tk_row=()
    )
    # Its constructor computes this list from tk_row (a Python int per state, whose reference counts
    # would unshare the pages of a forked child); the mapped, shifted copy takes its place.
    identifier._rowbase = _view(folder / "rowbase.npy")
    return identifier


def _view(path: Path) -> memoryview:
    return memoryview(np.load(path, mmap_mode="r"))
