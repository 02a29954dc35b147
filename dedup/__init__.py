"""The domain core: clean a page to its story, sign it, find the stored articles that tell the
same story. Importable without Scrapy, Celery or a database."""
