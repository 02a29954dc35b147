"""links: matched terms and where in each text the agreement lies (spliced posts are recognised
from their passages); cross-language links are now scored pairs that the derivation accepts or not

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Links stored before this revision carry no spans and their scores follow the old rule: run
`newsdedup index rebuild --links` once after upgrading to derive every link and cluster anew.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SPANS = ("span_a_from", "span_a_to", "span_b_from", "span_b_to")


def upgrade() -> None:
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matches", sa.Integer(), nullable=False, server_default="0"))
        for name in _SPANS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("links", schema=None) as batch_op:
        for name in reversed(_SPANS):
            batch_op.drop_column(name)
        batch_op.drop_column("matches")
