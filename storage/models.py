"""The tables. Times are stored in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints, so that migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in and comes out as an aware UTC datetime, on every database.

    SQLite keeps no time zone; naive values are taken to be UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _as_utc(value)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Cluster(Base):
    """A story: the articles that tell it, and the one chosen to stand for it."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key: the canonical article and its cluster refer to each other, and the
    # pair is always written in one transaction.
    canonical_article_id: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Article(Base):
    """One page, cleaned to its story."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    final_url: Mapped[str | None] = mapped_column(String(2048))
    source: Mapped[str | None] = mapped_column(String(64))
    publisher: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(Text)
    # NULL once archived (``newsdedup db archive-texts``): clustering reads the signals below.
    text: Mapped[str | None] = mapped_column(Text)
    text_archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(8))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(32), index=True)
    shingle_count: Mapped[int] = mapped_column(Integer)
    # MinHash values, little-endian uint32; NULL for texts too short to sign.
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The anchors (dedup.anchors), little-endian uint32; NULL for texts too short to sign.
    anchors: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The shingle set in text order (dedup.shingles.shingle_sequence), little-endian uint32:
    # verification reads it instead of shingling the text again, and learns where a shared passage lies.
    shingles: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The cross-language evidence sequence (dedup.evidence.Evidence.to_bytes).
    evidence: Mapped[bytes | None] = mapped_column(LargeBinary)
    # dedup.urls.normalize_url of url and of claimed_source_url: a source link finds its target
    # whichever of the two is stored first.
    url_key: Mapped[str | None] = mapped_column(String(2048), index=True)
    claim_key: Mapped[str | None] = mapped_column(String(2048), index=True)
    claimed_source_url: Mapped[str | None] = mapped_column(String(2048))
    # NULL only inside the transaction that stores the article, until its cluster is chosen.
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_articles_final_url", "final_url"),)


class AssignmentLock(Base):
    """One row that every page's transaction updates first on SQLite, taking the database's write
    lock at once (``storage.locks``): a database file has one writer at a time anyway. PostgreSQL
    uses advisory locks instead and never touches it.
    """

    __tablename__ = "assignment_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Link(Base):
    """Two articles that may tell the same story, and how they agree (``dedup.links``).

    In one language a verdict of ``dedup.overlap`` with the exact overlap; across languages a scored
    pair (``dedup.crosslang``) that the derivation accepts or not. The clusters are a function of these
    links (``dedup.partition``). ``article_a`` < ``article_b``.
    """

    __tablename__ = "links"

    article_a: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    article_b: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # For "translation" and "source" links (other languages): the evidence score (dedup.evidence).
    score: Mapped[float | None] = mapped_column(Float)
    shared: Mapped[int] = mapped_column(Integer)
    size_a: Mapped[int] = mapped_column(Integer)
    size_b: Mapped[int] = mapped_column(Integer)
    # Evidence terms matched in the same order, and where in each text they lie (fractions of its
    # distinct evidence terms; NULL when too few terms agree to tell).
    matches: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    span_a_from: Mapped[float | None] = mapped_column(Float)
    span_a_to: Mapped[float | None] = mapped_column(Float)
    span_b_from: Mapped[float | None] = mapped_column(Float)
    span_b_to: Mapped[float | None] = mapped_column(Float)


class Related(Base):
    """A spliced article's tie to a cluster other than its own: it carries that story too."""

    __tablename__ = "related"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Override(Base):
    """An operator's correction of the clusters: kind ``merge``, ``split`` or ``canonical``.

    The derivation (``dedup.partition``) obeys it after the links; its articles are in
    ``OverrideArticle``. ``cluster_a`` and ``cluster_b`` record the clusters it was made on, for display.
    """

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    cluster_a: Mapped[int | None] = mapped_column(Integer)
    cluster_b: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    operator: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OverrideArticle(Base):
    """An article an override names. ``side``: merge 0 = the first cluster's members, 1 = the
    second's; split 0 = the articles split off, 1 = the members they are kept apart from;
    canonical 0 = the chosen article."""

    __tablename__ = "override_articles"

    override_id: Mapped[int] = mapped_column(ForeignKey("overrides.id", ondelete="CASCADE"), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    side: Mapped[int] = mapped_column(Integer)


class CrawlRun(Base):
    """One crawl of one source, written when the crawl ends (``crawler.run``): what ``newsdedup stats``
    reports as pages fetched, errors, last run and its duration. ``new`` and ``joined`` count the pages
    processed in the crawling process (embedded mode); in service mode the workers process them."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    joined: Mapped[int] = mapped_column(Integer, default=0)
    enqueued: Mapped[int] = mapped_column(Integer, default=0)
    dropped: Mapped[int] = mapped_column(Integer, default=0)
    finish_reason: Mapped[str | None] = mapped_column(String(64))


class HostLine(Base):
    """A short line of a stored page, by its host (``dedup.boilerplate``): a line that many pages of one
    host carry verbatim is the site's boilerplate, not a story's. ``line_key`` is the key
    ``dedup.boilerplate.line_keys`` gives the line. A page's rows are written when it is stored, for its
    lines not yet past the mark of boilerplate (``storage.boilerplate``)."""

    __tablename__ = "host_lines"

    host: Mapped[str] = mapped_column(String(253), primary_key=True)
    line_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
