"""The development corpus through the real commands: ``newsdedup ingest`` then ``clusters export``,
scored against its truth file. The floors are the figures reached (see the README); a change that
drops below one fails here."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from newsdedup.cli import app
from newsdedup.evaluate import load_clusters, load_truth, score
from tests.conftest import CORPUS, needs_corpus

# Measured on the development corpus (README, "Quality"); raise them when the figures improve.
F1_FLOOR = 0.44
PRECISION_FLOOR = 0.99


@needs_corpus
def test_corpus_clusters_reach_the_measured_quality(tmp_path: Path) -> None:
    """Every document of docs.jsonl is stored, and the exported clusters keep pairwise precision and
    F1 at or above the floors."""
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", "-q", str(CORPUS / "docs.jsonl")])
    assert ingested.exit_code == 0, ingested.output
    assert ingested.output.startswith("189 lines: ")
    assert "stored 189 articles" in ingested.output

    export = tmp_path / "clusters.jsonl"
    exported = runner.invoke(app, ["clusters", "export", "--format", "jsonl", "--output", str(export)])
    assert exported.exit_code == 0, exported.output

    scores = score(load_clusters(export), load_truth(CORPUS / "truth.jsonl"))
    assert scores.missing == []
    assert scores.precision >= PRECISION_FLOOR, scores.false_positives[:10]
    assert scores.f1 >= F1_FLOOR, scores.as_dict()
