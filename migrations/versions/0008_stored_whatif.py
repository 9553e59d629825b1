"""latest_scores: the what-if matrix judged with each score

``failover score`` prints each workload's what-if (aws, gcp and azure down); recomputing it from the
store took about a second at 1,000 workloads. The cycle now judges it on the evidence the score was
computed from and stores it with the newest score only (not the history: an unchanged cycle still
adds nothing). Rows from before this revision have none, and readers compute it live.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 05:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("latest_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("whatif", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("latest_scores", schema=None) as batch_op:
        batch_op.drop_column("whatif")
