"""Cloud SQL Admin API (v1) instance shapes for the GCP emulator (served by ``failover.sandbox.gcp``).

``GET /v1/projects/{project}/instances`` answers an ``InstancesListResponse`` (``sql#instancesList``)
of ``DatabaseInstance`` bodies; field names and enum values follow the ``sqladmin.v1`` discovery
document google-api-python-client ships (tests/integration/test_sandbox_gcp_data_conformance.py holds every body
to it). What it models as the real API does:

- a read replica names its primary in ``masterInstanceName`` as ``project:instance`` and the primary
  lists it (plain name) in ``replicaNames``; a cross-region DR replica carries
  ``replicationCluster.drReplica`` and its primary ``replicationCluster.failoverDrReplicaName``;
- an external primary is a source-representation instance (``instanceType: ON_PREMISES_INSTANCE``,
  ``backendType: EXTERNAL``, ``onPremisesConfiguration.hostPort``) whose replica names it;
- a stopped instance stays ``state: RUNNABLE`` with ``settings.activationPolicy: NEVER``; a replica
  whose replication was stopped has ``settings.databaseReplicationEnabled: false``;
- a region the API could not read shows as an ``ApiWarning`` ``REGION_UNREACHABLE`` on the list.
"""

from __future__ import annotations

from typing import Any

SQL_BASE = "https://sqladmin.googleapis.com/v1"
# SqlInstanceState values (sqladmin v1 DatabaseInstance.state)
STATES = frozenset(
    {
        "RUNNABLE",
        "SUSPENDED",
        "PENDING_DELETE",
        "PENDING_CREATE",
        "MAINTENANCE",
        "FAILED",
        "ONLINE_MAINTENANCE",
        "REPAIRING",
    }
)


def sql_instance(
    project: str,
    name: str,
    *,
    region: str,
    database_version: str = "POSTGRES_15",
    tier: str = "db-custom-2-7680",
    state: str = "RUNNABLE",
    master: str | None = None,
    labels: dict[str, str] | None = None,
    availability: str = "ZONAL",
    activation_policy: str = "ALWAYS",
    replication_enabled: bool | None = None,
    dr_replica: bool = False,
    external_host: str | None = None,
    deletion_protection: bool = False,
    zone_suffix: str = "b",
) -> dict[str, Any]:
    """One ``DatabaseInstance`` as the list answers it. ``master`` is the primary's plain name (same
    project) or ``project:name``; ``external_host`` makes a source-representation instance."""
    if state not in STATES:
        raise ValueError(f"unknown Cloud SQL state {state!r} (one of {sorted(STATES)})")
    external = external_host is not None
    body: dict[str, Any] = {
        "kind": "sql#instance",
        "name": name,
        "project": project,
        "region": region,
        "databaseVersion": database_version,
        "state": state,
        "backendType": "EXTERNAL" if external else "SECOND_GEN",
        "instanceType": (
            "ON_PREMISES_INSTANCE" if external else ("READ_REPLICA_INSTANCE" if master else "CLOUD_SQL_INSTANCE")
        ),
        "selfLink": f"{SQL_BASE}/projects/{project}/instances/{name}",
        "connectionName": f"{project}:{region}:{name}",
        "createTime": "2024-05-01T12:00:00.000Z",
        "settings": {
            "kind": "sql#settings",
            "tier": tier,
            "availabilityType": availability,
            "activationPolicy": activation_policy,
            "userLabels": dict(labels or {}),
            "deletionProtectionEnabled": deletion_protection,
            "settingsVersion": "1",
            "pricingPlan": "PER_USE",
            "backupConfiguration": {"kind": "sql#backupConfiguration", "enabled": not (master or external)},
        },
    }
    if not external:
        body["gceZone"] = f"{region}-{zone_suffix}"
        body["ipAddresses"] = [{"type": "PRIMARY", "ipAddress": "10.20.0.3"}]
    else:
        body["onPremisesConfiguration"] = {"kind": "sql#onPremisesConfiguration", "hostPort": external_host}
    if master:
        body["masterInstanceName"] = master if ":" in master else f"{project}:{master}"
        body["replicaConfiguration"] = {"kind": "sql#replicaConfiguration", "failoverTarget": False}
        body["settings"]["databaseReplicationEnabled"] = True if replication_enabled is None else replication_enabled
        if dr_replica:
            body["replicationCluster"] = {"drReplica": True}
    return body


def instances_list(items: list[dict[str, Any]], unreachable_regions: list[str], token: str) -> dict[str, Any]:
    """An ``InstancesListResponse`` page."""
    out: dict[str, Any] = {"kind": "sql#instancesList"}
    if items:
        out["items"] = items
    if unreachable_regions:
        out["warnings"] = [
            {"code": "REGION_UNREACHABLE", "message": f"Region {r} is unreachable.", "region": r}
            for r in unreachable_regions
        ]
    if token:
        out["nextPageToken"] = token
    return out


def link_replicas(instances: list[dict[str, Any]], project: str) -> list[dict[str, Any]]:
    """The instances with each primary's ``replicaNames`` (and DR replica name) derived from its replicas."""
    out = []
    for inst in instances:
        inst = {**inst}
        me = f"{project}:{inst['name']}"
        replicas = [i for i in instances if i.get("masterInstanceName") == me]
        if replicas:
            inst["replicaNames"] = [r["name"] for r in replicas]
            dr = next((r for r in replicas if (r.get("replicationCluster") or {}).get("drReplica")), None)
            if dr is not None:
                inst["replicationCluster"] = {"failoverDrReplicaName": dr["name"], "drReplica": False}
        out.append(inst)
    return out
