"""Shared index on a Redis Cluster against one Redis: python -m bench.redis_cluster [N] [--nodes K]

Starts a redis-server of its own and a Redis Cluster of K masters of its own (default 3; on
127.0.0.1, no persistence, stopped at the end) and fills the runtime's candidate index (LSH bands,
anchors, evidence terms; ``newsdedup.service.index.empty_index`` with the default settings but
``INDEX_CAPACITY`` set to the articles it will hold, and CLUSTER_TAGS hash tags) on each
with the same N synthetic articles (default 100,000): stories of one to four copies, each article
128 MinHash values, 70 anchors and 76 evidence terms, as the development corpus averages. Measures:

- memory: ``used_memory`` growth per article, on the server and summed over the cluster's masters,
  and the largest master's share (how evenly the hash tags spread);
- bulk inserts per second (``insert_many``, as a rebuild), and single inserts and queries per
  second (one article at a time, as a page), over Q articles (default 2,000);

and prints the cluster's figures over the single server's. With the capacity of a node's memory
(``--node-gib``, default 16), it prints how many articles fit on one server and on K nodes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np
import redis

from bench.services import own_redis, own_redis_cluster
from config import Settings
from dedup.candidates import CandidateIndex, Entry
from dedup.index_storage import connect
from newsdedup.service.index import empty_index


def synthetic_articles(count: int, seed: int, first_id: int = 0) -> Iterator[Entry]:
    """Signed articles as the index holds them, in stories of one to four: a story's copies share
    most of their MinHash values (so LSH bands), anchors and evidence terms."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        signature = rng.integers(0, 2**32, size=128, dtype=np.uint32)
        anchors = rng.integers(0, 2**32, size=70, dtype=np.uint32)
        evidence = rng.integers(0, 2**32, size=76, dtype=np.uint32)
        for _ in range(min(int(rng.integers(1, 5)), count - made)):
            copy_signature, copy_anchors, copy_evidence = signature.copy(), anchors.copy(), evidence.copy()
            changed = rng.random(128) < 0.3
            copy_signature[changed] = rng.integers(0, 2**32, size=int(changed.sum()), dtype=np.uint32)
            copy_anchors[rng.random(70) < 0.3] = rng.integers(0, 2**32, dtype=np.uint32)
            copy_evidence[rng.random(76) < 0.3] = rng.integers(0, 2**32, dtype=np.uint32)
            yield first_id + made, copy_signature, copy_anchors, copy_evidence
            made += 1


def used_memory(ports: list[int]) -> list[int]:
    figures = []
    for port in ports:
        client = redis.Redis(host="127.0.0.1", port=port)
        figures.append(int(client.info("memory")["used_memory"]))
        client.close()
    return figures


def rate(count: int, action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return count / (time.perf_counter() - start)


def measure(url: str, ports: list[int], n: int, q: int) -> dict[str, float]:
    # Groups laid out for what the index will hold (INDEX_CAPACITY), as an operator sets it.
    index: CandidateIndex = empty_index(Settings(index_capacity=n + q), client=connect(url))
    before = used_memory(ports)
    print(f"  filling {n:,} articles ...", file=sys.stderr, flush=True)
    bulk = rate(n, lambda: index.insert_many(synthetic_articles(n, seed=1), batch=1000))
    grown = [after - b for after, b in zip(used_memory(ports), before, strict=True)]
    extra = list(synthetic_articles(q, seed=2, first_id=n))
    single = rate(q, lambda: [index.insert(*entry) for entry in extra] and None)
    queried = list(synthetic_articles(q, seed=1))[:q]
    found: list[int] = []
    queries = rate(q, lambda: found.extend(len(index.query(*entry[1:])) for entry in queried))
    if len(index) != n + q or min(found) < 1:
        raise SystemExit(f"the index holds {len(index):,} articles, not {n + q:,}, or missed an article")
    return {
        "bytes": sum(grown) / n,
        "largest share": max(grown) / sum(grown),
        "bulk": bulk,
        "single": single,
        "queries": queries,
        "candidates": sum(found) / q,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--node-gib", type=float, default=16.0)
    args = parser.parse_args()
    with own_redis() as url:
        print("one server:", file=sys.stderr)
        one = measure(url, [int(url.rsplit(":", 1)[1].split("/")[0])], args.n, args.queries)
    with own_redis_cluster(masters=args.nodes) as processes:
        print(f"cluster of {args.nodes}:", file=sys.stderr)
        many = measure(processes.url, processes.masters, args.n, args.queries)
    print(f"{args.n:,} articles; {args.queries:,} single inserts and queries; the whole candidate index")
    print(f"{'':24} {'one server':>12} {f'cluster of {args.nodes}':>12} {'ratio':>7}")
    rows = [
        ("bytes an article", "bytes", "{:,.0f}"),
        ("largest node's share", "largest share", "{:.2f}"),
        ("bulk inserts / s", "bulk", "{:,.0f}"),
        ("single inserts / s", "single", "{:,.0f}"),
        ("queries / s", "queries", "{:,.0f}"),
        ("candidates a query", "candidates", "{:.2f}"),
    ]
    for label, key, form in rows:
        ratio = many[key] / one[key]
        print(f"{label:24} {form.format(one[key]):>12} {form.format(many[key]):>12} {ratio:>7.2f}")
    node = args.node_gib * 2**30
    on_one = node / one["bytes"]
    on_cluster = node / (many["bytes"] * many["largest share"])
    print(
        f"articles that fit in {args.node_gib:g} GiB a node: one server {on_one / 1e6:,.1f} M, "
        f"{args.nodes} nodes {on_cluster / 1e6:,.1f} M (the fullest node the limit)"
    )


if __name__ == "__main__":
    main()
