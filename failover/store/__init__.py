"""Storage: runs, inventory snapshots, observations, findings, scores and mail deliveries in SQLite
or Postgres, with latest-state tables kept current on write. Migrations live in ``migrations/``."""

from failover.store.store import Rollup, Store, open_engine
from failover.store.urls import default_database_url, display_url, normalize_url, resolve_database_url

__all__ = [
    "Rollup",
    "Store",
    "default_database_url",
    "display_url",
    "normalize_url",
    "open_engine",
    "resolve_database_url",
]
