"""A local fake of Azure Resource Manager's REST API, for tests and the demo.

It speaks the wire shapes ``azure-mgmt-resource`` and ``azure-mgmt-resource-locks`` parse, so the
adapter runs its real SDK clients against it: resource groups, the subscription-wide resource list
(``$expand``, ``$top`` paging with absolute ``nextLink``s), management locks, and a resource read by
id (with ``properties``, which the list leaves out, as ARM does). Seed it from Python, inject faults at
run time (403/429/5xx with ARM error bodies and Retry-After, slow answers), and read ``requests`` to
prove what was called. ``tls=True`` serves HTTPS with a trustme CA (``ca_file``), so the SDK's real
bearer-token policy can be exercised.

    with FakeArm(page_size=2) as arm:
        arm.add_resource_group("sub-1", "web-eastus", location="eastus")
        arm.add_vm("sub-1", "web-eastus", "web-1", size="Standard_D2s_v3")
        arm.add_lock("/subscriptions/sub-1/resourceGroups/web-eastus", "no-delete")
        ... Account(provider="azure", subscription="sub-1", endpoint=arm.url, credentials="anonymous")
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from failover.sandbox._server import LocalApi

__all__ = ["COLLECTIONS", "FakeArm", "Fault", "Request", "arm_action", "resource_id", "seed_demo"]

# collection names used by faults and ``Request.collection``
COLLECTIONS = ("resourcegroups", "resources", "locks", "resource")
_ERROR_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "AuthorizationFailed",
    404: "ResourceNotFound",
    405: "MethodNotAllowed",
    409: "MissingSubscriptionRegistration",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
}
_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/subscriptions/(?P<s>[^/]+)/resourcegroups$", re.I), "resourcegroups"),
    (re.compile(r"^/subscriptions/(?P<s>[^/]+)/resources$", re.I), "resources"),
    (re.compile(r"^/subscriptions/(?P<s>[^/]+)/providers/microsoft\.authorization/locks$", re.I), "locks"),
    (re.compile(r"^/subscriptions/(?P<s>[^/]+)/resourcegroups/[^/]+/providers/.+$", re.I), "resource"),
]
_LIST_FIELDS = ("id", "name", "type", "kind", "location", "tags", "sku", "zones", "managedBy", "plan", "identity")


def resource_id(subscription: str, resource_group: str, native_type: str, name: str) -> str:
    """The ARM id of a resource: ``Microsoft.Sql/servers/databases`` named ``srv/db`` is
    ``/subscriptions/…/providers/Microsoft.Sql/servers/srv/databases/db``."""
    namespace, *types = native_type.split("/")
    names = name.split("/")
    if len(types) != len(names):
        raise ValueError(f"{native_type} needs {len(types)} name part(s), got {name!r}")
    tail = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{namespace}/{tail}"


def arm_action(method: str, path: str) -> str:
    """The Azure RBAC action a request needs: ``GET …/resources`` needs
    ``Microsoft.Resources/subscriptions/resources/read``."""
    verb = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}.get(method, "action")
    path = urlsplit(path).path.rstrip("/")
    if re.match(r"^/subscriptions/[^/]+/resourcegroups$", path, re.I):
        return f"Microsoft.Resources/subscriptions/resourceGroups/{verb}"
    if re.match(r"^/subscriptions/[^/]+/resources$", path, re.I):
        return f"Microsoft.Resources/subscriptions/resources/{verb}"
    parts = path.split("/")
    lowered = [p.lower() for p in parts]
    if "providers" in lowered:
        at = len(lowered) - 1 - lowered[::-1].index("providers")
        rest = parts[at + 1 :]
        if rest:
            types = [rest[0], *rest[1::2]]
            return f"{'/'.join(types)}/{verb}"
    if re.match(r"^/subscriptions/[^/]+/resourcegroups/[^/]+$", path, re.I):
        return f"Microsoft.Resources/subscriptions/resourceGroups/{verb}"
    return f"unknown:{method} {path}"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    collection: str | None
    subscription: str | None
    authorization: str | None  # "Bearer" when a bearer token was sent (never the token itself)


@dataclass
class Fault:
    """Answer ``status`` (after waiting ``delay`` seconds) to matching requests, ``times`` times (None: always).

    ``collection`` is one of ``resourcegroups``, ``resources``, ``locks``, ``resource`` (a read by id);
    ``after`` lets that many matching requests through first (e.g. fail the second page of a list).
    """

    status: int | None = None
    code: str | None = None
    subscription: str | None = None
    collection: str | None = None
    times: int | None = None
    delay: float = 0.0
    retry_after: float | None = None
    message: str = ""
    after: int = 0

    def matches(self, subscription: str | None, collection: str | None) -> bool:
        return (
            self.subscription in (None, subscription)
            and self.collection in (None, collection)
            and self.times != 0
        )


@dataclass
class _Subscription:
    groups: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    locks: list[dict[str, Any]] = field(default_factory=list)


class FakeArm(LocalApi["Request"]):
    """The fake ARM server. Thread-safe; seed before or while the adapter runs."""

    name = "fake-arm"

    def __init__(self, *, page_size: int = 100, host: str = "127.0.0.1", tls: bool = False,
                 token: str | None = None) -> None:
        """``token``: when set, only ``Authorization: Bearer <token>`` is accepted (else any bearer token)."""
        super().__init__(host)
        self.page_size = page_size
        self._tls = tls
        self.scheme = "https" if tls else "http"
        self._token = token
        self._subs: dict[str, _Subscription] = {}
        self._faults: list[Fault] = []
        self._in_flight = 0
        self.max_in_flight = 0  # the most requests being answered at once: proves (bounded) concurrency
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.ca_file: str | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def _prepare(self, server: ThreadingHTTPServer) -> None:
        if not self._tls:
            return
        import ssl

        import trustme

        ca = trustme.CA()
        cert = ca.issue_cert(self._host)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-arm-")
        self.ca_file = os.path.join(self._tmp.name, "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        # handshake in the handler thread, so one stuck client cannot block accept()
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # -- faults ------------------------------------------------------------------------------------
    def fail(
        self,
        status: int,
        *,
        code: str | None = None,
        subscription: str | None = None,
        collection: str | None = None,
        times: int | None = None,
        retry_after: float | None = None,
        message: str = "",
        after: int = 0,
    ) -> Fault:
        fault = Fault(status=status, code=code, subscription=subscription, collection=collection, times=times,
                      retry_after=retry_after, message=message, after=after)
        with self._lock:
            self._faults.append(fault)
        return fault

    def slow(
        self, seconds: float, *, subscription: str | None = None, collection: str | None = None,
        times: int | None = None,
    ) -> Fault:
        fault = Fault(delay=seconds, subscription=subscription, collection=collection, times=times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- seeding -----------------------------------------------------------------------------------
    def _sub(self, subscription: str) -> _Subscription:
        return self._subs.setdefault(subscription, _Subscription())

    def add_subscription(self, subscription: str) -> None:
        with self._lock:
            self._sub(subscription)

    def add_resource_group(
        self, subscription: str, name: str, *, location: str = "eastus", tags: dict[str, str] | None = None,
        state: str = "Succeeded", managed_by: str | None = None,
    ) -> dict[str, Any]:
        rg: dict[str, Any] = {
            "id": f"/subscriptions/{subscription}/resourceGroups/{name}",
            "name": name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": location,
            "tags": dict(tags or {}),
            "properties": {"provisioningState": state},
        }
        if managed_by:
            rg["managedBy"] = managed_by
        with self._lock:
            self._sub(subscription).groups.append(rg)
        return rg

    def add_resource(
        self,
        subscription: str,
        resource_group: str,
        native_type: str,
        name: str,
        *,
        location: str = "eastus",
        sku: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, Any] | None = None,
        kind: str | None = None,
        zones: list[str] | None = None,
        state: str = "Succeeded",
    ) -> dict[str, Any]:
        """Any ARM resource; ``properties`` are served only by its read by id, as in ARM."""
        res: dict[str, Any] = {
            "id": resource_id(subscription, resource_group, native_type, name),
            "name": name,
            "type": native_type,
            "location": location,
            "tags": dict(tags or {}),
            "properties": {"provisioningState": state, **(properties or {})},
            "createdTime": "2026-01-05T10:00:00.0000000Z",
            "changedTime": "2026-03-01T12:30:00.0000000Z",
        }
        if sku is not None:
            res["sku"] = dict(sku)
        if kind is not None:
            res["kind"] = kind
        if zones:
            res["zones"] = list(zones)
        with self._lock:
            self._sub(subscription).resources.append(res)
        return res

    def add_vm(
        self, subscription: str, resource_group: str, name: str, *, size: str, location: str = "eastus",
        tags: dict[str, str] | None = None, image: dict[str, str] | None = None, zones: list[str] | None = None,
    ) -> dict[str, Any]:
        image = image or {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
        props = {
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {"imageReference": image, "osDisk": {"osType": "Linux"}},
        }
        return self.add_resource(subscription, resource_group, "Microsoft.Compute/virtualMachines", name,
                                 location=location, tags=tags, properties=props, zones=zones)

    def add_lock(
        self, scope: str, name: str, *, level: str = "CanNotDelete", notes: str | None = None
    ) -> dict[str, Any]:
        """A management lock on ``scope`` (a subscription, resource group or resource id)."""
        m = re.match(r"^/subscriptions/([^/]+)", scope)
        if not m:
            raise ValueError(f"a lock scope starts with /subscriptions/<id>, got {scope!r}")
        lock: dict[str, Any] = {
            "id": f"{scope.rstrip('/')}/providers/Microsoft.Authorization/locks/{name}",
            "name": name,
            "type": "Microsoft.Authorization/locks",
            "properties": {"level": level, "owners": [], **({"notes": notes} if notes else {})},
        }
        with self._lock:
            self._sub(m.group(1)).locks.append(lock)
        return lock

    # -- serving -----------------------------------------------------------------------------------
    def _fault_for(self, subscription: str | None, collection: str | None) -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.matches(subscription, collection):
                    if f.after > 0:
                        f.after -= 1
                        continue
                    if f.times is not None:
                        f.times -= 1
                    return f
        return None

    def _handle(self, method: str, raw_path: str, headers: Any) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(raw_path)
        path = unquote(parts.path).rstrip("/")  # ARM matches names decoded, as the SDK quotes them
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        collection, subscription = None, None
        for pattern, name in _ROUTES:
            m = pattern.match(path)
            if m:
                collection, subscription = name, m.group("s")
                break
        auth = headers.get("Authorization") or ""
        with self._lock:
            self._requests.append(
                Request(method, path, query, collection, subscription, "Bearer" if auth.startswith("Bearer ") else None)
            )
        if method != "GET":
            return _error(405, "MethodNotAllowed", f"the fake ARM is read-only: {method} {path}")
        if not auth.startswith("Bearer ") or (self._token is not None and auth != f"Bearer {self._token}"):
            return _error(401, "InvalidAuthenticationToken", "the access token is missing or invalid")
        if "api-version" not in query:
            return _error(400, "MissingApiVersionParameter", "the api-version query parameter is required")
        if collection is None:
            return _error(404, "InvalidResourceType", f"no route for {path}")
        fault = self._fault_for(subscription, collection)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                status, extra, body = _error(
                    fault.status, fault.code or _ERROR_CODES.get(fault.status, "Error"),
                    fault.message or f"injected {fault.status} on {collection}",
                )
                if fault.status == 429 or fault.retry_after is not None:
                    extra["Retry-After"] = f"{fault.retry_after or 0:g}"
                return status, extra, body
        with self._lock:
            sub = self._subs.get(subscription or "")
            if sub is None:
                return _error(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")
            if collection == "resourcegroups":
                items = [dict(g) for g in sub.groups]
            elif collection == "locks":
                items = [dict(lk) for lk in sub.locks]
            elif collection == "resources":
                items = [_list_entry(r, query.get("$expand", "")) for r in sub.resources]
            else:
                found = next((r for r in [*sub.resources, *sub.locks] if r["id"].lower() == path.lower()), None)
                if found is None:
                    return _error(404, "ResourceNotFound", f"The Resource '{path}' was not found.")
                return 200, {}, json.loads(json.dumps(found))
        return 200, {}, self._page(path, query, items)

    def _page(self, path: str, query: dict[str, str], items: list[dict[str, Any]]) -> dict[str, Any]:
        start = int(query.get("$skiptoken", "0") or 0)
        size = max(1, int(query.get("$top") or self.page_size))
        body: dict[str, Any] = {"value": items[start : start + size]}
        if start + size < len(items):
            params = {k: v for k, v in query.items() if k != "$skiptoken"}
            params["$skiptoken"] = str(start + size)
            body["nextLink"] = f"{self.url}{path}?{urlencode(params)}"
        return body


def _list_entry(resource: dict[str, Any], expand: str) -> dict[str, Any]:
    entry = {k: resource[k] for k in _LIST_FIELDS if k in resource}
    wanted = {e.strip().lower() for e in expand.split(",") if e.strip()}
    if "createdtime" in wanted:
        entry["createdTime"] = resource["createdTime"]
    if "changedtime" in wanted:
        entry["changedTime"] = resource["changedTime"]
    if "provisioningstate" in wanted:
        entry["provisioningState"] = resource["properties"].get("provisioningState")
    return json.loads(json.dumps(entry))


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {"x-ms-failure-cause": "gateway"}, {"error": {"code": code, "message": message}}


def _handler_for(fake: FakeArm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with fake._lock:
                fake._in_flight += 1
                fake.max_in_flight = max(fake.max_in_flight, fake._in_flight)
            try:
                status, extra, body = fake._handle(self.command, self.path, self.headers)
            except Exception as err:  # a bug in the fake: answer like ARM would, never hang the client
                status, extra, body = _error(500, "InternalServerError", f"fake ARM error: {err}")
            finally:
                with fake._lock:
                    fake._in_flight -= 1
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-ms-request-id", f"fake-{time.monotonic_ns()}")
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def seed_demo(fake: FakeArm, subscription: str = "00000000-0000-0000-0000-0000000000a2") -> None:
    """A small two-region estate: web tier in eastus (primary) and westus2 (secondary), a Traffic Manager
    profile in front, a Postgres flexible server with a cross-region replica, GRS storage, and a lock."""
    for rg, loc in (("web-eastus", "eastus"), ("web-westus2", "westus2"), ("dns", "global")):
        fake.add_resource_group(subscription, rg, location=loc if loc != "global" else "eastus", tags={"app": "web"})
    fake.add_vm(subscription, "web-eastus", "web-1", size="Standard_D4s_v5", location="eastus",
                tags={"app": "web", "site": "primary"}, zones=["1"])
    fake.add_vm(subscription, "web-eastus", "web-2", size="Standard_D4s_v5", location="eastus",
                tags={"app": "web", "site": "primary"}, zones=["2"])
    fake.add_resource(subscription, "web-westus2", "Microsoft.Compute/virtualMachineScaleSets", "web-vmss",
                      location="westus2", sku={"name": "Standard_D2s_v5", "tier": "Standard", "capacity": 2},
                      tags={"app": "web", "site": "secondary"})
    for rg, loc in (("web-eastus", "eastus"), ("web-westus2", "westus2")):
        fake.add_resource(subscription, rg, "Microsoft.Network/loadBalancers", f"lb-{loc}", location=loc,
                          sku={"name": "Standard", "tier": "Regional"}, tags={"app": "web"})
    fake.add_resource(subscription, "dns", "Microsoft.Network/dnszones", "example.com", location="global")
    fake.add_resource(
        subscription, "dns", "Microsoft.Network/trafficManagerProfiles", "web-tm", location="global",
        tags={"app": "web"},
        properties={
            "profileStatus": "Enabled",
            "trafficRoutingMethod": "Priority",
            "dnsConfig": {"relativeName": "web-tm", "fqdn": "web-tm.trafficmanager.net", "ttl": 30},
            "monitorConfig": {"protocol": "HTTPS", "port": 443, "path": "/healthz", "intervalInSeconds": 30,
                              "timeoutInSeconds": 10, "toleratedNumberOfFailures": 3,
                              "profileMonitorStatus": "Online"},
            "endpoints": [
                {"name": "eastus", "type": "Microsoft.Network/trafficManagerProfiles/externalEndpoints",
                 "properties": {"target": "web-eastus.example.com", "priority": 1, "endpointStatus": "Enabled",
                                "endpointMonitorStatus": "Online", "endpointLocation": "eastus"}},
                {"name": "westus2", "type": "Microsoft.Network/trafficManagerProfiles/externalEndpoints",
                 "properties": {"target": "web-westus2.example.com", "priority": 2, "endpointStatus": "Enabled",
                                "endpointMonitorStatus": "Online", "endpointLocation": "westus2"}},
            ],
        },
    )
    primary = fake.add_resource(
        subscription, "web-eastus", "Microsoft.DBforPostgreSQL/flexibleServers", "db-eastus", location="eastus",
        sku={"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"}, tags={"app": "web"},
        properties={"version": "16", "state": "Ready", "replicationRole": "Primary",
                    "backup": {"backupRetentionDays": 7, "geoRedundantBackup": "Enabled"},
                    "highAvailability": {"mode": "ZoneRedundant"}},
    )
    fake.add_resource(
        subscription, "web-westus2", "Microsoft.DBforPostgreSQL/flexibleServers", "db-westus2", location="westus2",
        sku={"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"}, tags={"app": "web"},
        properties={"version": "16", "state": "Ready", "replicationRole": "AsyncReplica",
                    "sourceServerResourceId": primary["id"],
                    "backup": {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"}},
    )
    fake.add_resource(subscription, "web-eastus", "Microsoft.Storage/storageAccounts", "webassets", location="eastus",
                      sku={"name": "Standard_RAGRS", "tier": "Standard"}, kind="StorageV2", tags={"app": "web"})
    fake.add_lock(f"/subscriptions/{subscription}/resourceGroups/web-eastus", "no-delete", notes="primary site")
