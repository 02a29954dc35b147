"""Archived texts: moving old articles' texts out of the database into gzipped JSON lines, and back.

An article's text is most of its bytes in the database (10.6 KB an article of the development corpus,
texts included), and clustering does not read it: a new page is verified against the stored shingle
sets, signatures, anchors and evidence. What does read it: the operator's views of a text (``clusters
show --diff``), ``clusters why``'s shared terms, a host's boilerplate re-cleaning old pages, and a
relink of everything (``newsdedup service rebuild --relink``); an archived article is left as it was
by the re-cleaning and refused by the relink until its text is restored.

Nothing is lost on the way: a batch of texts is written to the archive file and synced to disk before
the same rows are set to NULL, each batch in its own transaction; an archive run that dies leaves
rows whose texts are in the file and still in the database, which a restore puts back unchanged.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Article, utcnow

# Articles a transaction: one batch written to the file, then emptied.
BATCH = 1000

Progress = Callable[[int], None]


class TextsArchived(RuntimeError):
    """An operation needs texts that have been archived."""


def archived_count(session: Session) -> int:
    """How many articles have their text archived."""
    return session.scalar(select(func.count()).where(Article.text.is_(None))) or 0


def archive_texts(
    sessions: sessionmaker[Session],
    before: datetime,
    output: Path,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> int:
    """Move the texts of the articles fetched before ``before`` (stored before it, for those without a
    fetch time) into ``output``, a new gzipped JSON-lines file: one ``{"id", "url", "text"}`` a line.
    Returns how many were archived. Refuses an output that exists."""
    fetched = func.coalesce(Article.fetched_at, Article.created_at)
    done = 0
    # Opened here, not by gzip.open: its descriptor is what gets synced.
    with (
        open(output, "xb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb") as packed,
        io.TextIOWrapper(packed, encoding="utf-8") as archive,
    ):
        last = 0
        while True:
            with sessions.begin() as session:
                rows = session.execute(
                    select(Article.id, Article.url, Article.text)
                    .where(Article.id > last, Article.text.is_not(None), fetched < before)
                    .order_by(Article.id)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                for article_id, url, text in rows:
                    archive.write(
                        json.dumps({"id": article_id, "url": url, "text": text}, ensure_ascii=False) + "\n"
                    )
                # On disk before the rows are emptied (the text stream flushes the gzip stream, which
                # writes out what it has compressed so far).
                archive.flush()
                os.fsync(raw.fileno())
                ids = [row[0] for row in rows]
                session.execute(
                    update(Article)
                    .where(Article.id.in_(ids), Article.text.is_not(None))
                    .values(text=None, text_archived_at=utcnow())
                )
            last = ids[-1]
            done += len(ids)
            if progress is not None:
                progress(done)
    return done


def restore_texts(
    sessions: sessionmaker[Session], archive_file: Path, batch: int = BATCH, progress: Progress | None = None
) -> tuple[int, int]:
    """Put the texts of an archive file back where they are archived (an article that has a text, or
    is no longer there, is left alone). Returns how many were restored and how many left alone."""
    restored = skipped = 0
    with gzip.open(archive_file, "rt", encoding="utf-8") as archive:
        chunk: list[dict[str, object]] = []
        for number, line in enumerate(archive, 1):
            try:
                record = json.loads(line)
                chunk.append({"id": int(record["id"]), "text": str(record["text"])})
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{archive_file}:{number}: not an archived text ({e})") from None
            if len(chunk) >= batch:
                done = _restore(sessions, chunk)
                restored, skipped = restored + done, skipped + len(chunk) - done
                chunk = []
                if progress is not None:
                    progress(restored)
        if chunk:
            done = _restore(sessions, chunk)
            restored, skipped = restored + done, skipped + len(chunk) - done
    if progress is not None:
        progress(restored)
    return restored, skipped


def _restore(sessions: sessionmaker[Session], chunk: list[dict[str, object]]) -> int:
    done = 0
    with sessions.begin() as session:
        for record in chunk:
            result = session.execute(
                update(Article)
                .where(Article.id == record["id"], Article.text.is_(None))
                .values(text=record["text"], text_archived_at=None)
            )
            done += cast("CursorResult[Any]", result).rowcount
    return done
