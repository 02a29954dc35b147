"""Defaults of every setting, in one place. Each can be overridden in the settings file
(``NEWSDEDUP_CONFIG``) and by an environment variable ``NEWSDEDUP_<NAME>``."""

from pathlib import Path

#: Where the articles live. An SQLite file for the embedded mode; any SQLAlchemy URL
#: (``postgresql+psycopg://...``) for the service.
DATABASE_URL = "sqlite:///data/newsdedup.db"

#: Broker for the Celery workers and home of the shared LSH index. Unset: embedded mode
#: (pages processed in the crawling process, index in memory).
REDIS_URL: str | None = None

#: The sources file, and the settings file. Relative paths are read from the working directory;
#: when the sources file is not there, the copy installed with the package is used.
SOURCES = Path("config/sources.toml")
CONFIG = Path("config/newsdedup.toml")
PACKAGED_SOURCES = Path(__file__).with_name("sources.toml")

#: MinHash permutations. 128 gives a standard error of about 0.044 on a Jaccard estimate.
NUM_PERM = 128
#: The MinHash LSH index finds near-copies: the bands and rows are datasketch's optimum for this
#: Jaccard similarity. It only proposes candidates; the exact checks below decide.
LSH_THRESHOLD = 0.5
#: The anchor index finds partial copies (excerpts, splices): one shingle in ANCHOR_MODULUS is an
#: anchor, and an article sharing at least MIN_SHARED_ANCHORS anchors is a candidate. A bucket with
#: more than ANCHOR_BUCKET_CAP articles is a stock phrase and is not used to propose candidates.
ANCHOR_MODULUS = 8
MIN_SHARED_ANCHORS = 3
ANCHOR_BUCKET_CAP = 1000
#: The shared index in Redis is laid out for this many articles: about 33 to 64 bucket entries share a
#: Redis key at this size, so that the ~90 bytes a key costs are spread over them. It stays correct
#: beyond; past two to four times this size its keys leave Redis's compact encoding and memory per
#: article grows about threefold. A change takes effect after `newsdedup reindex` (README: Capacity).
INDEX_CAPACITY = 1_000_000
#: Two articles tell the same story when their exact Jaccard similarity reaches MIN_JACCARD (a copy),
#: or when MIN_CONTAINMENT of one's shingles are in the other (a part: an excerpt, a spliced story).
MIN_JACCARD = 0.25
MIN_CONTAINMENT = 0.6
#: Two texts that share less than this (containment either way) are disjoint: a post containing two
#: disjoint texts of two different stories is a splice, and does not merge the stories.
SPLICE_MAX_OVERLAP = 0.2
#: ... and whose evidence (dedup.evidence) agrees less than this in one language (two machine
#: translations of one story share few shingles but agree in names and numbers), or less than
#: SPLICE_MAX_EVIDENCE_ACROSS between two languages (where a translation's agreement is lower).
SPLICE_MAX_EVIDENCE = 0.3
SPLICE_MAX_EVIDENCE_ACROSS = 0.05
#: Look for translated copies at all (dedup.evidence); off saves the evidence stage's time.
TRANSLATIONS = True
#: Translations (dedup.evidence): an article sharing at least MIN_SHARED_EVIDENCE evidence tokens of
#: weight EVIDENCE_MIN_WEIGHT or more, in another language, is a candidate. It is linked as a
#: translation when the weighted common subsequence of the two evidence sequences covers at least
#: TRANSLATION_MIN_SCORE of the smaller one, over at least TRANSLATION_MIN_MATCHES tokens.
EVIDENCE_MIN_WEIGHT = 1.0
MIN_SHARED_EVIDENCE = 3
TRANSLATION_MIN_SCORE = 0.15
TRANSLATION_MIN_MATCHES = 5
#: A page whose source link names a stored article in another language is linked to it with at
#: least SOURCE_LINK_SCORE, when their evidence agrees at all (SOURCE_LINK_MIN_SCORE).
SOURCE_LINK_SCORE = 0.3
SOURCE_LINK_MIN_SCORE = 0.05
#: Words per shingle for scripts written with spaces.
SHINGLE_WORDS = 4
#: Characters per shingle for scripts written without spaces (Chinese, Japanese, Thai, ...).
SHINGLE_CHARS = 3
#: Below this many distinct shingles an overlap is chance: such an article is stored, but only
#: ever joins an article with exactly the same words.
MIN_SHINGLES = 20
#: A cleaned page with fewer characters than this has no story to cluster and is rejected.
MIN_TEXT_CHARS = 200

