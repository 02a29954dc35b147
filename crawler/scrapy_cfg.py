"""The settings module that ``scrapy.cfg`` names, for the ``scrapy`` command (``scrapy list``,
``scrapy crawl NAME``): Scrapy reads a project's settings from a module's globals, so this is the one
module that reads the newsdedup settings when it is imported: it is an entry point, like the CLI's root
command. Everything else gets them passed (``crawler.run.crawl``)."""

from config import load_settings
from crawler.scrapy_settings import scrapy_settings

globals().update(scrapy_settings(load_settings()))
