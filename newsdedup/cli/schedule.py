"""``newsdedup schedule``: each source's cron expression and its next runs, in the configured time zone.

The runs are those beat sends: Celery's crontab reading of the expression (a day must match both the
day-of-month and the day-of-week field, unlike classic cron's either-or), at wall-clock times in
``TIMEZONE``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table

from config import Settings, Source, load_sources
from config.sources import CRON_FIELDS, cron_fields
from newsdedup.cli.context import uses_settings

RUNS = 3
# A day matching every field comes round within 28 years (29 February on a given weekday).
_SEARCH_DAYS = 28 * 366 + 1


@dataclass(frozen=True)
class Cron:
    """The values each field of a cron expression allows, as Celery's crontab parser reads them."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday

    @classmethod
    def parse(cls, schedule: str) -> Cron:
        from celery.schedules import crontab_parser  # Celery: imported by this command, not by every one

        fields = cron_fields(schedule)  # checked: a ValueError names the bad field
        minutes, hours, days, months, weekdays = (
            frozenset(crontab_parser(high - low + 1, low).parse(value))
            for value, (_, low, high) in zip(fields, CRON_FIELDS, strict=True)
        )
        return cls(minutes, hours, days, months, weekdays)

    def runs_on(self, day: date) -> bool:
        # Like Celery and unlike classic cron, a day must match both day-of-month and day-of-week.
        weekday = day.isoweekday() % 7
        return day.month in self.months and day.day in self.days and weekday in self.weekdays


def next_runs(cron: Cron, after: datetime, count: int = RUNS) -> list[datetime]:
    """The first ``count`` run times strictly after ``after`` (an aware datetime), in its time zone;
    fewer if the expression never comes due (``0 0 31 2 *``)."""
    zone = after.tzinfo
    runs: list[datetime] = []
    day = after.date()
    for _ in range(_SEARCH_DAYS):
        if cron.runs_on(day):
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                    run = wall.astimezone(UTC).astimezone(zone)  # a time in a DST gap moves to a real one
                    if run > after and run not in runs:
                        runs.append(run)
                        if len(runs) == count:
                            return runs
        day += timedelta(days=1)
    return runs


@dataclass(frozen=True)
class SourceRuns:
    source: str
    schedule: str
    runs: list[datetime]

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "schedule": self.schedule,
            "next_runs": [r.isoformat() for r in self.runs],
        }


def source_runs(sources: list[Source], after: datetime) -> list[SourceRuns]:
    return [SourceRuns(s.name, s.schedule, next_runs(Cron.parse(s.schedule), after)) for s in sources]


@click.command("schedule")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object: the time zone and each source's runs."
)
@click.option(
    "--after",
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="List the runs after this wall-clock time in the time zone (default: now).",
)
@uses_settings
def schedule(settings: Settings, as_json: bool, after: datetime | None) -> None:
    """Each source's cron schedule and its next three runs, in the time zone of the settings (TIMEZONE)."""
    zone = ZoneInfo(settings.timezone)
    start = after.replace(tzinfo=zone) if after is not None else datetime.now(zone)
    rows = source_runs(load_sources(settings.sources), start)
    if as_json:
        document = {"timezone": settings.timezone, "sources": [row.as_json() for row in rows]}
        click.echo(json.dumps(document, indent=2))
        return
    table = Table(title=f"next runs ({settings.timezone})", title_justify="left")
    for column in ("source", "schedule", "next runs"):
        table.add_column(column, overflow="fold")
    for row in rows:
        runs = "\n".join(run.strftime("%Y-%m-%d %H:%M %Z") for run in row.runs)
        table.add_row(row.source, row.schedule, runs or "never")
    Console(highlight=False).print(table)
