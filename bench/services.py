"""Services of a benchmark's own on 127.0.0.1: a redis-server on a free port, a PostgreSQL schema."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import redis

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def own_redis() -> Iterator[str]:
    """The URL of a redis-server of the caller's own, stopped on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not on PATH")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None:
                    sys.exit(f"redis-server exited with {server.returncode}")
                time.sleep(0.05)
        else:
            sys.exit("redis-server did not answer")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A SQLAlchemy URL on a fresh schema of the caller's own in the database `test`, dropped on exit."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1)
            + f"?options=-csearch_path%3D{schema}"
        )
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
