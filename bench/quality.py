"""Quality benchmark: python bench/quality.py CORPUS... (folders with docs.jsonl and truth.jsonl)

Scores newsdedup's clusters and a naive MinHash baseline's on the same documents, side by side, for
each corpus, their union, and the tuning and test halves of their stories (see newsdedup/quality.py;
`newsdedup eval CORPUS...` runs the same).
"""

import sys
from pathlib import Path

from rich.console import Console

from newsdedup.corpora import corpora
from newsdedup.quality import run

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python bench/quality.py CORPUS... (folders with docs.jsonl and truth.jsonl)")
    run(corpora(Path(a) for a in sys.argv[1:]), Console())
