"""Scrapy settings module (``scrapy.cfg`` points here): built from the newsdedup settings."""

from config import load_settings
from crawler.scrapy_settings import scrapy_settings

globals().update(scrapy_settings(load_settings()))
