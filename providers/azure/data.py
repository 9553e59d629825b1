"""ARM's answers about data copies → the ``copies`` (and failover attrs) of Azure data stores.

Pure functions over the wire JSON (camelCase) of azure-mgmt-sql, azure-mgmt-cosmosdb and
azure-mgmt-storage. They report facts only (where a copy is, whether the provider says it is being kept
up to date, how far behind): ``failover.checks.data`` judges them against the RPO.

Lag where ARM reports none: Azure SQL geo-replication (failover groups and replication links) and
Cosmos DB regions expose no lag through the management API, so a copy in a healthy state gets
Microsoft's documented bound as its lag, with ``estimate: true`` and the document as ``lag_source``.
A copy in any other state has no lag at all (``None``), never the bound.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from failover.attrs import DataCopy
from failover.model import Kind, Resource

__all__ = [
    "COSMOS_SOURCE",
    "GEO_STORAGE_SKUS",
    "SQL_GEO_REPLICATION_BOUND_S",
    "SQL_GEO_REPLICATION_SOURCE",
    "SQL_HEALTHY_STATE",
    "SQL_RECOVERABLE_SOURCE",
    "STORAGE_LAG_SOURCE",
    "cosmos_bound_s",
    "is_sql_database",
    "region_name",
    "server_of",
    "with_cosmos",
    "with_sql_reads",
    "with_sql_unread",
    "with_storage_stats",
]

# Microsoft: "geo-replication and failover groups: RPO 5 s" (business continuity overview).
SQL_GEO_REPLICATION_BOUND_S = 5.0
SQL_GEO_REPLICATION_SOURCE = (
    "Azure SQL documents RPO 5 s for active geo-replication and failover groups "
    "(learn.microsoft.com/azure/azure-sql/database/"
    "business-continuity-high-availability-disaster-recover-hadr-overview); ARM reports no lag"
)
SQL_RECOVERABLE_SOURCE = "recoverableDatabases lastAvailableBackupDate (newest geo-replicated backup)"
# sys.geo_replication_links: "CATCH_UP: the secondary database is in a transactionally consistent state and
# is being constantly synchronized with the primary" — the steady, healthy state (the REST examples of a
# working failover group show it). PENDING and SEEDING are not yet a usable copy; SUSPENDED is not replicating.
SQL_HEALTHY_STATE = "CATCH_UP"
COSMOS_SOURCE = (
    "Azure Cosmos DB documents the RPO of a region outage per consistency level: Strong 0, Bounded Staleness "
    "its staleness window, Session/Consistent Prefix/Eventual < 15 min "
    "(learn.microsoft.com/azure/cosmos-db/consistency-levels); ARM reports no lag"
)
_COSMOS_WEAK_BOUND_S = 900.0
STORAGE_LAG_SOURCE = "geoReplicationStats.lastSyncTime"
# Every geo-redundant SkuName azure-mgmt-storage lists (RA- variants add read access to the same copy).
GEO_STORAGE_SKUS = frozenset(
    s.lower()
    for s in (
        "Standard_GRS",
        "Standard_RAGRS",
        "Standard_GZRS",
        "Standard_RAGZRS",
        "StandardV2_GRS",
        "StandardV2_GZRS",
    )
)
_SQL_DB = "microsoft.sql/servers/databases"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def region_name(location: Any) -> str:
    """ARM answers some locations by display name (``Japan West``); the region's name is ``japanwest``."""
    return str(location or "").replace(" ", "").lower()


def server_of(database_id: str) -> str:
    """``…/servers/srv/databases/db`` → ``…/servers/srv``."""
    at = database_id.lower().rfind("/databases/")
    return database_id[:at] if at >= 0 else database_id


def _age_s(value: Any, now: datetime) -> float | None:
    """Seconds from an ISO 8601 time (or a datetime) to ``now``; ``None`` when there is none."""
    when = value if isinstance(value, datetime) else None
    if isinstance(value, str) and value:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (now - when).total_seconds())


