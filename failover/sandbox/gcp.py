"""A local fake of the Compute Engine REST API, for tests and the demo.

It speaks the wire shapes ``google-cloud-compute`` parses (camelCase JSON under ``/compute/v1``), so
the adapter runs its real SDK clients against it. Field names and enum values come from the SDK's
message types and the v1 discovery document; tests/integration/test_sandbox_gcp_conformance.py parses every body
it serves into those types. Seed it from Python, inject faults at run time (403/429/5xx, slow answers,
unreachable scopes), and read ``requests`` to prove what was called and what was answered.

What it models as the real API does:
- aggregated lists group items by scope (``zones/z``, ``regions/r``, ``global``); a scope with none
  carries a ``NO_RESULTS_ON_PAGE`` warning; a scope that could not be read carries an ``UNREACHABLE``
  warning in place of its items, and only a request with ``returnPartialSuccess=true`` gets the
  top-level ``unreachables`` list instead;
- a managed instance group's members are the instances it created (their ``created-by`` metadata)
  plus one ``CREATING`` member without a VM for each instance still missing from ``targetSize``;
  ``currentActions``, ``status.isStable`` and ``listManagedInstances`` are all derived from them;
  ``listManagedInstances`` pages only when the group's ``listManagedInstancesResults`` is ``PAGINATED``;
- regions report per-series CPU quotas, or a ``quotaStatusWarning`` when quotas failed to load;
  ``projects.get`` reports project quotas (``CPUS_ALL_REGIONS``);
- backend services may have instance groups, zonal NEGs (health-checked) and serverless NEGs (no
  health check allowed; ``getHealth`` refuses them);
- the data tier on the same port (``DATA_ROUTES``): Cloud SQL instances (``gcp_sql``), Cloud Storage
  buckets (``gcp_storage``) and Cloud Monitoring time series (``gcp_monitoring``);
- Cloud DNS on the same port (``DNS_ROUTES``): managed zones and record sets with routing policies, and
  the global Compute health checks those policies name (``gcp_dns``).

    with FakeGcp(page_size=2) as fake:
        fake.add_region("acme", "us-east1", zones=["us-east1-b"], quotas={"CPUS": (24, 8)})
        fake.add_instance("acme", "us-east1-b", "web-1", machine_type="e2-standard-4")
        ... Account(provider="gcp", project="acme", endpoint=fake.url, credentials="anonymous")
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from failover.sandbox import gcp_dns, gcp_monitoring, gcp_sql, gcp_storage
from failover.sandbox._server import Answer, JsonApi

__all__ = ["BASE", "DATA_ROUTES", "DNS_ROUTES", "FakeGcp", "Fault", "Request", "seed_demo"]

BASE = "https://www.googleapis.com/compute/v1"
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_REASONS = {403: "forbidden", 404: "notFound", 429: "rateLimitExceeded", 500: "backendError", 503: "backendError"}
# aggregated collection -> the key its scoped lists use
AGGREGATED = {
    "instances": "instances",
    "disks": "disks",
    "instanceGroupManagers": "instanceGroupManagers",
    "autoscalers": "autoscalers",
    "forwardingRules": "forwardingRules",
    "backendServices": "backendServices",
    "instanceTemplates": "instanceTemplates",
}
# collections with resources in the ``global`` scope of their aggregated list
_GLOBAL_SCOPED = {"forwardingRules", "backendServices", "instanceTemplates"}
# aggregated list types without an ``unreachables`` field (InstanceTemplateAggregatedList)
_NO_UNREACHABLES = {"instanceTemplates"}
_P = r"^/compute/v1/projects/(?P<p>[^/]+)"
# (verb, path, route name, fault collection): every route the fake serves; the conformance test
# parses each one's answers into the SDK's types and fails on a route it does not cover.
ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    ("GET", re.compile(_P + r"$"), "project", "projects"),
    ("GET", re.compile(_P + r"/aggregated/(?P<c>[A-Za-z]+)$"), "aggregated", ""),
    ("GET", re.compile(_P + r"/regions$"), "regions", "regions"),
    ("GET", re.compile(_P + r"/global/forwardingRules$"), "global_rules", "globalForwardingRules"),
    ("GET", re.compile(_P + r"/zones/(?P<z>[^/]+)/machineTypes/(?P<m>[^/]+)$"), "mtype", "machineTypes"),
    (
        "POST",
        re.compile(_P + r"/(?P<s>zones/[^/]+|regions/[^/]+)/instanceGroupManagers/(?P<g>[^/]+)/listManagedInstances$"),
        "members",
        "listManagedInstances",
    ),
    (
        "POST",
        re.compile(_P + r"/(?P<s>global|regions/[^/]+)/backendServices/(?P<b>[^/]+)/getHealth$"),
        "health",
        "getHealth",
    ),
]
# The data tier's routes (Cloud SQL Admin v1, Cloud Storage JSON v1, Monitoring v3), served on the same
# port as Compute: the real services live on other hosts, but their paths do not overlap, so one account
# endpoint reaches all four. The storage list names its project in the query (``?project=``).
DATA_ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    ("GET", re.compile(r"^/v1/projects/(?P<p>[^/]+)/instances$"), "sql_instances", "sqlInstances"),
    ("GET", re.compile(r"^/storage/v1/b$"), "buckets", "buckets"),
    ("GET", re.compile(r"^/v3/projects/(?P<p>[^/]+)/timeSeries$"), "time_series", "timeSeries"),
]
# Cloud DNS v1 (its own host in real life, ``/dns/v1`` paths) and the global Compute health checks its
# routing policies probe external endpoints with (``healthChecks.get``).
DNS_ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    ("GET", re.compile(r"^/dns/v1/projects/(?P<p>[^/]+)/managedZones$"), "dns_zones", "managedZones"),
    ("GET", re.compile(r"^/dns/v1/projects/(?P<p>[^/]+)/managedZones/(?P<z>[^/]+)/rrsets$"), "dns_rrsets", "rrsets"),
    ("GET", re.compile(_P + r"/global/healthChecks/(?P<h>[^/]+)$"), "health_check", "healthChecks"),
    # an internal load balancer's backend health check, when regional (Cloud DNS internal LB targets)
    (
        "GET",
        re.compile(_P + r"/regions/(?P<r>[^/]+)/healthChecks/(?P<h>[^/]+)$"),
        "region_health_check",
        "healthChecks",
    ),
]
# ManagedInstance.currentAction -> its InstanceGroupManagerActionsSummary counter (the SDK's names)
ACTION_COUNTERS = {
    "ABANDONING": "abandoning",
    "CREATING": "creating",
    "CREATING_WITHOUT_RETRIES": "creatingWithoutRetries",
    "DELETING": "deleting",
    "NONE": "none",
    "RECREATING": "recreating",
    "REFRESHING": "refreshing",
    "RESTARTING": "restarting",
    "RESUMING": "resuming",
    "STARTING": "starting",
    "STOPPING": "stopping",
    "SUSPENDING": "suspending",
    "VERIFYING": "verifying",
}
# currentAction values a member may be seeded with: the API's, less STOPPING and SUSPENDING, which
# google-cloud-compute 1.57's ManagedInstance.CurrentAction does not know yet (the conformance test
# holds every served value to the SDK's enums)
MEMBER_ACTIONS = frozenset(ACTION_COUNTERS) - {"STOPPING", "SUSPENDING"}


@dataclass
class Request:
    """One request the fake received, and what it answered (the conformance test reads both)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    route: str = ""  # the ROUTES name that served it ("" when none matched)
    status: int = 0
    response: Any = None


