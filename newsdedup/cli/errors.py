"""Errors that reach an operator: one line saying what happened and what to do, no traceback."""

from __future__ import annotations

import logging
from typing import Any

import click
import redis
from sqlalchemy.exc import OperationalError

from config import ConfigError
from storage.db import DatabaseURLError
from workers.runtime import IndexMismatch

log = logging.getLogger("newsdedup.cli")


class CLIError(click.ClickException):
    """An error with a one-line message; exit status 1."""

    exit_code = 1


class SetupError(CLIError):
    """The configuration or the command line asks for something impossible; exit status 2."""

    exit_code = 2


def one_line(error: BaseException) -> CLIError | None:
    """The operator's message for an expected error, or None for a bug."""
    if isinstance(error, ConfigError | DatabaseURLError):
        return SetupError(str(error))
    if isinstance(error, IndexMismatch):
        return CLIError(str(error))
    if isinstance(error, OperationalError):
        reason = str(error.orig if error.orig is not None else error).strip().splitlines()[0]
        return CLIError(f"database error: {reason} (check NEWSDEDUP_DATABASE_URL and that the server is up)")
    if isinstance(error, redis.ConnectionError | redis.TimeoutError):
        return CLIError(f"cannot reach Redis: {error} (check NEWSDEDUP_REDIS_URL and that Redis is up)")
    return None


class OperatorErrors(click.Group):
    """The command group: expected errors become one line; the traceback goes to the debug log."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as e:
            message = one_line(e)
            if message is None:
                raise
            log.debug("details of the error", exc_info=e)
            raise message from e
