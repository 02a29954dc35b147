"""Services of a benchmark's own on 127.0.0.1: a redis-server on a free port, a Redis Cluster of
several, a PostgreSQL schema."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
import redis

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    """A port free on 127.0.0.1 at the moment of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def start_redis_server(binary: str, port: int, *options: str) -> subprocess.Popen[bytes]:
    """A redis-server on 127.0.0.1:port without persistence (and with these options), not yet waited for."""
    return subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def wait_for_ping(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Until the redis-server on this port answers; RuntimeError if it exits or stays silent."""
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"redis-server on port {port} exited with {process.returncode}"
                    ) from None
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server on port {port} did not answer in {timeout:g} s"
                    ) from None
                time.sleep(0.05)
    finally:
        client.close()


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it lingers."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def own_redis() -> Iterator[str]:
    """The URL of a redis-server of the caller's own, stopped on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not on PATH")
    port = free_port()
    server = start_redis_server(binary, port)
    try:
        try:
            wait_for_ping(port, server)
        except RuntimeError as e:
            sys.exit(str(e))
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_server(server)


# Cluster nodes also listen on their port + 10000 (the cluster bus).
_BUS_OFFSET = 10000
# How long a cluster node may be unreachable before it is failed over: short, for tests.
CLUSTER_NODE_TIMEOUT_MS = 1000


@dataclass
class RedisClusterProcesses:
    """A Redis Cluster of the caller's own: ``masters`` and ``replicas`` are ports; ``url`` names one
    master (a cluster client finds the rest)."""

    masters: list[int]
    replicas: list[int]
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.masters[0]}/0"

    def kill(self, port: int) -> None:
        """SIGKILL the node on this port, as a crashed host."""
        self.processes[port].kill()
        self.processes[port].wait()

    def replica_of(self, master: int) -> int:
        """The port of the (first) replica of the master on this port."""
        info = redis.Redis(host="127.0.0.1", port=master).info("replication")
        return int(info["slave0"]["port"])

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Until every live node says the cluster is ok (every slot served)."""
        deadline = time.monotonic() + timeout
        live = [p for p, process in self.processes.items() if process.poll() is None]
        while True:
            states = [_cluster_state(port) for port in live]
            if all(state == "ok" for state in states):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Redis Cluster is not ok after {timeout} s: {states}")
            time.sleep(0.1)


@contextmanager
def own_redis_cluster(masters: int = 3, replicas_each: int = 0) -> Iterator[RedisClusterProcesses]:
    """A Redis Cluster of ``masters`` redis-servers (and ``replicas_each`` replicas of each) on free
    ports of 127.0.0.1, made with ``redis-cli --cluster create``, no persistence, stopped on exit."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        sys.exit("redis-server and redis-cli must be on PATH")
    ports = _free_cluster_ports(masters * (1 + replicas_each))
    cluster = RedisClusterProcesses(masters=ports[:masters], replicas=ports[masters:])
    with tempfile.TemporaryDirectory(prefix="newsdedup-cluster-") as folder:
        try:
            for port in ports:
                cluster.processes[port] = start_redis_server(
                    server, port, "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
                    "--cluster-node-timeout", str(CLUSTER_NODE_TIMEOUT_MS), "--dir", folder,
                )  # fmt: skip
            for port in ports:
                wait_for_ping(port, cluster.processes[port])
            # redis-cli makes the first ``masters`` nodes masters and gives each the next replicas.
            subprocess.run(
                [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
                 "--cluster-replicas", str(replicas_each), "--cluster-yes"],
                check=True,
                stdout=subprocess.DEVNULL,
                timeout=60,
            )  # fmt: skip
            cluster.wait_healthy()
            _wait_for_replicas(cluster, replicas_each)
            yield cluster
        finally:
            for process in cluster.processes.values():
                process.kill()
                process.wait()


def _free_cluster_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1, each with its bus port free as well."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port + _BUS_OFFSET > 65535 or port in ports:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + _BUS_OFFSET))
            except OSError:
                continue
        ports.append(port)
    return ports


def _cluster_state(port: int) -> str:
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
    try:
        return str(client.cluster("info").get("cluster_state", "?"))
    except redis.RedisError as e:
        return f"unreachable ({e})"
    finally:
        client.close()


def _wait_for_replicas(cluster: RedisClusterProcesses, each: int, timeout: float = 30.0) -> None:
    """Until every master has ``each`` replicas online (their first sync done)."""
    deadline = time.monotonic() + timeout
    for master in cluster.masters:
        client = redis.Redis(host="127.0.0.1", port=master)
        while True:
            info = client.info("replication")
            online = sum(1 for i in range(each) if str(info.get(f"slave{i}", {}).get("state")) == "online")
            if online >= each:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"master {master} has {online} of {each} replicas online")
            time.sleep(0.1)
        client.close()


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
