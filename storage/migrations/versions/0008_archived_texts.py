"""archived texts: an article's text may be moved out of the database (``newsdedup db archive-texts``),
its shingle set, signature, anchors and evidence staying to cluster against

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

``articles.text`` becomes nullable: NULL once archived, ``text_archived_at`` saying when. Chosen over
partitioning the articles table: a partitioned table's unique index must hold the partition key, so
``url`` could no longer be unique across the whole table, and the text is most of an article's
bytes while nothing but the operator's views and a re-cleaning needs it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.alter_column("text", existing_type=sa.Text(), nullable=True)
        batch_op.add_column(sa.Column("text_archived_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    archived = op.get_bind().scalar(sa.text("SELECT count(*) FROM articles WHERE text IS NULL"))
    if archived:
        raise RuntimeError(
            f"{archived} articles have their text archived: run `newsdedup db restore-texts` first"
        )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("text_archived_at")
        batch_op.alter_column("text", existing_type=sa.Text(), nullable=False)
