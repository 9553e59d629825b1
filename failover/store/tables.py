"""Table definitions (SQLAlchemy Core). ``latest_*`` tables hold the newest row per key, kept current
on write, so reads for the CLI and the email never scan history. History grows with change, not with
time: ``findings`` gets a row when a finding's status or reason changes; ``observations`` a row when a
probe's status changes (or, when not ok, its reason), and every probe's time and latency goes to
``observation_samples`` under that row; ``scores`` keeps one thin row per score, its reasons and
details stored once per distinct content in ``score_payloads``.

Datetimes are stored as naive UTC (portable across SQLite and Postgres, and comparable as stored)
and come back tz-aware UTC. ``None`` workload/site on an observation is stored as ``''`` so the
latest-state key has no NULLs (workload and site names are never empty in a valid config).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

__all__ = [
    "OBSERVATION_KEY",
    "UTCDateTime",
    "alert_deliveries",
    "findings",
    "inventory_snapshots",
    "latest_finding_runs",
    "latest_findings",
    "latest_inventory",
    "latest_observations",
    "latest_scores",
    "mail_deliveries",
    "metadata",
    "observation_rollups",
    "observation_samples",
    "observations",
    "resources",
    "runs",
    "score_payloads",
    "scores",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Naive UTC in the database, aware UTC in Python; naive input is taken to be UTC already."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL results on SQLite
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Names for constraints so Alembic can alter and drop them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY; Postgres gets BIGSERIAL.
BigId = BigInteger().with_variant(Integer(), "sqlite")

runs = Table(
    "runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("vantage", String(200), nullable=False, server_default=""),
    Column("config_digest", String(128), nullable=False, server_default=""),
    Column("status", String(40), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("error", Text()),
    Column("stats", JSON()),
    Column("owner", String(64)),  # the daemon process that started it (None: ``failover check``, or older)
    Index(None, "kind", "started_at"),
)

inventory_snapshots = Table(
    "inventory_snapshots",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigId, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("provider", String(20), nullable=False),
    Column("account", String(200), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=False),
    Column("incomplete", JSON(), nullable=False),  # [ScopeError.to_dict(), ...]
    Column("resource_count", Integer(), nullable=False),
    Index(None, "account", "finished_at"),
    Index(None, "run_id"),
)

resources = Table(
    "resources",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("snapshot_id", BigId, ForeignKey("inventory_snapshots.id", ondelete="CASCADE"), nullable=False),
    Column("provider", String(20), nullable=False),
    Column("account", String(200), nullable=False),
    Column("region", String(100), nullable=False),
    Column("zone", String(100), nullable=False),
    Column("kind", String(60), nullable=False),
    Column("native_type", String(200), nullable=False),
    Column("native_id", Text(), nullable=False),
    Column("name", Text(), nullable=False),
    Column("state", String(100), nullable=False),
    Column("capacity", JSON(), nullable=False),
    Column("tags", JSON(), nullable=False),
    Column("attrs", JSON(), nullable=False),
    Index(None, "snapshot_id", "id"),
)

# The newest snapshot per (provider, account); replaced only by a snapshot that finished later.
latest_inventory = Table(
    "latest_inventory",
    metadata,
    Column("provider", String(20), primary_key=True),
    Column("account", String(200), primary_key=True),
    Column("snapshot_id", BigId, ForeignKey("inventory_snapshots.id", ondelete="CASCADE"), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=False),
)


def _observation_columns() -> list[Column[Any]]:
    return [
        Column("run_id", BigId, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        Column("workload", String(200), nullable=False),
        Column("site", String(200), nullable=False),
        Column("probe", String(40), nullable=False),
        Column("target", Text(), nullable=False),
        Column("label", String(200), nullable=False),
        Column("vantage", String(200), nullable=False),
        Column("status", String(20), nullable=False),
        Column("reason", Text(), nullable=False),
        Column("latency_ms", Float()),
        Column("observed_at", UTCDateTime(), nullable=False),
        Column("data", JSON(), nullable=False),
    ]


observations = Table(
    "observations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    *_observation_columns(),
    Index(None, "workload", "observed_at"),
    Index(None, "observed_at"),
    Index(None, "run_id"),
)

# Every observation's own time and latency; its status, reason and data are those of the
# ``observations`` row it belongs to (the row that opened the run of equal observations).
observation_samples = Table(
    "observation_samples",
    metadata,
    Column("observation_id", BigId, ForeignKey("observations.id", ondelete="CASCADE"), nullable=False),
    Column("observed_at", UTCDateTime(), nullable=False),
    Column("latency_ms", Float()),
    Index(None, "observation_id"),
    Index(None, "observed_at"),
)

OBSERVATION_KEY = ("workload", "site", "probe", "target", "label", "vantage")

latest_observations = Table(
    "latest_observations",
    metadata,
    *_observation_columns(),
    # the ``observations`` row the next equal observation of this key is sampled under (NULL: none)
    Column("observation_id", BigId),
    PrimaryKeyConstraint(*OBSERVATION_KEY),
)

observation_rollups = Table(
    "observation_rollups",
    metadata,
    Column("day", Date(), nullable=False),
    Column("workload", String(200), nullable=False),
    Column("site", String(200), nullable=False),
    Column("probe", String(40), nullable=False),
    Column("target", Text(), nullable=False),
    Column("count", Integer(), nullable=False),
    Column("ok_count", Integer(), nullable=False),
    # Sum and count of the latencies that were measured, so rollups merge exactly; avg = sum / count.
    Column("latency_count", Integer(), nullable=False),
    Column("latency_sum", Float(), nullable=False),
    Column("latency_max", Float()),
    PrimaryKeyConstraint("day", "workload", "site", "probe", "target"),
    Index(None, "workload", "day"),
)


def _finding_columns() -> list[Column[Any]]:
    return [
        Column("run_id", BigId, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        Column("workload", String(200), nullable=False),
        Column("check", String(120), nullable=False),
        Column("subject", Text(), nullable=False),
        Column("status", String(20), nullable=False),
        Column("reason", Text(), nullable=False),
        Column("category", String(60), nullable=False),
        Column("severity", String(20), nullable=False),
        Column("evidence", JSON(), nullable=False),
        Column("observed_at", UTCDateTime(), nullable=False),
    ]


findings = Table(
    "findings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    *_finding_columns(),
    # latest finding per check per workload; pass rate of a check over a window
    Index(None, "workload", "check", "observed_at"),
    Index(None, "observed_at"),
    Index(None, "run_id"),
)

latest_findings = Table(
    "latest_findings",
    metadata,
    *_finding_columns(),
    PrimaryKeyConstraint("workload", "check", "subject"),
)

# Which run's findings ``latest_findings`` holds for each workload: a newer run replaces the whole set.
latest_finding_runs = Table(
    "latest_finding_runs",
    metadata,
    Column("workload", String(200), primary_key=True),
    Column("run_id", BigId, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("checked_at", UTCDateTime(), nullable=False),
)


SCORE_PAYLOAD = ("single_provider_risk", "reasons", "details")


def _score_columns(*, payload: bool) -> list[Column[Any]]:
    documents = [
        Column("single_provider_risk", JSON(), nullable=False),
        Column("reasons", JSON(), nullable=False),
        Column("details", JSON(), nullable=False),
    ]
    return [
        Column("run_id", BigId, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        Column("workload", String(200), nullable=False),
        Column("status", String(20), nullable=False),
        Column("readiness", Float(), nullable=False),
        Column("rto_estimate_s", Float()),
        Column("rto_target_s", Float()),
        Column("rto_lower_bound_s", Float()),
        Column("rto_verdict", String(10)),  # within | exceeds | unknown; NULL on rows from before 0003
        Column("computed_at", UTCDateTime(), nullable=False),
        *(documents if payload else [Column("payload_id", BigId, ForeignKey("score_payloads.id"), nullable=False)]),
    ]


# A score's reasons and details, once per distinct content (``digest``: SHA-256 of the three documents).
score_payloads = Table(
    "score_payloads",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False),
    Column("single_provider_risk", JSON(), nullable=False),
    Column("reasons", JSON(), nullable=False),
    Column("details", JSON(), nullable=False),
    UniqueConstraint("digest"),
)

scores = Table(
    "scores",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    *_score_columns(payload=False),
    Index(None, "workload", "computed_at"),  # score history, score_at
    Index(None, "run_id"),
)

latest_scores = Table(
    "latest_scores",
    metadata,
    *_score_columns(payload=True),
    # the what-if matrix judged on the score's evidence at its time (``failover.whatif.stored``); here
    # only, not in the history: it is overwritten with the score, so an unchanged cycle adds nothing
    Column("whatif", JSON()),
    PrimaryKeyConstraint("workload"),
)

mail_deliveries = Table(
    "mail_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("owner", String(320), nullable=False),
    Column("iso_week", String(10), nullable=False),
    Column("message_id", Text(), nullable=False),
    Column("vantage", String(200), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=False),
    UniqueConstraint("owner", "iso_week"),
)

drills = Table(
    "drills",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("workload", String(200), nullable=False),
    Column("performed_at", UTCDateTime(), nullable=False),
    Column("succeeded", Boolean(), nullable=False),
    Column("recovery_s", Float()),
    Column("notes", Text(), nullable=False, server_default=""),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Index(None, "workload", "performed_at"),  # a workload's latest drill
)

# Alerts sent to each destination: the claim and the delivery log in one row. The unique key is the
# claim (like ``mail_deliveries``): daemons deciding from the same baseline score (``basis``: the
# computed_at of the score the new one is compared with) make the same key, and only one inserts it.
# Never holds a URL, secret or routing key: the destination's name only.
alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("destination", String(200), nullable=False),
    Column("workload", String(200), nullable=False),  # '' for a test alert
    Column("event", String(20), nullable=False),
    Column("status", String(20)),
    Column("readiness", Float()),
    Column("basis", UTCDateTime(), nullable=False),
    Column("outcome", String(20), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer(), nullable=False, server_default="0"),
    Column("http_status", Integer()),
    Column("error", Text(), nullable=False, server_default=""),
    Column("vantage", String(200), nullable=False, server_default=""),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    UniqueConstraint("destination", "workload", "basis"),
    Index(None, "destination", "workload", "claimed_at"),
)
