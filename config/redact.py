"""Passwords out of URLs: what logs and the command line show in place of a credential.

``redact_text`` replaces the password of every URL in a text with ``***``
(``redis://:s3cret@host/0`` becomes ``redis://:***@host/0``), and the value of a ``password=``
query parameter too (libpq accepts one). A user name without a password is left alone.
``install_log_redaction`` makes every log record of the process go through it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "***"

# scheme://user:password@ — the user part has no ':' (a ':' starts the password), and the password
# runs to the last '@' before the URL's path, query or fragment (an unquoted '@' in it stays hidden).
_USERINFO = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/?#@]*:)(?P<password>[^\s/?#]*)(?=@)", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&;](?:password|passwd|pwd)=)(?P<password>[^&;#\s]*)", re.I)


def redact_text(text: str) -> str:
    """The text with the password of every URL in it replaced by ``***``."""
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(lambda m: m["head"] + MASK if m["password"] else m[0], text)
    return _QUERY_PASSWORD.sub(lambda m: m["head"] + MASK if m["password"] else m[0], text)


def redact_url(url: str) -> str:
    """The URL with its password (in the user info or a ``password=`` parameter) replaced by ``***``."""
    return redact_text(url)


def has_password(url: str) -> bool:
    """True if the URL carries a password (in the user info or a ``password=`` parameter)."""
    return redact_text(url) != url


class _RedactingRecordFactory:
    """Makes each log record as before, then replaces its message (and traceback text) with the
    redacted one, so that every handler of the process, whoever installed it, writes no password."""

    def __init__(self, make: Any) -> None:
        self.make = make

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it when a handler formats it
            return record
        record.msg, record.args = redact_text(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return record


def install_log_redaction() -> None:
    """Redact every log record of this process from now on (once; calling again changes nothing)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingRecordFactory):
        logging.setLogRecordFactory(_RedactingRecordFactory(current))
