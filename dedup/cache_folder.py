"""Where the core keeps the tables it builds once per machine (the dictionaries' glossaries, the word
rarity table): the ``CACHE_DIR`` setting, handed over by the runtime when it is built."""

from __future__ import annotations

from pathlib import Path

_folder = Path.home() / ".cache" / "newsdedup"


def use(folder: Path) -> None:
    """Keep the built tables in ``folder`` from now on (a process sets this once, from its settings)."""
    global _folder
    _folder = folder


def folder() -> Path:
    return _folder
