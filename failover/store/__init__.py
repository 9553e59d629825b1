"""Storage: runs, inventory snapshots, observations, findings, scores and mail deliveries in SQLite
or Postgres, with latest-state tables kept current on write. Every run goes through
``Store.recorded_run`` (its statuses: ``failover.store.runs``). Migrations live in ``migrations/``.

``Store`` and its siblings are imported on first use: checking a config's database URL (``failover
validate``) needs only ``failover.store.urls``, not SQLAlchemy's ORM layer and Alembic (0.4 s)."""

from typing import TYPE_CHECKING

from failover.lazy import lazy_attributes
from failover.store.runs import FINISHED, RecordedRun, RunCancelled, RunStatus
from failover.store.urls import default_database_url, display_url, normalize_url, resolve_database_url

if TYPE_CHECKING:
    from failover.store.store import AlertRecord, Rollup, Store, open_engine

__all__ = [
    "FINISHED",
    "AlertRecord",
    "RecordedRun",
    "Rollup",
    "RunCancelled",
    "RunStatus",
    "Store",
    "default_database_url",
    "display_url",
    "normalize_url",
    "open_engine",
    "resolve_database_url",
]

__getattr__ = lazy_attributes(__name__, dict.fromkeys(("AlertRecord", "Rollup", "Store", "open_engine"), "store"))
