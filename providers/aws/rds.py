"""RDS DB instances and clusters, with the replica links and backup facts the data checks need."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from failover.errors import ProviderError
from failover.model import Capacity, Kind, Resource
from providers.aws.context import Ctx, iso, tag_dict
from providers.aws.session import guarded, paginate

LAG_WINDOW = timedelta(minutes=10)
QUERIES_PER_CALL = 500  # GetMetricData accepts at most 500 queries


def read_databases(ctx: Ctx, region: str) -> list[Resource]:
    client = ctx.clients("rds", region)
    instances = list(paginate(client, "describe_db_instances", "DBInstances[]", page_size=ctx.page_size))
    clusters = list(paginate(client, "describe_db_clusters", "DBClusters[]", page_size=ctx.page_size))
    resources = [normalize_db_instance(ctx, region, d) for d in instances]
    replicas = [r.native_id for r in resources if r.attrs.get("replica_source")]
    if replicas:
        try:
            lags = guarded(lambda: read_replica_lag(ctx, region, replicas))
        except ProviderError as err:
            ctx.incomplete(f"{region}/cloudwatch", err, "replica lag")
        else:
            resources = [with_lag(r, lags) for r in resources]
    return resources + [normalize_db_cluster(ctx, region, c) for c in clusters]


def read_replica_lag(ctx: Ctx, region: str, replicas: list[str]) -> dict[str, float]:
    """Newest ``ReplicaLag`` (seconds) per replica over the last minutes; RDS reports lag nowhere else.

    A replica with no datapoint in the window is absent: its lag stays unknown, never zero.
    """
    cloudwatch = ctx.clients("cloudwatch", region)
    end = datetime.now(UTC)
    found: dict[str, float] = {}
    for start in range(0, len(replicas), QUERIES_PER_CALL):
        batch = replicas[start : start + QUERIES_PER_CALL]
        queries = [
            {
                "Id": f"lag{n}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/RDS",
                        "MetricName": "ReplicaLag",
                        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": name}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
            for n, name in enumerate(batch)
        ]
        pages = paginate(
            cloudwatch,
            "get_metric_data",
            "MetricDataResults[]",
            MetricDataQueries=queries,
            StartTime=end - LAG_WINDOW,
            EndTime=end,
            ScanBy="TimestampDescending",
        )
        for result in pages:
            values = result.get("Values") or []
            if values:
                found[batch[int(result["Id"].removeprefix("lag"))]] = float(values[0])
    return found


def with_lag(resource: Resource, lags: dict[str, float]) -> Resource:
    if resource.native_id not in lags:
        return resource
    return dataclasses.replace(resource, attrs={**resource.attrs, "replica_lag_s": lags[resource.native_id]})


def _region_of(arn_or_id: str | None) -> str | None:
    """Region of a cross-region replica source given as an ARN (``arn:aws:rds:REGION:…``)."""
    if arn_or_id and arn_or_id.startswith("arn:"):
        parts = arn_or_id.split(":")
        return parts[3] if len(parts) > 3 else None
    return None


def normalize_db_instance(ctx: Ctx, region: str, d: dict[str, Any]) -> Resource:
    source = d.get("ReadReplicaSourceDBInstanceIdentifier")
    endpoint = d.get("Endpoint") or {}
    attrs: dict[str, Any] = {
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
        "latest_restorable_time": iso(d.get("LatestRestorableTime")),
        "backup_retention_days": d.get("BackupRetentionPeriod"),
        "storage_encrypted": d.get("StorageEncrypted"),
        "endpoint": endpoint.get("Address"),
        "port": endpoint.get("Port"),
        "publicly_accessible": d.get("PubliclyAccessible"),
        "secondary_zone": d.get("SecondaryAvailabilityZone"),
        # RDS publishes replica lag only as the CloudWatch metric ReplicaLag (see read_replica_lag).
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


def normalize_db_cluster(ctx: Ctx, region: str, c: dict[str, Any]) -> Resource:
    members = c.get("DBClusterMembers", [])
    source = c.get("ReplicationSourceIdentifier")
    attrs: dict[str, Any] = {
        "arn": c.get("DBClusterArn"),
        "engine": c.get("Engine"),
        "version": c.get("EngineVersion"),
        "deletion_protection": c.get("DeletionProtection"),
        "multi_az": c.get("MultiAZ"),
        "members": [{"id": m.get("DBInstanceIdentifier"), "writer": m.get("IsClusterWriter")} for m in members],
        "replica_source": source,
        "replica_source_region": _region_of(source),
        "replicas": c.get("ReadReplicaIdentifiers", []),
        "global_cluster": c.get("GlobalClusterIdentifier"),
        "latest_restorable_time": iso(c.get("LatestRestorableTime")),
        "backup_retention_days": c.get("BackupRetentionPeriod"),
        "storage_encrypted": c.get("StorageEncrypted"),
        "endpoint": c.get("Endpoint"),
        "reader_endpoint": c.get("ReaderEndpoint"),
        "port": c.get("Port"),
        "zones": c.get("AvailabilityZones", []),
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
