"""The project's own checks, so that the one test command also runs them: ruff and mypy strict."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_finds_nothing() -> None:
    """ruff check passes and the code is formatted as ruff formats it."""
    check = _run("ruff", "check", ".")
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _run("ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict_finds_nothing() -> None:
    """mypy in strict mode (pyproject.toml) passes over every package."""
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
