"""``python -m crawler [--parent PID] SOURCE...``: crawl sources in a process of their own.

The ``crawl_source`` task runs this as its child process, with ``--parent`` its own pid: the crawl
stops if that process dies (crawler.orphan). The last line on stdout is the summary as JSON; the
exit status is 2 for a configuration error, else 0.
"""

from __future__ import annotations

import json
import sys

from config import ConfigError, load_settings, load_sources
from config.sources import find_source
from crawler.run import crawl


def main(argv: list[str]) -> int:
    parent = None
    if argv[:1] == ["--parent"] and len(argv) > 1 and argv[1].isdigit():
        parent, argv = int(argv[1]), argv[2:]
    if not argv:
        print("usage: python -m crawler [--parent PID] SOURCE [SOURCE...]", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        sources = load_sources(settings.sources)
        chosen = [find_source(sources, name) for name in argv]
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    overrides = {"PARENT_PID": parent} if parent else None
    print(json.dumps(crawl(chosen, settings, overrides), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
