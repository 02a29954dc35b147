"""evidence for translations: shingle sets and evidence sequences, URL keys for source links, link scores

Articles stored before this revision have no evidence: `newsdedup index rebuild --links` computes it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shingles", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("evidence", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("url_key", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("claim_key", sa.String(length=2048), nullable=True))
        batch_op.create_index(batch_op.f("ix_articles_claim_key"), ["claim_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_articles_url_key"), ["url_key"], unique=False)

    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_column("score")

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_url_key"))
        batch_op.drop_index(batch_op.f("ix_articles_claim_key"))
        batch_op.drop_column("claim_key")
        batch_op.drop_column("url_key")
        batch_op.drop_column("evidence")
        batch_op.drop_column("shingles")
