"""What archiving texts saves in PostgreSQL: python -m bench.archive [DOCS]

Ingests DOCS (default ../shared/corpus2/docs.jsonl) into a PostgreSQL schema of its own (embedded
mode: ``newsdedup ingest``), measures the database's bytes an article (every table with its indexes
and TOAST, after VACUUM FULL), archives every text (``newsdedup db archive-texts``), measures again
after VACUUM FULL, and prints both, their ratio and the archive file's bytes an article.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from bench.services import POSTGRES, postgres_schema

DOCS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus2" / "docs.jsonl"


def newsdedup(url: str, *args: str) -> None:
    env = {**os.environ, "NEWSDEDUP_DATABASE_URL": url}
    env.pop("NEWSDEDUP_REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "newsdedup", *args], env=env, check=True, stdout=subprocess.DEVNULL)


def database_bytes(schema: str) -> tuple[int, int]:
    """Bytes of every table of the schema (indexes and TOAST included) after VACUUM FULL, and articles."""
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchall()
        ]
        total = 0
        for table in tables:
            name = f'"{schema}"."{table}"'
            conn.execute(f"VACUUM FULL {name}")  # type: ignore[arg-type]  # names from pg_tables, quoted
            size = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (name,)).fetchone()
            total += int(size[0]) if size else 0
        count = conn.execute(f'SELECT count(*) FROM "{schema}".articles').fetchone()  # type: ignore[arg-type]  # as above
    return total, int(count[0]) if count else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("docs", type=Path, nargs="?", default=DOCS)
    args = parser.parse_args()
    with postgres_schema() as url, tempfile.TemporaryDirectory() as folder:
        schema = url.rsplit("%3D", 1)[1]
        print(f"ingesting {args.docs} ...", file=sys.stderr, flush=True)
        newsdedup(url, "ingest", str(args.docs))
        before, articles = database_bytes(schema)
        archive = Path(folder) / "texts.jsonl.gz"
        newsdedup(url, "db", "archive-texts", "--before", "2100-01-01", "--output", str(archive))
        after, _ = database_bytes(schema)
        print(f"{articles:,} articles from {args.docs.name}")
        print(f"database, texts in it:   {before / articles:>8,.0f} bytes an article")
        print(
            f"database, texts archived: {after / articles:>7,.0f} bytes an article "
            f"({after / before:.2f} of it)"
        )
        print(
            f"archive file:             {archive.stat().st_size / articles:>7,.0f} bytes an article (gzipped)"
        )


if __name__ == "__main__":
    main()
