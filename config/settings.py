"""The settings object: ``NEWSDEDUP_*`` environment variables over a TOML file over defaults.

Read once at start-up with :func:`load_settings` and passed down; nothing else reads the
environment. Credentials come only from the environment: a settings file whose database or Redis
URL holds a password is refused. Reading the settings also switches on log redaction
(``config.redact``) for the process, so that no password read here reaches a log.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from config import defaults
from config.errors import ConfigError
from config.redact import has_password, install_log_redaction
from dedup.params import Params

ENV_PREFIX = "NEWSDEDUP_"
# Settings that existed once, and what became of them: a settings file that still sets one is told so.
REMOVED = {
    "splice_max_evidence": "spliced posts are recognised from their passages now "
    "(SPLICE_MAX_OVERLAP, SPLICE_MAX_SHARED, SPLICE_MAX_AGREEMENT)",
    "splice_max_evidence_across": "spliced posts are recognised from their passages now "
    "(SPLICE_MAX_OVERLAP, SPLICE_PASSAGE_SCORE, SPLICE_MIN_SHARE)",
}
# Settings that may hold a credential, and so are only read from the environment when they do.
URL_SETTINGS = ("database_url", "redis_url", "index_redis_url")


class Settings(BaseSettings, Params):
    """Every setting of the service: the thresholds of the core (inherited from ``dedup.params.Params``)
    and the service's own; see ``config/defaults.py`` and ``dedup/params.py`` for what each one means."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    database_url: str = defaults.DATABASE_URL
    redis_url: str | None = defaults.REDIS_URL
    index_redis_url: str | None = defaults.INDEX_REDIS_URL
    index_redis_hash_tags: int = Field(defaults.INDEX_REDIS_HASH_TAGS, ge=2, le=16384)
    sources: Path = defaults.SOURCES

    index_capacity: int = Field(defaults.INDEX_CAPACITY, ge=1)
    cache_dir: Path = defaults.CACHE_DIR

    user_agent: str = defaults.USER_AGENT
    crawl_max_page_bytes: int = Field(defaults.CRAWL_MAX_PAGE_BYTES, ge=1024)
    crawl_max_pages: int = Field(defaults.CRAWL_MAX_PAGES, ge=1)
    crawl_depth_limit: int = Field(defaults.CRAWL_DEPTH_LIMIT, ge=0)
    crawl_timeout_seconds: int = Field(defaults.CRAWL_TIMEOUT_SECONDS, ge=1)
    crawl_progress_seconds: float = Field(defaults.CRAWL_PROGRESS_SECONDS, ge=0.0)
    crawl_download_timeout_seconds: float = Field(defaults.CRAWL_DOWNLOAD_TIMEOUT_SECONDS, gt=0.0)
    crawl_max_redirects: int = Field(defaults.CRAWL_MAX_REDIRECTS, ge=0)
    autothrottle_start_delay: float = Field(defaults.AUTOTHROTTLE_START_DELAY, ge=0.0)
    autothrottle_target_concurrency: float = Field(defaults.AUTOTHROTTLE_TARGET_CONCURRENCY, gt=0.0)

    visibility_timeout_seconds: int = Field(defaults.VISIBILITY_TIMEOUT_SECONDS, ge=1)
    retry_backoff_max_seconds: int = Field(defaults.RETRY_BACKOFF_MAX_SECONDS, ge=1)
    retry_for_seconds: int = Field(defaults.RETRY_FOR_SECONDS, ge=0)
    page_soft_time_limit_seconds: float = Field(defaults.PAGE_SOFT_TIME_LIMIT_SECONDS, gt=0.0)
    page_time_limit_seconds: float = Field(defaults.PAGE_TIME_LIMIT_SECONDS, gt=0.0)
    max_deliveries: int = Field(defaults.MAX_DELIVERIES, ge=1)
    spool_dir: Path = defaults.SPOOL_DIR
    spool_retry_seconds: float = Field(defaults.SPOOL_RETRY_SECONDS, ge=0.0)
    broker_timeout_seconds: float = Field(defaults.BROKER_TIMEOUT_SECONDS, gt=0.0)
    beat_max_loop_interval_seconds: int = Field(defaults.BEAT_MAX_LOOP_INTERVAL_SECONDS, ge=1)
    beat_lock_timeout_seconds: int = Field(defaults.BEAT_LOCK_TIMEOUT_SECONDS, ge=2)
    timezone: str = defaults.TIMEZONE
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = defaults.LOG_LEVEL  # type: ignore[assignment]  # a str constant that is one of the literals
    log_format: Literal["text", "json"] = defaults.LOG_FORMAT  # type: ignore[assignment]  # as log_level
    metrics_port: int = Field(defaults.METRICS_PORT, ge=0, le=65535)
    metrics_host: str = defaults.METRICS_HOST

    @field_validator("timezone")
    @classmethod
    def _known_time_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not a time zone name (like UTC or Europe/Berlin)") from None
        return name

    @field_validator("index_redis_url")
    @classmethod
    def _index_beside_a_broker(cls, url: str | None, info: ValidationInfo) -> str | None:
        if url is not None and info.data.get("redis_url") is None:
            raise ValueError("needs NEWSDEDUP_REDIS_URL too: without a broker the index is in memory")
        return url

    @field_validator("page_time_limit_seconds")
    @classmethod
    def _hard_after_soft(cls, limit: float, info: ValidationInfo) -> float:
        soft = info.data.get("page_soft_time_limit_seconds")
        if soft is not None and limit <= soft:
            raise ValueError(f"must be more than page_soft_time_limit_seconds ({soft:g})")
        return limit

    @field_validator("beat_lock_timeout_seconds")
    @classmethod
    def _lock_outlives_two_loops(cls, timeout: int, info: ValidationInfo) -> int:
        interval = info.data.get("beat_max_loop_interval_seconds")
        if interval is not None and timeout < 2 * interval:
            raise ValueError(f"must be at least twice beat_max_loop_interval_seconds ({interval})")
        return timeout

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The settings file arrives as init arguments; the environment wins over it.
        return env_settings, init_settings

    @property
    def params(self) -> Params:
        """The core's thresholds alone, as the core takes them."""
        return Params(**self.model_dump(include=set(Params.model_fields)))

    @property
    def embedded(self) -> bool:
        """True without Redis: pages are processed where they are crawled, the index is in memory."""
        return self.redis_url is None


