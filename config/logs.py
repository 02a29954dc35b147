"""Log lines: one line per event, as text or as JSON (``NEWSDEDUP_LOG_FORMAT``).

Both formats carry the fields ``source``, ``url`` and ``task_id`` where a record has them (pass them
with ``extra=`` or through :func:`page_logger`). A JSON line is an object with ``ts`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, those fields, and ``exc`` for a traceback; inside a Celery task
``task_id`` and ``task`` come from the running task when the record does not name them. Every string
of a line goes through ``config.redact``: no password reaches a log, in either format.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from config.redact import install_log_redaction, redact_text

LogFormat = Literal["text", "json"]
# The fields a record may carry beyond its message, in the order lines show them.
FIELDS = ("source", "url", "task_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def page_logger(logger: logging.Logger, **fields: Any) -> logging.LoggerAdapter[logging.Logger]:
    """A logger whose records carry these fields (source, url, task_id; None ones are left out)."""
    return logging.LoggerAdapter(logger, {k: v for k, v in fields.items() if v is not None})


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields of FIELDS the record carries."""
    return {name: getattr(record, name) for name in FIELDS if getattr(record, name, None) is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, source/url/task_id, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_task_fields(),
            **record_fields(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(_redacted(line), ensure_ascii=False, default=str)


class FieldsFormatter(logging.Formatter):
    """Text: another formatter's line (or TEXT_FORMAT's) followed by ``source=... url=... task_id=...``
    for the fields the record carries; a record without them is left as that formatter writes it."""

    def __init__(self, inner: logging.Formatter | None = None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)  # a Formatter's format(record), not str.format (tests/test_security)
        fields = record_fields(record)
        if not fields:
            return line
        suffix = " ".join(f"{name}={redact_text(str(value))}" for name, value in fields.items())
        head, newline, rest = line.partition("\n")  # a traceback stays below the line
        return f"{head} {suffix}{newline}{rest}"


def formatter(log_format: LogFormat, inner: logging.Formatter | None = None) -> logging.Formatter:
    """The formatter for the format; ``inner`` is the text line to extend (Celery's, Scrapy's)."""
    if log_format == "json":
        return JsonFormatter()
    return inner if isinstance(inner, FieldsFormatter) else FieldsFormatter(inner)


def use_format(log_format: LogFormat, logger: logging.Logger | None = None) -> None:
    """Give every handler of the logger (default: the root logger) the format, and switch on redaction."""
    install_log_redaction()
    for handler in (logger or logging.getLogger()).handlers:
        handler.setFormatter(formatter(log_format, handler.formatter))


def current_task_id() -> str | None:
    """The id of the Celery task running in this process, if any."""
    return _task_fields().get("task_id")


def _task_fields() -> dict[str, Any]:
    """task_id and task of the Celery task running in this process, if any (Celery not imported: none)."""
    if "celery" not in sys.modules:
        return {}
    from celery import current_task

    task = current_task
    request = getattr(task, "request", None) if task else None
    task_id = getattr(request, "id", None)
    return {"task_id": task_id, "task": task.name} if task is not None and task_id else {}


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redacted(v) for k, v in value.items()}
    return value
