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
#: Estimated Jaccard similarity at and above which two articles count as the same story.
#: The LSH banding is chosen for this threshold (datasketch's optimal parameters).
SIMILARITY_THRESHOLD = 0.5
#: Words per shingle for scripts written with spaces.
SHINGLE_WORDS = 4
#: Characters per shingle for scripts written without spaces (Chinese, Japanese, Thai, ...).
SHINGLE_CHARS = 3
#: Below this many distinct shingles a MinHash estimate is mostly noise: such an article is
#: stored, but stays in a cluster of its own.
MIN_SHINGLES = 20
#: A cleaned page with fewer characters than this has no story to cluster and is rejected.
MIN_TEXT_CHARS = 200

#: Crawling: politeness and limits.
USER_AGENT = "newsdedup/0.1 (+https://github.com/newsdedup/newsdedup)"
CRAWL_MAX_PAGE_BYTES = 5 * 1024 * 1024
CRAWL_MAX_PAGES = 5000
CRAWL_DEPTH_LIMIT = 3
CRAWL_TIMEOUT_SECONDS = 3600
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

#: Celery: how long a delivered but unacknowledged task waits before Redis hands it to another
#: worker. Longer than the longest task (a crawl), so that no task runs twice while alive.
VISIBILITY_TIMEOUT_SECONDS = 2 * CRAWL_TIMEOUT_SECONDS

LOG_LEVEL = "INFO"
