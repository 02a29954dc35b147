"""Celery messages as they wait in a Redis queue: what task, with which arguments.

kombu's Redis transport keeps each message as a JSON envelope whose body is the task's
``[args, kwargs, embed]`` in base64, compressed when the sender compressed it (``task_compression``
in ``workers.app``; a ``compression`` header then names the codec).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from kombu.compression import decompress

Message = tuple[str, list[Any], dict[str, Any]]


def decode(raw: bytes | str) -> Message:
    """(task name, args, kwargs) of one message envelope as the Redis transport stores it."""
    envelope = json.loads(raw)
    body = base64.b64decode(envelope["body"])
    compression = envelope["headers"].get("compression")
    if compression:
        body = decompress(body, compression)
    args, kwargs, _embed = json.loads(body)
    return envelope["headers"]["task"], args, kwargs
