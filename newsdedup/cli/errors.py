"""Errors that reach an operator: one line saying what happened and what to do, no traceback.

Every message that leaves here has the passwords of its URLs replaced by ``***`` (config.redact),
and so has the traceback of an unexpected error (``excepthook``).
"""

from __future__ import annotations

import copy
import logging
import sys
import traceback
from types import TracebackType
from typing import Any

import click
from sqlalchemy.exc import DatabaseError, NoSuchModuleError, OperationalError

from config import ConfigError
from config.redact import redact_text
from newsdedup.service.index import IndexMismatch
from newsdedup.service.runtime import SchemaNotCurrent
from storage.archive import TextsArchived
from storage.db import DatabaseURLError, SchemaTooNew

log = logging.getLogger("newsdedup.cli")


class CLIError(click.ClickException):
    """An error with a one-line message; exit status 1."""

    exit_code = 1


class SetupError(CLIError):
    """The configuration or the command line asks for something impossible; exit status 2."""

    exit_code = 2


def one_line(error: BaseException) -> CLIError | None:
    """The operator's message for an expected error (passwords redacted), or None for a bug."""
    message = _message(error)
    return None if message is None else type(message)(redact_text(message.message))


def _message(error: BaseException) -> CLIError | None:
    if isinstance(error, DatabaseURLError) and "@" in str(error):
        # Not a URL, so its password cannot be told apart: the value is not shown at all.
        return SetupError(
            "not a database URL: NEWSDEDUP_DATABASE_URL (its value is not shown: it has an '@')"
        )
    if isinstance(error, ConfigError | DatabaseURLError | SchemaTooNew | SchemaNotCurrent):
        return SetupError(str(error))
    if isinstance(error, NoSuchModuleError):
        return SetupError(f"NEWSDEDUP_DATABASE_URL: not a usable database URL: {error}")
    if isinstance(error, IndexMismatch | TextsArchived):
        return CLIError(str(error))
    if type(error) is DatabaseError:  # the driver's own (an SQLite file that is not a database), no subclass
        reason = str(error.orig if error.orig is not None else error).strip().splitlines()[0]
        return CLIError(f"database error: {reason} (check NEWSDEDUP_DATABASE_URL)")
    if isinstance(error, OperationalError):
        reason = str(error.orig if error.orig is not None else error).strip().splitlines()[0]
        return CLIError(f"database error: {reason} (check NEWSDEDUP_DATABASE_URL and that the server is up)")
    if type(error).__name__ == "BrokerDown":  # workers.sender's: not imported here, that would import Celery
        return CLIError(f"cannot reach Redis: {error} (check NEWSDEDUP_REDIS_URL and that Redis is up)")
    if isinstance(error, (*_redis_errors(), *_kombu_broker_errors())):
        return CLIError(f"cannot reach Redis: {error} (check NEWSDEDUP_REDIS_URL and that Redis is up)")
    return None


def _redis_errors() -> tuple[type[Exception], ...]:
    """redis-py's connection errors, if it is imported: only then can one have been raised (the
    embedded mode never imports it)."""
    client = sys.modules.get("redis")
    return () if client is None else (client.ConnectionError, client.TimeoutError)


def _kombu_broker_errors() -> tuple[type[Exception], ...]:
    """Kombu's (Celery's) broker error, if Kombu is imported: only then can one have been raised, and
    importing it here would import it into every command."""
    kombu_exceptions = sys.modules.get("kombu.exceptions")
    return () if kombu_exceptions is None else (kombu_exceptions.OperationalError,)


class OperatorErrors(click.Group):
    """The command group: expected errors become one line; the traceback goes to the debug log."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as e:
            redacted = redact_text(e.message)
            if redacted == e.message:
                raise
            # click declares ``message`` final; a copy keeps the error's type, usage hint and exit code.
            shown = copy.copy(e)
            vars(shown)["message"] = redacted
            raise shown from None
        except (click.exceptions.Exit, click.Abort):
            raise
        except Exception as e:
            message = one_line(e)
            if message is None:
                raise
            log.debug("details of the error", exc_info=e)
            raise message from e


def excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """Print the traceback of an unexpected error (a bug) to stderr, with passwords redacted."""
    sys.stderr.write(redact_text("".join(traceback.format_exception(kind, error, tb))))
