"""links and related: the clusters become a function of the links between articles

A database made by 0001 has no links yet: `newsdedup index rebuild --links` computes them from
the stored texts and re-derives the clusters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("article_a", sa.Integer(), nullable=False),
        sa.Column("article_b", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("shared", sa.Integer(), nullable=False),
        sa.Column("size_a", sa.Integer(), nullable=False),
        sa.Column("size_b", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_a"], ["articles.id"], name=op.f("fk_links_article_a_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["article_b"], ["articles.id"], name=op.f("fk_links_article_b_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_a", "article_b", name=op.f("pk_links")),
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_links_article_b"), ["article_b"], unique=False)

    op.create_table(
        "related",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_related_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_related_cluster_id_clusters"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", "cluster_id", name=op.f("pk_related")),
    )
    with op.batch_alter_table("related", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_related_cluster_id"), ["cluster_id"], unique=False)

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.alter_column("cluster_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.add_column(sa.Column("anchors", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("anchors")
        batch_op.alter_column("cluster_id", existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table("related", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_related_cluster_id"))

    op.drop_table("related")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_links_article_b"))

    op.drop_table("links")
