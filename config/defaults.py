"""Defaults of every setting, in one place. Each can be overridden in the settings file
(``NEWSDEDUP_CONFIG``) and by an environment variable ``NEWSDEDUP_<NAME>``."""

from pathlib import Path

#: Where the articles live. An SQLite file for the embedded mode; any SQLAlchemy URL
#: (``postgresql+psycopg://...``) for the service.
DATABASE_URL = "sqlite:///data/newsdedup.db"

#: Broker for the Celery workers and home of the shared LSH index. Unset: embedded mode
#: (pages processed in the crawling process, index in memory).
REDIS_URL: str | None = None

#: Where the shared candidate index lives, when not in the ``REDIS_URL`` server: a standalone Redis
#: or any node of a Redis Cluster (recognised, and its keys then hash-tagged so that each script
#: call touches one slot). Celery's broker cannot be a cluster: this is how the index outgrows one
#: host. Unset: the index is in ``REDIS_URL``'s server. Needs ``REDIS_URL``.
INDEX_REDIS_URL: str | None = None

#: Over how many hash tags the index spreads its keys on a Redis Cluster (ignored on one server):
#: a cluster uses at most this many masters, and each tag an article's keys reach is one script call
#: when a page is stored (dedup/redis_storage.py explains the trade and bench/redis_cluster.py
#: measures it). Changing it needs ``newsdedup index rebuild``.
INDEX_REDIS_HASH_TAGS = 32

#: The sources file, and the settings file. Relative paths are read from the working directory;
#: when the sources file is not there, the copy installed with the package is used.
SOURCES = Path("config/sources.toml")
CONFIG = Path("config/newsdedup.toml")
PACKAGED_SOURCES = Path(__file__).with_name("sources.toml")

#: The thresholds of the dedup core (NUM_PERM, LSH_THRESHOLD, MIN_JACCARD, ...) are declared, with
#: their defaults and meanings, in ``dedup/params.py``; each is a setting of the same name too.

#: The shared index in Redis is laid out for this many articles: about 33 to 64 bucket entries share a
#: Redis key at this size, so that the ~90 bytes a key costs are spread over them. It stays correct
#: beyond; past two to four times this size its keys leave Redis's compact encoding and memory per
#: article grows about threefold. A change takes effect after `newsdedup reindex` (README: Capacity).
INDEX_CAPACITY = 1_000_000

#: Where the tables built once per machine are kept: the glossaries of the Chinese and Japanese
#: dictionaries and the word-rarity table (about 60 MB; rebuilt when missing).
CACHE_DIR = Path.home() / ".cache" / "newsdedup"

#: Crawling: politeness and limits.
USER_AGENT = "newsdedup/0.1 (+https://github.com/newsdedup/newsdedup)"
CRAWL_MAX_PAGE_BYTES = 5 * 1024 * 1024
CRAWL_MAX_PAGES = 5000
CRAWL_DEPTH_LIMIT = 3
CRAWL_TIMEOUT_SECONDS = 3600
#: `newsdedup crawl` and `demo` show each source's progress live on a terminal; elsewhere (a log file,
#: a pipe) they print a line every CRAWL_PROGRESS_SECONDS per source that moved, and the totals. 0: none.
CRAWL_PROGRESS_SECONDS = 10.0
#: Hostile pages: a download that takes longer than CRAWL_DOWNLOAD_TIMEOUT_SECONDS (a server that
#: never finishes sending) is dropped after Scrapy's retries; a chain of more than CRAWL_MAX_REDIRECTS
#: redirects is dropped (a loop back to a URL of the chain at once). Pages over CRAWL_MAX_PAGE_BYTES,
#: on the wire or once decompressed, are dropped too; links deeper than CRAWL_DEPTH_LIMIT (site
#: crawls) are not followed; CRAWL_MAX_PAGES ends a crawl.
CRAWL_DOWNLOAD_TIMEOUT_SECONDS = 30.0
CRAWL_MAX_REDIRECTS = 10
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

#: Celery on Redis: a task delivered to a worker that dies (SIGKILL, a lost host) goes to another
#: worker once it has not been renewed for this long. A live worker renews the tasks it holds every
#: third of it (workers.redelivery), so a task may run for longer: a crawl, a page waiting to retry.
VISIBILITY_TIMEOUT_SECONDS = 30

#: A page whose database or Redis is away is tried again after a wait that doubles from 1 s up to
#: RETRY_BACKOFF_MAX_SECONDS (a random half to all of it, so that workers do not come back in step),
#: for as many attempts as cover an outage of RETRY_FOR_SECONDS even if every wait is the shortest;
#: then the page is given up (logged as an error).
RETRY_BACKOFF_MAX_SECONDS = 300
RETRY_FOR_SECONDS = 6 * 3600

#: A page's processing is interrupted after PAGE_SOFT_TIME_LIMIT_SECONDS (and tried again, up to
#: MAX_DELIVERIES) and its pool process killed after PAGE_TIME_LIMIT_SECONDS if it did not stop (Celery's
#: soft and hard time limits). Pages take tens of milliseconds; the limits are for a page that never
#: ends. (A crawl has its own: CRAWL_TIMEOUT_SECONDS closes it, a minute later its process is killed.)
PAGE_SOFT_TIME_LIMIT_SECONDS = 120
PAGE_TIME_LIMIT_SECONDS = 150
#: A page delivered this many times without finishing (it timed out, failed on a bug, or killed its
#: worker each time) goes to the dead letters (``newsdedup dead-letters list | replay``) instead of being
#: given back once more. Retries while the database or Redis is away do not count.
MAX_DELIVERIES = 3

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
