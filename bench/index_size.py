"""Per-page cost as the index grows: python -m bench.index_size [SIZES ...] [--backends memory,redis]

The target: a page's candidate work (the query of its signature, anchors and rare evidence terms,
then its insert) costs the same with 1,000, 100,000 and 1,000,000 articles already indexed, within
20 %, in process (``MemoryStorage``) and in Redis (``CompactRedisStorage``, in a redis-server of
its own on a free loopback port, a database a size, stopped at the end). Each index is built as
the runtime builds it (``newsdedup.service.index.empty_index``: its caps from the settings, Redis
groups laid out for ``INDEX_CAPACITY``) and filled with synthetic articles (``insert_many``,
pipelined in Redis as a rebuild fills it). Then every real page is queried and inserted one at a
time, in corpus order as workers do, in each index in turn: a change in the machine's load falls on
every size alike. It prints a table by size, in process and in Redis: fill time, milliseconds a page
(mean) and its ratio to the smallest size (the baseline, measured in the same run), the median,
buckets left out for their cap a page, and
candidates a page. Defaults: SIZES 1000 100000 1000000, both backends; the caps are the settings'
(``NEWSDEDUP_ANCHOR_BUCKET_CAP=100 python -m bench.index_size`` runs it with another).

The real pages: ``../shared/corpus2`` (941 pages; its ``truth.jsonl`` names each page's story), else
``../shared/corpus``, else the demo's fixture pages, prepared by ``dedup.document.prepare``.

The filler, drawn from those pages so that the real pages meet buckets of realistic sizes:

- stories of k articles, k drawn from Zipf(2.5): three stories in four have one article, the largest
  some thousands (at most MAX_COPIES); a copy keeps 90 % of its story's signature values (about 15
  of its 25 bands), 80 % of its own anchors and 90 % of its own evidence terms;
- an article has as many anchors and rare evidence terms as a real page, the pages taken in turn;
- shared keys: a key found in pages of d >= 2 stories of the corpus (a stock phrase's anchor, a
  common name, a number) occurs in a share (d - 1) / (stories - 1) of the filler's articles (each
  independently; fewer in a shorter article); an evidence term of one story only gets a share drawn
  log-uniformly between 1 / 1,000,000 and 1 / (stories - 1): a name or number seen once in a few
  hundred stories may be anywhere from unique to that common, and a log-uniform share is Zipf's law
  for words (each decade of frequency as likely). An anchor of one story only (a sentence of its
  own) is in no other article;
- the rest of an article's keys, and every signature, are random: the story's own.

So a common key's bucket grows in proportion to the index, as in a real one, and past its cap it
stops proposing candidates (the capped column counts it). Random signatures share no band with the
real pages: their LSH buckets hold their own copies only, as for a story not yet indexed.

Run time, 2 cores shared with other work: about 28 minutes, nearly all of it the fill of 1,101,000
articles into Redis (about 830 a second in pipelines: Redis runs a script step for each of an
article's 140 keys); in process 220 s. Pass smaller SIZES, or one backend, for a quicker run.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
import numpy.typing as npt

from bench.services import own_redis
from bench.texts import CORPUS, html_pages
from config import Settings, load_settings
from dedup.candidates import CandidateIndex, Entry
from dedup.document import NoStoryText, prepare
from dedup.index_storage import connect
from dedup.shingles import Hashes
from dedup.signature import Signature
from newsdedup.service.index import empty_index
from newsdedup.service.runtime import Runtime

SIZES = (1_000, 100_000, 1_000_000)
CORPUS2 = CORPUS.parent.parent / "corpus2" / "docs.jsonl"
COPY_EXPONENT = 2.5
MAX_COPIES = 5_000
SIGNATURE_KEPT = 0.9
ANCHORS_KEPT = 0.8
TERMS_KEPT = 0.9
RAREST = 1e-6
# A key in nearly every article still leaves some without it: the share stays below 1.
MOST = 0.95
SEED = 20260311
CHUNK = 4096
BATCH = 1000  # articles a pipeline, as a rebuild sends them
# What a mixed value stands for (its lowest bits): a story's signature value, anchor or term, or a
# copy's own signature value.
SIGNATURE, ANCHORS, TERMS, COPY_SIGNATURE = 0, 1, 2, 3

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Page:
    """What the index holds of a real page, and its story."""

    story: str
    signature: Signature
    anchors: Hashes
    terms: Hashes


def real_pages(runtime: Runtime) -> list[Page]:
    """The signed pages of the largest corpus at hand, in corpus order."""
    path = CORPUS2 if CORPUS2.exists() else CORPUS
    stories: dict[str, str] = {}
    truth = path.with_name("truth.jsonl")
    if truth.exists():
        with truth.open(encoding="utf-8") as f:
            stories = {t["url"]: t["stories"][0] for t in map(json.loads, f)}
    pages = []
    for url, html in html_pages(path):
        try:
            document = prepare(runtime.signer, runtime.params, url=url, html=html)
        except NoStoryText:
            continue
        if document.signature is None:
            continue  # too short to sign: such a page queries no index
        rare = document.evidence.rare(runtime.params.evidence_min_weight)
        pages.append(Page(stories.get(url, url), document.signature, document.anchors, rare))
    return pages


@dataclass(frozen=True)
class Vocabulary:
    """Keys shared across stories, each with its share of articles."""

    keys: Hashes
    shares: Floats

    @classmethod
    def of(
        cls, pages: Sequence[Page], part: Callable[[Page], Hashes], rng: np.random.Generator, tail: bool
    ) -> Vocabulary:
        """The keys of this part of the pages with their shares (see the module docstring); ``tail``
        gives the keys of one story a log-uniform share, else none."""
        stories_of: defaultdict[int, set[str]] = defaultdict(set)
        for page in pages:
            for key in part(page).tolist():
                stories_of[key].add(page.story)
        others = max(1, len({p.story for p in pages}) - 1)
        keys, shares = [], []
        for key, stories in sorted(stories_of.items()):
            if len(stories) > 1:
                share = min(MOST, (len(stories) - 1) / others)
            elif tail:
                share = math.exp(rng.uniform(math.log(RAREST), math.log(1 / others)))
            else:
                continue
            keys.append(key)
            shares.append(share)
        return cls(np.array(keys, dtype=np.uint32), np.array(shares, dtype=np.float64))

    @property
    def per_article(self) -> float:
        return float(self.shares.sum())

    def draw(self, rng: np.random.Generator, lengths: Floats) -> tuple[Ints, Hashes]:
        """The shared keys of articles of these lengths (relative to the mean), as (article, key) pairs:
        each key in each article independently with its share, scaled by the length (a short text
        has fewer common words). Drawn as Poisson counts of rate -ln(1 - share) (present when at
        least 1: with probability share exactly), all at once, rather than a coin per key."""
        rates = -np.log1p(-self.shares)
        total = float(rates.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
        counts = rng.poisson(total * lengths)
        picked = np.searchsorted(np.cumsum(rates) / total, rng.random(int(counts.sum())), side="right")
        keys: Hashes = self.keys[np.minimum(picked, self.keys.shape[0] - 1)]
        return np.repeat(np.arange(lengths.shape[0]), counts), keys


def mix(values: Ints) -> Hashes:
    """32 pseudo-random bits of each value (splitmix64's finaliser): a story's keys, the same for
    each of its copies without storing them."""
    x = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: Hashes = ((x ^ (x >> np.uint64(31))) >> np.uint64(32)).astype(np.uint32)
    return mixed


def filler(n: int, pages: Sequence[Page], num_perm: int, anchor_modulus: int) -> Iterator[Entry]:
    """n synthetic articles, ids 0 to n - 1 (see the module docstring), made CHUNK at a time."""
    rng = np.random.default_rng(SEED)
    shared = {
        ANCHORS: Vocabulary.of(pages, lambda p: p.anchors, rng, tail=False),
        TERMS: Vocabulary.of(pages, lambda p: p.terms, rng, tail=True),
    }
    # Each article's story and its place among the story's copies (0: the first).
    sizes = np.minimum(rng.zipf(COPY_EXPONENT, n), MAX_COPIES)
    story = np.repeat(np.arange(n), sizes)[:n]
    copy = np.arange(n) - np.concatenate([[0], np.cumsum(sizes)])[story]
    # A story has as many anchors and terms as a real page, the pages taken in turn.
    wanted = {
        ANCHORS: np.array([p.anchors.shape[0] for p in pages])[story % len(pages)],
        TERMS: np.array([p.terms.shape[0] for p in pages])[story % len(pages)],
    }
    mean = {kind: float(np.mean(counts)) or 1.0 for kind, counts in wanted.items()}
    kept = {ANCHORS: ANCHORS_KEPT, TERMS: TERMS_KEPT}
    for first in range(0, n, CHUNK):
        ids = np.arange(first, min(n, first + CHUNK))
        s, c = story[ids], copy[ids]
        # The story's signature; a copy has some values of its own.
        slots = np.arange(num_perm)
        signatures = mix((s[:, None] << 24) | (slots << 4) | SIGNATURE)
        own = (c[:, None] > 0) & (rng.random(signatures.shape) >= SIGNATURE_KEPT)
        signatures[own] = mix((ids[:, None] << 24) | (slots << 4) | COPY_SIGNATURE)[own]
        keys = {}
        for kind in (ANCHORS, TERMS):
            common_of, common = shared[kind].draw(rng, wanted[kind][ids] / mean[kind])
            # The story's own keys after the shared ones, up to the page's count; a copy keeps a share.
            room = np.maximum(0, wanted[kind][ids] - np.bincount(common_of, minlength=ids.shape[0]))
            own_of = np.repeat(np.arange(ids.shape[0]), room)
            slot = np.arange(own_of.shape[0]) - np.repeat(np.cumsum(room) - room, room)
            values = mix((s[own_of] << 24) | (slot << 4) | kind)
            if kind == ANCHORS:
                # Anchors are shingle hashes divisible by the modulus.
                values -= values % np.uint32(anchor_modulus)
            stays = (c[own_of] == 0) | (rng.random(own_of.shape[0]) < kept[kind])
            # Each article's keys once: (article, key) pairs as 64-bit numbers, sorted, repeats dropped.
            pairs = np.sort(
                np.concatenate(
                    [
                        (common_of.astype(np.uint64) << np.uint64(32)) | common,
                        (own_of[stays].astype(np.uint64) << np.uint64(32)) | values[stays],
                    ]
                )
            )
            pairs = pairs[np.concatenate([[True], pairs[1:] != pairs[:-1]])]
            bounds = np.searchsorted(pairs >> np.uint64(32), np.arange(1, ids.shape[0]))
            keys[kind] = np.split((pairs & np.uint64(0xFFFFFFFF)).astype(np.uint32), bounds)
        for row, article in enumerate(ids.tolist()):
            yield article, signatures[row], keys[ANCHORS][row], keys[TERMS][row]


@dataclass
class Subject:
    """One index under test, a backend at a size, and what was measured of it."""

    backend: str
    size: int
    index: CandidateIndex
    fill_seconds: float = 0.0
    page_seconds: list[float] = field(default_factory=list)
    capped: int = 0
    candidates: int = 0

    @property
    def ms_a_page(self) -> float:
        return 1000 * sum(self.page_seconds) / len(self.page_seconds)


def fill(subjects: Sequence[Subject], pages: Sequence[Page], settings: Settings) -> None:
    """Insert the filler into every index, each its first ``size`` articles: one stream, a batch at a
    time, each index's share of a batch timed."""
    stream = filler(max(s.size for s in subjects), pages, settings.num_perm, settings.anchor_modulus)
    done = 0
    while batch := list(islice(stream, BATCH)):
        for subject in subjects:
            part = batch[: max(0, subject.size - done)]
            if part:
                started = time.perf_counter()
                subject.index.insert_many(part, batch=BATCH)
                subject.fill_seconds += time.perf_counter() - started
        done += len(batch)
        if done % 100_000 == 0:
            print(f"  filled {done:,}", file=sys.stderr, flush=True)


def time_pages(subjects: Sequence[Subject], pages: Sequence[Page]) -> None:
    """Query and insert each page in every index in turn, so that a change in the machine's load
    (others' processes on the same cores) falls on every size alike."""
    gc.collect()
    for offset, page in enumerate(pages):
        for subject in subjects:
            index = subject.index
            before = index.capped
            started = time.perf_counter()
            found = index.query(page.signature, page.anchors, page.terms)
            index.insert(subject.size + offset, page.signature, page.anchors, page.terms)
            subject.page_seconds.append(time.perf_counter() - started)
            subject.capped += index.capped - before
            subject.candidates += len(found)


def main(sizes: Sequence[int], backends: Sequence[str]) -> None:
    settings = load_settings()
    runtime = Runtime.from_settings(settings.model_copy(update={"redis_url": None}))
    pages = real_pages(runtime)
    rng = np.random.default_rng(SEED)
    anchors = Vocabulary.of(pages, lambda p: p.anchors, rng, tail=False)
    terms = Vocabulary.of(pages, lambda p: p.terms, rng, tail=True)
    print(
        f"{len(pages)} real pages of {len({p.story for p in pages})} stories:"
        f" {np.mean([p.anchors.shape[0] for p in pages]):.0f} anchors and"
        f" {np.mean([p.terms.shape[0] for p in pages]):.0f} rare evidence terms a page;"
        f" the filler's shared keys: {anchors.keys.shape[0]:,} anchors, {anchors.per_article:.1f} an"
        f" article; {terms.keys.shape[0]:,} terms, {terms.per_article:.1f} an article"
    )
    print(
        f"caps: LSH_BUCKET_CAP {settings.lsh_bucket_cap}, ANCHOR_BUCKET_CAP {settings.anchor_bucket_cap}"
        f" (anchors and evidence); Redis groups for INDEX_CAPACITY {settings.index_capacity:,}"
    )
    with own_redis() as url:
        subjects = []
        for backend in backends:
            for db, n in enumerate(sizes):
                # One database of the benchmark's own server a size, as the runtime's prefixes are fixed.
                where = None if backend == "memory" else f"{url.rsplit('/', 1)[0]}/{db}"
                index = empty_index(settings, client=None if where is None else connect(where))
                subjects.append(Subject(backend, n, index))
        fill(subjects, pages, settings)
        time_pages(subjects, pages)
        print(table(sizes, subjects))
        for subject in subjects:
            slowest = 1000 * max(subject.page_seconds)
            print(f"{subject.backend} {subject.size:,}: slowest page {slowest:.1f} ms", file=sys.stderr)


def table(sizes: Sequence[int], subjects: Sequence[Subject]) -> str:
    """The figures by size, each backend's ratio to its smallest size; a backend not run shows dashes."""
    by = {(s.backend, s.size): s for s in subjects}
    dash = "–"

    def cell(backend: str, n: int, value: Callable[[Subject], float | None], width: int, digits: int) -> str:
        subject = by.get((backend, n))
        figure = value(subject) if subject else None
        return f"{dash:>{width}}" if figure is None else f"{figure:>{width},.{digits}f}"

    def ratio(s: Subject) -> float:
        return s.ms_a_page / by[s.backend, sizes[0]].ms_a_page

    columns: list[tuple[str, Callable[[Subject], float | None], int]] = [
        ("fill s", lambda s: s.fill_seconds, 1),
        ("ms a page", lambda s: s.ms_a_page, 3),
        (f"× {sizes[0]:,}", ratio, 2),
        ("median ms", lambda s: 1000 * statistics.median(s.page_seconds), 3),
        ("capped a page", lambda s: s.capped / len(s.page_seconds), 1),
        ("candidates a page", lambda s: s.candidates / len(s.page_seconds), 1),
    ]
    lines = [
        f"{'articles':>10}" + "".join(f" │ {name:>18}" for name, _, _ in columns),
        f"{'':>10}" + f" │ {'in process':>10} {'Redis':>7}" * len(columns),
    ]
    for n in sizes:
        lines.append(
            f"{n:>10,}"
            + "".join(
                f" │ {cell('memory', n, value, 10, digits)} {cell('redis', n, value, 7, digits)}"
                for _, value, digits in columns
            )
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--backends", default="memory,redis", help="memory, redis or both, comma-separated")
    args = parser.parse_args()
    main(sorted(args.sizes), [b for b in args.backends.split(",") if b in ("memory", "redis")])
