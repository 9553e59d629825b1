"""history grows with change: observation samples under runs of equal observations, score payloads
stored once per distinct content

Observations already stored each become a run of one observation with one sample (its own time and
latency). Scores already stored each get their own payload (digest ``legacy-<score id>``), so nothing
is re-encoded and nothing is lost; new scores share payloads by content.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 00:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_DOCUMENTS = ("single_provider_risk", "reasons", "details")
_LEGACY = "'legacy-' || CAST({} AS VARCHAR(20))"


def upgrade() -> None:
    op.create_table(
        "observation_samples",
        sa.Column("observation_id", BigId, nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_observation_samples_observation_id_observations"),
            ondelete="CASCADE",
        ),
    )
    with op.batch_alter_table("observation_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observation_samples_observation_id"), ["observation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_observation_samples_observed_at"), ["observed_at"], unique=False)
    op.execute(
        "INSERT INTO observation_samples (observation_id, observed_at, latency_ms) "
        "SELECT id, observed_at, latency_ms FROM observations"
    )
    with op.batch_alter_table("latest_observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("observation_id", BigId, nullable=True))

    op.create_table(
        "score_payloads",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("single_provider_risk", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_payloads")),
        sa.UniqueConstraint("digest", name=op.f("uq_score_payloads_digest")),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_id", BigId, nullable=True))
    op.execute(
        "INSERT INTO score_payloads (digest, single_provider_risk, reasons, details) "
        f"SELECT {_LEGACY.format('id')}, single_provider_risk, reasons, details FROM scores"
    )
    op.execute(
        "UPDATE scores SET payload_id = "
        f"(SELECT p.id FROM score_payloads p WHERE p.digest = {_LEGACY.format('scores.id')})"
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.alter_column("payload_id", existing_type=BigId, nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_scores_payload_id_score_payloads"), "score_payloads", ["payload_id"], ["id"]
        )
        for name in _DOCUMENTS:
            batch_op.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("scores", schema=None) as batch_op:
        for name in _DOCUMENTS:
            batch_op.add_column(sa.Column(name, sa.JSON(), nullable=True))
    for name in _DOCUMENTS:
        op.execute(f"UPDATE scores SET {name} = (SELECT p.{name} FROM score_payloads p WHERE p.id = scores.payload_id)")
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_scores_payload_id_score_payloads"), type_="foreignkey")
        batch_op.drop_column("payload_id")
        for name in _DOCUMENTS:
            batch_op.alter_column(name, existing_type=sa.JSON(), nullable=False)
    op.drop_table("score_payloads")

    # every sample after the first of its run becomes an observation row again
    columns = "run_id, workload, site, probe, target, label, vantage, status, reason, data"
    op.execute(
        f"INSERT INTO observations ({columns}, latency_ms, observed_at) "
        f"SELECT {', '.join('o.' + c for c in columns.split(', '))}, s.latency_ms, s.observed_at "
        "FROM observation_samples s JOIN observations o ON s.observation_id = o.id "
        "WHERE s.observed_at > o.observed_at"
    )
    with op.batch_alter_table("latest_observations", schema=None) as batch_op:
        batch_op.drop_column("observation_id")
    with op.batch_alter_table("observation_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observation_samples_observed_at"))
        batch_op.drop_index(batch_op.f("ix_observation_samples_observation_id"))
    op.drop_table("observation_samples")
