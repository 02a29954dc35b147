"""operator overrides: merges, splits and canonical choices that the derivation of clusters obeys

An override names articles (not clusters), so it survives reprocessing, `index rebuild --links`
and `reindex`: the clusters are derived from the links and then from the overrides.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("cluster_a", sa.Integer(), nullable=True),
        sa.Column("cluster_b", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("operator", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overrides")),
    )
    op.create_table(
        "override_articles",
        sa.Column("override_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["override_id"],
            ["overrides.id"],
            name=op.f("fk_override_articles_override_id_overrides"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_override_articles_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("override_id", "article_id", name=op.f("pk_override_articles")),
    )
    with op.batch_alter_table("override_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_override_articles_article_id"), ["article_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("override_articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_override_articles_article_id"))
    op.drop_table("override_articles")
    op.drop_table("overrides")
