"""Memory of a worker that has processed 1,000 pages: PYTHONPATH=. python -m bench.worker_memory [PAGES]

Starts a real ``newsdedup worker --pool=prefork --concurrency=2`` on a redis-server and a PostgreSQL
schema of the benchmark's own (``bench.services``), sends it PAGES pages (default 1,000: the pages of
corpus2 when ``../shared`` is beside the checkout, else the demo's fixture pages; repeated under other
URLs when there are fewer) with ``newsdedup ingest --enqueue``, waits until its log says every task
finished, then prints, for the parent and each pool child, from ``/proc/PID/smaps_rollup`` and
``status``: the resident memory (RSS), its peak (VmHWM), the proportional share (PSS: each shared
page divided among the processes that map it) and the private memory (USS: pages of that process
alone, what ending it would free). Then ``newsdedup ingest`` of the same pages in one process
(embedded mode, a temporary SQLite database): its peak RSS. Baseline, in the same run: a bare python
process that imported trafilatura. Target: 300 MB per process.

How the pool's children share the big tables: the word rarity table, the dictionaries' glossaries
and the language model's arrays are files in the cache folder (``dedup.cache_folder``) that each
process memory-maps, read-only. Their pages belong to the kernel's page cache, one copy for the whole
machine: a child that maps them adds them to its RSS but not to the machine's memory, which PSS shows
(a mapped page counts 1/N in each of the N processes that map it) and USS leaves out. RSS counts
nearly all of the tables' 140 MB once a process has used them a little (the kernel maps a page's
neighbours along with it), so a child's RSS overstates what it holds by about that much. The parent
opens the language model, the rarity table and the glossaries before it forks (``workers.app``'s
``worker_init`` warm-up), so the children inherit those maps and share their pages.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.services import own_redis, postgres_schema
from bench.startup import clean_env, newsdedup_command

ROOT = Path(__file__).resolve().parent.parent
CORPUS2 = ROOT.parent / "shared" / "corpus2" / "docs.jsonl"
SITES = ROOT / "newsdedup" / "demo" / "sites"
TARGET_BYTES = 300_000_000
DEADLINE = 3600
# A task's last line: it succeeded, or failed for good (a retry is not the end of it).
_FINISHED = re.compile(rb"Task newsdedup\.process_page\[[0-9a-f-]+\] (?:succeeded|raised)")


@dataclass(frozen=True)
class Memory:
    rss: int
    pss: int
    pss_anon: int
    pss_file: int
    private: int  # pages of this process alone (USS): what ending it would free
    peak_rss: int  # VmHWM


def memory(pid: int) -> Memory:
    rollup = _fields(Path(f"/proc/{pid}/smaps_rollup").read_text())
    status = _fields(Path(f"/proc/{pid}/status").read_text())
    return _memory(rollup | status)


def _memory(f: dict[str, int]) -> Memory:
    private = f["Private_Clean"] + f["Private_Dirty"]
    return Memory(f["Rss"], f["Pss"], f.get("Pss_Anon", 0), f.get("Pss_File", 0), private, f["VmHWM"])


def _fields(text: str) -> dict[str, int]:
    """The ``Name:  123 kB`` lines of a /proc file, in bytes."""
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            found[name] = int(parts[0]) * 1024
    return found


def pages(count: int) -> list[dict[str, str]]:
    """``count`` documents for ``newsdedup ingest``: corpus2's, else the demo's fixture article pages;
    repeated under other URLs (``?copy=N``) up to ``count``."""
    if CORPUS2.exists():
        with CORPUS2.open(encoding="utf-8") as f:
            originals = [json.loads(line) for line in f]
    else:
        originals = []
        for file in sorted(SITES.rglob("index.html")):
            html = file.read_bytes().decode("utf-8", errors="replace")
            if 'content="article"' in html:
                host = file.relative_to(SITES).parts[0]
                originals.append(
                    {"url": f"http://{host}/{file.parent.relative_to(SITES / host)}/", "html": html}
                )
    chosen = []
    for i in range(count):
        doc = dict(originals[i % len(originals)])
        copy = i // len(originals)
        if copy:
            doc["url"] = f"{doc['url']}?copy={copy}"
        chosen.append(doc)
    return chosen


def write_docs(docs: list[dict[str, str]], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return path


def row(name: str, m: Memory) -> str:
    return (
        f"  {name:<32} RSS {m.rss / 1e6:4.0f} MB  peak {m.peak_rss / 1e6:4.0f}  PSS {m.pss / 1e6:4.0f} "
        f"(anonymous {m.pss_anon / 1e6:3.0f}, files {m.pss_file / 1e6:3.0f})  private {m.private / 1e6:4.0f}"
    )


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def wait_for_tasks(log: Path, worker: subprocess.Popen[bytes], count: int) -> None:
    """Until the worker's log says ``count`` process_page tasks finished (or it died, or the deadline)."""
    deadline = time.monotonic() + DEADLINE
    while len(_FINISHED.findall(log.read_bytes())) < count:
        if worker.poll() is not None:
            sys.exit(
                f"the worker exited with {worker.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        if time.monotonic() > deadline:
            sys.exit(f"not all {count} tasks finished within {DEADLINE} s")
        time.sleep(1)


def worker_memory(docs: Path, count: int, folder: Path) -> None:
    with own_redis() as redis_url, postgres_schema() as database_url:
        env = clean_env(
            NEWSDEDUP_REDIS_URL=redis_url,
            NEWSDEDUP_DATABASE_URL=database_url,
            NEWSDEDUP_METRICS_PORT="0",
            NEWSDEDUP_LOG_LEVEL="INFO",  # Celery logs each task's end: how the benchmark knows they are done
        )
        log = folder / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [*newsdedup_command(), "worker", "--pool=prefork", "--concurrency=2"],
                cwd=folder,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            subprocess.run(
                [*newsdedup_command(), "ingest", "--enqueue", "-q", str(docs)],
                cwd=folder,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            wait_for_tasks(log, worker, count)
            pool = children(worker.pid)
            figures = [("parent", memory(worker.pid))]
            figures += [(f"pool child {i + 1} (pid {pid})", memory(pid)) for i, pid in enumerate(pool)]
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
    print(f"newsdedup worker --pool=prefork --concurrency=2 after {count} pages:")
    for name, m in figures:
        print(row(name, m))
    print(f"  all {len(figures)} processes: PSS {sum(m.pss for _, m in figures) / 1e6:.0f} MB")
    worst = max(m.peak_rss for _, m in figures[1:])
    print(f"  largest pool child's peak RSS: {worst / 1e6:.0f} MB ({_verdict(worst)})")


def ingest_memory(docs: Path, count: int, folder: Path) -> None:
    """Peak RSS of ``newsdedup ingest`` of the pages in one process, and its memory when it was largest
    (sampled every half second; not at its very end, when the interpreter has unmapped its tables)."""
    env = clean_env(NEWSDEDUP_DATABASE_URL=f"sqlite:///{folder / 'ingest.db'}")
    process = subprocess.Popen(
        [*newsdedup_command(), "ingest", "-q", str(docs)], cwd=folder, env=env, stdout=subprocess.DEVNULL
    )
    largest: Memory | None = None
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)  # reaped here, with its resource usage
        if pid:
            break
        with contextlib.suppress(OSError, KeyError):  # it exited since: a zombie has no memory to read
            sample = memory(process.pid)
            if largest is None or sample.rss > largest.rss:
                largest = sample
        time.sleep(0.5)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):  # 1: some lines were bad, the others processed
        sys.exit(f"newsdedup ingest exited with {process.returncode}")
    peak = usage.ru_maxrss * 1024
    print(f"newsdedup ingest of the {count} pages in one process (embedded, SQLite):")
    if largest is not None:
        print(row("largest of its samples", largest))
    print(f"  peak RSS {peak / 1e6:.0f} MB ({_verdict(peak)})")


def baseline() -> None:
    probe = (
        "import trafilatura; print(open('/proc/self/smaps_rollup').read(), open('/proc/self/status').read())"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=clean_env(), capture_output=True, text=True, check=True
    )
    m = _memory(_fields(out.stdout))
    print("baseline:")
    print(row("python -c 'import trafilatura'", m))


def _verdict(size: int) -> str:
    return f"target {TARGET_BYTES / 1e6:.0f} MB: {'met' if size <= TARGET_BYTES else 'NOT met'}"


def main(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-worker-memory-") as name:
        folder = Path(name)
        docs = write_docs(pages(count), folder / "pages.jsonl")
        source = "corpus2" if CORPUS2.exists() else "the demo's fixture pages"
        print(f"{count} pages from {source}")
        baseline()
        worker_memory(docs, count, folder)
        ingest_memory(docs, count, folder)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
