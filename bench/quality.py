"""Quality benchmark: python bench/quality.py DOCS.jsonl TRUTH.jsonl

Scores newsdedup's clusters and a naive MinHash baseline's on the same documents, side by side
(see newsdedup/quality.py; `newsdedup eval DOCS TRUTH` runs the same).
"""

import sys
from pathlib import Path

from rich.console import Console

from newsdedup.quality import run

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python bench/quality.py DOCS.jsonl TRUTH.jsonl")
    run(Path(sys.argv[1]), Path(sys.argv[2]), Console())
