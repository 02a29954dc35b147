"""Start-up cost of ``newsdedup ingest`` on one page: PYTHONPATH=. python -m bench.startup [DOCS.jsonl] [LINE]

Runs ``newsdedup ingest`` on one page (default: the first line of the first development corpus, a
German news page; without the corpus, the first demo fixture page) in a fresh temporary folder (no
settings file), into a new SQLite database (its schema created by the migrations) and into one that
an unmeasured ingest of the next page has made (a service's usual start: the schema is current),
three times each, and prints the median CPU time (user + system, from ``os.wait4``) and peak
resident memory of the child. Baseline, in the same run and the same way: a bare
``python -c "import trafilatura; trafilatura.extract(page)"`` on the same page. Target: 1.5 s of CPU.

The built tables (``dedup.cache_folder``) are those of the machine's cache folder, built by one
unmeasured run first. A cold run, with ``NEWSDEDUP_CACHE_DIR`` set to an empty folder (every table
built from the installed packages), is reported separately, once.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.texts import CORPUS, html_pages

TARGET_CPU_SECONDS = 1.5
ROUNDS = 3
BASELINE = "import sys, trafilatura; trafilatura.extract(open(sys.argv[1], encoding='utf-8').read())"


@dataclass(frozen=True)
class Cost:
    cpu: float  # seconds, user + system
    peak_rss: int  # bytes


def measure(argv: list[str], cwd: Path, env: dict[str, str]) -> Cost:
    """CPU time and peak RSS of one child process (it must succeed)."""
    child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it
    child.stderr.close()
    if child.returncode != 0:
        sys.exit(f"{argv} exited with {child.returncode}:\n{errors.decode(errors='replace')}")
    return Cost(usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024)  # ru_maxrss is in KiB on Linux


def clean_env(**settings: str) -> dict[str, str]:
    """This environment without the caller's NEWSDEDUP_* settings, plus these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDEDUP_")}
    return {**env, **settings}


def newsdedup_command() -> list[str]:
    """The ``newsdedup`` console script beside this interpreter, as an operator runs it."""
    script = Path(sys.executable).with_name("newsdedup")
    return [str(script)] if script.exists() else [sys.executable, "-m", "newsdedup"]


def ingest_once(page_line: str, before: str | None = None, **settings: str) -> Cost:
    """The cost of ingesting the page in a new folder: into a new database, or, given ``before``
    (another page's line), into the database an unmeasured ingest of that page has made."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        command = [*newsdedup_command(), "ingest", "-q"]
        if before is not None:
            earlier = Path(folder) / "before.jsonl"
            earlier.write_text(before + "\n", encoding="utf-8")
            measure([*command, str(earlier)], Path(folder), clean_env(**settings))
        docs = Path(folder) / "page.jsonl"
        docs.write_text(page_line + "\n", encoding="utf-8")
        return measure([*command, str(docs)], Path(folder), clean_env(**settings))


def baseline_once(html: str) -> Cost:
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        page = Path(folder) / "page.html"
        page.write_text(html, encoding="utf-8")
        return measure([sys.executable, "-c", BASELINE, str(page)], Path(folder), clean_env())


def median(costs: list[Cost]) -> Cost:
    return Cost(statistics.median(c.cpu for c in costs), int(statistics.median(c.peak_rss for c in costs)))


def page(docs: Path | None, line: int) -> tuple[str, str]:
    """(JSON line, html) of the page."""
    if docs is None and not CORPUS.exists():
        url, html = html_pages()[line - 1]  # the demo's fixture pages
        return json.dumps({"url": url, "html": html}), html
    with (docs or CORPUS).open(encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            if number == line:
                return text.rstrip("\n"), json.loads(text)["html"]
    sys.exit(f"{docs or CORPUS} has no line {line}")


def row(name: str, cost: Cost) -> str:
    return f"  {name:<66} CPU {cost.cpu:5.2f} s   peak RSS {cost.peak_rss / 1e6:6.0f} MB"


def main(docs: Path | None, line: int) -> None:
    page_line, html = page(docs, line)
    url = json.loads(page_line)["url"]
    print(f"one page: {url} ({len(html.encode()) / 1000:.0f} kB of HTML); median of {ROUNDS} runs")
    ingest_once(page_line)  # builds the machine's tables if they are missing; not measured
    baseline = median([baseline_once(html) for _ in range(ROUNDS)])
    other_line, _ = page(docs, line + 1)
    print(row('baseline: python -c "import trafilatura; trafilatura.extract(page)"', baseline))
    for name, before in (("into a new database", None), ("into an existing database", other_line)):
        warm = median([ingest_once(page_line, before) for _ in range(ROUNDS)])
        print(row(f"newsdedup ingest, tables built, {name}", warm))
        verdict = "met" if warm.cpu <= TARGET_CPU_SECONDS else "NOT met"
        print(
            f"    ratio to the baseline: CPU {warm.cpu / baseline.cpu:.2f}x, peak RSS "
            f"{warm.peak_rss / baseline.peak_rss:.2f}x; target: {TARGET_CPU_SECONDS} s of CPU ({verdict})"
        )
    with tempfile.TemporaryDirectory(prefix="bench-startup-cache-") as empty:
        cold = ingest_once(page_line, NEWSDEDUP_CACHE_DIR=empty)
    print(row("cold: newsdedup ingest, empty cache folder (one run)", cold))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None, int(sys.argv[2]) if len(sys.argv) > 2 else 1)
