"""newsdedup: find every copy of a news story across the web."""

__version__ = "0.1.0"
