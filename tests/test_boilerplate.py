"""Lines a host repeats on many pages: their keys, the text without them, and the per-host counts in the
database (SQLite and PostgreSQL), with the migration that creates them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import xxhash
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from dedup.boilerplate import drop_lines, host_of, line_keys
from storage.boilerplate import count_lines, pack_keys, repeated_lines, unpack_keys
from storage.db import (
    alembic_config,
    create_db_engine,
    current_revisions,
    migrate,
    script_directory,
    session_factory,
)
from storage.models import Base, HostLine

MASK = (1 << 63) - 1
FOLLOW = "Follow us on Telegram for breaking news"
NEWSLETTER = "Get the Morning Brief in your inbox every weekday"
BYLINE = "By Staff Reporter"


def key(line: str) -> int:
    """The documented key: xxh3_64 of the UTF-8 line, masked to 63 bits."""
    return xxhash.xxh3_64_intdigest(line.encode("utf-8")) & MASK


def test_line_keys_are_the_distinct_short_lines_in_order() -> None:
    """One key per distinct line, in order of first occurrence: a line repeated (with other white space
    around or inside it) counts once, a line in other case is another line, empty lines and lines longer
    than the cap have none; the key is the documented hash, never negative."""
    long_line = "The council approved the plan after a five-hour debate, " * 3
    text = "\n".join(
        [FOLLOW, "", NEWSLETTER, f"  {FOLLOW.replace(' ', '   ')}\t", long_line, "by staff reporter", BYLINE]
    )
    keys = line_keys(text, max_chars=100)
    assert keys == [key(FOLLOW), key(NEWSLETTER), key("by staff reporter"), key(BYLINE)]
    assert all(0 <= k <= MASK for k in keys)
    assert line_keys(long_line, max_chars=len(long_line.strip())) == [key(long_line.strip())]
    assert line_keys(" \n\t\n", max_chars=100) == []


def test_a_line_key_never_changes() -> None:
    """The key of a line is fixed (stored counts stay valid across processes and versions): the key of
    "Follow us on Telegram for breaking news" is this number on every machine."""
    assert line_keys(FOLLOW, max_chars=100) == [key(FOLLOW)]
    assert key(FOLLOW) == 1143161631715045224


def test_drop_lines_takes_the_repeated_lines_and_keeps_the_rest_as_it_was() -> None:
    """Lines whose key is repeated go wherever they are, however spaced; the other lines stay unchanged
    (their own spacing and empty lines too) and in order; a long line is never dropped; nothing repeated
    gives the text back."""
    story = "  The council approved the tram extension on Wednesday night."
    long_line = f"{FOLLOW} " * 4
    text = "\n".join(
        [BYLINE, story, "", f"{FOLLOW}  ", long_line, "Construction starts next spring.", NEWSLETTER]
    )
    repeated = {key(FOLLOW), key(BYLINE), key(NEWSLETTER)}
    assert drop_lines(text, repeated, max_chars=100) == "\n".join(
        [story, "", long_line, "Construction starts next spring."]
    )
    assert drop_lines(text, set(), max_chars=100) == text
    assert drop_lines(text, {key("Not in the text")}, max_chars=100) == text


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://WWW.Example.COM:8443/2026/03/story?id=1#top", "example.com"),
        ("http://news.example.org./a", "news.example.org"),
        ("https://www2.example.net/", "www2.example.net"),
        ("not a url", ""),
    ],
)
def test_host_of_is_the_lower_case_host_without_www(url: str, host: str) -> None:
    """The host a page's lines are counted under: lower case, no leading "www.", port or trailing dot."""
    assert host_of(url) == host


