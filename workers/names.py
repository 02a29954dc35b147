"""The tasks' names: senders (``workers.sender``) and the beat schedule use them without importing the
tasks' code."""

PROCESS_PAGE = "newsdedup.process_page"
CRAWL_SOURCE = "newsdedup.crawl_source"
REBUILD_INDEX = "newsdedup.rebuild_index"
