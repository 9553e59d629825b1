"""work queue: procrastinate's schema, so daemons sharing one Postgres share the check and inventory
work through its jobs table

PostgreSQL only: SQLite runs one daemon per file and its jobs in process, so there is nothing to add
there. The SQL is procrastinate's own ``schema.sql`` of the pinned version (pyproject pins the minor
release); a later procrastinate whose schema changes comes with a revision applying its migrations.
Two indexes of ours on its tables serve what the daemons ask of them: whether a tick's work already
ran (jobs by queueing lock, whatever their status) and the jobs finished lately (events by time, for
each daemon's share). Downgrade drops every procrastinate object (its tables, types and functions), leaving our tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_workers")
_TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_status", "procrastinate_job_event_type")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    # exec_driver_sql: the script as procrastinate ships it (no bind-parameter parsing of its ``::``)
    bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    bind.exec_driver_sql("CREATE INDEX failover_jobs_queueing_lock ON procrastinate_jobs (queueing_lock)")
    bind.exec_driver_sql("CREATE INDEX failover_events_at ON procrastinate_events (at)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(f"DROP TABLE IF EXISTS {', '.join(_TABLES)} CASCADE")
    bind.exec_driver_sql(
        """
        DO $$
        DECLARE f regprocedure;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                     WHERE p.proname LIKE 'procrastinate%%' AND p.pronamespace = current_schema()::regnamespace
            LOOP
                EXECUTE 'DROP FUNCTION ' || f || ' CASCADE';
            END LOOP;
        END $$
        """
    )
    bind.exec_driver_sql(f"DROP TYPE IF EXISTS {', '.join(_TYPES)} CASCADE")
