"""Spider kinds. Concrete spiders are made per source by ``crawler.spider_loader``."""
