"""Where the core keeps the tables it builds once per machine (the dictionaries' glossaries, the language
model's arrays, the word rarity table): the ``CACHE_DIR`` setting, handed over by the runtime when it is
built; and how a table is built there once, then memory-mapped by every process.

A table is a folder of files (``.npy`` arrays, a blob of text) that processes map rather than read:
the pages of a mapped file belong to the page cache, so Celery's prefork children, and every other
process of the machine, share one copy instead of each holding its own. The folder is built under a
private name and renamed into place: no process ever maps half a table, and when two build at once
the first rename wins and the other's copy is thrown away. Its name carries a version number: a
change of format gets a new folder instead of misreading an old one.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

_folder = Path.home() / ".cache" / "newsdedup"


def use(folder: Path) -> None:
    """Keep the built tables in ``folder`` from now on (a process sets this once, from its settings)."""
    global _folder
    _folder = folder


def folder() -> Path:
    return _folder


def mapped(name: str, what: str, build: Callable[[Path], None], open_table: Callable[[Path], T]) -> T:
    """``open_table(folder)`` of the table folder ``name`` in the cache folder, which ``build(folder)``
    fills (with files only) the first time. ``what`` names the table in the log."""
    final = _folder / name
    if final.is_dir():
        try:
            return open_table(final)
        except (OSError, ValueError) as e:  # a file deleted or damaged by hand: build it again
            log.warning("the %s in %s cannot be read (%s): building it again", what, final, e)
            _discard(final)
    log.info("building the %s in %s (once per machine; every later process maps it)", what, final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=final.parent))
    except OSError as e:
        log.warning("cannot keep the %s in %s: %s (it is built again in every process)", what, _folder, e)
        return _built_elsewhere(build, open_table)
    try:
        build(partial)
        partial.chmod(0o755)  # mkdtemp's folder is private; the table is as readable as its files
        partial.rename(final)
    except OSError:
        # Another process renamed its copy into place first (the folder is not empty), or the
        # build could not write: either way ours is not needed.
        shutil.rmtree(partial, ignore_errors=True)
        if not final.is_dir():
            raise
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return open_table(final)


def write_file(path: Path, data: bytes) -> None:
    """Write a small file where concurrent processes never read half of it: a private file, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def _built_elsewhere(build: Callable[[Path], None], open_table: Callable[[Path], T]) -> T:
    """The table built in a temporary folder, opened, and the folder removed: its files stay mapped
    (an unlinked file lives on while it is mapped), and nothing is left behind."""
    temporary = Path(tempfile.mkdtemp(prefix="newsdedup-table-"))
    try:
        build(temporary)
        return open_table(temporary)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _discard(table: Path) -> None:
    """Move a damaged table out of the way, then delete it (processes that map its files keep them)."""
    aside = table.with_name(f".{table.name}.{os.getpid()}.discarded")
    try:
        table.rename(aside)
    except OSError:
        return  # another process moved it first
    shutil.rmtree(aside, ignore_errors=True)