def _geo_copy(where: str, ref: str | None, mechanism: str, state: str | None) -> DataCopy:
    healthy = None if state is None else state.upper() == SQL_HEALTHY_STATE
    return DataCopy(
        where=f"azure:{where}",
        ref=ref,
        mechanism=mechanism,
        healthy=healthy,
        state=state,
        lag_s=SQL_GEO_REPLICATION_BOUND_S if healthy else None,
        lag_source=SQL_GEO_REPLICATION_SOURCE if healthy else None,
        estimate=bool(healthy),
    )


def with_sql_reads(
    db: Resource,
    failover_groups: list[dict[str, Any]],
    links: list[dict[str, Any]],
    recoverable: list[dict[str, Any]] | None,
    now: datetime,
) -> Resource:
    """An Azure SQL database with the copies its server reports: each geo-replication link where it is
    the primary (the failover group's mechanism when a group holds it), each partner of a failover group
    holding it that no link covers, and its newest geo-replicated backup (``recoverable``; ``None``: not
    read). A database that is itself a geo-secondary names its primary as ``replica_source``."""
    db_id = db.native_id.lower()
    groups = [
        g
        for g in failover_groups
        if db_id in {str(d).lower() for d in _dict(g.get("properties")).get("databases") or []}
    ]
    copies: list[DataCopy] = []
    covered: set[str] = set()
    attrs: dict[str, Any] = {"store_kind": "azure-sql", "replicas_unknown_reason": None}
    for link in links:
        if not str(link.get("id") or "").lower().startswith(db_id + "/replicationlinks/"):
            continue  # another database's link (the server lists them all)
        p = _dict(link.get("properties"))
        role = str(p.get("role") or "")
        partner_server = str(p.get("partnerServer") or "")
        partner_db = p.get("partnerDatabaseId") or None
        if role.lower() in ("secondary", "nonreadablesecondary"):
            # a geo-secondary: judged through its link to the primary as well, so say the same there
            state = p.get("replicationState")
            healthy = None if state is None else str(state).upper() == SQL_HEALTHY_STATE
            attrs |= {
                "replication_role": role,
                "replica_source": partner_db or f"{partner_server}/{p.get('partnerDatabase')}",
                "replica_source_region": region_name(p.get("partnerLocation")) or None,
                "replication_status": state,
                "replication_healthy": healthy,
                "replica_lag_s": SQL_GEO_REPLICATION_BOUND_S if healthy else None,
                "replica_lag_metric": SQL_GEO_REPLICATION_SOURCE if healthy else None,
            }
            continue
        if role.lower() not in ("primary", "source"):
            continue
        in_group = any(
            partner_server.lower() == str(ps.get("id") or "").rstrip("/").rsplit("/", 1)[-1].lower()
            for g in groups
            for ps in _dict(g.get("properties")).get("partnerServers") or []
        )
        covered.add(partner_server.lower())
        copies.append(
            _geo_copy(
                region_name(p.get("partnerLocation")),
                partner_db or f"{partner_server}/{p.get('partnerDatabase')}",
                "failover-group" if in_group else "geo-replication",
                p.get("replicationState"),
            )
        )
    for g in groups:
        props = _dict(g.get("properties"))
        rw = _dict(props.get("readWriteEndpoint"))
        grace = rw.get("failoverWithDataLossGracePeriodMinutes")
        attrs |= {
            "failover_group": g.get("id"),
            "failover_policy": rw.get("failoverPolicy"),
            "grace_period_s": grace * 60 if isinstance(grace, int | float) else None,
        }
        if str(props.get("replicationRole") or "").lower() != "primary":
            continue
        for ps in props.get("partnerServers") or []:
            server_id = str(_dict(ps).get("id") or "")
            name = server_id.rstrip("/").rsplit("/", 1)[-1]
            if name.lower() in covered:
                continue
            ref = f"{server_id}/databases/{db.name.rsplit('/', 1)[-1]}"
            copies.append(
                _geo_copy(region_name(_dict(ps).get("location")), ref, "failover-group", props.get("replicationState"))
            )
    db_name = db.name.rsplit("/", 1)[-1].lower()
    for rec in recoverable or []:
        if str(rec.get("name") or "").lower() != db_name:
            continue
        last = _dict(rec.get("properties")).get("lastAvailableBackupDate")
        age = _age_s(last, now)
        copies.append(
            DataCopy(
                where=f"azure:paired region of {db.region}",
                ref=rec.get("id"),
                mechanism="geo-backup",
                healthy=age is not None,
                state=f"last backup {last}" if last else None,
                lag_s=age,
                lag_source=SQL_RECOVERABLE_SOURCE,
                estimate=False,
            )
        )
    attrs["copies"] = copies
    return dataclasses.replace(db, attrs={**db.attrs, **attrs})


