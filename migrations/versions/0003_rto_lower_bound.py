"""scores: the RTO's known lower bound and its verdict against the target

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("scores", "latest_scores")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("rto_lower_bound_s", sa.Float(), nullable=True))
            batch_op.add_column(sa.Column("rto_verdict", sa.String(length=10), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("rto_verdict")
            batch_op.drop_column("rto_lower_bound_s")
