"""The sources file: which sites to crawl, how, and when.

```toml
[[source]]
name = "dailycourier"            # letters, digits, '-' and '_'; used as the spider name
kind = "sitemap"                 # feed | sitemap | site
start_urls = ["http://dailycourier.example/sitemap.xml"]
allowed_domains = ["dailycourier.example"]   # default: the hosts of start_urls
schedule = "*/30 * * * *"        # cron: minute hour day-of-month month day-of-week (in TIMEZONE)
language = "en"                  # optional hint, ISO 639-1
publisher = true                 # an original publisher: its pages win the canonical choice
allow_private = ["127.0.0.1"]    # private addresses this source may reach (default: none)
```

The crawler refuses private, loopback, link-local and other non-public addresses (a redirect to
one too); ``allow_private`` lists the addresses or networks (``10.1.0.0/16``) a source may reach
all the same, and the address of an HTTP proxy it goes through. Credentials come only from the
environment: a start URL with a password is refused.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config import defaults
from config.errors import ConfigError
from config.redact import has_password, redact_url
from config.settings import read_toml

SourceKind = Literal["feed", "sitemap", "site"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Source(BaseModel):
    """One crawl source, as the sources file defines it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=64)
    kind: SourceKind
    start_urls: tuple[str, ...] = Field(min_length=1)
    allowed_domains: tuple[str, ...] = ()
    schedule: str = "0 * * * *"
    language: str | None = Field(None, pattern=r"^[a-z]{2}$")
    publisher: bool = False
    allow_private: tuple[Network, ...] = ()

    @field_validator("start_urls")
    @classmethod
    def _absolute_http_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{redact_url(url)!r} is not an absolute http(s) URL")
            if has_password(url):
                raise ValueError(
                    f"{redact_url(url)!r} holds a password; credentials come only from the environment"
                )
        return urls

    @field_validator("allow_private", mode="before")
    @classmethod
    def _networks(cls, values: object) -> object:
        if not isinstance(values, list | tuple):
            return values  # pydantic reports the wrong type
        return tuple(_network(v) for v in values)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, schedule: str) -> str:
        cron_fields(schedule)
        return schedule

    @model_validator(mode="after")
    def _default_domains(self) -> Source:
        if not self.allowed_domains:
            hosts = tuple(dict.fromkeys(urlsplit(u).hostname or "" for u in self.start_urls))
            object.__setattr__(self, "allowed_domains", hosts)
        return self


def _network(value: object) -> Network:
    """An address (``127.0.0.1``, ``::1``) or a network (``10.1.0.0/16``) of ``allow_private``."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return ipaddress.ip_network(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IP address or network (like 127.0.0.1 or 10.1.0.0/16, "
            "with no host bits set after the /)"
        ) from None


# The five cron fields in order, with the range Celery's crontab accepts for each (weekday 0 = Sunday).
CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 6),
)
_OUT_OF_RANGE = re.compile(r"Invalid (?:end|beginning) range: (\d+) [<>] \d+")


def cron_fields(schedule: str) -> tuple[str, str, str, str, str]:
    """The five fields of a cron expression, each checked by Celery's own crontab parser; a ValueError
    names the field that is wrong (``minute field: 61 is out of range 0-59``)."""
    # Celery parses cron the way beat will run it.
    from celery.schedules import ParseException, crontab, crontab_parser

    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"{schedule!r} is not a cron expression of 5 fields (minute hour day month weekday)")
    for value, (name, low, high) in zip(fields, CRON_FIELDS, strict=True):
        try:
            crontab_parser(high - low + 1, low).parse(value)
        except (ValueError, ParseException) as e:
            raise ValueError(f"{name} field: {_cron_reason(value, low, high, str(e))}") from e
    minute, hour, day, month, weekday = fields
    try:
        crontab(minute=minute, hour=hour, day_of_month=day, month_of_year=month, day_of_week=weekday)
    except (ValueError, ParseException) as e:
        raise ValueError(f"{schedule!r} is not a valid cron expression: {e}") from e
    return minute, hour, day, month, weekday


def _cron_reason(value: str, low: int, high: int, message: str) -> str:
    out_of_range = _OUT_OF_RANGE.match(message)
    if out_of_range:
        return f"{out_of_range.group(1)} is out of range {low}-{high}"
    return f"{value!r} is not a number, a range (1-5), a list (1,3) or a step (*/5)"


def resolve_sources_path(path: Path) -> Path:
    """The sources file to read: the named one, else (for the default) the packaged copy."""
    if path == defaults.SOURCES and not path.exists():
        return defaults.PACKAGED_SOURCES
    return path


def load_sources(path: Path) -> list[Source]:
    """All sources in the file, or a ConfigError naming the file, the source and the field."""
    path = resolve_sources_path(path)
    if not path.exists():
        raise ConfigError(f"{path}: sources file not found (set NEWSDEDUP_SOURCES to yours)")
    data = read_toml(path)
    unknown = set(data) - {"source"}
    if unknown:
        raise ConfigError(f"{path}: unknown table {sorted(unknown)[0]!r}: sources are [[source]] tables")
    entries = data.get("source", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'source' must be an array of tables: write [[source]]")
    sources: list[Source] = []
    for position, entry in enumerate(entries, start=1):
        label = entry.get("name") if isinstance(entry, dict) else None
        label = repr(label) if isinstance(label, str) else f"#{position}"
        try:
            source = Source.model_validate(entry)
        except ValidationError as e:
            first = e.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "?"
            raise ConfigError(f"{path}: source {label}: {field}: {_reason(first['msg'])}") from e
        if any(s.name == source.name for s in sources):
            raise ConfigError(f"{path}: source {label}: name: defined twice")
        sources.append(source)
    return sources


def find_source(sources: list[Source], name: str) -> Source:
    """The source called ``name``; a ConfigError listing the known names if there is none."""
    for source in sources:
        if source.name == name:
            return source
    known = ", ".join(s.name for s in sources) or "none"
    raise ConfigError(f"unknown source {name!r}; known sources: {known}")


def _reason(message: str) -> str:
    # pydantic prefixes validator messages with "Value error, "; the operator needs only the reason.
    return re.sub(r"^Value error, ", "", message)