def config_path(env: Mapping[str, str]) -> tuple[Path, bool]:
    """The settings file to read, and whether the operator named it explicitly."""
    named = env.get(f"{ENV_PREFIX}CONFIG")
    return (Path(named), True) if named else (defaults.CONFIG, False)


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML file, or a ConfigError naming the file and the line."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e


def load_settings() -> Settings:
    """Read the settings once: environment over the settings file over defaults."""
    install_log_redaction()
    env = os.environ
    path, named = config_path(env)
    if path.exists():
        file_values = read_toml(path)
        _no_credentials(file_values, path)
        for name in sorted(set(file_values) & set(REMOVED)):
            raise ConfigError(f"{path}: {name}: no longer a setting: {REMOVED[name]}; remove it")
    elif named:
        raise ConfigError(f"{path}: settings file not found (named by {ENV_PREFIX}CONFIG)")
    else:
        file_values = {}
    try:
        return Settings(**file_values)
    except ValidationError as e:
        raise ConfigError(_one_line(e, path, env)) from e


def _no_credentials(file_values: Mapping[str, Any], path: Path) -> None:
    """A ConfigError if a URL in the file holds a password: credentials come only from the environment."""
    for field in URL_SETTINGS:
        value = file_values.get(field)
        if isinstance(value, str) and has_password(value):
            raise ConfigError(
                f"{path}: {field}: holds a password; credentials come only from the environment: "
                f"set {ENV_PREFIX}{field.upper()} instead"
            )


def _one_line(error: ValidationError, path: Path, env: Mapping[str, str]) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    variable = f"{ENV_PREFIX}{field.upper()}"
    where = variable if variable in env else f"{path}: {field}"
    # pydantic prefixes a validator's message with "Value error, "; the operator needs only the reason.
    return f"{where}: {first['msg'].removeprefix('Value error, ')}"