def test_keys_pack_as_little_endian_int64() -> None:
    """Packed keys are 8 bytes each, little-endian, in order, and unpack to the same list; NULL unpacks
    to no keys, and bytes that are not whole keys are refused."""
    packed = pack_keys([1, MASK])
    assert packed == b"\x01" + b"\x00" * 7 + b"\xff" * 7 + b"\x7f"
    assert unpack_keys(packed) == [1, MASK]
    assert unpack_keys(pack_keys([])) == []
    assert unpack_keys(None) == []
    with pytest.raises(ValueError, match=r"^7 bytes are not a whole number of int64 line keys$"):
        unpack_keys(b"\x00" * 7)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database: SQLite, then PostgreSQL."""
    engine = create_db_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def counts(sessions: sessionmaker[Session]) -> list[tuple[str, int, int]]:
    """Every host_lines row: (host, line key, pages), in order."""
    with sessions() as session:
        rows = session.execute(
            select(HostLine.host, HostLine.line_key, HostLine.pages).order_by(
                HostLine.host, HostLine.line_key
            )
        )
        return [(h, k, p) for h, k, p in rows]


def test_counts_go_up_with_pages_down_with_updates_and_deletes_and_vanish_at_zero(
    sessions: sessionmaker[Session],
) -> None:
    """Storing pages adds one per distinct key per host (a key given twice counts once); an update adds its
    new keys and takes back its old ones (a key in both is unchanged); a delete takes back its keys; a row
    that reaches 0 is deleted, and taking back a key never counted leaves no row. Keys up to 2**63 - 1."""
    big = MASK
    with sessions.begin() as session:
        count_lines(session, "a.example", [1, 2, 3, 3], [])
        count_lines(session, "a.example", [2, 3, big], [])
        count_lines(session, "b.example", [2], [])
    assert counts(sessions) == [
        ("a.example", 1, 1),
        ("a.example", 2, 2),
        ("a.example", 3, 2),
        ("a.example", big, 1),
        ("b.example", 2, 1),
    ]

    with sessions.begin() as session:
        count_lines(session, "a.example", added=[3, 5], removed=[1, 2, 3])  # the first page, updated
    assert counts(sessions) == [
        ("a.example", 2, 1),
        ("a.example", 3, 2),
        ("a.example", 5, 1),
        ("a.example", big, 1),
        ("b.example", 2, 1),
    ]

    with sessions.begin() as session:
        count_lines(session, "a.example", added=[], removed=[2, 3, big])  # the second page, deleted
        count_lines(session, "b.example", added=[], removed=[9])  # never counted
        count_lines(session, "b.example", added=[], removed=[])
    assert counts(sessions) == [("a.example", 3, 1), ("a.example", 5, 1), ("b.example", 2, 1)]


def test_repeated_lines_are_the_keys_on_at_least_min_pages_of_that_host(
    sessions: sessionmaker[Session],
) -> None:
    """repeated_lines gives the asked keys that at least min_pages pages of the host carry: not those on
    fewer pages, not another host's, not keys never counted; 1,200 keys (more than one query's worth, and
    more than one upsert's) are counted and found."""
    with sessions.begin() as session:
        for page in range(3):
            count_lines(session, "a.example", [10, 11, 12][: 3 - page], [])  # 10 on 3 pages, 11 on 2, 12 on 1
        for _ in range(5):
            count_lines(session, "b.example", [12], [])
        count_lines(session, "c.example", list(range(1000, 2200)), [])
    with sessions() as session:
        assert repeated_lines(session, "a.example", [10, 11, 12, 99], min_pages=1) == {10, 11, 12}
        assert repeated_lines(session, "a.example", [10, 11, 12, 99], min_pages=2) == {10, 11}
        assert repeated_lines(session, "a.example", [12, 11, 10, 10], min_pages=3) == {10}
        assert repeated_lines(session, "a.example", [10, 11, 12], min_pages=4) == set()
        assert repeated_lines(session, "b.example", [10, 11, 12], min_pages=5) == {12}
        assert repeated_lines(session, "d.example", [10, 11, 12], min_pages=1) == set()
        assert repeated_lines(session, "a.example", [], min_pages=1) == set()
        assert repeated_lines(session, "c.example", range(900, 2300), min_pages=1) == set(range(1000, 2200))
        with pytest.raises(ValueError, match=r"^min_pages must be at least 1, not 0$"):
            repeated_lines(session, "a.example", [10], min_pages=0)


def test_the_migrations_reach_0007_host_lines_and_match_the_models(engine: Engine) -> None:
    """The migration chain ends at 0007 (after 0006); the migrated database is at 0007 with host_lines
    (host, line_key, pages; primary key host + line_key) and articles.line_keys, and, as `newsdedup db
    check` compares, no difference from the models. Downgrading to 0006 takes both away; upgrading again
    brings them back."""
    script = script_directory()
    assert script.get_heads() == ["0007"]
    assert script.get_revision("0007").down_revision == "0006"
    with engine.connect() as connection:
        assert current_revisions(connection) == {"0007"}
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    schema = inspect(engine)
    assert [(c["name"], c["nullable"]) for c in schema.get_columns("host_lines")] == [
        ("host", False),
        ("line_key", False),
        ("pages", False),
    ]
    assert schema.get_pk_constraint("host_lines")["constrained_columns"] == ["host", "line_key"]
    assert [(c["name"], c["nullable"]) for c in schema.get_columns("articles")][-1] == ("line_keys", True)

    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    schema = inspect(engine)
    assert "host_lines" not in schema.get_table_names()
    assert "line_keys" not in [c["name"] for c in schema.get_columns("articles")]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [("0006",)]

    migrate(engine)
    with engine.connect() as connection:
        assert current_revisions(connection) == {"0007"}
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
