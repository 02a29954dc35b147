"""The application layer: what the command line, the Celery tasks and the Scrapy pipeline call to
process pages, cluster them, correct and report the clusters. Built on the pure core (``dedup``) and
the storage layer (``storage``); knows nothing of Celery, Scrapy or click."""
