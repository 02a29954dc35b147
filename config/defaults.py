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
#: Spliced posts (two stories in one post) are recognised from their own text (dedup/splices.py): two
#: of its parts, not linked to each other, lie in passages of it that overlap by less than
#: SPLICE_MAX_OVERLAP of the shorter. In one language a part lies within the post (MIN_CONTAINMENT of
#: its shingles); across languages it matches one passage of the post, at least SPLICE_MIN_SHARE of it,
#: with a passage score of at least SPLICE_PASSAGE_SCORE. A splice never joins two stories: it joins the
#: one that accounts for most of it, and is related to the other.
SPLICE_MAX_OVERLAP = 0.3
#: ... and which are apart in their own right: in one language they share less than SPLICE_MAX_SHARED of
#: their shingles (either way) and their evidence agrees less than SPLICE_MAX_AGREEMENT (two machine
#: translations of one story share few shingles but agree in names); across languages their evidence
#: agrees less than TRANSLATION_MIN_SCORE.
SPLICE_MAX_SHARED = 0.2
SPLICE_MAX_AGREEMENT = 0.3
SPLICE_MIN_SHARE = 0.2
#: A part lies mostly within the post: the match covers at least SPLICE_PART_WITHIN of the part (from its
#: first to its last tenth of matched terms), where only a passage of the post does.
SPLICE_PART_WITHIN = 0.6
SPLICE_PASSAGE_SCORE = 0.15
#: Look for translated copies at all (dedup/evidence.py); off saves the evidence stage's time.
TRANSLATIONS = True
#: Translations: an article in another language sharing at least MIN_SHARED_EVIDENCE evidence terms of
#: weight EVIDENCE_MIN_WEIGHT or more is a candidate. Its pair score (dedup/crosslang.py: common weight
#: over the geometric mean of both sides' totals, publication times as a factor) is stored as a link when
#: it reaches EVIDENCE_LINK_MIN_SCORE (it counts towards the backgrounds, and may mark a splice).
EVIDENCE_MIN_WEIGHT = 0.5
#: Words written in lower case weigh this share of their rarity in the evidence: they are the words of one
#: language, seldom found in another's text, while names and numbers cross languages whole.
EVIDENCE_LOWER_CASE_WEIGHT = 0.3
MIN_SHARED_EVIDENCE = 3
EVIDENCE_LINK_MIN_SCORE = 0.06
#: ... and two groups of different languages join (dedup/attachment.py) only when their best pair's
#: score reaches TRANSLATION_MIN_SCORE over TRANSLATION_MIN_MATCHES terms and is at least
#: TRANSLATION_MARGIN times the background of one side: the mean of its TRANSLATION_BACKGROUND_K best
#: scores with other stories of the other language. Then only leader to leader (canonical groups).
TRANSLATION_MIN_SCORE = 0.10
TRANSLATION_MIN_MATCHES = 3
TRANSLATION_MARGIN = 2.0
TRANSLATION_BACKGROUND_K = 3
#: ... and a merge of two stories through translations must not contradict one language: a group that
#: would join a story already told in its language must agree with that version at least this much in
#: its evidence (two translations of one story agree, two stories about one event seldom).
TRANSLATION_SIBLING_SCORE = 0.3
#: A pair published more than TRANSLATION_TIME_GRACE_DAYS apart has its score divided by
#: 1 + (days - grace) / TRANSLATION_TIME_SCALE_DAYS (0 turns the time factor off).
TRANSLATION_TIME_GRACE_DAYS = 3.0
TRANSLATION_TIME_SCALE_DAYS = 30.0
#: A page whose source link names a stored article in another language is linked to it with a score of
#: at least SOURCE_LINK_SCORE, when their evidence agrees at all (SOURCE_LINK_MIN_SCORE).
SOURCE_LINK_SCORE = 0.3
SOURCE_LINK_MIN_SCORE = 0.02
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
