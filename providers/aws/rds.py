"""RDS DB instances and clusters, with the replica links, replication health and data copies the data
checks need: read replicas (and their CloudWatch lag), Aurora global database secondaries (and their
global lag metric), and automated backups replicated to other regions (and their restore window)."""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from failover.errors import ProviderError
from failover.model import Capacity, Kind, Resource
from providers.aws.cloudwatch import Metric, newest
from providers.aws.context import Ctx, iso, tag_dict
from providers.aws.session import guarded, paginate


@dataclass(frozen=True, slots=True)
class LagMetric:
    """Where CloudWatch reports one replica's lag: ``AWS/RDS`` ``metric`` by ``dimension``, in ``unit_s``
    seconds per unit (ReplicaLag is in seconds, the Aurora global metrics in milliseconds)."""

    resource: str  # the replica's native id (DB instance or cluster identifier)
    metric: str
    dimension: str
    unit_s: float = 1.0


def read_databases(ctx: Ctx, region: str) -> list[Resource]:
    client = ctx.clients("rds", region)
    instances = list(paginate(client, "describe_db_instances", "DBInstances[]", page_size=ctx.page_size))
    clusters = list(paginate(client, "describe_db_clusters", "DBClusters[]", page_size=ctx.page_size))
    members = read_global_members(ctx, region) if any(c.get("GlobalClusterIdentifier") for c in clusters) else {}
    copies = read_backup_copies(ctx, region, instances)
    resources = [normalize_db_instance(ctx, region, d, copies.get(d.get("DBInstanceArn", ""))) for d in instances]
    resources += [normalize_db_cluster(ctx, region, c, members) for c in clusters]
    metrics = [m for r in resources if (m := lag_metric(r)) is not None]
    if metrics:
        try:
            lags = guarded(lambda: read_lag(ctx, region, metrics))
        except ProviderError as err:
            ctx.incomplete(f"{region}/cloudwatch", err, "replica lag")
        else:
            resources = [with_lag(r, lags) for r in resources]
    return resources


def lag_metric(r: Resource) -> LagMetric | None:
    """The CloudWatch metric that reports this replica's lag, read in the replica's own region.

    RDS read replicas: ``ReplicaLag`` (seconds). Aurora global secondaries: ``AuroraGlobalDBRPOLag``
    (Aurora PostgreSQL, Aurora MySQL 3.04+ and 2.12+) or ``AuroraGlobalDBReplicationLag`` (older Aurora
    MySQL), milliseconds. Aurora binlog replica clusters: ``AuroraBinlogReplicaLag`` (seconds).
    """
    name = r.attrs.get("replica_lag_metric")
    if not name or not r.attrs.get("replica_source"):
        return None
    if r.kind == Kind.DB_INSTANCE:
        return LagMetric(r.native_id, str(name), "DBInstanceIdentifier")
    unit = 1.0 if name == "AuroraBinlogReplicaLag" else 0.001
    return LagMetric(r.native_id, str(name), "DBClusterIdentifier", unit)


_AURORA_MYSQL = re.compile(r"mysql_aurora\.(\d+)\.(\d+)")


def global_lag_metric(engine: str | None, version: str | None) -> str:
    """AWS documents ``AuroraGlobalDBRPOLag`` for every Aurora PostgreSQL version and for Aurora MySQL
    from 3.04.0 and 2.12.0; older Aurora MySQL reports only ``AuroraGlobalDBReplicationLag``."""
    if engine == "aurora-mysql" or engine == "aurora":
        m = _AURORA_MYSQL.search(version or "")
        if m is None:
            return "AuroraGlobalDBReplicationLag"  # an unreadable version: the metric every version has
        major, minor = int(m.group(1)), int(m.group(2))
        return (
            "AuroraGlobalDBRPOLag"
            if (major, minor) >= (3, 4) or (major == 2 and minor >= 12)
            else ("AuroraGlobalDBReplicationLag")
        )
    return "AuroraGlobalDBRPOLag"


def read_lag(ctx: Ctx, region: str, metrics: list[LagMetric]) -> dict[str, float]:
    """Newest lag (seconds) per replica over the last minutes, from batched GetMetricData
    (``cloudwatch.newest``): a replica with no datapoint is absent, ``-1`` is kept."""
    queries = [
        Metric(m.resource, "AWS/RDS", m.metric, ((m.dimension, m.resource),), round(1 / m.unit_s)) for m in metrics
    ]
    return newest(ctx, region, queries)


def with_lag(resource: Resource, lags: dict[str, float]) -> Resource:
    if resource.native_id not in lags:
        return resource
    return dataclasses.replace(resource, attrs={**resource.attrs, "replica_lag_s": lags[resource.native_id]})