@dataclass
class Fault:
    """Answer ``status`` (or wait ``delay`` seconds first) to matching requests, ``times`` times (None: always).

    ``collection`` is the path's collection: ``instances``, ``disks``, ``regions``, ``machineTypes``,
    ``globalForwardingRules``, ``getHealth``, ``instanceGroupManagers``, ``listManagedInstances``,
    ``projects`` (``projects.get``), ...
    """

    status: int | None = None
    project: str | None = None
    collection: str | None = None
    times: int | None = None
    delay: float = 0.0
    message: str = ""
    retry_after: float | None = None  # sent as a Retry-After header with the error
    after: int = 0  # matching requests let through first

    def matches(self, project: str | None, collection: str | None) -> bool:
        return (self.project in (None, project)) and (self.collection in (None, collection)) and self.times != 0


@dataclass
class _Project:
    id: str = ""
    zones: list[str] = field(default_factory=list)
    regions: list[dict[str, Any]] = field(default_factory=list)
    quotas: list[dict[str, Any]] = field(default_factory=list)  # project quotas (projects.get)
    scoped: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)  # collection -> (scope, item)
    health: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    no_health: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # serverless NEG urls per service
    unreachable: dict[str, set[str]] = field(default_factory=dict)  # collection -> scopes
    member_state: dict[str, dict[str, Any]] = field(default_factory=dict)  # instance url -> action, health
    sql: list[dict[str, Any]] = field(default_factory=list)  # Cloud SQL DatabaseInstance bodies
    sql_unreachable: list[str] = field(default_factory=list)  # regions the instance list warns about
    buckets: list[dict[str, Any]] = field(default_factory=list)  # Cloud Storage Bucket bodies
    buckets_unreachable: list[str] = field(default_factory=list)  # bucket names the listing cannot reach
    series: list[dict[str, Any]] = field(default_factory=list)  # Monitoring TimeSeries bodies
    dns_zones: list[dict[str, Any]] = field(default_factory=list)  # Cloud DNS ManagedZone bodies
    rrsets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # zone name -> ResourceRecordSets
    health_checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # "[regions/R/]name" -> HealthCheck


def _wire(value: Any) -> Any:
    """A deep copy of seeded JSON, so an answer never shares (or exposes) the fake's own state."""
    return json.loads(json.dumps(value))


def _region_of(zone: str) -> str:
    return zone.rsplit("-", 1)[0]


