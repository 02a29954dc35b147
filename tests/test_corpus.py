"""The development corpus through the real commands: ``newsdedup ingest`` then ``clusters export``,
scored against its truth file. The floors are the figures reached (see the README, "Quality"); a
change that drops below one fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsdedup.cli import app
from newsdedup.evaluate import Scores, load_clusters, load_truth, score
from tests.conftest import CORPUS, needs_corpus

PRECISION_FLOOR = 0.99
F1_FLOOR = 0.62
# Over the documents that are not translations (cross-language matching is measured on its own).
SAME_LANGUAGE_RECALL_FLOOR = 0.99
SAME_LANGUAGE_TRANSFORM_FLOOR = 0.95
SAME_LANGUAGE_CANONICAL_FLOOR = 0.98


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus ingested into a fresh SQLite file and exported, once for this module."""
    tmp = tmp_path_factory.mktemp("corpus")
    env = {"NEWSDEDUP_DATABASE_URL": f"sqlite:///{tmp / 'corpus.db'}"}
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", "-q", str(CORPUS / "docs.jsonl")], env=env)
    assert ingested.exit_code == 0, ingested.output
    assert ingested.output.startswith("189 lines: ")
    assert "stored 189 articles" in ingested.output
    export = tmp / "clusters.jsonl"
    result = runner.invoke(app, ["clusters", "export", "--format", "jsonl", "--output", str(export)], env=env)
    assert result.exit_code == 0, result.output
    return export


def _scores(export: Path, same_language: bool) -> Scores:
    truth = load_truth(CORPUS / "truth.jsonl")
    if same_language:
        truth = {u: t for u, t in truth.items() if "translated" not in t.transforms}
    return score(load_clusters(export), truth)


@needs_corpus
def test_corpus_clusters_keep_precision_and_f1(exported: Path) -> None:
    """Every document is stored, and pairwise precision and F1 over the whole corpus stay at or above
    the floors."""
    scores = _scores(exported, same_language=False)
    assert scores.missing == []
    assert scores.precision >= PRECISION_FLOOR, scores.false_positives[:10]
    assert scores.f1 >= F1_FLOOR, scores.as_dict()


@needs_corpus
def test_same_language_copies_are_found_with_the_right_canonical(exported: Path) -> None:
    """Among the documents that are not translations, recall overall and for every transform (verbatim,
    excerpt, spliced, spun, noisy, updated) and canonical accuracy stay at or above the floors."""
    scores = _scores(exported, same_language=True)
    assert scores.precision >= PRECISION_FLOOR, scores.false_positives[:10]
    assert scores.recall >= SAME_LANGUAGE_RECALL_FLOOR, scores.false_negatives[:10]
    assert set(scores.recall_by_transform) == {"excerpt", "merged", "noisy", "spun", "updated", "verbatim"}
    for transform, recall in scores.recall_by_transform.items():
        assert recall >= SAME_LANGUAGE_TRANSFORM_FLOOR, transform
    assert scores.canonical_accuracy >= SAME_LANGUAGE_CANONICAL_FLOOR
