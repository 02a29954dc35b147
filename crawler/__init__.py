"""The Scrapy project: one spider per source in the sources file (feed, sitemap or site crawl),
and an item pipeline that hands each fetched page to ``process_page``."""