def with_sql_unread(db: Resource, reason: str) -> Resource:
    """A database whose server's failover groups or replication links could not be read: unknown, not "none"."""
    return dataclasses.replace(
        db, attrs={**db.attrs, "store_kind": "azure-sql", "copies": [], "replicas_unknown_reason": reason}
    )


def cosmos_bound_s(policy: dict[str, Any]) -> float | None:
    """How far a Cosmos DB region may be behind by Microsoft's documented RPO for the consistency level."""
    level = str(policy.get("defaultConsistencyLevel") or "").lower()
    if level == "strong":
        return 0.0
    if level == "boundedstaleness":
        interval = policy.get("maxIntervalInSeconds")
        return float(interval) if isinstance(interval, int | float) else None
    if level in ("session", "consistentprefix", "eventual"):
        return _COSMOS_WEAK_BOUND_S
    return None


def with_cosmos(account: Resource, body: dict[str, Any]) -> Resource:
    """A Cosmos DB account (its entry in ``GET …/providers/Microsoft.DocumentDB/databaseAccounts``): every
    location with failover priority > 0 is a copy of the write region's data."""
    props = _dict(body.get("properties"))
    policy = _dict(props.get("consistencyPolicy"))
    bound = cosmos_bound_s(policy)
    copies: list[DataCopy] = []
    write = None
    for loc in props.get("locations") or []:
        loc = _dict(loc)
        if loc.get("failoverPriority") == 0:
            write = region_name(loc.get("locationName"))
            continue
        state = loc.get("provisioningState")
        healthy = None if state is None else str(state).lower() == "succeeded"
        copies.append(
            DataCopy(
                where=f"azure:{region_name(loc.get('locationName'))}",
                ref=loc.get("id"),
                mechanism="geo-replication",
                healthy=healthy,
                state=state,
                lag_s=bound if healthy else None,
                lag_source=COSMOS_SOURCE if healthy and bound is not None else None,
                estimate=bool(healthy and bound is not None),
            )
        )
    attrs = {
        "store_kind": "cosmosdb",
        "copies": copies,
        "automatic_failover": props.get("enableAutomaticFailover"),
        "multi_region_writes": props.get("enableMultipleWriteLocations"),
        "consistency_level": policy.get("defaultConsistencyLevel"),
        "write_region": write,
        "detailed": True,
    }
    state = str(props.get("provisioningState") or account.state)
    return dataclasses.replace(account, state=state, attrs={**account.attrs, **attrs})


def with_storage_stats(account: Resource, body: dict[str, Any] | None, now: datetime) -> Resource:
    """A geo-redundant storage account with its one copy in the secondary (paired) region, lag = now minus
    ``geoReplicationStats.lastSyncTime`` (its read with ``$expand=geoReplicationStats``; ``None``: the read
    failed, and the copy's lag is unknown)."""
    props = _dict(_dict(body).get("properties"))
    stats = _dict(props.get("geoReplicationStats"))
    status = stats.get("status")
    secondary = region_name(props.get("secondaryLocation")) or f"paired region of {account.region}"
    copy = DataCopy(
        where=f"azure:{secondary}",
        ref=None,
        mechanism="geo-redundant",
        healthy=None if status is None else str(status).lower() == "live",
        state=status,
        lag_s=_age_s(stats.get("lastSyncTime"), now),
        lag_source=STORAGE_LAG_SOURCE,
        estimate=False,
    )
    return dataclasses.replace(
        account, attrs={**account.attrs, "copies": [copy], "can_failover": stats.get("canFailover")}
    )


def is_sql_database(r: Resource) -> bool:
    return r.kind == Kind.DB_INSTANCE and r.native_type.lower() == _SQL_DB
