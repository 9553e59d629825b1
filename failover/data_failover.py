"""How long each kind of data store takes to fail over: the data part of the estimated RTO.

Figures are the providers' own documented ones; where a provider documents none, the estimate uses
``scoring.data_promotion`` (default 5 min, meant to be replaced by a measured drill time) and says so.
Stores fail over side by side, so the slowest one is the data part. Pure functions.

- rds: promote a read replica. AWS documents no duration ("Working with DB instance read replicas":
  the replica reboots while it is promoted): ``scoring.data_promotion``.
- aurora: global database failover, 60 s. AWS "Using Amazon Aurora Global Database": cross-Region
  recovery with an RTO typically under a minute.
- dynamodb: global tables are multi-active, nothing to promote: 0 s (the application switches region).
- elasticache: promote the global datastore's secondary, 60 s. AWS "Replication across AWS Regions
  using global datastores": a secondary is promoted to primary in less than a minute.
- s3, gcs: the replica bucket (or the other region of a dual/multi-region bucket) is readable where it
  is: 0 s.
- cloudsql: promote a cross-region replica. Google documents no duration ("Promote replicas for
  regional migration or disaster recovery"): ``scoring.data_promotion``.
- azure-sql, customer-managed (Manual) failover group or geo-replication: ``scoring.manual_decision``
  + 60 s. Microsoft "Overview of business continuity with Azure SQL Database": geo-failover RTO 60 s
  once initiated; Microsoft recommends the Manual policy.
- azure-sql, Microsoft-managed (Automatic): ``grace_period_s`` (``failoverWithDataLossGracePeriodMinutes``,
  at least 60 min). Microsoft fails over only after the grace period, and only in an outage it declares.
- cosmosdb: multi-region writes 0 s; service-managed failover of the single write region 15 min;
  customer-managed ``scoring.manual_decision`` + 15 min. Microsoft "Reliability in Azure Cosmos DB":
  RTO < 15 min for a single write region with service-managed failover.
- postgres-flexible, mysql-flexible: promote a read replica; Microsoft documents no duration:
  ``scoring.data_promotion``.
- azure-storage: customer-managed account failover, 60 min. Microsoft "Azure storage disaster recovery
  planning and failover": an account failover typically takes about an hour.
- anything else (a store whose kind the reader did not say): ``scoring.data_promotion``.
"""

from __future__ import annotations

from dataclasses import dataclass

from failover.attrs import attrs_of
from failover.model import Kind, Resource
from failover.schema import ScoringConfig, format_duration

AURORA_GLOBAL_FAILOVER_S = 60.0
ELASTICACHE_GLOBAL_PROMOTION_S = 60.0
AZURE_SQL_GEO_FAILOVER_S = 60.0
AZURE_SQL_MIN_GRACE_S = 3600.0
COSMOS_SERVICE_FAILOVER_S = 900.0
AZURE_STORAGE_FAILOVER_S = 3600.0

# store kind -> (seconds, what happens); None seconds: scoring.data_promotion (no documented figure)
_FIGURES: dict[str, tuple[float | None, str]] = {
    "rds": (None, "read replica promotion (no documented figure: scoring.data_promotion)"),
    "aurora": (AURORA_GLOBAL_FAILOVER_S, "Aurora global database failover (documented < 1 min)"),
    "dynamodb": (0.0, "global table: no promotion, every replica takes writes"),
    "elasticache": (ELASTICACHE_GLOBAL_PROMOTION_S, "global datastore promotion (documented < 1 min)"),
    "s3": (0.0, "replica bucket: no promotion"),
    "gcs": (0.0, "dual/multi-region bucket: no promotion"),
    "cloudsql": (None, "cross-region replica promotion (no documented figure: scoring.data_promotion)"),
    "postgres-flexible": (None, "read replica promotion (no documented figure: scoring.data_promotion)"),
    "mysql-flexible": (None, "read replica promotion (no documented figure: scoring.data_promotion)"),
    "azure-storage": (AZURE_STORAGE_FAILOVER_S, "storage account failover (documented: about an hour)"),
}


@dataclass(frozen=True, slots=True)
class StoreFailover:
    """One store's failover time and how it was reached."""

    store: str
    seconds: float
    how: str

    @property
    def note(self) -> str:
        return f"{self.store}: {self.how}, {format_duration(self.seconds)}"


def store_failover(r: Resource, store_kind: str | None, cfg: ScoringConfig, name: str = "") -> StoreFailover:
    """How long ``r`` takes to take writes in another region or provider once the decision is made (a
    manual step adds ``scoring.manual_decision``)."""
    name = name or r.name
    fallback = f"promotion time unknown for {store_kind or r.kind}: scoring.data_promotion"
    if store_kind == "azure-sql":
        return _azure_sql(r, cfg, name)
    if store_kind == "cosmosdb":
        return _cosmos(r, cfg, name)
    if store_kind in _FIGURES:
        seconds, how = _FIGURES[store_kind]
        return StoreFailover(name, cfg.data_promotion if seconds is None else seconds, how)
    return StoreFailover(name, cfg.data_promotion, fallback)


def _azure_sql(r: Resource, cfg: ScoringConfig, name: str) -> StoreFailover:
    a = attrs_of(r, Kind.DB_INSTANCE)
    policy = str(a["failover_policy"] or "").lower()
    if policy == "automatic":
        grace = a["grace_period_s"]
        floor = max(float(grace) if isinstance(grace, int | float) else 0.0, AZURE_SQL_MIN_GRACE_S)
        return StoreFailover(
            name,
            floor,
            "Microsoft-managed failover group: fails over only after its grace period, in an outage Microsoft declares",
        )
    if policy == "manual":
        return StoreFailover(
            name,
            AZURE_SQL_GEO_FAILOVER_S + cfg.manual_decision,
            "customer-managed failover group: decision (scoring.manual_decision) + geo-failover (documented 60 s)",
        )
    return StoreFailover(name, cfg.data_promotion, "failover policy unknown: scoring.data_promotion")


def _cosmos(r: Resource, cfg: ScoringConfig, name: str) -> StoreFailover:
    a = attrs_of(r, Kind.DB_TABLE)
    if a["multi_region_writes"]:
        return StoreFailover(name, 0.0, "multi-region writes: no failover")
    if a["automatic_failover"]:
        return StoreFailover(name, COSMOS_SERVICE_FAILOVER_S, "service-managed failover (documented < 15 min)")
    if a["automatic_failover"] is False:
        return StoreFailover(
            name,
            COSMOS_SERVICE_FAILOVER_S + cfg.manual_decision,
            "customer-managed failover: decision (scoring.manual_decision) + failover (documented < 15 min)",
        )
    return StoreFailover(name, cfg.data_promotion, "failover settings unknown: scoring.data_promotion")


def slowest(failovers: list[StoreFailover]) -> StoreFailover | None:
    """Stores fail over side by side: the slowest one is the data part of the RTO."""
    return max(failovers, key=lambda f: f.seconds, default=None)
