"""``newsdedup dead-letters list`` and ``newsdedup dead-letters replay``: the pages that never finished
(``workers.dead_letters``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from config import Settings
from config.redact import redact_text
from newsdedup.cli.context import uses_settings
from newsdedup.cli.errors import CLIError, SetupError
from newsdedup.cli.render import ShortURL, plural

if TYPE_CHECKING:
    import redis  # imported by the commands that use it


@click.group("dead-letters")
def dead_letters() -> None:
    """Pages delivered MAX_DELIVERIES times without finishing (timed out, failed, killed their worker)."""


def _client(settings: Settings) -> redis.Redis:
    if settings.redis_url is None:
        raise SetupError("dead letters live in the workers' Redis: set NEWSDEDUP_REDIS_URL")
    import redis

    return redis.Redis.from_url(settings.redis_url, socket_timeout=settings.broker_timeout_seconds)


@dead_letters.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@uses_settings
def list_letters(settings: Settings, as_json: bool) -> None:
    """Every dead letter, oldest first: task id, when, deliveries, reason, URL."""
    from workers.dead_letters import dead_letters as letters_of

    letters = letters_of(_client(settings))
    if as_json:
        for letter in letters:
            click.echo(redact_text(json.dumps(letter.summary(), ensure_ascii=False)))
        return
    table = Table(show_edge=False)
    for column in ("task id", "at", "deliveries", "reason", "url"):
        table.add_column(column, justify="right" if column == "deliveries" else "left")
    for letter in letters:
        table.add_row(
            letter.task_id, letter.at, str(letter.deliveries), letter.reason, ShortURL(letter.url or "-")
        )
    console = Console()
    console.print(table)
    console.print(plural(len(letters), "dead letter"))


@dead_letters.command("replay")
@click.argument("task_ids", nargs=-1, metavar="[TASK_ID]...")
@click.option("--all", "everything", is_flag=True, help="Send every dead letter again.")
@uses_settings
def replay(settings: Settings, task_ids: tuple[str, ...], everything: bool) -> None:
    """Send dead letters to the workers again, as new tasks (each gets MAX_DELIVERIES more deliveries)."""
    if not task_ids and not everything:
        raise SetupError("name the task ids to send again (`dead-letters list` shows them), or --all")
    from workers.dead_letters import take
    from workers.sender import Sender

    client = _client(settings)
    assert settings.redis_url is not None  # _client checked
    with Sender(settings.redis_url, settings.broker_timeout_seconds, settings) as sender:
        taken = take(client, None if everything else set(task_ids))
        for sent, letter in enumerate(taken):
            try:
                sender.send_page(letter.page)
            except Exception as e:
                from workers.dead_letters import bury

                for left in taken[sent:]:  # back among the dead letters: nothing lost
                    bury(client, left.task_id, left.page, left.reason, left.deliveries)
                raise CLIError(f"cannot send to Redis ({e}): replayed {sent}, the rest kept") from e
    missing = set(task_ids) - {letter.task_id for letter in taken}
    click.echo(
        f"replayed {plural(len(taken), 'page')}"
        + (f"; no dead letter {', '.join(sorted(missing))}" if missing else "")
    )
    if missing:
        raise click.exceptions.Exit(1)
