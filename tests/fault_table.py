"""The fault table: each fault test records what went in, what was stored, lost and stored twice, and
how long the service took to recover; the run ends with the table (the README's is copied from it).

"Time to recover" is measured from the moment the fault ended (the process killed, the connection
back) until the last page was stored: it is a figure to read, never asserted on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

_ROWS_KEY = pytest.StashKey[list["FaultRow"]]()


@dataclass(frozen=True)
class FaultRow:
    fault: str
    pages_in: int
    stored: int
    lost: int
    twice: int
    recover_seconds: float | None  # None: nothing to recover from (the fault cost no wait)

    def markdown(self) -> str:
        recover = "–" if self.recover_seconds is None else f"{self.recover_seconds:.1f} s"
        return f"| {self.fault} | {self.pages_in} | {self.stored} | {self.lost} | {self.twice} | {recover} |"


Record = Callable[[FaultRow], None]


@pytest.fixture
def fault_row(request: pytest.FixtureRequest) -> Record:
    """Record this test's row of the fault table."""
    rows = request.config.stash.setdefault(_ROWS_KEY, [])
    return rows.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    rows = config.stash.get(_ROWS_KEY, [])
    if not rows:
        return
    terminalreporter.section("fault table")
    for line in ("| fault injected | pages in | stored | lost | twice | time to recover |", "|---" * 6 + "|"):
        terminalreporter.write_line(line)
    for row in rows:
        terminalreporter.write_line(row.markdown())
