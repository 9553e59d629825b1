"""Cloud SQL instances (primaries, read replicas, cross-region DR replicas, external-primary source
representations) as ``db.instance`` resources, with each replica's lag from Cloud Monitoring.

Read through the Cloud SQL Admin API v1 (``instances.list``, google-api-python-client's bundled
discovery document). Replica links are the API's own: a replica's ``masterInstanceName``
(``project:instance``) names its primary, which lists it in ``replicaNames``; the link-based
``data.replica`` check reads ``replica_source``. A replica of an external primary (external-server
replication, Database Migration Service) names a source-representation instance
(``instanceType: ON_PREMISES_INSTANCE``), which is inventoried like any primary, so that replica is
judged by its own lag too.

Lag: ``database/replication/replica_lag`` (seconds) is the judged figure. For PostgreSQL it is the
apply (replay) delay only, so ``database/postgresql/replication/replica_byte_lag`` is recorded beside
it (``replica_byte_lag``, bytes) as evidence; ``replica_lag_metric`` names what was judged.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from failover.errors import ProviderError
from failover.model import Kind, Resource, ScopeError
from providers.base import error_kind, one_line
from providers.gcp.clients import GcpSession
from providers.gcp.common import Target
from providers.gcp.monitoring import REPLICA_LAG, read_byte_lag, read_replica_lag

NATIVE_TYPE = "sqladmin.googleapis.com/Instance"


def engine_of(database_version: str) -> str:
    """``POSTGRES_15`` -> ``postgres``, ``MYSQL_8_0`` -> ``mysql``, ``SQLSERVER_2019_STANDARD`` -> ``sqlserver``."""
    return database_version.split("_", 1)[0].lower() if database_version else ""


def state_of(inst: dict[str, Any]) -> str:
    """The instance state as gcloud shows it: a RUNNABLE instance whose activation policy is NEVER is stopped."""
    state = str(inst.get("state") or "")
    if state == "RUNNABLE" and (inst.get("settings") or {}).get("activationPolicy") == "NEVER":
        return "STOPPED"
    return state


def normalize_sql_instance(target: Target, inst: dict[str, Any]) -> Resource:
    """One ``DatabaseInstance`` body as a ``db.instance``; lag is added after (``with_lag``)."""
    settings = inst.get("settings") or {}
    name = str(inst["name"])
    master = inst.get("masterInstanceName") or None
    cluster = inst.get("replicationCluster") or {}
    version = str(inst.get("databaseVersion") or "")
    attrs: dict[str, Any] = {
        "project": target.project,
        "self_link": f"projects/{target.project}/instances/{name}",
        "store_kind": "cloudsql",
        "engine": engine_of(version),
        "version": version,
        "instance_class": settings.get("tier"),
        "instance_type": inst.get("instanceType"),
        "multi_az": settings.get("availabilityType") == "REGIONAL" if settings.get("availabilityType") else None,
        "high_availability": settings.get("availabilityType"),
        "deletion_protection": settings.get("deletionProtectionEnabled"),
        "replica_source": master,
        "replica_names": list(inst.get("replicaNames") or []),
        "replicas": [f"{target.project}:{r}" for r in inst.get("replicaNames") or []],
        "dr_replica": bool(cluster.get("drReplica")) if master else None,
        "failover_dr_replica": cluster.get("failoverDrReplicaName"),
        "created": inst.get("createTime"),
    }
    if inst.get("instanceType") == "ON_PREMISES_INSTANCE":
        attrs["external_host"] = (inst.get("onPremisesConfiguration") or {}).get("hostPort")
    if master:
        attrs["replica_lag_metric"] = REPLICA_LAG  # judged; for PostgreSQL the apply lag only
        attrs["replica_lag_s"] = None
        enabled = settings.get("databaseReplicationEnabled")
        if enabled is False:  # `gcloud sql instances patch --no-enable-database-replication`
            attrs["replication_status"] = "stopped"
            attrs["replication_healthy"] = False
            attrs["replication_message"] = "settings.databaseReplicationEnabled is false"
    zone = str(inst.get("gceZone") or "")
    return Resource(
        provider="gcp",
        account=target.account,
        region=str(inst.get("region") or ""),
        zone=zone,
        kind=Kind.DB_INSTANCE,
        native_type=NATIVE_TYPE,
        native_id=f"{target.project}:{name}",
        name=name,
        state=state_of(inst),
        tags=dict(settings.get("userLabels") or {}),
        attrs=attrs,
    )


def _list(session: GcpSession, scope: str, project: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every instance of the project, and the regions the API warned it could not reach."""
    instances = session.api("sqladmin", "v1").instances()
    request = instances.list(project=project, maxResults=500)
    items: list[dict[str, Any]] = []
    unreachable: list[str] = []
    seen: set[str] = set()
    while request is not None:
        page = session.execute(scope, request)
        items.extend(page.get("items") or [])
        for w in page.get("warnings") or []:
            if w.get("code") == "REGION_UNREACHABLE":
                unreachable.append(str(w.get("region") or w.get("message") or "?"))
        token = page.get("nextPageToken")
        if token in seen:
            raise ProviderError(f"error reading {scope}: the API repeated page token {token!r}", scope)
        if token:
            seen.add(token)
        request = instances.list_next(request, page)
    return items, unreachable


def read_cloudsql(session: GcpSession, target: Target) -> tuple[list[Resource], list[ScopeError]]:
    """The project's Cloud SQL instances; replicas carry their lag (None when Monitoring has no point)."""
    scope = f"{target.project}/sqlInstances"
    items, unreachable = _list(session, scope, target.project)
    errors = [
        ScopeError(
            scope=f"{target.project}/{region}/sqlInstances",
            error="unreachable",
            reason=f"the Cloud SQL Admin API could not read region {region} (REGION_UNREACHABLE)",
        )
        for region in unreachable
    ]
    resources = [normalize_sql_instance(target, i) for i in items]
    replicas = [r for r in resources if r.attrs.get("replica_source")]
    if not replicas:
        return resources, errors
    lag_scope = f"{target.project}/monitoring"
    try:
        lags = read_replica_lag(session, lag_scope, target.project)
        postgres = any(r.attrs.get("engine") == "postgres" for r in replicas)
        byte_lags = read_byte_lag(session, lag_scope, target.project) if postgres else {}
    except ProviderError as err:
        errors.append(ScopeError(scope=lag_scope, error=error_kind(err), reason=f"replica lag: {one_line(err)}"))
        return resources, errors
    return [with_lag(r, lags, byte_lags) for r in resources], errors


def with_lag(r: Resource, lags: dict[str, float], byte_lags: dict[str, float]) -> Resource:
    if not r.attrs.get("replica_source"):
        return r
    attrs = {**r.attrs, "replica_lag_s": lags.get(r.name)}
    if r.attrs.get("engine") == "postgres":
        attrs["replica_byte_lag"] = byte_lags.get(r.name)
    return dataclasses.replace(r, attrs=attrs)
