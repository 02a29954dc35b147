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

# Reached: precision, recall, F1, ARI and canonical accuracy 1.000; every transform and language 1.000.
# The floors leave room for one or two pairs to move, not for a regression.
PRECISION_FLOOR = 0.99
RECALL_FLOOR = 0.98
ARI_FLOOR = 0.98
CANONICAL_FLOOR = 0.98
TRANSFORM_FLOOR = 0.95
LANGUAGE_FLOOR = 0.95


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


def _scores(export: Path) -> Scores:
    return score(load_clusters(export), load_truth(CORPUS / "truth.jsonl"))


@needs_corpus
def test_corpus_clusters_keep_precision_recall_and_canonical(exported: Path) -> None:
    """Every document is stored; pairwise precision and recall, ARI and canonical accuracy over the
    whole corpus, translations included, stay at or above the floors."""
    scores = _scores(exported)
    assert scores.missing == []
    assert scores.precision >= PRECISION_FLOOR, scores.false_positives[:10]
    assert scores.recall >= RECALL_FLOOR, scores.false_negatives[:10]
    assert scores.ari >= ARI_FLOOR
    assert scores.canonical_accuracy >= CANONICAL_FLOOR


@needs_corpus
def test_every_transform_and_language_is_found(exported: Path) -> None:
    """Recall for every transform (verbatim, excerpt, spliced, spun, noisy, updated, translated) and
    every language of the corpus stays at or above the floors."""
    scores = _scores(exported)
    assert set(scores.recall_by_transform) == {
        "excerpt",
        "merged",
        "noisy",
        "spun",
        "translated",
        "updated",
        "verbatim",
    }
    for transform, recall in scores.recall_by_transform.items():
        assert recall >= TRANSFORM_FLOOR, transform
    assert set(scores.recall_by_language) == {"cs", "de", "en", "ja", "ru", "zh"}
    for language, recall in scores.recall_by_language.items():
        assert recall >= LANGUAGE_FLOOR, language