def read_global_members(ctx: Ctx, region: str) -> dict[str, dict[str, Any]]:
    """Aurora global database membership by cluster ARN: ``{"writer": arn, "is_writer": bool,
    "readers": [arn], "sync": status}``. Global clusters span regions; each region's reader asks once."""
    client = ctx.clients("rds", region)
    try:
        found = guarded(lambda: list(paginate(client, "describe_global_clusters", "GlobalClusters[]")))
    except ProviderError as err:
        ctx.incomplete(f"{region}/rds/global-clusters", err, "Aurora global database members unknown")
        return {}
    out: dict[str, dict[str, Any]] = {}
    for gc in found:
        members = gc.get("GlobalClusterMembers") or []
        writer = next((m.get("DBClusterArn") for m in members if m.get("IsWriter")), None)
        for m in members:
            out[str(m.get("DBClusterArn"))] = {
                "global_cluster": gc.get("GlobalClusterIdentifier"),
                "writer": writer,
                "is_writer": bool(m.get("IsWriter")),
                "readers": list(m.get("Readers") or []),
                "sync": m.get("SynchronizationStatus"),
            }
    return out


def read_backup_copies(ctx: Ctx, region: str, instances: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Automated backups each source instance replicates to other regions, read in those regions.

    A source lists its replications (``DBInstanceAutomatedBackupsReplications``, ARNs naming the
    destination region); each destination region is asked once (DescribeDBInstanceAutomatedBackups, a
    bulk listing) for the replicated backups' status and restore window. A destination that could not be
    read leaves those copies with an unknown status.
    """
    wanted: dict[str, set[str]] = defaultdict(set)  # destination region -> source ARNs
    listed: dict[str, list[str]] = {}
    for d in instances:
        arns = [r.get("DBInstanceAutomatedBackupsArn") for r in d.get("DBInstanceAutomatedBackupsReplications") or []]
        arns = [a for a in arns if a]
        if arns:
            listed[d["DBInstanceArn"]] = arns
            for a in arns:
                wanted[_region_of(a) or region].add(d["DBInstanceArn"])
    if not wanted:
        return {}

    def read(dest: str) -> list[dict[str, Any]]:
        client = ctx.clients("rds", dest)
        return list(paginate(client, "describe_db_instance_automated_backups", "DBInstanceAutomatedBackups[]"))

    found: dict[str, dict[str, Any]] = {}  # replicated backups ARN -> its description
    unread: set[str] = set()
    for dest, answer in ctx.each(read, sorted(wanted)):
        if isinstance(answer, ProviderError):
            ctx.incomplete(f"{dest}/rds/automated-backups", answer, "replicated backups unknown")
            unread.add(dest)
            continue
        for b in answer:
            if b.get("DBInstanceAutomatedBackupsArn"):
                found[b["DBInstanceAutomatedBackupsArn"]] = b
    out: dict[str, list[dict[str, Any]]] = {}
    for source, arns in listed.items():
        out[source] = []
        for arn in arns:
            b = found.get(arn) or {}
            window = b.get("RestoreWindow") or {}
            out[source].append(
                {
                    "region": _region_of(arn),
                    "arn": arn,
                    # None: the destination could not be read, or does not list these backups
                    "status": b.get("Status"),
                    "latest_restorable_time": iso(window.get("LatestTime")),
                    "retention_days": b.get("BackupRetentionPeriod"),
                }
            )
    return out


def _region_of(arn_or_id: str | None) -> str | None:
    """Region of a cross-region replica source given as an ARN (``arn:aws:rds:REGION:…``)."""
    if arn_or_id and arn_or_id.startswith("arn:"):
        parts = arn_or_id.split(":")
        return (parts[3] or None) if len(parts) > 3 else None
    return None


def replication_status(d: dict[str, Any]) -> dict[str, Any]:
    """A read replica's replication state from ``StatusInfos`` (StatusType ``read replication``):
    Status ``replicating``, ``replication stop point set``/``reached``, ``error``, ``stopped`` or
    ``terminated``; ``Normal`` false means an error state; ``Message`` says what went wrong."""
    info = next((s for s in d.get("StatusInfos") or [] if s.get("StatusType") == "read replication"), None)
    if info is None:
        return {"replication_status": None, "replication_healthy": None, "replication_message": None}
    return {
        "replication_status": info.get("Status"),
        "replication_healthy": info.get("Normal"),
        "replication_message": info.get("Message") or None,
    }


def store_kind(engine: str | None) -> str:
    """The config's data-store kind: ``aurora`` for the Aurora engines (aurora-mysql, aurora-postgresql,
    and the old ``aurora``), ``rds`` for every other RDS engine (Multi-AZ DB clusters included)."""
    return "aurora" if str(engine or "").startswith("aurora") else "rds"


def normalize_db_instance(
    ctx: Ctx, region: str, d: dict[str, Any], backup_copies: list[dict[str, Any]] | None = None
) -> Resource:
    source = d.get("ReadReplicaSourceDBInstanceIdentifier")
    endpoint = d.get("Endpoint") or {}
    attrs: dict[str, Any] = {
        "store_kind": store_kind(d.get("Engine")),
        "arn": d.get("DBInstanceArn"),
        "engine": d.get("Engine"),
        "version": d.get("EngineVersion"),
        "instance_class": d.get("DBInstanceClass"),
        "deletion_protection": d.get("DeletionProtection"),
        "multi_az": d.get("MultiAZ"),
        "cluster": d.get("DBClusterIdentifier"),
        "replica_source": source,
        "replica_source_region": _region_of(source) or (region if source else None),
        "replica_source_cluster": d.get("ReadReplicaSourceDBClusterIdentifier"),
        "replicas": d.get("ReadReplicaDBInstanceIdentifiers", []),
        "replica_clusters": d.get("ReadReplicaDBClusterIdentifiers", []),
        "replication_mode": d.get("ReplicaMode"),
        **replication_status(d),
        "latest_restorable_time": iso(d.get("LatestRestorableTime")),
        "backup_retention_days": d.get("BackupRetentionPeriod"),
        "backup_copies": backup_copies or [],
        "storage_encrypted": d.get("StorageEncrypted"),
        "endpoint": endpoint.get("Address"),
        "port": endpoint.get("Port"),
        "publicly_accessible": d.get("PubliclyAccessible"),
        "secondary_zone": d.get("SecondaryAvailabilityZone"),
        # RDS publishes replica lag only as the CloudWatch metric ReplicaLag (see read_lag).
        "replica_lag_metric": "ReplicaLag" if source else None,
        "replica_lag_s": None,
    }
    return ctx.resource(
        region=region,
        zone=d.get("AvailabilityZone", ""),
        kind=Kind.DB_INSTANCE,
        native_type=d.get("DBInstanceClass", ""),
        native_id=d["DBInstanceIdentifier"],
        name=d["DBInstanceIdentifier"],
        state=d.get("DBInstanceStatus", ""),
        tags=tag_dict(d.get("TagList")),
        attrs=attrs,
    )


def normalize_db_cluster(
    ctx: Ctx, region: str, c: dict[str, Any], global_members: dict[str, dict[str, Any]] | None = None
) -> Resource:
    members = c.get("DBClusterMembers", [])
    source = c.get("ReplicationSourceIdentifier")
    replicas = list(c.get("ReadReplicaIdentifiers", []))
    lag_metric_name = "AuroraBinlogReplicaLag" if source else None
    sync = None
    glob = (global_members or {}).get(str(c.get("DBClusterArn")))
    if glob is not None and glob["is_writer"]:
        replicas += [r for r in glob["readers"] if r not in replicas]
    elif glob is not None and glob["writer"]:
        # A global database secondary replicates from the writer cluster, in its own region's storage.
        source = glob["writer"]
        lag_metric_name = global_lag_metric(c.get("Engine"), c.get("EngineVersion"))
        sync = glob["sync"]
    attrs: dict[str, Any] = {
        "store_kind": store_kind(c.get("Engine")),
        "arn": c.get("DBClusterArn"),
        "engine": c.get("Engine"),
        "version": c.get("EngineVersion"),
        "deletion_protection": c.get("DeletionProtection"),
        "multi_az": c.get("MultiAZ"),
        "members": [{"id": m.get("DBInstanceIdentifier"), "writer": m.get("IsClusterWriter")} for m in members],
        "replica_source": source,
        "replica_source_region": _region_of(source),
        "replicas": replicas,
        "global_cluster": (glob or {}).get("global_cluster") or c.get("GlobalClusterIdentifier"),
        # Global secondaries: GlobalClusterMember.SynchronizationStatus (connected | pending-resync).
        "replication_status": sync,
        "replication_healthy": None if sync is None else sync == "connected",
        "replication_message": None,
        "latest_restorable_time": iso(c.get("LatestRestorableTime")),
        "backup_retention_days": c.get("BackupRetentionPeriod"),
        "storage_encrypted": c.get("StorageEncrypted"),
        "endpoint": c.get("Endpoint"),
        "reader_endpoint": c.get("ReaderEndpoint"),
        "port": c.get("Port"),
        "zones": c.get("AvailabilityZones", []),
        "replica_lag_metric": lag_metric_name,
        "replica_lag_s": None,
    }
    return ctx.resource(
        region=region,
        kind=Kind.DB_CLUSTER,
        native_type=f"rds:cluster:{c.get('Engine', '')}",
        native_id=c["DBClusterIdentifier"],
        name=c["DBClusterIdentifier"],
        state=c.get("Status", ""),
        capacity=Capacity(instances=len(members)),
        tags=tag_dict(c.get("TagList")),
        attrs=attrs,
    )