class FakeGcp(JsonApi["Request", "Fault"]):
    """The fake Compute API server. Thread-safe; seed before or while the adapter runs."""

    content_type = "application/json; charset=UTF-8"
    name = "fake-gcp"

    def __init__(self, *, page_size: int = 500, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.page_size = page_size
        self._projects: dict[str, _Project] = {}
        self._machine_types: dict[str, dict[str, Any]] = {}
        self._next_id = 1000

    def _internal_error(self, err: Exception) -> Answer:
        status, payload = _error(500, f"fake error: {err!r}")  # a fake bug must show as a 500, not a hung client
        return status, {}, payload

    # -- faults ------------------------------------------------------------------------------------
    def fail(
        self,
        status: int,
        *,
        project: str | None = None,
        collection: str | None = None,
        times: int | None = None,
        message: str = "",
        retry_after: float | None = None,
    ) -> Fault:
        fault = Fault(
            status=status,
            project=project,
            collection=collection,
            times=times,
            message=message,
            retry_after=retry_after,
        )
        return self._add_fault(fault)

    def slow(
        self, seconds: float, *, project: str | None = None, collection: str | None = None, times: int | None = None
    ) -> Fault:
        fault = Fault(delay=seconds, project=project, collection=collection, times=times)
        return self._add_fault(fault)

    def set_unreachable(self, project: str, collection: str, scope: str) -> None:
        """Make ``scope`` (e.g. ``zones/us-east1-b``) unreadable in an aggregated list: its items give way to
        an ``UNREACHABLE`` warning (or, for ``returnPartialSuccess=true``, a top-level ``unreachables``)."""
        with self._lock:
            self._project(project).unreachable.setdefault(collection, set()).add(scope)

    def clear_faults(self) -> None:
        super().clear_faults()
        with self._lock:
            for p in self._projects.values():
                p.unreachable.clear()
                p.sql_unreachable.clear()
                p.buckets_unreachable.clear()

    # -- data tier: Cloud SQL, Cloud Storage, Cloud Monitoring ---------------------------------------
    def add_sql_instance(self, project: str, name: str, **kwargs: Any) -> dict[str, Any]:
        """A Cloud SQL instance (see ``gcp_sql.sql_instance`` for the knobs: region, master, state, …)."""
        body = gcp_sql.sql_instance(project, name, **kwargs)
        with self._lock:
            self._project(project).sql.append(body)
        return body

    def set_sql_region_unreachable(self, project: str, region: str) -> None:
        """The instance list leaves out ``region``'s instances and warns ``REGION_UNREACHABLE`` instead."""
        with self._lock:
            self._project(project).sql_unreachable.append(region)

    def add_bucket(self, project: str, name: str, **kwargs: Any) -> dict[str, Any]:
        """A Cloud Storage bucket (see ``gcp_storage.bucket``: location, location_type, rpo, data_locations)."""
        with self._lock:
            p = self._project(project)
            body = gcp_storage.bucket(p.id, name, **kwargs)
            p.buckets.append(body)
        return body

    def set_bucket_unreachable(self, project: str, name: str) -> None:
        with self._lock:
            self._project(project).buckets_unreachable.append(name)

    def add_replica_lag(
        self, project: str, replica: str, values: list[float], *, newest: datetime | None = None
    ) -> dict[str, Any]:
        """``database/replication/replica_lag`` points (seconds, oldest first) on a replica's resource."""
        return self._add_series(project, replica, gcp_monitoring.REPLICA_LAG, values, {}, newest)

    def add_replica_byte_lag(
        self,
        project: str,
        primary: str,
        replica: str,
        values: list[float],
        *,
        lag_type: str = "replay_location",
        newest: datetime | None = None,
    ) -> dict[str, Any]:
        """``database/postgresql/replication/replica_byte_lag`` points (bytes) on the primary, for one replica."""
        if lag_type not in gcp_monitoring.BYTE_LAG_TYPES:
            raise ValueError(f"unknown replica_lag_type {lag_type!r}")
        labels = {"replica_name": replica, "replica_lag_type": lag_type}
        return self._add_series(project, primary, gcp_monitoring.REPLICA_BYTE_LAG, values, labels, newest)

    def add_time_series(
        self,
        project: str,
        metric: str,
        resource_type: str,
        resource_labels: dict[str, str],
        values: list[float],
        *,
        labels: dict[str, str] | None = None,
        newest: datetime | None = None,
        value_type: str = "DOUBLE",
        unit: str = "s",
    ) -> dict[str, Any]:
        """Points (oldest first) of any metric on any monitored resource: a custom metric a replication
        job writes, Datastream's ``stream/freshness``, …"""
        made = gcp_monitoring.series(
            metric,
            resource_type,
            resource_labels,
            values,
            labels=labels,
            newest=newest,
            value_type=value_type,
            unit=unit,
        )
        with self._lock:
            self._project(project).series.append(made)
        return made

    def _add_series(
        self,
        project: str,
        instance: str,
        metric: str,
        values: list[float],
        labels: dict[str, str],
        newest: datetime | None,
    ) -> dict[str, Any]:
        with self._lock:
            p = self._project(project)
            found = next((i for i in p.sql if i["name"] == instance), None)
            if found is None:
                raise ValueError(f"no Cloud SQL instance {instance!r} in {project}: add it first")
            series = gcp_monitoring.cloudsql_series(
                project, instance, found["region"], metric, values, labels=labels, newest=newest
            )
            p.series.append(series)
        return series

    # -- Cloud DNS ---------------------------------------------------------------------------------
    def add_dns_zone(self, project: str, name: str, dns_name: str, **kwargs: Any) -> dict[str, Any]:
        """A managed zone with its apex SOA and NS sets (``gcp_dns.managed_zone``: visibility, labels, …)."""
        with self._lock:
            p = self._project(project)
            letter = "abcde"[len(p.dns_zones) % 5]
            zone = gcp_dns.managed_zone(project, name, dns_name, zone_id=self._id(), letter=letter, **kwargs)
            p.dns_zones.append(zone)
            p.rrsets[name] = gcp_dns.apex_records(zone)
        return zone

    def add_rrset(
        self,
        project: str,
        zone: str,
        name: str,
        rtype: str,
        rrdatas: list[str] | None = None,
        *,
        ttl: int = 300,
        policy: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A record set in ``zone`` (``name`` relative to it, or absolute with a trailing dot): plain
        ``rrdatas`` or a routing ``policy`` built with ``gcp_dns.policy``."""
        with self._lock:
            p = self._project(project)
            found = next((z for z in p.dns_zones if z["name"] == zone), None)
            if found is None:
                raise ValueError(f"no managed zone {zone!r} in {project}: add it first")
            fqdn = name if name.endswith(".") else f"{name}.{found['dnsName']}"
            body = gcp_dns.rrset(fqdn, rtype, rrdatas, ttl=ttl, policy=policy)
            p.rrsets[zone].append(body)
        return body

    def add_dns_health_check(self, project: str, name: str, **kwargs: Any) -> dict[str, Any]:
        """A Compute health check (``gcp_dns.health_check``): global for Cloud DNS public health checking,
        or with ``region`` a regional one (a load balancer backend service's)."""
        with self._lock:
            body = gcp_dns.health_check(project, name, hc_id=self._id(), **kwargs)
            region = kwargs.get("region")
            self._project(project).health_checks[f"regions/{region}/{name}" if region else name] = body
        return body

    # -- seeding -----------------------------------------------------------------------------------
    def _project(self, name: str) -> _Project:
        if name not in self._projects:
            self._projects[name] = _Project(id=self._id())
        return self._projects[name]

    def _id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _add(self, project: str, collection: str, scope: str, item: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            item.setdefault("id", self._id())
            self._project(project).scoped.setdefault(collection, []).append((scope, item))
        return item

    def add_project(self, project: str, *, quotas: dict[str, tuple[float, float]] | None = None) -> None:
        """A project, with its project-wide quotas (``{"CPUS_ALL_REGIONS": (limit, usage)}``)."""
        with self._lock:
            p = self._project(project)
            if quotas is not None:
                p.quotas = [{"metric": m, "limit": lim, "usage": use} for m, (lim, use) in quotas.items()]

    def add_machine_type(self, name: str, guest_cpus: int, memory_mb: int, *, shared_cpu: bool = False) -> None:
        """Machine types are served in every zone of every project, as the real catalogue mostly is."""
        with self._lock:
            self._machine_types[name] = {
                "name": name,
                "guestCpus": guest_cpus,
                "memoryMb": memory_mb,
                "isSharedCpu": shared_cpu,
                "kind": "compute#machineType",
            }

    def add_region(
        self,
        project: str,
        name: str,
        *,
        zones: list[str] | None = None,
        quotas: dict[str, tuple[float, float]] | None = None,
        status: str = "UP",
        quota_warning: str | None = None,
    ) -> dict[str, Any]:
        """A region with its quotas (``{"CPUS": (limit, usage), "N2_CPUS": ...}``). ``quota_warning``: the
        quotas failed to load, answered as the API does, with ``quotaStatusWarning`` and no ``quotas``."""
        zones = zones if zones is not None else [f"{name}-b"]
        region: dict[str, Any] = {
            "kind": "compute#region",
            "id": "",
            "name": name,
            "status": status,
            "selfLink": f"{BASE}/projects/{project}/regions/{name}",
            "zones": [f"{BASE}/projects/{project}/zones/{z}" for z in zones],
            "quotas": [{"metric": m, "limit": lim, "usage": use} for m, (lim, use) in (quotas or {}).items()],
        }
        if quota_warning is not None:
            region["quotas"] = []
            region["quotaStatusWarning"] = {
                "code": "QUOTA_INFO_UNAVAILABLE",
                "message": quota_warning,
                "data": [{"key": "region", "value": name}],
            }
        with self._lock:
            region["id"] = self._id()
            p = self._project(project)
            p.regions.append(region)
            p.zones.extend(z for z in zones if z not in p.zones)
        return region

    def add_instance(
        self,
        project: str,
        zone: str,
        name: str,
        *,
        machine_type: str = "e2-standard-2",
        status: str = "RUNNING",
        labels: dict[str, str] | None = None,
        deletion_protection: bool = False,
        network_ip: str | None = None,
        nat_ip: str | None = None,
        image: str | None = None,
        created_by: str | None = None,
        member_action: str = "NONE",
        member_health: str | None = None,
    ) -> dict[str, Any]:
        """An instance, and its boot disk (with ``sourceImage``) when ``image`` is given.

        ``created_by`` (a group path) makes it a member of that managed instance group, on which the group
        is doing ``member_action`` (``NONE``, ``VERIFYING``, ``RECREATING`` ...); ``member_health`` is its
        autohealing health state (``HEALTHY``, ``UNHEALTHY`` ...), when the group has a health check."""
        zone_url = f"{BASE}/projects/{project}/zones/{zone}"
        nic: dict[str, Any] = {"name": "nic0", "network": f"{BASE}/projects/{project}/global/networks/default"}
        if network_ip:
            nic["networkIP"] = network_ip
        if nat_ip:
            nic["accessConfigs"] = [{"type": "ONE_TO_ONE_NAT", "name": "External NAT", "natIP": nat_ip}]
        inst: dict[str, Any] = {
            "kind": "compute#instance",
            "name": name,
            "zone": zone_url,
            "status": status,
            "machineType": f"{zone_url}/machineTypes/{machine_type}",
            "selfLink": f"{zone_url}/instances/{name}",
            "labels": dict(labels or {}),
            "deletionProtection": deletion_protection,
            "networkInterfaces": [nic],
            "disks": [],
        }
        if member_action not in MEMBER_ACTIONS:
            raise ValueError(f"member_action must be one of {sorted(MEMBER_ACTIONS)}, got {member_action!r}")
        if created_by:
            inst["metadata"] = {"items": [{"key": "created-by", "value": created_by}]}
            with self._lock:
                self._project(project).member_state[inst["selfLink"]] = {
                    "action": member_action,
                    "health": member_health,
                }
        if image:
            disk = {
                "kind": "compute#disk",
                "name": name,
                "zone": zone_url,
                "sizeGb": "10",
                "sourceImage": image if image.startswith("http") else f"{BASE}/{image}",
                "selfLink": f"{zone_url}/disks/{name}",
                "users": [inst["selfLink"]],
            }
            self._add(project, "disks", f"zones/{zone}", disk)
            inst["disks"] = [{"boot": True, "source": disk["selfLink"], "deviceName": name, "type": "PERSISTENT"}]
        return self._add(project, "instances", f"zones/{zone}", inst)

    def add_instance_template(
        self,
        project: str,
        name: str,
        *,
        machine_type: str,
        region: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        where = f"regions/{region}" if region else "global"
        tmpl = {
            "kind": "compute#instanceTemplate",
            "name": name,
            "selfLink": f"{BASE}/projects/{project}/{where}/instanceTemplates/{name}",
            "properties": {"machineType": machine_type, "labels": dict(labels or {})},
        }
        if region:
            tmpl["region"] = f"{BASE}/projects/{project}/regions/{region}"
        return self._add(project, "instanceTemplates", where, tmpl)

    def add_group(
        self,
        project: str,
        name: str,
        *,
        zone: str | None = None,
        region: str | None = None,
        target_size: int,
        template: str | None = None,
        autoscaler_min: int | None = None,
        autoscaler_max: int | None = None,
        autoscaler_mode: str = "ON",
        distribution_zones: list[str] | None = None,
        paginated_members: bool = False,
    ) -> dict[str, Any]:
        """A managed instance group (zonal with ``zone``, regional with ``region``), optionally autoscaled.

        ``template`` is a global template's name or a path (``regions/us-east1/instanceTemplates/t`` for a
        regional one). Its members are the instances added with ``created_by`` = this group's path; each
        one still missing from ``target_size`` is a ``CREATING`` member without a VM, as in a group that
        is scaling up (or cannot: quota, stockout). ``paginated_members`` sets
        ``listManagedInstancesResults: PAGINATED`` (default ``PAGELESS``: one page, paging ignored).
        """
        if (zone is None) == (region is None):
            raise ValueError("give exactly one of zone or region")
        where = f"zones/{zone}" if zone else f"regions/{region}"
        self_link = f"{BASE}/projects/{project}/{where}/instanceGroupManagers/{name}"
        mig: dict[str, Any] = {
            "kind": "compute#instanceGroupManager",
            "name": name,
            "selfLink": self_link,
            "baseInstanceName": name,
            "targetSize": target_size,
            "instanceGroup": f"{BASE}/projects/{project}/{where}/instanceGroups/{name}",
            "listManagedInstancesResults": "PAGINATED" if paginated_members else "PAGELESS",
            "status": {
                "isStable": True,
                "versionTarget": {"isReached": True},
                "stateful": {"hasStatefulConfig": False},
            },
        }
        if zone:
            mig["zone"] = f"{BASE}/projects/{project}/zones/{zone}"
        else:
            mig["region"] = f"{BASE}/projects/{project}/regions/{region}"
            zs = distribution_zones or [f"{region}-b"]
            mig["distributionPolicy"] = {"zones": [{"zone": f"{BASE}/projects/{project}/zones/{z}"} for z in zs]}
        if template:
            path = template if "/" in template else f"global/instanceTemplates/{template}"
            mig["instanceTemplate"] = f"{BASE}/projects/{project}/{path}"
            mig["versions"] = [{"instanceTemplate": mig["instanceTemplate"], "targetSize": {"calculated": target_size}}]
        if autoscaler_max is not None:
            scaler_link = f"{BASE}/projects/{project}/{where}/autoscalers/{name}-autoscaler"
            mig["status"]["autoscaler"] = scaler_link
            scaler: dict[str, Any] = {
                "kind": "compute#autoscaler",
                "name": f"{name}-autoscaler",
                "selfLink": scaler_link,
                "target": self_link,
                "status": "ACTIVE",
                "recommendedSize": target_size,
                "autoscalingPolicy": {
                    "minNumReplicas": autoscaler_min if autoscaler_min is not None else 1,
                    "maxNumReplicas": autoscaler_max,
                    "mode": autoscaler_mode,
                },
            }
            scaler["zone" if zone else "region"] = mig.get("zone") or mig["region"]
            self._add(project, "autoscalers", where, scaler)
        return self._add(project, "instanceGroupManagers", where, mig)

    def add_forwarding_rule(
        self,
        project: str,
        name: str,
        *,
        region: str | None = None,
        ip_address: str,
        port_range: str = "",
        target: str | None = None,
        backend_service: str | None = None,
        scheme: str = "EXTERNAL",
        protocol: str = "TCP",
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A forwarding rule: regional with ``region``, else global (in the aggregated list's ``global`` scope,
        and served by ``global/forwardingRules``)."""
        where = f"regions/{region}" if region else "global"
        rule: dict[str, Any] = {
            "kind": "compute#forwardingRule",
            "name": name,
            "IPAddress": ip_address,
            "IPProtocol": protocol,
            "loadBalancingScheme": scheme,
            "selfLink": f"{BASE}/projects/{project}/{where}/forwardingRules/{name}",
            "labels": dict(labels or {}),
        }
        if port_range:
            rule["portRange"] = port_range
        if target:
            rule["target"] = target if target.startswith("http") else f"{BASE}/projects/{project}/{target}"
        if backend_service:
            rule["backendService"] = (
                backend_service
                if backend_service.startswith("http")
                else f"{BASE}/projects/{project}/{backend_service}"
            )
        if region:
            rule["region"] = f"{BASE}/projects/{project}/regions/{region}"
        return self._add(project, "forwardingRules", where, rule)

    def add_backend_service(
        self,
        project: str,
        name: str,
        *,
        region: str | None = None,
        health: dict[str, list[dict[str, Any]]] | None = None,
        serverless_negs: list[str] | None = None,
        protocol: str = "HTTP",
        scheme: str = "EXTERNAL_MANAGED",
        health_checks: list[str] | None = None,
    ) -> dict[str, Any]:
        """``health`` maps each health-checked backend (an instance group ``zones/z/instanceGroups/g`` or a
        zonal NEG ``zones/z/networkEndpointGroups/n``) to its healthStatus list. ``serverless_negs`` are
        regional NEGs (``regions/r/networkEndpointGroups/n``: Cloud Run, Functions, App Engine), which the
        API lets no health check cover: such a service has no ``healthChecks``, and ``getHealth`` refuses
        them."""
        if serverless_negs and health_checks:
            raise ValueError("a backend service cannot have a health check with serverless NEG backends")
        where = f"regions/{region}" if region else "global"

        def url(g: str) -> str:
            return g if g.startswith("http") else f"{BASE}/projects/{project}/{g}"

        groups = {g: url(g) for g in (health or {})}
        backends: list[dict[str, Any]] = []
        for g in groups.values():
            if "/networkEndpointGroups/" in g:
                backends.append({"group": g, "balancingMode": "RATE", "maxRatePerEndpoint": 100, "capacityScaler": 1})
            else:
                backends.append(
                    {"group": g, "balancingMode": "UTILIZATION", "maxUtilization": 0.8, "capacityScaler": 1}
                )
        serverless = [url(n) for n in serverless_negs or []]
        backends += [{"group": g, "balancingMode": "UTILIZATION", "capacityScaler": 1} for g in serverless]
        bs: dict[str, Any] = {
            "kind": "compute#backendService",
            "name": name,
            "protocol": protocol,
            "loadBalancingScheme": scheme,
            "selfLink": f"{BASE}/projects/{project}/{where}/backendServices/{name}",
            "backends": backends,
            # a bare name is a global health check; ``regions/R/healthChecks/N`` a regional one
            "healthChecks": [
                f"{BASE}/projects/{project}/{h if '/' in h else f'global/healthChecks/{h}'}"
                for h in (health_checks or [])
            ],
        }
        if region:
            bs["region"] = f"{BASE}/projects/{project}/regions/{region}"
        with self._lock:
            p = self._project(project)
            p.health[(where, name)] = {groups[g]: list(v) for g, v in (health or {}).items()}
            p.no_health[(where, name)] = set(serverless)
        return self._add(project, "backendServices", where, bs)

    def set_health(
        self,
        project: str,
        backend_service: str,
        group: str,
        statuses: list[dict[str, Any]],
        *,
        region: str | None = None,
    ) -> None:
        where = f"regions/{region}" if region else "global"
        url = group if group.startswith("http") else f"{BASE}/projects/{project}/{group}"
        with self._lock:
            self._project(project).health.setdefault((where, backend_service), {})[url] = list(statuses)

    # -- derived state -----------------------------------------------------------------------------
    def _members(self, project: str, p: _Project, mig: dict[str, Any]) -> list[dict[str, Any]]:
        """The group's managed instances: the VMs it created, then one CREATING member per missing VM."""
        link = mig["selfLink"]
        path = link.removeprefix(BASE + "/")
        vms = [inst for _s, inst in p.scoped.get("instances", []) if _created_by(inst) in (path, link)]
        template = mig.get("instanceTemplate")
        members: list[dict[str, Any]] = []
        for inst in vms:
            state = p.member_state.get(inst["selfLink"], {})
            member: dict[str, Any] = {
                "instance": inst["selfLink"],
                "id": inst["id"],
                "name": inst["name"],
                "instanceStatus": inst["status"],
                "currentAction": state.get("action", "NONE"),
            }
            if template:
                member["version"] = {"instanceTemplate": template}
            if state.get("health"):
                member["instanceHealth"] = [
                    {
                        "detailedHealthState": state["health"],
                        "healthCheck": f"{BASE}/projects/{project}/global/healthChecks/{mig['name']}-autohealing",
                    }
                ]
            members.append(member)
        zone = last_part(mig.get("zone") or mig["distributionPolicy"]["zones"][0]["zone"])
        for n in range(max(0, int(mig["targetSize"]) - len(vms))):
            name = f"{mig['baseInstanceName']}-new{n}"
            members.append(
                {
                    "instance": f"{BASE}/projects/{project}/zones/{zone}/instances/{name}",
                    "name": name,
                    "currentAction": "CREATING",
                    **({"version": {"instanceTemplate": template}} if template else {}),
                }
            )
        return members

    def _render_group(self, project: str, p: _Project, mig: dict[str, Any]) -> dict[str, Any]:
        """The group as the API shows it: ``currentActions`` and ``status.isStable`` follow its members."""
        out = _wire(mig)
        counters = dict.fromkeys(sorted(ACTION_COUNTERS.values()), 0)
        members = self._members(project, p, mig)
        for m in members:
            counters[ACTION_COUNTERS[m["currentAction"]]] += 1
        out["currentActions"] = counters
        out["status"]["isStable"] = all(m["currentAction"] == "NONE" for m in members) and len(members) == int(
            mig["targetSize"]
        )
        return out

    # -- serving -----------------------------------------------------------------------------------
    def _handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> Answer:
        fault_headers: dict[str, str] = {}
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        parsed_body: Any = None
        if body:
            try:
                parsed_body = json.loads(body)
            except ValueError:
                parsed_body = body.decode(errors="replace")
        request = Request(method, parts.path, query, parsed_body)
        with self._lock:
            self._requests.append(request)
        status, payload = self._answer(request, fault_headers)
        with self._lock:
            request.status, request.response = status, payload
        return status, fault_headers, payload

    def _answer(self, request: Request, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        for verb, pattern, name, collection in [*ROUTES, *DATA_ROUTES, *DNS_ROUTES]:
            m = pattern.match(request.path)
            if m and verb == request.method:
                request.route = name
                groups = m.groupdict()
                collection = collection or groups.get("c", "")
                project = groups.get("p") or request.query.get("project", "")
                if not project:
                    return _error(400, "Required parameter: project")
                fault = self._fault_for(project, collection)
                if fault is not None:
                    if fault.delay:
                        time.sleep(fault.delay)
                    if fault.status:
                        if fault.retry_after is not None:
                            headers["Retry-After"] = f"{fault.retry_after:g}"
                        return _error(fault.status, fault.message or f"Injected error on {project}/{collection}")
                with self._lock:
                    p = self._projects.get(project)
                    if p is None:
                        return _error(404, f"The resource 'projects/{project}' was not found")
                    call = _Call(project, p, groups, request.query, request.body)
                    status, payload = getattr(self, f"_serve_{name}")(call)
                    return status, _wire(payload)
            if m:
                return _error(405, f"Method {request.method} not allowed on {request.path}")
        return _error(404, f"The resource '{request.path}' was not found")

    def _page(self, items: list[Any], query: dict[str, str]) -> tuple[list[Any], str] | None:
        token = query.get("pageToken", "")
        try:
            start = int(token.removeprefix("page-")) if token else 0
            size = min(self.page_size, int(query.get("maxResults", "500")))
        except ValueError:
            return None
        size = max(size, 1)
        chunk = items[start : start + size]
        nxt = f"page-{start + size}" if start + size < len(items) else ""
        return chunk, nxt

    def _serve_project(self, c: _Call) -> Reply:
        return 200, {
            "kind": "compute#project",
            "id": c.p.id,
            "name": c.project,
            "selfLink": f"{BASE}/projects/{c.project}",
            "defaultNetworkTier": "PREMIUM",
            "quotas": c.p.quotas,
        }

    def _serve_aggregated(self, c: _Call) -> Reply:
        collection = c.path["c"]
        if collection not in AGGREGATED:
            return _error(404, f"Unknown aggregated collection {collection!r}")
        # The v1 discovery document lists no returnPartialSuccess for aggregatedList and the SDK cannot send
        # it; a caller that does (raw HTTP) gets the top-level ``unreachables`` the list types define.
        partial = c.query.get("returnPartialSuccess", "").lower() == "true" and collection not in _NO_UNREACHABLES
        down = c.p.unreachable.get(collection, set())
        items = [(s, i) for s, i in c.p.scoped.get(collection, []) if s not in down]
        paged = self._page(items, c.query)
        if paged is None:
            return _error(400, "Invalid value for field 'pageToken'")
        chunk, nxt = paged
        key = AGGREGATED[collection]
        out: dict[str, dict[str, Any]] = {}
        for scope, item in chunk:
            shown = self._render_group(c.project, c.p, item) if collection == "instanceGroupManagers" else item
            out.setdefault(scope, {key: []})[key].append(shown)
        if not c.query.get("pageToken"):
            every = [f"zones/{z}" for z in c.p.zones] + [f"regions/{r['name']}" for r in c.p.regions]
            every += ["global"] if collection in _GLOBAL_SCOPED else []
            for scope in [*every, *sorted(down - set(every))]:
                if scope in out or (scope in down and partial):
                    continue
                if scope in down:
                    out[scope] = _scope_warning("UNREACHABLE", f"Scope '{scope}' is unreachable.", scope)
                else:
                    out[scope] = _scope_warning(
                        "NO_RESULTS_ON_PAGE", f"There are no results for scope '{scope}' on this page.", scope
                    )
        resp: dict[str, Any] = {"kind": f"compute#{key}AggregatedList", "items": out}
        if nxt:
            resp["nextPageToken"] = nxt
        if partial and down:
            resp["unreachables"] = sorted(down)
        return 200, resp

    def _serve_regions(self, c: _Call) -> Reply:
        return self._list(c.p.regions, c.query, "compute#regionList")

    def _serve_global_rules(self, c: _Call) -> Reply:
        rules = [r for s, r in c.p.scoped.get("forwardingRules", []) if s == "global"]
        return self._list(rules, c.query, "compute#forwardingRuleList")

    def _list(self, items: list[dict[str, Any]], query: dict[str, str], kind: str) -> Reply:
        paged = self._page(items, query)
        if paged is None:
            return _error(400, "Invalid value for field 'pageToken'")
        chunk, nxt = paged
        resp: dict[str, Any] = {"kind": kind, "items": chunk}
        if nxt:
            resp["nextPageToken"] = nxt
        return 200, resp

    def _serve_mtype(self, c: _Call) -> Reply:
        zone, name = c.path["z"], c.path["m"]
        mt = self._machine_types.get(name)
        path = f"projects/{c.project}/zones/{zone}/machineTypes/{name}"
        if mt is None or (c.p.zones and zone not in c.p.zones):
            return _error(404, f"The resource '{path}' was not found")
        return 200, {**mt, "zone": zone, "selfLink": f"{BASE}/{path}"}

    def _serve_members(self, c: _Call) -> Reply:
        where, name = c.path["s"], c.path["g"]
        mig = next(
            (i for s, i in c.p.scoped.get("instanceGroupManagers", []) if s == where and i["name"] == name), None
        )
        if mig is None:
            return _error(
                404, f"The resource 'projects/{c.project}/{where}/instanceGroupManagers/{name}' was not found"
            )
        members = self._members(c.project, c.p, mig)
        nxt = ""
        if mig.get("listManagedInstancesResults") == "PAGINATED":
            paged = self._page(members, c.query)
            if paged is None:
                return _error(400, "Invalid value for field 'pageToken'")
            members, nxt = paged
        resp: dict[str, Any] = {"managedInstances": members} if members else {}
        if nxt:
            resp["nextPageToken"] = nxt
        return 200, resp

    def _serve_sql_instances(self, c: _Call) -> Reply:
        regions = set(c.p.sql_unreachable)
        items = [i for i in gcp_sql.link_replicas(c.p.sql, c.project) if i["region"] not in regions]
        paged = self._page(items, c.query)
        if paged is None:
            return _error(400, "Invalid request: page token is invalid.")
        chunk, nxt = paged
        first = not c.query.get("pageToken")
        return 200, gcp_sql.instances_list(chunk, sorted(regions) if first else [], nxt)

    def _serve_buckets(self, c: _Call) -> Reply:
        partial = c.query.get("returnPartialSuccess", "").lower() == "true"
        down = set(c.p.buckets_unreachable)
        if down and not partial:
            return _error(503, "Backend Error")
        items = [b for b in c.p.buckets if b["name"] not in down]
        paged = self._page(items, c.query)
        if paged is None:
            return _error(400, "Invalid argument: pageToken")
        chunk, nxt = paged
        first = not c.query.get("pageToken")
        return 200, gcp_storage.buckets_list(chunk, sorted(down) if first else [], nxt)

    def _serve_time_series(self, c: _Call) -> Reply:
        if "interval.endTime" not in c.query:
            return _error(400, "Field interval.endTime had an invalid value: must be specified")
        try:
            terms = gcp_monitoring.parse_filter(c.query.get("filter", ""))
            end = gcp_monitoring.parse_time(c.query["interval.endTime"])
            start_text = c.query.get("interval.startTime")
            start = gcp_monitoring.parse_time(start_text) if start_text else end - timedelta(microseconds=1)
        except ValueError as err:
            return _error(400, f"Field filter had an invalid value: {err}")
        found = gcp_monitoring.select(c.p.series, terms, start, end)
        query = {**c.query, "maxResults": c.query.get("pageSize", "500")}
        paged = self._page(found, query)
        if paged is None:
            return _error(400, "Invalid page token")
        chunk, nxt = paged
        return 200, gcp_monitoring.series_list(chunk, nxt)

    def _serve_dns_zones(self, c: _Call) -> Reply:
        paged = self._page(c.p.dns_zones, c.query)
        if paged is None:
            return _error(400, "Invalid value for 'parameters.pageToken'")
        return 200, gcp_dns.zones_list(*paged)

    def _serve_dns_rrsets(self, c: _Call) -> Reply:
        zone = c.path["z"]
        if zone not in c.p.rrsets:
            return _error(404, f"The 'parameters.managedZone' resource named '{zone}' does not exist.")
        if c.query.get("type") and not c.query.get("name"):
            return _error(400, "The 'parameters.type' field requires 'parameters.name' to be set.")
        found = gcp_dns.select(c.p.rrsets[zone], c.query.get("name"), c.query.get("type"))
        paged = self._page(found, c.query)
        if paged is None:
            return _error(400, "Invalid value for 'parameters.pageToken'")
        return 200, gcp_dns.rrsets_list(*paged)

    def _serve_health_check(self, c: _Call) -> Reply:
        name = c.path["h"]
        found = c.p.health_checks.get(name)
        if found is None:
            return _error(404, f"The resource 'projects/{c.project}/global/healthChecks/{name}' was not found")
        return 200, found

    def _serve_region_health_check(self, c: _Call) -> Reply:
        region, name = c.path["r"], c.path["h"]
        found = c.p.health_checks.get(f"regions/{region}/{name}")
        if found is None:
            return _error(
                404, f"The resource 'projects/{c.project}/regions/{region}/healthChecks/{name}' was not found"
            )
        return 200, found

    def _serve_health(self, c: _Call) -> Reply:
        where, name = c.path["s"], c.path["b"]
        groups = c.p.health.get((where, name))
        if groups is None:
            return _error(404, f"The resource 'projects/{c.project}/{where}/backendServices/{name}' was not found")
        group = c.body.get("group") if isinstance(c.body, dict) else None
        if not group:
            return _error(400, "Required field 'group' not specified")
        if group in c.p.no_health.get((where, name), set()):
            return _error(
                400, f"Invalid value for field 'group': '{group}'. Serverless network endpoint groups have no health."
            )
        if group not in groups:
            return _error(400, f"Invalid value for field 'group': '{group}' is not a backend of {name}")
        resp: dict[str, Any] = {"kind": "compute#backendServiceGroupHealth"}
        if groups[group]:
            resp["healthStatus"] = groups[group]
        return 200, resp


Reply = tuple[int, dict[str, Any]]  # a route's status and JSON body


@dataclass
class _Call:
    """One routed request: the project it names (and its state), the path's parts, query and body."""

    project: str
    p: _Project
    path: dict[str, str]
    query: dict[str, str]
    body: Any


def last_part(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _created_by(inst: dict[str, Any]) -> str:
    items = (inst.get("metadata") or {}).get("items") or []
    return next((i["value"] for i in items if i.get("key") == "created-by"), "")


def _scope_warning(code: str, message: str, scope: str) -> dict[str, Any]:
    return {"warning": {"code": code, "message": message, "data": [{"key": "scope", "value": scope}]}}


def _error(code: int, message: str) -> tuple[int, dict[str, Any]]:
    return code, {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": _REASONS.get(code, "invalid")}],
            "status": _STATUS_NAMES.get(code, "UNKNOWN"),
        }
    }


def seed_demo(fake: FakeGcp, primary: str = "acme-prod", secondary: str = "acme-dr") -> None:
    """A small two-project world: a primary in us-central1 and a smaller, partly unhealthy DR copy in us-east1."""
    fake.add_machine_type("e2-standard-4", 4, 16384)
    fake.add_machine_type("e2-standard-2", 2, 8192)
    fake.add_machine_type("e2-micro", 2, 1024, shared_cpu=True)
    image = "projects/debian-cloud/global/images/debian-12-bookworm-v20240515"
    for project, region, size, max_size, mtype in (
        (primary, "us-central1", 3, 6, "e2-standard-4"),
        (secondary, "us-east1", 1, 2, "e2-standard-2"),
    ):
        zone = f"{region}-b"
        vcpu = (4.0 if mtype == "e2-standard-4" else 2.0) * size
        fake.add_project(project, quotas={"CPUS_ALL_REGIONS": (32.0, vcpu)})
        fake.add_region(
            project, region, zones=[zone, f"{region}-c"], quotas={"CPUS": (24.0, vcpu), "N2_CPUS": (24.0, 0)}
        )
        fake.add_instance_template(project, "web-tmpl", machine_type=mtype)
        mig = fake.add_group(
            project,
            "web",
            zone=zone,
            target_size=size,
            template="web-tmpl",
            autoscaler_min=size,
            autoscaler_max=max_size,
        )
        statuses = []
        for i in range(size):
            ip = f"10.{1 if project == primary else 2}.0.{10 + i}"
            inst = fake.add_instance(
                project,
                zone,
                f"web-{i}",
                machine_type=mtype,
                labels={"app": "web"},
                deletion_protection=project == primary,
                network_ip=ip,
                image=image,
                created_by=mig["selfLink"].removeprefix(BASE + "/"),
            )
            state = "HEALTHY" if project == primary else "UNHEALTHY"
            statuses.append({"instance": inst["selfLink"], "ipAddress": ip, "port": 80, "healthState": state})
        fake.add_backend_service(
            project, "web-bs", health={f"zones/{zone}/instanceGroups/web": statuses}, health_checks=["web-hc"]
        )
        fake.add_forwarding_rule(
            project,
            "web-fr",
            ip_address="203.0.113.10" if project == primary else "198.51.100.10",
            port_range="443-443",
            target="global/targetHttpsProxies/web",
        )
