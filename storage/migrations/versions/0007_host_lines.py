"""host lines: each stored page's short lines by host, so that a line many pages of one host carry is
known as the site's boilerplate

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

The table starts empty: the lines of articles stored before this revision are not known, so a host's
boilerplate is recognised once enough of its pages are processed after upgrading.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "host_lines",
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("line_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_host_lines_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("host", "line_key", "article_id", name=op.f("pk_host_lines")),
    )
    with op.batch_alter_table("host_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_host_lines_article_id"), ["article_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("host_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_host_lines_article_id"))
    op.drop_table("host_lines")
