"""``python -m crawler SOURCE...``: crawl sources in a process of their own.

The ``crawl_source`` task runs this as its child process. The last line on stdout is the summary
as JSON; the exit status is 2 for a configuration error, else 0.
"""

from __future__ import annotations

import json
import sys

from config import ConfigError, load_settings, load_sources
from config.sources import find_source
from crawler.run import crawl


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m crawler SOURCE [SOURCE...]", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        sources = load_sources(settings.sources)
        chosen = [find_source(sources, name) for name in argv]
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(crawl(chosen, settings), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
