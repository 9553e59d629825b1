"""Storage: runs, inventory snapshots, observations, findings, scores and mail deliveries in SQLite
or Postgres, with latest-state tables kept current on write. Every run goes through
``Store.recorded_run`` (its statuses: ``failover.store.runs``). Migrations live in ``migrations/``."""

from failover.store.runs import FINISHED, RecordedRun, RunCancelled, RunStatus
from failover.store.store import AlertRecord, Rollup, Store, open_engine
from failover.store.urls import default_database_url, display_url, normalize_url, resolve_database_url

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
