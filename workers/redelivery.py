"""When Redis hands an unacknowledged task to another worker, and checks that this fits the tasks.

A task is acknowledged after it ran (``task_acks_late``). If its worker dies without a word (SIGKILL,
a lost host), the message waits in Redis's ``unacked`` set until the visibility timeout has passed
since its delivery, and the next sweep of a live worker puts it back on its queue. Kombu sweeps every
``unacked_restore_interval * unacked_restore_throttle`` seconds (100 by default): the sweep period is
set to a tenth of the visibility timeout here (at least 1 s, at most kombu's 100 s), so that a task
comes back soon after its timeout also when the timeout is short.
"""

from __future__ import annotations

from config import Settings

# Kombu's own sweep: every 10 s, a scan at every 10th.
_INTERVAL = 10
_LONGEST_SWEEP = 100


def redelivery_options(visibility_timeout: int) -> dict[str, int]:
    """Celery's ``broker_transport_options`` for the Redis transport."""
    sweep = max(1, min(_LONGEST_SWEEP, visibility_timeout // 10))
    interval = min(_INTERVAL, sweep)
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": interval,
        "unacked_restore_throttle": max(1, sweep // interval),
    }


def timeout_warnings(settings: Settings) -> list[str]:
    """What in the settings lets Redis hand a task to a second worker while the first still runs it."""
    warnings = []
    visibility = settings.visibility_timeout_seconds
    crawl = settings.crawl_timeout_seconds + 60  # crawl_source's deadline for its child process
    if visibility <= crawl:
        warnings.append(
            f"NEWSDEDUP_VISIBILITY_TIMEOUT_SECONDS={visibility} is not longer than a crawl may take "
            f"(NEWSDEDUP_CRAWL_TIMEOUT_SECONDS + 60 = {crawl} s): a long crawl is handed to a second worker "
            "while it still runs; raise the visibility timeout"
        )
    wait = settings.retry_backoff_max_seconds
    if visibility <= wait:
        warnings.append(
            f"NEWSDEDUP_VISIBILITY_TIMEOUT_SECONDS={visibility} is not longer than the longest wait before a "
            f"retry (NEWSDEDUP_RETRY_BACKOFF_MAX_SECONDS={wait}): a page waiting for its retry is handed to "
            "a second worker; raise the visibility timeout or lower the wait"
        )
    return warnings
