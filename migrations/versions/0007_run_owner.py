"""runs: the daemon process that owns a run, so a live daemon closes exactly the runs of a dead one

Several daemons may now share one vantage on a Postgres (they share its work through the queue), so
"no live daemon of this vantage" can no longer tell whose ``running`` runs are orphans. Each daemon
writes a token of its own into the runs it starts and holds an advisory lock named by it for its
whole life; a run whose owner's lock is free belongs to a process that is gone. Runs written before
this revision, and runs of ``failover check``, have no owner and are judged by vantage as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 04:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("owner")
