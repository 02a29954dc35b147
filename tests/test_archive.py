"""Archived texts (``newsdedup db archive-texts`` and ``restore-texts``, migration 0008) on SQLite and
PostgreSQL: the migration on a database holding articles, texts out to a file and back unchanged,
clustering going on without them, and the operations that need a text saying so in one line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import inspect, select

from newsdedup.cli import app
from newsdedup.service.processing import process_page
from storage.db import alembic_config, create_db_engine, current_revisions
from storage.models import Article
from tests.stories import story
from tests.test_storage import ORIGIN, new_runtime, page

LIBRARY = "http://dailycourier.example/2026/03/library.html"
COPY = "http://newsflash-hub.example/news/bridge"


def texts(database_url: str) -> dict[str, tuple[str | None, bool]]:
    """Every article's text, and whether it is marked archived, by URL."""
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(select(Article.url, Article.text, Article.text_archived_at)).all()
    engine.dispose()
    return {url: (text, archived is not None) for url, text, archived in rows}


def to_revision(database_url: str, revision: str, up: bool) -> None:
    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.upgrade if up else command.downgrade)(config, revision)
    engine.dispose()


def test_the_migration_keeps_the_stored_texts_and_lets_them_be_archived(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """A database at 0007 holding two articles (texts NOT NULL, no archive column) upgrades to 0008
    with both texts as they were, `text` nullable and `text_archived_at` empty; back at 0007 and up
    again, the same."""
    rt = new_runtime(monkeypatch, database_url)
    process_page(page(ORIGIN, story("bridge")), rt)
    process_page(page(LIBRARY, story("library")), rt)
    rt.close()
    stored = texts(database_url)
    to_revision(database_url, "0007", up=False)
    engine = create_db_engine(database_url)
    columns = {c["name"]: c for c in inspect(engine).get_columns("articles")}
    assert (columns["text"]["nullable"], "text_archived_at" in columns) == (False, False)
    engine.dispose()

    to_revision(database_url, "0008", up=True)

    engine = create_db_engine(database_url)
    columns = {c["name"]: c for c in inspect(engine).get_columns("articles")}
    assert (columns["text"]["nullable"], columns["text_archived_at"]["nullable"]) == (True, True)
    with engine.connect() as connection:
        assert current_revisions(connection) == {"0008"}
    engine.dispose()
    assert texts(database_url) == stored
    assert all(text and not archived for text, archived in stored.values())


def test_archived_texts_leave_the_database_cluster_on_and_come_back_unchanged(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    """`db archive-texts --before` a day after the pages' fetch writes both texts to a gzipped JSON-lines
    file and empties them in the database; a copy of the bridge story processed then still joins its
    cluster (verified on the stored shingles); `clusters show --diff` says the canonical's text is
    archived; `index rebuild --links` and a downgrade refuse; `db restore-texts` puts both texts back
    exactly, after which the downgrade works. An existing output file is refused in one line."""
    rt = new_runtime(monkeypatch, database_url)
    origin = process_page(page(ORIGIN, story("bridge")), rt)
    process_page(page(LIBRARY, story("library")), rt)
    rt.close()
    stored = texts(database_url)
    archive = tmp_path / "texts-2026-03.jsonl.gz"
    cli = CliRunner()

    archived = cli.invoke(app, ["db", "archive-texts", "--before", "2026-03-11", "--output", str(archive)])

    assert (archived.exit_code, archived.stdout) == (
        0,
        f"archived 2 texts of articles fetched before 2026-03-11 into {archive}\n",
    )
    with gzip.open(archive, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    assert {r["url"]: (r["text"], False) for r in records} == stored
    assert texts(database_url) == dict.fromkeys(stored, (None, True))
    nothing_left = cli.invoke(
        app, ["db", "archive-texts", "--before", "2026-03-11", "--output", str(tmp_path / "again.gz")]
    )
    assert (
        nothing_left.stdout
        == "no texts of articles fetched before 2026-03-11 left to archive; wrote no file\n"
    )
    assert not (tmp_path / "again.gz").exists()

    rt = new_runtime(monkeypatch, database_url)
    copy = process_page(page(COPY, story("bridge")), rt)
    assert (copy.status, copy.cluster_id) == ("joined", origin.cluster_id)
    rt.close()
    shown = cli.invoke(app, ["clusters", "show", str(origin.cluster_id), "--diff", COPY])
    assert shown.exit_code == 0
    assert "[text archived 20" in shown.stdout
    relink = cli.invoke(app, ["index", "rebuild", "--links"])
    assert (relink.exit_code, relink.stderr) == (
        1,
        "Error: 2 articles have their text archived and a relink needs every text: put them back first "
        "(`newsdedup db restore-texts FILE`)\n",
    )
    with pytest.raises(RuntimeError, match="2 articles have their text archived"):
        to_revision(database_url, "0007", up=False)
    again = cli.invoke(app, ["db", "archive-texts", "--before", "2026-03-11", "--output", str(archive)])
    assert (again.exit_code, again.stderr) == (1, f"Error: {archive}: exists; name a new archive file\n")

    restored = cli.invoke(app, ["db", "restore-texts", str(archive)])

    assert (restored.exit_code, restored.stdout) == (0, f"restored 2 texts from {archive}\n")
    after = texts(database_url)
    assert {url: after[url] for url in stored} == stored
    to_revision(database_url, "0007", up=False)


def test_archive_texts_keeps_the_articles_fetched_on_and_after_the_day(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    """`--before` the pages' fetch day archives nothing; a file that is not an archive is refused in
    one line."""
    rt = new_runtime(monkeypatch, database_url)
    process_page(page(ORIGIN, story("bridge")), rt)
    rt.close()
    cli = CliRunner()

    kept = cli.invoke(
        app, ["db", "archive-texts", "--before", "2026-03-10", "--output", str(tmp_path / "a.gz")]
    )
    assert kept.stdout == "no texts of articles fetched before 2026-03-10 left to archive; wrote no file\n"
    assert texts(database_url)[ORIGIN][0]
    not_gzip = tmp_path / "notes.txt"
    not_gzip.write_text("hello\n")
    refused = cli.invoke(app, ["db", "restore-texts", str(not_gzip)])
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"Error: {not_gzip}: not a text archive (")
    assert refused.stderr.count("\n") == 1
