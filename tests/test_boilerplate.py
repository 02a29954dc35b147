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

from config import load_settings
from dedup.boilerplate import drop_lines, host_of, line_keys, lines_made_boilerplate, lines_to_record
from newsdedup.service.clustering import relink_all
from newsdedup.service.page import Page
from newsdedup.service.processing import process_page
from newsdedup.service.runtime import Runtime
from storage.boilerplate import carriers, line_pages, record_lines
from storage.db import (
    alembic_config,
    create_db_engine,
    current_revisions,
    migrate,
    script_directory,
    session_factory,
)
from storage.models import Article, Base, HostLine
from storage.queries import find_article
from tests.stories import story

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
    """The key of a line is fixed (stored rows stay valid across processes and versions): the key of
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
        ("https://WWW.Example.COM:8443/2026/03/story?id=1#top", "example.com:8443"),
        ("https://www.example.com:443/a", "example.com"),
        ("http://127.0.0.1:8001/a", "127.0.0.1:8001"),
        ("http://news.example.org./a", "news.example.org"),
        ("https://www2.example.net/", "www2.example.net"),
        ("http://example.com:99999/a", "example.com"),
        ("not a url", ""),
    ],
)
def test_host_of_is_the_lower_case_host_without_www(url: str, host: str) -> None:
    """The site a page's lines are counted under: lower case, no leading "www." or trailing dot, the
    port unless 80 or 443 (two sites on one address are two sites; an impossible port is dropped)."""
    assert host_of(url) == host


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


def rows(sessions: sessionmaker[Session]) -> list[tuple[str, int, int]]:
    """Every host_lines row: (host, line key, article id), in order."""
    with sessions() as session:
        found = session.execute(
            select(HostLine.host, HostLine.line_key, HostLine.article_id).order_by(
                HostLine.host, HostLine.line_key, HostLine.article_id
            )
        )
        return [(h, k, a) for h, k, a in found]


def stored_articles(sessions: sessionmaker[Session], count: int) -> list[int]:
    """The ids of ``count`` new articles (the rows a page's lines belong to)."""
    with sessions.begin() as session:
        articles = [
            Article(url=f"http://a.example/{i}", text="text", content_hash=f"{i}", shingle_count=0)
            for i in range(count)
        ]
        session.add_all(articles)
        session.flush()
        return [a.id for a in articles]


def test_a_pages_lines_are_recorded_once_replaced_when_it_changes_and_go_with_it(
    sessions: sessionmaker[Session],
) -> None:
    """record_lines writes one row per distinct key of the page (a key given twice once; keys up to
    2**63 - 1); recording the page again replaces its rows; deleting the article deletes its rows."""
    first, second, third = stored_articles(sessions, 3)
    with sessions.begin() as session:
        record_lines(session, "a.example", first, [1, 2, 3, 3])
        record_lines(session, "a.example", second, [2, MASK])
        record_lines(session, "b.example", third, [2])
    assert rows(sessions) == [
        ("a.example", 1, first),
        ("a.example", 2, first),
        ("a.example", 2, second),
        ("a.example", 3, first),
        ("a.example", MASK, second),
        ("b.example", 2, third),
    ]

    with sessions.begin() as session:
        record_lines(session, "a.example", first, [3, 5])  # the first page, updated
        session.delete(session.get_one(Article, second))  # the second, deleted
    assert rows(sessions) == [("a.example", 3, first), ("a.example", 5, first), ("b.example", 2, third)]


def test_line_pages_count_a_lines_pages_on_its_host_and_carriers_name_them(
    sessions: sessionmaker[Session],
) -> None:
    """line_pages gives, for each asked key a page of that host carries, how many pages carry it,
    without the page ``exclude``; not another host's pages, no key nobody carries. 1,200 keys (several
    statements' worth) are found. carriers names the pages."""
    pages = stored_articles(sessions, 8)
    with sessions.begin() as session:
        for i, page in enumerate(pages[:6]):
            record_lines(session, "a.example", page, [10] + ([11] if i < 2 else []))  # 10 on 6, 11 on 2
        record_lines(session, "b.example", pages[6], [12])
        record_lines(session, "c.example", pages[7], range(1000, 2200))
    with sessions() as session:
        assert line_pages(session, "a.example", [10, 11, 12, 99]) == {10: 6, 11: 2}
        assert line_pages(session, "a.example", [10, 11, 10], exclude=pages[0]) == {10: 5, 11: 1}
        assert line_pages(session, "a.example", [11], exclude=pages[5]) == {11: 2}
        assert line_pages(session, "b.example", [10, 11, 12]) == {12: 1}
        assert line_pages(session, "d.example", [10]) == {}
        assert line_pages(session, "a.example", []) == {}
        assert line_pages(session, "c.example", range(900, 2300)) == dict.fromkeys(range(1000, 2200), 1)
        assert carriers(session, "a.example", [11]) == set(pages[:2])
        assert carriers(session, "a.example", [10, 11]) == set(pages[:6])
        assert carriers(session, "b.example", [10]) == set()


def test_a_page_records_the_lines_not_past_the_mark_and_names_those_it_takes_past() -> None:
    """With a mark of 5 other pages: a page records the rows of lines on at most 5 other pages (none
    past the mark, so a line's rows stop at 6), and the lines on exactly 5 are the ones it makes
    boilerplate."""
    elsewhere = {1: 4, 2: 5, 3: 6, 4: 40}
    assert lines_to_record([1, 2, 3, 4, 5], elsewhere, 5) == [1, 2, 5]
    assert lines_made_boilerplate([1, 2, 3, 4, 5], elsewhere, 5) == [2]


def test_the_migrations_reach_0007_host_lines_and_match_the_models(engine: Engine) -> None:
    """The migration chain holds 0007 (after 0006); the migrated database is at the head with host_lines
    (host, line_key, article_id, all three the primary key, article_id indexed and a foreign key to the
    articles) and, as `newsdedup db check` compares, no difference from the models. Downgrading to 0006
    takes it away; upgrading again brings it back."""
    script = script_directory()
    assert script.get_revision("0007").down_revision == "0006"
    with engine.connect() as connection:
        assert current_revisions(connection) == set(script.get_heads())
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    schema = inspect(engine)
    assert [(c["name"], c["nullable"]) for c in schema.get_columns("host_lines")] == [
        ("host", False),
        ("line_key", False),
        ("article_id", False),
    ]
    assert schema.get_pk_constraint("host_lines")["constrained_columns"] == ["host", "line_key", "article_id"]
    assert [i["column_names"] for i in schema.get_indexes("host_lines")] == [["article_id"]]
    [foreign] = schema.get_foreign_keys("host_lines")
    assert (foreign["referred_table"], foreign["options"].get("ondelete")) == ("articles", "CASCADE")

    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    assert "host_lines" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [("0006",)]

    migrate(engine)
    with engine.connect() as connection:
        assert current_revisions(connection) == set(script.get_heads())
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


# Through processing: what a host repeats leaves its later pages.

# A site's own lines, in no phrase list: the masthead, a newsletter box, house notes.
CHROME = [
    "The Morning Ledger is published by Ledger Media Group, 14 Harbour Row, Portsmouth.",
    NEWSLETTER,
    "Tips and corrections go to our newsroom desk, open around the clock.",
    "Advertise with us: rates, formats and audience figures on request.",
    "Our journalists follow the editorial code of the Independent Press Standards Organisation.",
    "Comments are moderated and may take a few hours to appear beneath the article.",
    "Photographs on this site are licensed from agencies unless stated otherwise.",
    "Copyright 2026 Ledger Media Group. All rights reserved.",
]


def story_pages() -> list[str]:
    """Eight texts that share no passage: two paragraphs of a fixture story each."""
    pages = []
    for name in ("bridge", "library", "orchard", "solarpark"):
        paragraphs = story(name).paragraphs
        pages += ["\n".join(paragraphs[0:2]), "\n".join(paragraphs[2:4])]
    return pages


def process(runtime: Runtime, url: str, text: str) -> str:
    outcome = process_page(Page(url=url, text=text), runtime)
    assert outcome.status in ("new", "joined", "updated"), outcome
    return outcome.status


def stored_text(runtime: Runtime, url: str) -> str:
    with runtime.sessions() as session:
        article = find_article(session, url)
        assert article is not None
        return article.text


def host_rows(runtime: Runtime, *lines: str) -> set[tuple[str, int, str]]:
    """The host_lines rows of these lines: (host, line, URL of the page)."""
    keys = {key(line): line for line in lines}
    with runtime.sessions() as session:
        found = session.execute(
            select(HostLine.host, HostLine.line_key, Article.url).join(
                Article, Article.id == HostLine.article_id
            )
        )
        return {(h, keys[k], url) for h, k, url in found if k in keys}


def partition(runtime: Runtime) -> set[frozenset[str]]:
    with runtime.sessions() as session:
        found = session.execute(select(Article.cluster_id, Article.url))
        clusters: dict[int | None, set[str]] = {}
        for cluster_id, url in found:
            clusters.setdefault(cluster_id, set()).add(url)
    return {frozenset(urls) for urls in clusters.values()}


def test_a_line_on_min_pages_other_pages_of_a_host_leaves_all_its_pages_and_only_that_hosts(
    runtime: Runtime,
) -> None:
    """With the default BOILERPLATE_MIN_PAGES (5), the first five pages of a host are stored with the two
    lines they all carry; the sixth page finds them on five other pages and is stored without them, and
    so, from then on, are the five before it. A page of another host with the same lines keeps them. The
    rows name the six pages up to the mark, and no page after it."""
    assert runtime.params.boilerplate_min_pages == 5
    texts = story_pages()
    lines = f"\n{NEWSLETTER}\n{FOLLOW}"
    for i in range(5):
        process(runtime, f"http://ledger.example/{i}", texts[i] + lines)
    assert stored_text(runtime, "http://ledger.example/4") == texts[4] + lines

    process(runtime, "http://ledger.example/5", texts[5] + lines)
    process(runtime, "http://ledger.example/6", texts[7] + lines)
    process(runtime, "http://www.other.example/1", texts[6] + lines)

    ledger = [stored_text(runtime, f"http://ledger.example/{i}") for i in range(7)]
    assert ledger == [*texts[:6], texts[7]]
    assert stored_text(runtime, "http://www.other.example/1") == texts[6] + lines
    pages = [f"http://ledger.example/{i}" for i in range(6)]
    assert host_rows(runtime, NEWSLETTER, FOLLOW) == {
        *(("ledger.example", line, url) for line in (NEWSLETTER, FOLLOW) for url in pages),
        ("other.example", NEWSLETTER, "http://www.other.example/1"),
        ("other.example", FOLLOW, "http://www.other.example/1"),
    }


def test_an_updated_page_does_not_count_itself_and_its_old_lines_go(runtime: Runtime) -> None:
    """Five pages of a host carry a line. The fifth, updated with another text and the line, keeps the
    line: only four other pages carry it. The row of its old text's own short line is gone, the one of
    its new text's is there."""
    texts = story_pages()
    for i in range(4):
        process(runtime, f"http://ledger.example/{i}", f"{texts[i]}\n{NEWSLETTER}")
    process(runtime, "http://ledger.example/4", f"{texts[4]}\n{NEWSLETTER}\nFiled at 9:00")
    updated = f"{texts[7]}\n{NEWSLETTER}\nUpdated at 11:30"
    assert process(runtime, "http://ledger.example/4", updated) == "updated"

    assert stored_text(runtime, "http://ledger.example/4") == updated
    assert len(host_rows(runtime, NEWSLETTER)) == 5
    assert host_rows(runtime, "Filed at 9:00", "Updated at 11:30") == {
        ("ledger.example", "Updated at 11:30", "http://ledger.example/4")
    }


@pytest.mark.parametrize("min_pages", [0, 5])
def test_an_autoblogs_chrome_joins_nothing_once_it_is_known(
    monkeypatch: pytest.MonkeyPatch, database_url: str, min_pages: int
) -> None:
    """An autoblog puts the same eight lines of its own around five posts of five different stories, then
    around an excerpt of a story published elsewhere. With the rule off (BOILERPLATE_MIN_PAGES=0) the
    chrome joins all six posts into one cluster, and the excerpt brings its story into it too. With
    it on, the sixth post makes the chrome known: every post is stored without it, the five stories
    stand alone and the excerpt joins its story."""
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSDEDUP_BOILERPLATE_MIN_PAGES", str(min_pages))
    runtime = Runtime.from_settings(load_settings()).migrate()
    bridge = story("bridge").text
    chrome = "\n".join(CHROME)
    process(runtime, "http://origin.example/bridge", bridge)
    posts = [f"http://autoblog.example/{i}" for i in range(5)]
    for url, post in zip(posts, story_pages()[2:7], strict=True):
        process(runtime, url, f"{post}\n{chrome}")
    excerpt = " ".join(bridge.split()[: len(bridge.split()) // 3])
    process(runtime, "http://autoblog.example/copy", f"{excerpt}\n{chrome}")

    if min_pages:
        assert partition(runtime) == {
            frozenset({"http://origin.example/bridge", "http://autoblog.example/copy"}),
            *(frozenset({url}) for url in posts),
        }
        assert stored_text(runtime, "http://autoblog.example/0") == story_pages()[2]
    else:
        assert partition(runtime) == {
            frozenset({"http://origin.example/bridge", *posts, "http://autoblog.example/copy"})
        }
    runtime.close()


def test_relinking_everything_leaves_out_what_a_lower_bar_makes_boilerplate(
    monkeypatch: pytest.MonkeyPatch, runtime: Runtime
) -> None:
    """Three pages of a host carry a line, stored with it (five pages make boilerplate). With
    BOILERPLATE_MIN_PAGES lowered to 2, `index rebuild --links` (relink_all) stores all three without it;
    the rows of the line stay."""
    texts = story_pages()
    for i in range(3):
        process(runtime, f"http://ledger.example/{i}", f"{texts[i]}\n{NEWSLETTER}")
    monkeypatch.setenv("NEWSDEDUP_BOILERPLATE_MIN_PAGES", "2")
    lowered = Runtime.from_settings(load_settings())
    with lowered.sessions.begin() as session:
        relink_all(session, lowered)

    assert [stored_text(runtime, f"http://ledger.example/{i}") for i in range(3)] == texts[:3]
    assert len(host_rows(runtime, NEWSLETTER)) == 3
    lowered.close()
