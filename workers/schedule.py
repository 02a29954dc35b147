"""The beat schedule: one periodic ``crawl_source`` per source, at its cron expression, in the time zone
of the settings (``TIMEZONE``, the Celery app's ``timezone``).

RedBeat stores it in Redis at every beat start, and deletes the entries of sources that were removed
from the sources file since the last start.
"""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

from config import Settings, load_sources
from config.sources import cron_fields
from workers.names import CRAWL_SOURCE

# RedBeat's keys: an entry per source (``newsdedup:beat:crawl NAME``), the schedule, the lock.
BEAT_KEY_PREFIX = "newsdedup:beat:"


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery's ``beat_schedule`` for the sources file."""
    schedule: dict[str, dict[str, Any]] = {}
    for source in load_sources(settings.sources):
        minute, hour, day, month, weekday = cron_fields(source.schedule)
        schedule[f"crawl {source.name}"] = {
            "task": CRAWL_SOURCE,
            "schedule": crontab(
                minute=minute, hour=hour, day_of_month=day, month_of_year=month, day_of_week=weekday
            ),
            "args": (source.name,),
        }
    return schedule
