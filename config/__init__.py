"""Settings and sources: environment over a TOML file over defaults, read once and passed down."""

from config.errors import ConfigError
from config.settings import Settings, load_settings
from config.sources import Source, load_sources

__all__ = ["ConfigError", "Settings", "Source", "load_settings", "load_sources"]
