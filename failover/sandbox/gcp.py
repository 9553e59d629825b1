"""A local fake of the Compute Engine REST API, for tests and the demo.

It speaks the wire shapes ``google-cloud-compute`` parses (camelCase JSON under ``/compute/v1``), so
the adapter runs its real SDK clients against it. Seed it from Python, inject faults at run time
(403/429/5xx, slow answers, unreachable scopes), and read ``requests`` to prove what was called.

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
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from failover.sandbox._server import LocalApi

__all__ = ["BASE", "FakeGcp", "Fault", "Request", "seed_demo"]

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
_AGGREGATED = {
    "instances": "instances",
    "disks": "disks",
    "instanceGroupManagers": "instanceGroupManagers",
    "autoscalers": "autoscalers",
    "forwardingRules": "forwardingRules",
    "backendServices": "backendServices",
    "instanceTemplates": "instanceTemplates",
}
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^/compute/v1/projects/(?P<p>[^/]+)/aggregated/(?P<c>[A-Za-z]+)$"), "aggregated"),
    ("GET", re.compile(r"^/compute/v1/projects/(?P<p>[^/]+)/regions$"), "regions"),
    ("GET", re.compile(r"^/compute/v1/projects/(?P<p>[^/]+)/global/forwardingRules$"), "global_rules"),
    ("GET", re.compile(r"^/compute/v1/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/machineTypes/(?P<m>[^/]+)$"), "mtype"),
    (
        "POST",
        re.compile(
            r"^/compute/v1/projects/(?P<p>[^/]+)/(?P<s>global|regions/[^/]+)/backendServices/(?P<b>[^/]+)/getHealth$"
        ),
        "health",
    ),
]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any = None


@dataclass
class Fault:
    """Answer ``status`` (or wait ``delay`` seconds first) to matching requests, ``times`` times (None: always).

    ``collection`` is the path's collection: ``instances``, ``disks``, ``regions``, ``machineTypes``,
    ``globalForwardingRules``, ``getHealth``, ``instanceGroupManagers``, ...
    """

    status: int | None = None
    project: str | None = None
    collection: str | None = None
    times: int | None = None
    delay: float = 0.0
    message: str = ""
    retry_after: float | None = None  # sent as a Retry-After header with the error

    def matches(self, project: str, collection: str) -> bool:
        return (self.project in (None, project)) and (self.collection in (None, collection)) and self.times != 0


@dataclass
class _Project:
    zones: list[str] = field(default_factory=list)
    regions: list[dict[str, Any]] = field(default_factory=list)
    scoped: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)  # collection -> (scope, item)
    global_rules: list[dict[str, Any]] = field(default_factory=list)
    health: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    unreachable: dict[str, set[str]] = field(default_factory=dict)  # collection -> scopes


def _region_of(zone: str) -> str:
    return zone.rsplit("-", 1)[0]


class FakeGcp(LocalApi["Request"]):
    """The fake Compute API server. Thread-safe; seed before or while the adapter runs."""

    name = "fake-gcp"

    def __init__(self, *, page_size: int = 500, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.page_size = page_size
        self._projects: dict[str, _Project] = {}
        self._machine_types: dict[str, dict[str, Any]] = {}
        self._faults: list[Fault] = []
        self._next_id = 1000

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

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
        with self._lock:
            self._faults.append(fault)
        return fault

    def slow(
        self, seconds: float, *, project: str | None = None, collection: str | None = None, times: int | None = None
    ) -> Fault:
        fault = Fault(delay=seconds, project=project, collection=collection, times=times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def set_unreachable(self, project: str, collection: str, scope: str) -> None:
        """Leave ``scope`` (e.g. ``zones/us-east1-b``) out of an aggregated list and name it in ``unreachables``."""
        with self._lock:
            self._project(project).unreachable.setdefault(collection, set()).add(scope)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            for p in self._projects.values():
                p.unreachable.clear()

    # -- seeding -----------------------------------------------------------------------------------
    def _project(self, name: str) -> _Project:
        return self._projects.setdefault(name, _Project())

    def _id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _add(self, project: str, collection: str, scope: str, item: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            item.setdefault("id", self._id())
            self._project(project).scoped.setdefault(collection, []).append((scope, item))
        return item

    def add_project(self, project: str) -> None:
        with self._lock:
            self._project(project)

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
    ) -> dict[str, Any]:
        zones = zones if zones is not None else [f"{name}-b"]
        region = {
            "kind": "compute#region",
            "id": "",
            "name": name,
            "status": status,
            "selfLink": f"{BASE}/projects/{project}/regions/{name}",
            "zones": [f"{BASE}/projects/{project}/zones/{z}" for z in zones],
            "quotas": [{"metric": m, "limit": lim, "usage": use} for m, (lim, use) in (quotas or {}).items()],
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
    ) -> dict[str, Any]:
        """An instance, and its boot disk (with ``sourceImage``) when ``image`` is given."""
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
        if created_by:
            inst["metadata"] = {"items": [{"key": "created-by", "value": created_by}]}
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
        stable: bool = True,
        template: str | None = None,
        autoscaler_min: int | None = None,
        autoscaler_max: int | None = None,
        distribution_zones: list[str] | None = None,
    ) -> dict[str, Any]:
        """A managed instance group (zonal with ``zone``, regional with ``region``), optionally autoscaled."""
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
            "status": {"isStable": stable},
            "currentActions": {"none": target_size if stable else 0, "creating": 0 if stable else target_size},
            "instanceGroup": f"{BASE}/projects/{project}/{where}/instanceGroups/{name}",
        }
        if zone:
            mig["zone"] = f"{BASE}/projects/{project}/zones/{zone}"
        else:
            mig["region"] = f"{BASE}/projects/{project}/regions/{region}"
            zs = distribution_zones or [f"{region}-b"]
            mig["distributionPolicy"] = {"zones": [{"zone": f"{BASE}/projects/{project}/zones/{z}"} for z in zs]}
        if template:
            mig["instanceTemplate"] = f"{BASE}/projects/{project}/global/instanceTemplates/{template}"
        self._add(project, "instanceGroupManagers", where, mig)
        if autoscaler_max is not None:
            scaler: dict[str, Any] = {
                "kind": "compute#autoscaler",
                "name": f"{name}-autoscaler",
                "target": self_link,
                "status": "ACTIVE",
                "autoscalingPolicy": {
                    "minNumReplicas": autoscaler_min or 1,
                    "maxNumReplicas": autoscaler_max,
                    "mode": "ON",
                },
            }
            scaler["zone" if zone else "region"] = mig.get("zone") or mig["region"]
            self._add(project, "autoscalers", where, scaler)
        return mig

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
        """A forwarding rule: regional with ``region``, else global (served by ``global/forwardingRules``)."""
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
        with self._lock:
            rule["id"] = self._id()
            self._project(project).global_rules.append(rule)
        return rule

    def add_backend_service(
        self,
        project: str,
        name: str,
        *,
        region: str | None = None,
        health: dict[str, list[dict[str, Any]]] | None = None,
        protocol: str = "HTTP",
        scheme: str = "EXTERNAL_MANAGED",
        health_checks: list[str] | None = None,
    ) -> dict[str, Any]:
        """``health`` maps each backend group (a path like ``zones/z/instanceGroups/g``) to its healthStatus list."""
        where = f"regions/{region}" if region else "global"
        groups = {g: (g if g.startswith("http") else f"{BASE}/projects/{project}/{g}") for g in (health or {})}
        bs: dict[str, Any] = {
            "kind": "compute#backendService",
            "name": name,
            "protocol": protocol,
            "loadBalancingScheme": scheme,
            "selfLink": f"{BASE}/projects/{project}/{where}/backendServices/{name}",
            "backends": [{"group": url, "balancingMode": "UTILIZATION"} for url in groups.values()],
            "healthChecks": [f"{BASE}/projects/{project}/global/healthChecks/{h}" for h in (health_checks or [])],
        }
        if region:
            bs["region"] = f"{BASE}/projects/{project}/regions/{region}"
        with self._lock:
            self._project(project).health[(where, name)] = {groups[g]: list(v) for g, v in (health or {}).items()}
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

    # -- serving -----------------------------------------------------------------------------------
    def _handle(self, method: str, raw_path: str, body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, extra headers) for one request."""
        fault_headers: dict[str, str] = {}
        status, payload = self._answer(method, raw_path, body, fault_headers)
        return status, payload, fault_headers

    def _answer(self, method: str, raw_path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        parsed_body: Any = None
        if body:
            try:
                parsed_body = json.loads(body)
            except ValueError:
                parsed_body = body.decode(errors="replace")
        with self._lock:
            self._requests.append(Request(method, parts.path, query, parsed_body))
        for verb, pattern, name in _ROUTES:
            m = pattern.match(parts.path)
            if m and verb == method:
                groups = m.groupdict()
                collection = {
                    "aggregated": groups.get("c", ""),
                    "regions": "regions",
                    "global_rules": "globalForwardingRules",
                    "mtype": "machineTypes",
                    "health": "getHealth",
                }[name]
                project = groups["p"]
                fault = self._take_fault(project, collection)
                if fault is not None:
                    if fault.delay:
                        time.sleep(fault.delay)
                    if fault.status:
                        if fault.retry_after is not None:
                            headers["Retry-After"] = f"{fault.retry_after:g}"
                        return _error(fault.status, fault.message or f"Injected error on {project}/{collection}")
                with self._lock:
                    return getattr(self, f"_serve_{name}")(groups, query, parsed_body)
            if m:
                return _error(405, f"Method {method} not allowed on {parts.path}")
        return _error(404, f"The resource '{parts.path}' was not found")

    def _take_fault(self, project: str, collection: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(project, collection):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

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

    def _serve_aggregated(self, g: dict[str, str], query: dict[str, str], _body: Any) -> tuple[int, dict[str, Any]]:
        collection = g["c"]
        if collection not in _AGGREGATED:
            return _error(404, f"Unknown aggregated collection {collection!r}")
        project = self._projects.get(g["p"])
        if project is None:
            return _error(404, f"The resource 'projects/{g['p']}' was not found")
        # Answered as with returnPartialSuccess=true (google-cloud-compute 1.57 cannot send it): the
        # listing succeeds without the down scopes and names them in ``unreachables``.
        down = project.unreachable.get(collection, set())
        items = [(s, i) for s, i in project.scoped.get(collection, []) if s not in down]
        paged = self._page(items, query)
        if paged is None:
            return _error(400, "Invalid value for field 'pageToken'")
        chunk, nxt = paged
        key = _AGGREGATED[collection]
        out: dict[str, dict[str, Any]] = {}
        for scope, item in chunk:
            out.setdefault(scope, {key: []})[key].append(item)
        if not query.get("pageToken"):
            every = [f"zones/{z}" for z in project.zones] + [f"regions/{r['name']}" for r in project.regions]
            for scope in every:
                if scope not in out and scope not in down:
                    out[scope] = {
                        "warning": {
                            "code": "NO_RESULTS_ON_PAGE",
                            "message": f"There are no results for scope '{scope}' on this page.",
                            "data": [{"key": "scope", "value": scope}],
                        }
                    }
        resp: dict[str, Any] = {"kind": f"compute#{key}AggregatedList", "items": out}
        if nxt:
            resp["nextPageToken"] = nxt
        if down:
            resp["unreachables"] = sorted(down)
        return 200, resp

    def _serve_regions(self, g: dict[str, str], query: dict[str, str], _body: Any) -> tuple[int, dict[str, Any]]:
        project = self._projects.get(g["p"])
        if project is None:
            return _error(404, f"The resource 'projects/{g['p']}' was not found")
        return self._list(project.regions, query, "compute#regionList")

    def _serve_global_rules(self, g: dict[str, str], query: dict[str, str], _body: Any) -> tuple[int, dict[str, Any]]:
        project = self._projects.get(g["p"])
        if project is None:
            return _error(404, f"The resource 'projects/{g['p']}' was not found")
        return self._list(project.global_rules, query, "compute#forwardingRuleList")

    def _list(self, items: list[dict[str, Any]], query: dict[str, str], kind: str) -> tuple[int, dict[str, Any]]:
        paged = self._page(items, query)
        if paged is None:
            return _error(400, "Invalid value for field 'pageToken'")
        chunk, nxt = paged
        resp: dict[str, Any] = {"kind": kind, "items": chunk}
        if nxt:
            resp["nextPageToken"] = nxt
        return 200, resp

    def _serve_mtype(self, g: dict[str, str], _query: dict[str, str], _body: Any) -> tuple[int, dict[str, Any]]:
        project = self._projects.get(g["p"])
        mt = self._machine_types.get(g["m"])
        if project is None or mt is None or (project.zones and g["z"] not in project.zones):
            return _error(404, f"The resource 'projects/{g['p']}/zones/{g['z']}/machineTypes/{g['m']}' was not found")
        return 200, {**mt, "zone": g["z"], "selfLink": f"{BASE}/projects/{g['p']}/zones/{g['z']}/machineTypes/{g['m']}"}

    def _serve_health(self, g: dict[str, str], _query: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        project = self._projects.get(g["p"])
        groups = project.health.get((g["s"], g["b"])) if project else None
        if groups is None:
            return _error(404, f"The resource 'projects/{g['p']}/{g['s']}/backendServices/{g['b']}' was not found")
        group = body.get("group") if isinstance(body, dict) else None
        if not group:
            return _error(400, "Required field 'group' not specified")
        if group not in groups:
            return _error(400, f"Invalid value for field 'group': '{group}' is not a backend of {g['b']}")
        resp: dict[str, Any] = {"kind": "compute#backendServiceGroupHealth"}
        if groups[group]:
            resp["healthStatus"] = groups[group]
        return 200, resp


def _error(code: int, message: str) -> tuple[int, dict[str, Any]]:
    return code, {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": _REASONS.get(code, "invalid")}],
            "status": _STATUS_NAMES.get(code, "UNKNOWN"),
        }
    }


def _handler_for(fake: FakeGcp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers: dict[str, str] = {}
            try:
                status, payload, headers = fake._handle(self.command, self.path, body)
            except Exception as err:  # a fake bug must show as a 500, not a hung client
                status, payload = _error(500, f"fake error: {err!r}")
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout test); nothing to answer

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


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
        fake.add_region(project, region, zones=[zone, f"{region}-c"], quotas={"CPUS": (24.0, 4.0 * size)})
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
