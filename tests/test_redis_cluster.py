"""The shared index on a real Redis Cluster of the tests' own: redis-servers with cluster mode on free
loopback ports, joined by ``redis-cli --cluster create`` (``bench.services.own_redis_cluster``).
The same articles give the same candidates as on one server; the keys spread over every node; the
index keeps every insert through the loss of a replica and the failover of a master."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
from click.testing import CliRunner
from redis.cluster import RedisCluster
from redis.commands.core import Script

from bench.services import RedisClusterProcesses, own_redis_cluster
from config import Settings
from dedup.candidates import CandidateIndex, Entry
from dedup.index_storage import connect, make_storage
from dedup.redis_storage import CLUSTER_TAGS, CompactRedisStorage
from newsdedup.cli import app
from newsdedup.service.index import empty_index, generations
from newsdedup.service.processing import process_page
from tests.stories import story
from tests.test_redis_storage import assert_answers_match_memory_storage
from tests.test_storage import ORIGIN, new_runtime, page

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None or shutil.which("redis-cli") is None,
    reason="redis-server and redis-cli are needed to start a Redis Cluster of the tests' own",
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterProcesses]:
    with own_redis_cluster(masters=3) as processes:
        yield processes


@pytest.fixture
def cluster_client(cluster: RedisClusterProcesses) -> Iterator[RedisCluster]:
    """A client of the cluster, every node flushed before and after."""
    client = connect(cluster.url)
    assert isinstance(client, RedisCluster)
    client.flushall(target_nodes=RedisCluster.PRIMARIES)
    yield client
    client.flushall(target_nodes=RedisCluster.PRIMARIES)
    client.close()


def articles(count: int, seed: int) -> list[Entry]:
    """Signed articles as the index holds them, in stories of one to four: a story's copies share
    most of their MinHash values (so LSH bands), anchors and evidence terms."""
    rng = np.random.default_rng(seed)
    entries: list[Entry] = []
    while len(entries) < count:
        signature = rng.integers(0, 2**32, size=128, dtype=np.uint32)
        anchors = rng.integers(0, 2**32, size=70, dtype=np.uint32)
        evidence = rng.integers(0, 2**32, size=76, dtype=np.uint32)
        for _ in range(int(rng.integers(1, 5))):
            copy_signature, copy_anchors, copy_evidence = signature.copy(), anchors.copy(), evidence.copy()
            changed = rng.random(128) < 0.3
            copy_signature[changed] = rng.integers(0, 2**32, size=int(changed.sum()), dtype=np.uint32)
            copy_anchors[rng.random(70) < 0.3] = rng.integers(0, 2**32, dtype=np.uint32)
            copy_evidence[rng.random(76) < 0.3] = rng.integers(0, 2**32, dtype=np.uint32)
            entries.append((len(entries), copy_signature, copy_anchors, copy_evidence))
    return entries[:count]


def answers(index: CandidateIndex, entries: list[Entry]) -> list[set[int]]:
    return [index.query(*entry[1:]) for entry in entries]


def test_a_cluster_node_url_gives_a_cluster_client_and_hash_tagged_keys(
    cluster_client: RedisCluster, redis_url: str
) -> None:
    """``connect`` recognises a cluster node by ``INFO cluster`` and returns a cluster client, whose
    index storage spreads its keys over CLUSTER_TAGS hash tags; a standalone server keeps the
    untagged layout it always had."""
    cluster_storage = make_storage(cluster_client, "test:lsh")
    standalone = connect(redis_url)
    single_storage = make_storage(standalone, "test:lsh")

    assert isinstance(cluster_storage, CompactRedisStorage)
    assert isinstance(single_storage, CompactRedisStorage)
    assert (cluster_storage.tags, single_storage.tags) == (CLUSTER_TAGS, 1)
    assert type(standalone) is redis.Redis
    assert cluster_storage.locate(b"\x00\x01" + b"\x00" * 8) == ("test:lsh:{0}:000020000", b"\x00" * 6)
    assert single_storage.locate(b"\x00\x01" + b"\x00" * 8) == ("test:lsh:000020000", b"\x00" * 6)
    standalone.close()


def test_the_cluster_index_proposes_the_candidates_of_the_single_node_index(
    cluster_client: RedisCluster, redis_url: str
) -> None:
    """240 articles in stories of one to four, inserted in bulk and one by one into the runtime's
    candidate index on the cluster and on one server: every article's query proposes the same
    candidates on both (its story's copies among them), both count 240, every master holds a
    fifth or more of the keys; after removing every third article, the same again."""
    settings = Settings()
    entries = articles(240, seed=7)
    on_cluster = empty_index(settings, client=cluster_client)
    standalone = redis.Redis.from_url(redis_url)
    on_one_server = empty_index(settings, client=standalone)
    for index in (on_cluster, on_one_server):
        index.insert_many(iter(entries[:200]), batch=64)
        for entry in entries[200:]:
            index.insert(*entry)

    expected = answers(on_one_server, entries)
    assert answers(on_cluster, entries) == expected
    assert len(on_cluster) == len(on_one_server) == 240
    assert sum(len(found) for found in expected) > 1.5 * 240  # copies found each other
    keys = cluster_client.dbsize(target_nodes=RedisCluster.ALL_NODES)
    per_master = [
        redis.Redis(host="127.0.0.1", port=port).dbsize() for port in cluster_client_ports(cluster_client)
    ]
    assert sum(per_master) == keys
    assert min(per_master) > keys / 5, per_master

    for index in (on_cluster, on_one_server):
        for entry in entries[::3]:
            index.remove(*entry)
    assert answers(on_cluster, entries) == answers(on_one_server, entries)
    assert len(on_cluster) == len(on_one_server) == 160
    standalone.close()


def cluster_client_ports(client: RedisCluster) -> list[int]:
    return [int(node.port) for node in client.get_primaries()]


def test_hash_tagged_answers_on_the_cluster_match_memory_storage(cluster_client: RedisCluster) -> None:
    """The random mix of adds, removes and capped counts of the standalone tests, on the cluster:
    the same answers as MemoryStorage after every step."""
    # Two ids inline: buckets spill to sets of their own and come back.
    storage = CompactRedisStorage(cluster_client, "test:compact", inline_ids=2, tags=CLUSTER_TAGS)
    assert_answers_match_memory_storage(storage, seed=1731, steps=600)


@pytest.mark.slow
def test_the_index_keeps_every_insert_through_a_lost_replica_and_a_failed_master(redis_url: str) -> None:
    """Three masters with a replica each. 150 articles inserted and replicated (WAIT); a replica is
    SIGKILLed and 50 more go in; a master (with its replica alive) is SIGKILLed after they have
    replicated and its replica takes over; 50 more go in through the same client (the promoted
    replica has never loaded the scripts: the storage loads them and sends the calls again; a
    connection error to the dead master retries the insert, as the page task retries). Every
    article's query then proposes what one server holding the same 250 articles proposes."""
    settings = Settings()
    entries = articles(250, seed=11)
    standalone = redis.Redis.from_url(redis_url)
    on_one_server = empty_index(settings, client=standalone)
    on_one_server.insert_many(iter(entries))
    with own_redis_cluster(masters=3, replicas_each=1) as processes:
        client = connect(processes.url)
        index = empty_index(settings, client=client)

        index.insert_many(iter(entries[:150]))
        replicated(processes)
        processes.kill(processes.replica_of(processes.masters[0]))
        for entry in entries[150:200]:
            index.insert(*entry)
        replicated(processes, skip=processes.masters[0])
        heir = redis.Redis(host="127.0.0.1", port=processes.replica_of(processes.masters[1]))
        assert heir.script_exists(*(script.sha for script in scripts(index))) == [False] * 3
        processes.kill(processes.masters[1])
        processes.wait_healthy()
        for entry in entries[200:]:
            insert_with_retries(index, entry)

        assert answers(index, entries) == answers(on_one_server, entries)
        assert len(index) == 250
        assert heir.info("replication")["role"] == "master"
        heir.close()
        client.close()
    standalone.close()


def replicated(processes: RedisClusterProcesses, skip: int | None = None) -> None:
    """Until every master (but ``skip``) has its writes on its replica."""
    for port in processes.masters:
        if port != skip:
            master = redis.Redis(host="127.0.0.1", port=port)
            assert master.execute_command("WAIT", 1, 10_000) == 1
            master.close()


def insert_with_retries(index: CandidateIndex, entry: Entry) -> None:
    """Insert as a page task does: a Redis connection error (the client still sending to the master
    that died, until it has refreshed its view of the cluster) retries the page, a few times."""
    for attempt in range(5):
        try:
            index.insert(*entry)
            return
        except redis.ConnectionError:
            if attempt == 4:
                raise
            time.sleep(0.5)


def scripts(index: CandidateIndex) -> list[Script]:
    storage = index.lsh.storage
    assert isinstance(storage, CompactRedisStorage)
    return [storage._add_script, storage._remove_script, storage._counts_script]


def test_a_worker_runtime_keeps_its_index_on_the_cluster_and_rebuilds_it_beside_itself(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis_url: str, cluster_client: RedisCluster
) -> None:
    """NEWSDEDUP_INDEX_REDIS_URL naming a cluster node: the runtime's index client is a cluster
    client, a stored story's keys are on the cluster and none on the broker's Redis; a rebuild builds
    generation 1 beside generation 0 and makes it current; a copy stored after it joins the story."""
    cluster_url = f"redis://127.0.0.1:{cluster_client.get_default_node().port}/0"
    monkeypatch.setenv("NEWSDEDUP_INDEX_REDIS_URL", cluster_url)
    bridge = story("bridge")
    rt = new_runtime(monkeypatch, postgres_url, redis_url)
    assert isinstance(rt.index_redis, RedisCluster)
    rt.rebuild_index()
    origin = process_page(page(ORIGIN, bridge), rt)
    assert rt.rebuild_index() == 1

    assert generations(cluster_client) == (1, None)
    assert cluster_client.keys("newsdedup:g1:lsh:{*}:*")
    assert not cluster_client.keys("newsdedup:lsh:*")  # generation 0, gone
    broker = redis.Redis.from_url(redis_url)
    assert not broker.keys("newsdedup:*lsh*")
    assert not broker.keys("newsdedup:*anchors*")
    broker.close()
    copy = process_page(page("http://newsflash-hub.example/news/bridge", bridge), rt)
    assert (copy.status, copy.cluster_id) == ("joined", origin.cluster_id)
    rt.close()


def test_health_checks_the_index_cluster_and_refuses_a_cluster_as_the_broker(
    cluster_client: RedisCluster, redis_url: str, tmp_path: Path
) -> None:
    """`newsdedup health` with the index on the cluster: healthy, naming the index Redis; with the
    cluster named as the broker: one line saying Celery needs a standalone Redis, exit status 1."""
    cluster_url = f"redis://127.0.0.1:{cluster_client.get_default_node().port}/0"
    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    env = {"NEWSDEDUP_DATABASE_URL": database, "NEWSDEDUP_REDIS_URL": redis_url}
    healthy = CliRunner().invoke(app, ["health"], env={**env, "NEWSDEDUP_INDEX_REDIS_URL": cluster_url})
    assert (healthy.exit_code, healthy.stdout) == (0, "healthy: database, redis, index redis\n")
    wrong = CliRunner().invoke(app, ["health"], env={**env, "NEWSDEDUP_REDIS_URL": cluster_url})
    assert (wrong.exit_code, wrong.stdout) == (
        1,
        "unhealthy: redis: a Redis Cluster node: the broker needs a standalone Redis "
        "(a cluster can hold the index: NEWSDEDUP_INDEX_REDIS_URL)\n",
    )
