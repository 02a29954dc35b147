"""host lines: per host, how many stored pages carry each short line verbatim (a line on many of them is
the site's boilerplate); articles keep the line keys they counted

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

The counts start empty: articles stored before this revision have no line keys (NULL) and were never
counted, so a host's boilerplate is recognised once enough of its pages are processed after upgrading.
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
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("host", "line_key", name=op.f("pk_host_lines")),
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_keys", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("line_keys")
    op.drop_table("host_lines")