#: Crawling: politeness and limits.
USER_AGENT = "newsdedup/0.1 (+https://github.com/newsdedup/newsdedup)"
CRAWL_MAX_PAGE_BYTES = 5 * 1024 * 1024
CRAWL_MAX_PAGES = 5000
CRAWL_DEPTH_LIMIT = 3
CRAWL_TIMEOUT_SECONDS = 3600
#: Hostile pages: a download that takes longer than CRAWL_DOWNLOAD_TIMEOUT_SECONDS (a server that
#: never finishes sending) is dropped after Scrapy's retries; a chain of more than CRAWL_MAX_REDIRECTS
#: redirects is dropped (a loop back to a URL of the chain at once). Pages over CRAWL_MAX_PAGE_BYTES,
#: on the wire or once decompressed, are dropped too; links deeper than CRAWL_DEPTH_LIMIT (site
#: crawls) are not followed; CRAWL_MAX_PAGES ends a crawl.
CRAWL_DOWNLOAD_TIMEOUT_SECONDS = 30.0
CRAWL_MAX_REDIRECTS = 10
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

#: Celery: how long a delivered but unacknowledged task waits before Redis hands it to another
#: worker. Longer than the longest task (a crawl), so that no task runs twice while alive.
VISIBILITY_TIMEOUT_SECONDS = 2 * CRAWL_TIMEOUT_SECONDS

#: A page whose database or Redis is away is tried again after a wait that doubles from 1 s up to
#: RETRY_BACKOFF_MAX_SECONDS (a random half to all of it, so that workers do not come back in step),
#: for as many attempts as cover an outage of RETRY_FOR_SECONDS even if every wait is the shortest;
#: then the page is given up (logged as an error). Keep the wait well below the visibility timeout:
#: a worker holds a page that waits, unacknowledged.
RETRY_BACKOFF_MAX_SECONDS = 300
RETRY_FOR_SECONDS = 6 * 3600

#: The crawler's spool: a page the broker does not accept (Redis away) is written to an SQLite file in
#: this folder (one file, shared by every crawler process of the host) and sent later, oldest first.
SPOOL_DIR = Path("data/spool")
#: After a failed send, pages go straight to the spool for this long before the broker is tried again;
#: it is also how often a crawl tries to replay its spool. 0 tries the broker at every page.
SPOOL_RETRY_SECONDS = 5.0
#: How long the crawler waits for the broker to connect or to answer a publish (each of two tries)
#: before the page goes to the spool.
BROKER_TIMEOUT_SECONDS = 5.0

#: Beat: the scheduler wakes at least this often, and holds its lock in Redis (RedBeat) for
#: BEAT_LOCK_TIMEOUT_SECONDS, renewed at every wake-up. A second beat waits for the lock; it takes over
#: within BEAT_LOCK_TIMEOUT_SECONDS when the holder dies. The timeout must be at least twice the interval.
BEAT_MAX_LOOP_INTERVAL_SECONDS = 5
BEAT_LOCK_TIMEOUT_SECONDS = 5 * BEAT_MAX_LOOP_INTERVAL_SECONDS

#: The time zone of the sources' cron schedules (an IANA name: ``UTC``, ``Europe/Berlin``): beat runs
#: them, and ``newsdedup schedule`` shows their next runs, in this zone.
TIMEZONE = "UTC"

LOG_LEVEL = "INFO"
#: Log lines: ``text`` (one line per event) or ``json`` (one JSON object per line: ts, level, logger,
#: message, and source, url and task_id where known). The CLI, the crawler and the workers use it.
LOG_FORMAT = "text"

#: Prometheus metrics of the workers (pages processed by status, processing seconds, clusters created,
#: index size) are served at http://METRICS_HOST:METRICS_PORT/metrics by each `newsdedup worker`;
#: 0 switches them off. Set METRICS_HOST to 0.0.0.0 for a scraper on another host (a container).
METRICS_PORT = 9808
METRICS_HOST = "127.0.0.1"
