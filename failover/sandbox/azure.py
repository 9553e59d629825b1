"""A local fake of Azure Resource Manager's REST API, for tests and the demo.

It speaks the wire shapes the Azure SDKs parse (``azure-mgmt-resource``, ``azure-mgmt-resource-locks``,
``azure-mgmt-compute``), so the adapter runs its real SDK clients against it: resource groups, the
subscription-wide resource list (``$expand`` adds only the top-level ``createdTime``, ``changedTime``
and ``provisioningState``, never ``properties``; ``$top`` paging with absolute ``nextLink``s),
management locks, a resource read by id (with ``properties``, as ARM does) and a subscription's resources
of one type listed with the same model (List All / List By Subscription), and Microsoft.Compute's
own views: VM instance views with power states (``PowerState/running|deallocated|stopped|…``), the
subscription's VM list with ``statusOnly=true``, and a uniform scale set's member VMs (with
``$expand=instanceView``) and their instance views. A flexible scale set's members are ordinary VMs
that name their scale set, and its member list answers 400 as ARM does. Autoscale settings, DNS zones
(``nameServers``) and their record sets (alias ``targetResource``; the apex NS and SOA sets the service
creates), Traffic Manager profiles (endpoints with ``id`` and ``alwaysServe``, nested endpoints),
Front Door Standard/Premium profiles (endpoints, routes, origin groups, origins, custom domains, each
listed under its parent as Microsoft.Cdn serves them) and PostgreSQL flexible servers (``replica``)
have seeding helpers that write the real API's shapes, and so do Azure Monitor metrics of a resource
(``add_metric``; ``GET {id}/providers/Microsoft.Insights/metrics`` is answered by ``azure_monitor``). A
conformance test deserializes every body it serves into the SDKs' own models (``ROUTES`` lists the
routes it must cover).

Seed it from Python, inject faults at run time (403/429/5xx with ARM error bodies and Retry-After, slow
answers), and read ``requests`` to prove what was called. ``tls=True`` serves HTTPS with a trustme CA
(``ca_file``), so the SDK's real bearer-token policy can be exercised.

    with FakeArm(page_size=2) as arm:
        arm.add_resource_group("sub-1", "web-eastus", location="eastus")
        arm.add_vm("sub-1", "web-eastus", "web-1", size="Standard_D2s_v3", power_state="deallocated")
        arm.add_lock("/subscriptions/sub-1/resourceGroups/web-eastus", "no-delete")
        ... Account(provider="azure", subscription="sub-1", endpoint=arm.url, credentials="anonymous")
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from failover.sandbox._server import Answer, JsonApi
from failover.sandbox.azure_monitor import MetricSeries, metrics_response

__all__ = [
    "COLLECTIONS",
    "POWER_STATES",
    "ROUTES",
    "FakeArm",
    "Fault",
    "Request",
    "arm_action",
    "resource_id",
    "seed_demo",
]

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
_SUB = r"^/subscriptions/(?P<s>[^/]+)"
_RG = _SUB + r"/resourcegroups/(?P<rg>[^/]+)"
_CDN = _RG + r"/providers/microsoft\.cdn/profiles/(?P<p>[^/]+)"
# Child collections served from ``_Subscription.children`` (keyed by parent id + "/" + the path's last part).
_CHILD_ROUTES = {"afd_endpoints", "afd_routes", "afd_origin_groups", "afd_origins", "afd_custom_domains"}
# Every route the fake serves, most specific first. The names are the ``collection`` of faults and
# requests; the conformance test covers each one.
ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("resourcegroups", re.compile(_SUB + r"/resourcegroups$", re.I)),
    ("resources", re.compile(_SUB + r"/resources$", re.I)),
    ("locks", re.compile(_SUB + r"/providers/microsoft\.authorization/locks$", re.I)),
    ("vm_list", re.compile(_SUB + r"/providers/microsoft\.compute/virtualmachines$", re.I)),
    (
        "vm_instance_view",
        re.compile(_RG + r"/providers/microsoft\.compute/virtualmachines/(?P<vm>[^/]+)/instanceview$", re.I),
    ),
    (
        "scale_set_vms",
        re.compile(_RG + r"/providers/microsoft\.compute/virtualmachinescalesets/(?P<ss>[^/]+)/virtualmachines$", re.I),
    ),
    (
        "scale_set_vm_instance_view",
        re.compile(
            _RG + r"/providers/microsoft\.compute/virtualmachinescalesets/(?P<ss>[^/]+)/virtualmachines/"
            r"(?P<vm>[^/]+)/instanceview$",
            re.I,
        ),
    ),
    (
        "sql_failover_groups",
        re.compile(_RG + r"/providers/microsoft\.sql/servers/(?P<srv>[^/]+)/failovergroups$", re.I),
    ),
    (
        "sql_replication_links",
        re.compile(_RG + r"/providers/microsoft\.sql/servers/(?P<srv>[^/]+)/replicationlinks$", re.I),
    ),
    (
        "sql_recoverable_databases",
        re.compile(_RG + r"/providers/microsoft\.sql/servers/(?P<srv>[^/]+)/recoverabledatabases$", re.I),
    ),
    ("cosmos_accounts", re.compile(_SUB + r"/providers/microsoft\.documentdb/databaseaccounts$", re.I)),
    # a subscription's resources of one type with their properties (List All / List By Subscription)
    ("type_list", re.compile(_SUB + r"/providers/(?P<ns>[^/]+)/(?P<t>[^/]+)$", re.I)),
    ("afd_endpoints", re.compile(_CDN + r"/afdendpoints$", re.I)),
    ("afd_routes", re.compile(_CDN + r"/afdendpoints/(?P<e>[^/]+)/routes$", re.I)),
    ("afd_origin_groups", re.compile(_CDN + r"/origingroups$", re.I)),
    ("afd_origins", re.compile(_CDN + r"/origingroups/(?P<g>[^/]+)/origins$", re.I)),
    ("afd_custom_domains", re.compile(_CDN + r"/customdomains$", re.I)),
    (
        "dns_record_sets",
        re.compile(_RG + r"/providers/microsoft\.network/dnszones/(?P<z>[^/]+)/(recordsets|all)$", re.I),
    ),
    ("metrics", re.compile(_RG + r"/providers/.+/providers/microsoft\.insights/metrics$", re.I)),
    ("storage_account", re.compile(_RG + r"/providers/microsoft\.storage/storageaccounts/(?P<sa>[^/]+)$", re.I)),
    ("resource", re.compile(_RG + r"/providers/.+$", re.I)),
)
COLLECTIONS = tuple(name for name, _ in ROUTES)
# The types listed per subscription with their properties (``type_list``), as ARM's List All / List By
# Subscription operations answer them: the same model as their read by id.
_SUBSCRIPTION_LISTS = frozenset(
    {
        "microsoft.compute/virtualmachinescalesets",
        "microsoft.insights/autoscalesettings",
        "microsoft.dbforpostgresql/flexibleservers",
        "microsoft.dbformysql/flexibleservers",
        "microsoft.network/trafficmanagerprofiles",
        "microsoft.network/dnszones",
    }
)
_LIST_FIELDS = ("id", "name", "type", "kind", "location", "tags", "sku", "managedBy", "plan", "identity")
_CREATED, _CHANGED = "2026-01-05T10:00:00.0000000Z", "2026-03-01T12:30:00.0000000Z"
# PowerState codes a VM's instance view reports (``PowerState/<state>``) and their display text.
POWER_STATES = {
    "running": "VM running",
    "deallocated": "VM deallocated",
    "stopped": "VM stopped",
    "starting": "VM starting",
    "stopping": "VM stopping",
    "deallocating": "VM deallocating",
    "unknown": "VM status unknown",
}
# Resource providers whose ``properties`` carry no provisioningState of their own (their SDK models
# have none); ARM still tracks one for ``$expand=provisioningState``.
_NO_PROPERTIES_STATE = {
    "microsoft.network/dnszones",
    "microsoft.network/trafficmanagerprofiles",
    "microsoft.dbforpostgresql/flexibleservers",
    "microsoft.dbformysql/flexibleservers",
    "microsoft.insights/autoscalesettings",
    "microsoft.sql/servers",
    "microsoft.sql/servers/databases",
}
_VM = "microsoft.compute/virtualmachines"
_VMSS = "microsoft.compute/virtualmachinescalesets"


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

    ``collection`` is a route name from ``ROUTES`` (``resourcegroups``, ``resources``, ``locks``,
    ``vm_list``, ``scale_set_vms``, …, ``resource`` for a read by id);
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
        return self.subscription in (None, subscription) and self.collection in (None, collection) and self.times != 0


@dataclass
class _Subscription:
    groups: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    locks: list[dict[str, Any]] = field(default_factory=list)
    # Azure SQL servers' child collections (each item's id names its server)
    failover_groups: list[dict[str, Any]] = field(default_factory=list)
    replication_links: list[dict[str, Any]] = field(default_factory=list)
    recoverable: list[dict[str, Any]] = field(default_factory=list)
    # sub-resources listed under a parent (Front Door endpoints, routes, origin groups, origins, custom
    # domains; DNS record sets): "<parent id lower-case>/<collection lower-case>" -> items
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Azure Monitor metric series by resource id (lower-case)
    metrics: dict[str, list[MetricSeries]] = field(default_factory=dict)


def _statuses(power_state: str | None, provisioning: str = "succeeded") -> list[dict[str, Any]]:
    """An instance view's ``statuses``: the provisioning state, then the power state when the VM has one."""
    out: list[dict[str, Any]] = [
        {
            "code": f"ProvisioningState/{provisioning}",
            "level": "Info",
            "displayStatus": f"Provisioning {provisioning}",
            "time": "2026-03-01T12:30:00+00:00",
        }
    ]
    if power_state is not None:
        out.append(
            {
                "code": f"PowerState/{power_state}",
                "level": "Info",
                "displayStatus": POWER_STATES.get(power_state, f"VM {power_state}"),
            }
        )
    return out


class FakeArm(JsonApi["Request", "Fault"]):
    """The fake ARM server. Thread-safe; seed before or while the adapter runs."""

    content_type = "application/json; charset=utf-8"
    name = "fake-arm"

    def __init__(
        self, *, page_size: int = 100, host: str = "127.0.0.1", tls: bool = False, token: str | None = None
    ) -> None:
        """``token``: when set, only ``Authorization: Bearer <token>`` is accepted (else any bearer token)."""
        super().__init__(host)
        self.page_size = page_size
        self._tls = tls
        self.scheme = "https" if tls else "http"
        self._token = token
        self._subs: dict[str, _Subscription] = {}
        self._power: dict[str, str | None] = {}  # VM id (lower-case) -> power state; None: none reported
        self._members: dict[str, list[dict[str, Any]]] = {}  # uniform scale set id (lower) -> member VMs
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.ca_file: str | None = None

    def _internal_error(self, err: Exception) -> Answer:
        return _error(500, "InternalServerError", f"fake ARM error: {err}")

    def _answer_headers(self) -> dict[str, str]:
        return {"x-ms-request-id": f"fake-{time.monotonic_ns()}"}

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
        fault = Fault(
            status=status,
            code=code,
            subscription=subscription,
            collection=collection,
            times=times,
            retry_after=retry_after,
            message=message,
            after=after,
        )
        return self._add_fault(fault)

    def slow(
        self,
        seconds: float,
        *,
        subscription: str | None = None,
        collection: str | None = None,
        times: int | None = None,
    ) -> Fault:
        fault = Fault(delay=seconds, subscription=subscription, collection=collection, times=times)
        return self._add_fault(fault)

    # -- seeding -----------------------------------------------------------------------------------
    def _sub(self, subscription: str) -> _Subscription:
        return self._subs.setdefault(subscription, _Subscription())

    def add_subscription(self, subscription: str) -> None:
        with self._lock:
            self._sub(subscription)

    def add_resource_group(
        self,
        subscription: str,
        name: str,
        *,
        location: str = "eastus",
        tags: dict[str, str] | None = None,
        state: str = "Succeeded",
        managed_by: str | None = None,
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
        """Any ARM resource; ``properties`` are served only by its read by id, as in ARM. ``state`` is the
        ARM provisioning state (``$expand=provisioningState``), also in ``properties`` where the
        resource provider reports one. Read-only fields the service fills (Traffic Manager endpoint
        ids, a DNS zone's name servers) are filled here when not given."""
        rid = resource_id(subscription, resource_group, native_type, name)
        props = dict(properties or {})
        if native_type.lower() not in _NO_PROPERTIES_STATE:
            props = {"provisioningState": state, **props}
        res: dict[str, Any] = {
            "id": rid,
            "name": name,
            "type": native_type,
            "location": location,
            "tags": dict(tags or {}),
            "properties": _server_fields(native_type, rid, props),
            "_arm": {"createdTime": _CREATED, "changedTime": _CHANGED, "provisioningState": state},
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
        self,
        subscription: str,
        resource_group: str,
        name: str,
        *,
        size: str,
        location: str = "eastus",
        tags: dict[str, str] | None = None,
        image: dict[str, str] | None = None,
        zones: list[str] | None = None,
        power_state: str | None = "running",
        scale_set: str | None = None,
    ) -> dict[str, Any]:
        """A VM whose instance view reports ``PowerState/<power_state>`` (``None``: no power state at all,
        as while it is being created). ``scale_set``: the id of the flexible scale set it belongs to."""
        image = image or {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
        props: dict[str, Any] = {
            "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{subscription}/{resource_group}/{name}")),
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {"imageReference": image, "osDisk": {"osType": "Linux", "createOption": "FromImage"}},
            "timeCreated": "2026-01-05T10:00:00+00:00",
        }
        if scale_set:
            props["virtualMachineScaleSet"] = {"id": scale_set}
        vm = self.add_resource(
            subscription,
            resource_group,
            "Microsoft.Compute/virtualMachines",
            name,
            location=location,
            tags=tags,
            properties=props,
            zones=zones,
        )
        self.set_power_state(vm["id"], power_state)
        return vm

    def set_power_state(self, vm_id: str, power_state: str | None) -> None:
        """Start, stop or deallocate a VM (or a uniform scale set's member, by its id)."""
        if power_state is not None and power_state not in POWER_STATES:
            raise ValueError(f"power state {power_state!r} is not one of {', '.join(POWER_STATES)}")
        with self._lock:
            self._power[vm_id.lower()] = power_state

    def add_scale_set(
        self,
        subscription: str,
        resource_group: str,
        name: str,
        *,
        size: str | None,
        capacity: int | None,
        orchestration: str = "Uniform",
        location: str = "eastus",
        tags: dict[str, str] | None = None,
        zones: list[str] | None = None,
        member_states: list[str | None] | None = None,
    ) -> dict[str, Any]:
        """A VM scale set wanting ``capacity`` instances of ``size``. A uniform one gets one member VM per
        entry of ``member_states`` (default: ``capacity`` running ones); a flexible one's members are
        VMs added with ``add_vm(..., scale_set=<its id>)``."""
        props: dict[str, Any] = {
            "orchestrationMode": orchestration,
            "uniqueId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{subscription}/{resource_group}/{name}")),
            "timeCreated": "2026-01-05T10:00:00+00:00",
        }
        if orchestration == "Uniform":
            props |= {
                "upgradePolicy": {"mode": "Manual"},
                "overprovision": False,
                "singlePlacementGroup": True,
                "virtualMachineProfile": {
                    "storageProfile": {
                        "imageReference": {
                            "publisher": "Canonical",
                            "offer": "ubuntu-24_04-lts",
                            "sku": "server",
                            "version": "latest",
                        }
                    },
                },
            }
        else:
            props["platformFaultDomainCount"] = 1
        sku = {"name": size, "tier": "Standard", "capacity": capacity} if size is not None else None
        ss = self.add_resource(
            subscription,
            resource_group,
            "Microsoft.Compute/virtualMachineScaleSets",
            name,
            location=location,
            sku=sku,
            tags=tags,
            properties=props,
            zones=zones,
        )
        if orchestration == "Uniform":
            states = member_states if member_states is not None else ["running"] * (capacity or 0)
            members = []
            for i, power in enumerate(states):
                member: dict[str, Any] = {
                    "name": f"{name}_{i}",
                    "id": f"{ss['id']}/virtualMachines/{i}",
                    "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
                    "location": location,
                    "instanceId": str(i),
                    "sku": {"name": size, "tier": "Standard"},
                    "properties": {
                        "latestModelApplied": True,
                        "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ss['id']}/{i}")),
                        "provisioningState": "Succeeded",
                        "timeCreated": "2026-01-05T10:00:00+00:00",
                    },
                }
                if zones:
                    member["zones"] = [zones[i % len(zones)]]
                members.append(member)
                self.set_power_state(str(member["id"]), power)
            with self._lock:
                self._members[ss["id"].lower()] = members
        return ss

    def add_autoscale(
        self,
        subscription: str,
        resource_group: str,
        name: str,
        *,
        target: str,
        minimum: int,
        maximum: int,
        default: int | None = None,
        enabled: bool = True,
        location: str = "eastus",
        profiles: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """An autoscale setting (Microsoft.Insights) for the resource ``target``: one default profile
        with ``minimum``/``maximum``/``default`` (the API's capacities are strings), unless
        ``profiles`` gives them all."""
        default_profile = {
            "name": "default",
            "capacity": {"minimum": str(minimum), "maximum": str(maximum), "default": str(default or minimum)},
            "rules": [
                {
                    "metricTrigger": {
                        "metricName": "Percentage CPU",
                        "metricResourceUri": target,
                        "timeGrain": "PT1M",
                        "statistic": "Average",
                        "timeWindow": "PT5M",
                        "timeAggregation": "Average",
                        "operator": "GreaterThan",
                        "threshold": 70.0,
                        "dividePerInstance": False,
                    },
                    "scaleAction": {"direction": "Increase", "type": "ChangeCount", "value": "1", "cooldown": "PT5M"},
                }
            ],
        }
        props = {
            "profiles": profiles or [default_profile],
            "enabled": enabled,
            "name": name,
            "targetResourceUri": target,
            "targetResourceLocation": location,
            "notifications": [],
        }
        return self.add_resource(
            subscription,
            resource_group,
            "Microsoft.Insights/autoscaleSettings",
            name,
            location=location,
            properties=props,
        )

    def add_dns_zone(
        self,
        subscription: str,
        resource_group: str,
        name: str,
        *,
        tags: dict[str, str] | None = None,
        name_servers: list[str] | None = None,
    ) -> dict[str, Any]:
        """A public Azure DNS zone; its four name servers are assigned by the service unless given."""
        props: dict[str, Any] = {} if name_servers is None else {"nameServers": list(name_servers)}
        return self.add_resource(
            subscription,
            resource_group,
            "Microsoft.Network/dnszones",
            name,
            location="global",
            tags=tags,
            properties=props,
        )

    def add_traffic_manager(
        self,
        subscription: str,
        resource_group: str,
        name: str,
        *,
        endpoints: list[dict[str, Any]],
        routing: str = "Priority",
        status: str = "Enabled",
        ttl: int = 30,
        protocol: str = "HTTPS",
        port: int = 443,
        path: str = "/healthz",
        interval_s: int = 30,
        timeout_s: int = 10,
        tolerated_failures: int = 3,
        monitor_status: str = "Online",
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A Traffic Manager profile. Each endpoint is ``{name, target | target_resource_id, priority,
        status="Enabled", monitor_status="Online", location, always_serve="Disabled", kind="external"}``
        (``kind``: external, azure or nested; a nested one names its child profile in ``target_resource_id``
        and may set ``min_child_endpoints``)."""
        kinds = {"external": "externalEndpoints", "azure": "azureEndpoints", "nested": "nestedEndpoints"}
        eps = []
        for e in endpoints:
            p: dict[str, Any] = {
                "endpointStatus": e.get("status", "Enabled"),
                "endpointMonitorStatus": e.get("monitor_status", "Online"),
                "priority": e.get("priority"),
                "weight": e.get("weight", 1),
                "alwaysServe": e.get("always_serve", "Disabled"),
            }
            if e.get("target") is not None:
                p["target"] = e["target"]
            if e.get("target_resource_id") is not None:
                p["targetResourceId"] = e["target_resource_id"]
            if e.get("location") is not None:
                p["endpointLocation"] = e["location"]
            if e.get("min_child_endpoints") is not None:  # nested endpoints only
                p["minChildEndpoints"] = e["min_child_endpoints"]
            eps.append(
                {
                    "name": e["name"],
                    "type": f"Microsoft.Network/trafficManagerProfiles/{kinds[e.get('kind', 'external')]}",
                    "properties": {k: v for k, v in p.items() if v is not None},
                }
            )
        props = {
            "profileStatus": status,
            "trafficRoutingMethod": routing,
            "dnsConfig": {"relativeName": name, "fqdn": f"{name}.trafficmanager.net", "ttl": ttl},
            "monitorConfig": {
                "protocol": protocol,
                "port": port,
                "path": path,
                "intervalInSeconds": interval_s,
                "timeoutInSeconds": timeout_s,
                "toleratedNumberOfFailures": tolerated_failures,
                "profileMonitorStatus": monitor_status,
            },
            "endpoints": eps,
            "trafficViewEnrollmentStatus": "Disabled",
        }
        return self.add_resource(
            subscription,
            resource_group,
            "Microsoft.Network/trafficManagerProfiles",
            name,
            location="global",
            tags=tags,
            properties=props,
        )

    def add_postgres_flexible(
        self,
        subscription: str,
        resource_group: str,
        name: str,
        *,
        location: str = "eastus",
        role: str = "Primary",
        source: str | None = None,
        replication_state: str | None = None,
        state: str = "Ready",
        version: str = "16",
        geo_redundant_backup: bool = False,
        high_availability: str = "Disabled",
        sku: str = "Standard_D2ds_v5",
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A PostgreSQL flexible server as API 2024-08-01 shows it: ``replicationRole`` and the ``replica``
        object (role, capacity, and for a replica its ``replicationState``: Active, Catchup,
        Provisioning, Updating, Broken or Reconfiguring)."""
        replica: dict[str, Any] = {"role": role, "capacity": 5 if role in ("Primary", "None") else 0}
        if role not in ("Primary", "None"):
            replica["replicationState"] = replication_state or "Active"
        props: dict[str, Any] = {
            "fullyQualifiedDomainName": f"{name}.postgres.database.azure.com",
            "version": version,
            "minorVersion": "8",
            "administratorLogin": "dbadmin",
            "state": state,
            "availabilityZone": "1",
            "storage": {"storageSizeGB": 128, "autoGrow": "Disabled", "tier": "P10", "iops": 500},
            "backup": {
                "backupRetentionDays": 7,
                "geoRedundantBackup": "Enabled" if geo_redundant_backup else "Disabled",
                "earliestRestoreDate": "2026-03-01T12:30:00Z",
            },
            "network": {"publicNetworkAccess": "Disabled"},
            "highAvailability": {
                "mode": high_availability,
                "state": "Healthy" if high_availability != "Disabled" else "NotEnabled",
            },
            "replicationRole": role,
            "replicaCapacity": replica["capacity"],
            "replica": replica,
        }
        if source:
            props["sourceServerResourceId"] = source
        return self.add_resource(
            subscription,
            resource_group,
            "Microsoft.DBforPostgreSQL/flexibleServers",
            name,
            location=location,
            sku={"name": sku, "tier": "GeneralPurpose"},
            tags=tags,
            properties=props,
        )

    # -- data tier: Azure SQL, Cosmos DB, storage accounts (shapes from the 2023-08-01+ REST examples) --
    def add_sql_server(
        self,
        subscription: str,
        resource_group: str,
        name: str,
        *,
        location: str = "eastus",
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A logical server (``Microsoft.Sql/servers``) as its read by id shows it."""
        props = {
            "administratorLogin": "dbadmin",
            "version": "12.0",
            "state": "Ready",
            "fullyQualifiedDomainName": f"{name}.database.windows.net",
            "publicNetworkAccess": "Disabled",
        }
        return self.add_resource(
            subscription,
            resource_group,
            "Microsoft.Sql/servers",
            name,
            location=location,
            tags=tags,
            properties=props,
            kind="v12.0",
        )

    def add_sql_database(
        self,
        subscription: str,
        resource_group: str,
        server: str,
        name: str,
        *,
        location: str = "eastus",
        tags: dict[str, str] | None = None,
        last_geo_backup: str | None = None,
    ) -> dict[str, Any]:
        """A user database; ``last_geo_backup`` (ISO 8601) lists it among the server's recoverable
        databases with that ``lastAvailableBackupDate`` (its newest geo-replicated backup)."""
        props = {
            "collation": "SQL_Latin1_General_CP1_CI_AS",
            "maxSizeBytes": 34359738368,
            "status": "Online",
            "databaseId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{subscription}/{server}/{name}")),
            "creationDate": "2026-01-05T10:00:00Z",
            "currentServiceObjectiveName": "GP_Gen5_2",
            "requestedBackupStorageRedundancy": "Geo",
            "currentBackupStorageRedundancy": "Geo",
            "zoneRedundant": False,
        }
        db = self.add_resource(
            subscription,
            resource_group,
            "Microsoft.Sql/servers/databases",
            f"{server}/{name}",
            location=location,
            tags=tags,
            properties=props,
            kind="v12.0,user,vcore",
            sku={"name": "GP_Gen5", "tier": "GeneralPurpose", "family": "Gen5", "capacity": 2},
        )
        if last_geo_backup is not None:
            server_id = resource_id(subscription, resource_group, "Microsoft.Sql/servers", server)
            item = {
                "id": f"{server_id}/recoverableDatabases/{name}",
                "name": name,
                "type": "Microsoft.Sql/servers/recoverableDatabases",
                "properties": {
                    "edition": "GeneralPurpose",
                    "serviceLevelObjective": "GP_Gen5_2",
                    "lastAvailableBackupDate": last_geo_backup,
                    "elasticPoolName": None,
                },
            }
            with self._lock:
                self._sub(subscription).recoverable.append(item)
        return db

    def add_replication_link(
        self,
        database_id: str,
        *,
        partner_server: str,
        partner_location: str,
        partner_database: str | None = None,
        partner_database_id: str | None = None,
        role: str = "Primary",
        state: str = "CATCH_UP",
        link_type: str = "GEO",
    ) -> dict[str, Any]:
        """A geo-replication link of ``database_id`` as ``GET …/servers/{s}/replicationLinks`` lists it
        (``replicationState``: PENDING, SEEDING, CATCH_UP or SUSPENDED; ``role`` of this side)."""
        partner_role = "Secondary" if role == "Primary" else "Primary"
        link: dict[str, Any] = {
            "id": f"{database_id}/replicationLinks/{uuid.uuid5(uuid.NAMESPACE_URL, database_id + partner_server)}",
            "name": str(uuid.uuid5(uuid.NAMESPACE_URL, database_id + partner_server)),
            "type": "Microsoft.Sql/servers/databases/replicationLinks",
            "properties": {
                "partnerServer": partner_server,
                "partnerDatabase": partner_database or database_id.rsplit("/", 1)[-1],
                "partnerLocation": partner_location,
                "role": role,
                "partnerRole": partner_role,
                "replicationMode": "ASYNC",
                "startTime": "2026-01-05T10:05:00Z",
                "percentComplete": 100 if state == "CATCH_UP" else 40,
                "replicationState": state,
                "isTerminationAllowed": True,
                "linkType": link_type,
            },
        }
        if partner_database_id:
            link["properties"]["partnerDatabaseId"] = partner_database_id
        sub = database_id.split("/")[2]
        with self._lock:
            self._sub(sub).replication_links.append(link)
        return link

    def add_failover_group(
        self,
        server_id: str,
        name: str,
        *,
        location: str,
        partners: list[tuple[str, str]],
        databases: list[str],
        policy: str = "Manual",
        grace_minutes: int | None = None,
        role: str = "Primary",
        state: str = "CATCH_UP",
    ) -> dict[str, Any]:
        """A failover group on ``server_id`` (``partners``: (server id, location) each) as
        ``GET …/servers/{s}/failoverGroups`` lists it; Automatic needs ``grace_minutes`` (at least 60)."""
        rw: dict[str, Any] = {"failoverPolicy": policy}
        if policy == "Automatic":
            rw["failoverWithDataLossGracePeriodMinutes"] = grace_minutes or 60
        partner_role = "Secondary" if role == "Primary" else "Primary"
        group = {
            "id": f"{server_id}/failoverGroups/{name}",
            "name": name,
            "type": "Microsoft.Sql/servers/failoverGroups",
            "location": location,
            "tags": {},
            "properties": {
                "readWriteEndpoint": rw,
                "readOnlyEndpoint": {"failoverPolicy": "Disabled"},
                "replicationRole": role,
                "replicationState": state,
                "partnerServers": [
                    {"id": pid, "location": ploc, "replicationRole": partner_role} for pid, ploc in partners
                ],
                "databases": list(databases),
            },
        }
        with self._lock:
            self._sub(server_id.split("/")[2]).failover_groups.append(group)
        return group

    def add_cosmos_account(
        self,
        subscription: str,
        resource_group: str,
        name: str,
        *,
        locations: list[tuple[str, int]],
        location_states: dict[str, str] | None = None,
        consistency: str = "Session",
        max_interval_s: int = 5,
        automatic_failover: bool = True,
        multi_region_writes: bool = False,
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A Cosmos DB account (``locations``: (display name, failover priority) each, as ARM names them,
        e.g. ``("West US", 1)``; ``location_states``: a location's provisioningState when not Succeeded)."""
        states = location_states or {}

        def loc(display: str, priority: int) -> dict[str, Any]:
            slug = display.replace(" ", "").lower()
            return {
                "id": f"{name}-{slug}",
                "locationName": display,
                "documentEndpoint": f"https://{name}-{slug}.documents.azure.com:443/",
                "provisioningState": states.get(display, "Succeeded"),
                "failoverPriority": priority,
                "isZoneRedundant": False,
            }

        ordered = sorted(locations, key=lambda lp: lp[1])
        located = [loc(d, p) for d, p in ordered]
        writes = located if multi_region_writes else located[:1]
        policy: dict[str, Any] = {"defaultConsistencyLevel": consistency}
        if consistency == "BoundedStaleness":
            policy |= {"maxStalenessPrefix": 100000, "maxIntervalInSeconds": max_interval_s}
        props = {
            "documentEndpoint": f"https://{name}.documents.azure.com:443/",
            "databaseAccountOfferType": "Standard",
            "ipRules": [],
            "isVirtualNetworkFilterEnabled": False,
            "enableAutomaticFailover": automatic_failover,
            "consistencyPolicy": policy,
            "capabilities": [],
            "writeLocations": writes,
            "readLocations": located,
            "locations": located,
            "failoverPolicies": [
                {"id": x["id"], "locationName": x["locationName"], "failoverPriority": x["failoverPriority"]}
                for x in located
            ],
            "virtualNetworkRules": [],
            "enableMultipleWriteLocations": multi_region_writes,
            "publicNetworkAccess": "Enabled",
            "disableLocalAuth": False,
            "instanceId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{subscription}/{name}")),
        }
        home = ordered[0][0].replace(" ", "").lower() if ordered else "eastus"
        return self.add_resource(
            subscription,
            resource_group,
            "Microsoft.DocumentDB/databaseAccounts",
            name,
            location=home,
            tags=tags,
            properties=props,
            kind="GlobalDocumentDB",
        )

    def add_storage_account(
        self,
        subscription: str,
        resource_group: str,
        name: str,
        *,
        sku: str = "Standard_RAGRS",
        location: str = "eastus",
        secondary_location: str | None = "westus",
        last_sync_time: str | None = "2026-03-01T12:29:00Z",
        geo_status: str | None = "Live",
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A storage account; a geo-redundant ``sku`` has a ``secondaryLocation`` and answers
        ``$expand=geoReplicationStats`` with ``geo_status`` (Live, Bootstrap, Unavailable) and
        ``last_sync_time`` (``None``: not reported, as while bootstrapping). ``geo_status=None``: the
        read carries no stats at all."""
        geo = sku.rpartition("_")[2].upper() in ("GRS", "RAGRS", "GZRS", "RAGZRS")
        props: dict[str, Any] = {
            "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/"},
            "primaryLocation": location,
            "statusOfPrimary": "available",
            "creationTime": "2026-01-05T10:00:00Z",
            "supportsHttpsTrafficOnly": True,
            "accessTier": "Hot",
            "minimumTlsVersion": "TLS1_2",
        }
        if geo and secondary_location:
            props |= {"secondaryLocation": secondary_location, "statusOfSecondary": "available"}
        res = self.add_resource(
            subscription,
            resource_group,
            "Microsoft.Storage/storageAccounts",
            name,
            location=location,
            tags=tags,
            properties=props,
            kind="StorageV2",
            sku={"name": sku, "tier": sku.split("_")[0].replace("V2", "")},
        )
        if geo and geo_status is not None:
            stats: dict[str, Any] = {
                "status": geo_status,
                "canFailover": geo_status == "Live",
                "canPlannedFailover": geo_status == "Live",
            }
            if last_sync_time is not None:
                stats["lastSyncTime"] = last_sync_time
            with self._lock:
                res["_geo"] = stats
        return res

    # -- traffic steering: Front Door Standard/Premium and Azure DNS record sets ---------------------
    # (shapes from azure-rest-api-specs specification/cdn/.../examples (AFDEndpoints_ListByProfile,
    # Routes_Get, AFDOriginGroups_Create, AFDOrigins_ListByOriginGroup) and azure-mgmt-cdn's models)
    def _add_child(self, subscription: str, parent_id: str, collection: str, item: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            key = f"{parent_id.lower()}/{collection.lower()}"
            self._sub(subscription).children.setdefault(key, []).append(item)
        return item

    def children(self, subscription: str, parent_id: str, collection: str) -> list[dict[str, Any]]:
        """What the fake serves for ``GET {parent_id}/{collection}`` (a Front Door profile's
        ``afdEndpoints``, a zone's ``recordsets``), as seeded: lets a seed read the names the service assigned."""
        with self._lock:
            return [
                dict(i) for i in self._sub(subscription).children.get(f"{parent_id.lower()}/{collection.lower()}", [])
            ]

    def add_front_door(
        self,
        subscription: str,
        resource_group: str,
        name: str,
        *,
        origin_groups: list[dict[str, Any]],
        routes: list[dict[str, Any]],
        endpoints: list[str] | None = None,
        domains: dict[str, str] | None = None,
        sku: str = "Standard_AzureFrontDoor",
        tags: dict[str, str] | None = None,
        endpoint_states: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A Front Door Standard/Premium profile (``Microsoft.Cdn/profiles``) with its children.

        ``endpoints``: endpoint names (default ``[name]``), each ``Enabled`` unless ``endpoint_states``
        says otherwise. ``domains``: custom domain name -> host name. Each origin group is ``{name,
        probe: {path, protocol, interval_s, request_type} | None (no probes), sample_size=4,
        successful=3, latency_ms=50, origins: [{name, host, priority=1, weight=1000, enabled=True}]}``;
        each route ``{name, endpoint, origin_group, domains=[], patterns=["/*"], enabled=True,
        link_default=True}``."""
        profile = self.add_resource(
            subscription,
            resource_group,
            "Microsoft.Cdn/profiles",
            name,
            location="Global",
            sku={"name": sku},
            kind="frontdoor",
            tags=tags,
            properties={
                "frontDoorId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{subscription}/{resource_group}/{name}")),
                "originResponseTimeoutSeconds": 60,
                "resourceState": "Active",
            },
        )
        pid = profile["id"]
        states = endpoint_states or {}
        for ep in endpoints or [name]:
            digest = uuid.uuid5(uuid.NAMESPACE_URL, f"{pid}/{ep}").hex[:16]
            self._add_child(
                subscription,
                pid,
                "afdEndpoints",
                {
                    "id": f"{pid}/afdEndpoints/{ep}",
                    "name": ep,
                    "type": "Microsoft.Cdn/profiles/afdendpoints",
                    "location": "Global",
                    "tags": {},
                    "properties": {
                        "hostName": f"{ep}-{digest}.z01.azurefd.net",
                        "enabledState": states.get(ep, "Enabled"),
                        "provisioningState": "Succeeded",
                        "deploymentStatus": "NotStarted",
                        "autoGeneratedDomainNameLabelScope": "TenantReuse",
                        "profileName": name,
                    },
                },
            )
        for dname, host in (domains or {}).items():
            self._add_child(
                subscription,
                pid,
                "customDomains",
                {
                    "id": f"{pid}/customDomains/{dname}",
                    "name": dname,
                    "type": "Microsoft.Cdn/profiles/customdomains",
                    "properties": {
                        "hostName": host,
                        "tlsSettings": {"certificateType": "ManagedCertificate", "minimumTlsVersion": "TLS12"},
                        "domainValidationState": "Approved",
                        "provisioningState": "Succeeded",
                        "deploymentStatus": "NotStarted",
                        "profileName": name,
                    },
                },
            )
        for g in origin_groups:
            gid = f"{pid}/originGroups/{g['name']}"
            probe = g.get("probe", {"path": "/healthz", "protocol": "Https", "interval_s": 30})
            props: dict[str, Any] = {
                "loadBalancingSettings": {
                    "sampleSize": g.get("sample_size", 4),
                    "successfulSamplesRequired": g.get("successful", 3),
                    "additionalLatencyInMilliseconds": g.get("latency_ms", 50),
                },
                "trafficRestorationTimeToHealedOrNewEndpointsInMinutes": 10,
                "sessionAffinityState": "Disabled",
                "provisioningState": "Succeeded",
                "deploymentStatus": "NotStarted",
                "profileName": name,
            }
            if probe is not None:
                props["healthProbeSettings"] = {
                    "probePath": probe.get("path", "/"),
                    "probeRequestType": probe.get("request_type", "HEAD"),
                    "probeProtocol": probe.get("protocol", "Https"),
                    "probeIntervalInSeconds": probe.get("interval_s", 100),
                }
            self._add_child(
                subscription,
                pid,
                "originGroups",
                {"id": gid, "name": g["name"], "type": "Microsoft.Cdn/profiles/origingroups", "properties": props},
            )
            for o in g.get("origins") or []:
                self._add_child(
                    subscription,
                    gid,
                    "origins",
                    {
                        "id": f"{gid}/origins/{o['name']}",
                        "name": o["name"],
                        "type": "Microsoft.Cdn/profiles/origingroups/origins",
                        "properties": {
                            "hostName": o["host"],
                            "httpPort": 80,
                            "httpsPort": 443,
                            "originHostHeader": o.get("host_header", o["host"]),
                            "priority": o.get("priority", 1),
                            "weight": o.get("weight", 1000),
                            "enabledState": "Enabled" if o.get("enabled", True) else "Disabled",
                            "enforceCertificateNameCheck": True,
                            "provisioningState": "Succeeded",
                            "deploymentStatus": "NotStarted",
                            "originGroupName": g["name"],
                        },
                    },
                )
        for r in routes:
            eid = f"{pid}/afdEndpoints/{r['endpoint']}"
            self._add_child(
                subscription,
                eid,
                "routes",
                {
                    "id": f"{eid}/routes/{r['name']}",
                    "name": r["name"],
                    "type": "Microsoft.Cdn/profiles/afdendpoints/routes",
                    "properties": {
                        "customDomains": [
                            {"id": f"{pid}/customDomains/{d}", "isActive": True} for d in r.get("domains") or []
                        ],
                        "originGroup": {"id": f"{pid}/originGroups/{r['origin_group']}"},
                        "ruleSets": [],
                        "supportedProtocols": ["Https", "Http"],
                        "patternsToMatch": list(r.get("patterns") or ["/*"]),
                        "forwardingProtocol": "HttpsOnly",
                        "linkToDefaultDomain": "Enabled" if r.get("link_default", True) else "Disabled",
                        "httpsRedirect": "Enabled",
                        "enabledState": "Enabled" if r.get("enabled", True) else "Disabled",
                        "provisioningState": "Succeeded",
                        "deploymentStatus": "NotStarted",
                        "endpointName": r["endpoint"],
                    },
                },
            )
        return profile

    def add_record_set(
        self,
        zone_id: str,
        name: str,
        record_type: str,
        *,
        ttl: int = 3600,
        values: list[str] | None = None,
        target_resource: str | None = None,
    ) -> dict[str, Any]:
        """A record set of the DNS zone ``zone_id`` (``name`` relative to the zone, ``@`` for the apex).
        ``values``: addresses (A/AAAA), the one canonical name (CNAME), or TXT strings; an alias record
        has ``target_resource`` (a Traffic Manager profile, Front Door endpoint or public IP id) and no values."""
        rtype = record_type.upper()
        zone = zone_id.rstrip("/").rsplit("/", 1)[-1]
        props: dict[str, Any] = {
            "TTL": ttl,
            "fqdn": f"{zone}." if name == "@" else f"{name}.{zone}.",
            "provisioningState": "Succeeded",
        }
        vals = list(values or [])
        if rtype == "A":
            props["ARecords"] = [{"ipv4Address": v} for v in vals]
        elif rtype == "AAAA":
            props["AAAARecords"] = [{"ipv6Address": v} for v in vals]
        elif rtype == "CNAME":
            if vals:
                props["CNAMERecord"] = {"cname": vals[0]}
        elif rtype == "TXT":
            props["TXTRecords"] = [{"value": [v]} for v in vals]
        else:
            raise ValueError(f"record type {record_type!r}: the fake serves A, AAAA, CNAME and TXT record sets")
        if target_resource is not None:
            props["targetResource"] = {"id": target_resource}
        item = {
            "id": f"{zone_id}/{rtype}/{name}",
            "name": name,
            "type": f"Microsoft.Network/dnszones/{rtype}",
            "etag": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{zone_id}/{rtype}/{name}")),
            "properties": props,
        }
        return self._add_child(zone_id.split("/")[2], zone_id, "recordsets", item)

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

    def add_metric(
        self,
        resource_id: str,
        name: str,
        values: list[float],
        *,
        namespace: str | None = None,
        unit: str = "Seconds",
        dimensions: dict[str, str] | None = None,
        newest: datetime | None = None,
    ) -> None:
        """A series of Azure Monitor metric ``name`` on the (seeded) resource ``resource_id``: ``values``
        one minute apart, oldest first, the last at ``newest`` (default now). ``namespace`` defaults to the
        resource's type (a platform metric); a custom metric names its own. No values: the metric exists
        but has no sample."""
        m = re.match(r"^/subscriptions/([^/]+)", resource_id)
        if not m:
            raise ValueError(f"a resource id starts with /subscriptions/<id>, got {resource_id!r}")
        newest = newest or datetime.now(UTC)
        points = [(newest - timedelta(minutes=len(values) - 1 - i), float(v)) for i, v in enumerate(values)]
        with self._lock:
            resource = _find(self._sub(m.group(1)).resources, resource_id)
            if resource is None:
                raise ValueError(f"seed the resource {resource_id} before its metrics")
            series = MetricSeries(name, namespace or resource["type"], unit, dict(dimensions or {}), points)
            self._sub(m.group(1)).metrics.setdefault(resource_id.lower(), []).append(series)

    # -- serving -----------------------------------------------------------------------------------

    def _handle(self, method: str, raw_path: str, headers: Any, _body: bytes) -> Answer:
        parts = urlsplit(raw_path)
        path = unquote(parts.path).rstrip("/")  # ARM matches names decoded, as the SDK quotes them
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        collection, subscription, match = None, None, None
        for name, pattern in ROUTES:
            match = pattern.match(path)
            if match:
                collection, subscription = name, match.group("s")
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
        if collection is None or match is None:
            return _error(404, "InvalidResourceType", f"no route for {path}")
        fault = self._fault_for(subscription, collection)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                status, extra, body = _error(
                    fault.status,
                    fault.code or _ERROR_CODES.get(fault.status, "Error"),
                    fault.message or f"injected {fault.status} on {collection}",
                )
                if fault.status == 429 or fault.retry_after is not None:
                    extra["Retry-After"] = f"{fault.retry_after or 0:g}"
                return status, extra, body
        with self._lock:
            sub = self._subs.get(subscription or "")
            if sub is None:
                return _error(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")
            answer = self._answer(collection, path, query, sub)
        if isinstance(answer, tuple):
            return answer
        if isinstance(answer, list):
            return 200, {}, self._page(path, query, answer)
        return 200, {}, answer

    def _answer(
        self, collection: str, path: str, query: dict[str, str], sub: _Subscription
    ) -> dict[str, Any] | list[dict[str, Any]] | tuple[int, dict[str, str], Any]:
        """One route's body (a list is paged by the caller), or an ARM error. Called under the lock."""
        if collection == "resourcegroups":
            return [_copy(g) for g in sub.groups]
        if collection == "locks":
            return [_copy(lk) for lk in sub.locks]
        if collection == "resources":
            return [_list_entry(r, query.get("$expand", "")) for r in sub.resources]
        if collection == "vm_list":
            if "$filter" in query or "$expand" in query:
                return _error(400, "InvalidParameter", "the fake ARM serves the VM list without $filter/$expand")
            vms = [r for r in sub.resources if r["type"].lower() == _VM]
            if str(query.get("statusOnly", "")).lower() == "true":
                return [self._vm_status(vm) for vm in vms]
            return [_copy(vm) for vm in vms]
        if collection == "vm_instance_view":
            vm = _find(sub.resources, path.rsplit("/", 1)[0])
            if vm is None:
                return _error(404, "ResourceNotFound", f"The Resource '{path}' was not found.")
            return self._vm_instance_view(vm)
        if collection in ("scale_set_vms", "scale_set_vm_instance_view"):
            ss_id = path[: path.lower().index("/virtualmachines", path.lower().index("virtualmachinescalesets"))]
            ss = _find(sub.resources, ss_id)
            if ss is None:
                return _error(404, "ResourceNotFound", f"The Resource '{ss_id}' was not found.")
            if ss["properties"].get("orchestrationMode") == "Flexible":
                return _error(
                    400,
                    "BadRequest",
                    f"Operation 'VirtualMachineScaleSets.virtualMachines.GET' is not "
                    f"allowed on Virtual Machine Scale Set {ss['name']}.",
                )
            members = self._members.get(ss["id"].lower(), [])
            if collection == "scale_set_vms":
                expand = query.get("$expand", "").lower() == "instanceview"
                return [self._member(m, expand) for m in members]
            member = _find(members, path.rsplit("/", 1)[0])
            if member is None:
                return _error(404, "NotFound", f"The Resource '{path}' was not found.")
            return {
                "platformUpdateDomain": 0,
                "platformFaultDomain": 0,
                "computerName": member["name"],
                "statuses": _statuses(self._power.get(member["id"].lower())),
            }
        if collection in ("sql_failover_groups", "sql_replication_links", "sql_recoverable_databases"):
            server_id = path.rsplit("/", 1)[0]
            if _find(sub.resources, server_id) is None:
                return _error(
                    404, "ResourceNotFound", f"The Resource 'Microsoft.Sql/servers/{server_id}' was not found."
                )
            items = {
                "sql_failover_groups": sub.failover_groups,
                "sql_replication_links": sub.replication_links,
                "sql_recoverable_databases": sub.recoverable,
            }[collection]
            prefix = server_id.lower() + "/"
            return [_copy(i) for i in items if i["id"].lower().startswith(prefix)]
        if collection in _CHILD_ROUTES:
            parent, _, child = path.rpartition("/")
            if _find(sub.resources, parent) is None and not any(
                _find(items, parent) for items in sub.children.values()
            ):
                return _error(404, "ParentResourceNotFound", f"The parent resource '{parent}' was not found.")
            return [_copy(i) for i in sub.children.get(f"{parent.lower()}/{child.lower()}", [])]
        if collection == "dns_record_sets":
            zone_id = path.rpartition("/")[0]
            zone = _find(sub.resources, zone_id)
            if zone is None:
                return _error(404, "ParentResourceNotFound", f"The zone '{zone_id}' was not found.")
            return [
                *_zone_apex_records(zone),
                *(_copy(i) for i in sub.children.get(f"{zone_id.lower()}/recordsets", [])),
            ]
        if collection == "metrics":
            rid = path[: path.lower().rindex("/providers/microsoft.insights/metrics")]
            resource = _find(sub.resources, rid)
            if resource is None:
                return _error(404, "ResourceNotFound", f"The Resource '{rid}' was not found.")
            body = metrics_response(resource, sub.metrics.get(rid.lower(), []), query)
            return _error(*body) if isinstance(body, tuple) else body
        if collection == "cosmos_accounts":
            return [_copy(r) for r in sub.resources if r["type"].lower() == "microsoft.documentdb/databaseaccounts"]
        if collection == "type_list":
            native_type = path.lower().split("/providers/", 1)[1]
            if native_type not in _SUBSCRIPTION_LISTS:
                return _error(404, "InvalidResourceType", f"the fake ARM does not list {native_type} by subscription")
            return [_copy(r) for r in sub.resources if r["type"].lower() == native_type]
        found = _find([*sub.resources, *sub.locks], path)
        if found is None:
            return _error(404, "ResourceNotFound", f"The Resource '{path}' was not found.")
        body = _copy(found)
        if collection == "storage_account" and "geoReplicationStats" in query.get("$expand", "") and "_geo" in found:
            body["properties"]["geoReplicationStats"] = dict(found["_geo"])
        if found["type"].lower() == _VM and query.get("$expand", "").lower() == "instanceview":
            body["properties"]["instanceView"] = self._vm_instance_view(found)
        return body

    def _vm_instance_view(self, vm: dict[str, Any]) -> dict[str, Any]:
        return {
            "computerName": vm["name"],
            "osName": "ubuntu",
            "osVersion": "24.04",
            "hyperVGeneration": "V2",
            "statuses": _statuses(self._power.get(vm["id"].lower())),
        }

    def _vm_status(self, vm: dict[str, Any]) -> dict[str, Any]:
        """A VM as ``statusOnly=true`` lists it: identity and its instance view's statuses, no model."""
        return {
            "name": vm["name"],
            "id": vm["id"],
            "type": vm["type"],
            "location": vm["location"],
            "properties": {
                "instanceView": {"computerName": vm["name"], "statuses": _statuses(self._power.get(vm["id"].lower()))}
            },
        }

    def _member(self, member: dict[str, Any], expand: bool) -> dict[str, Any]:
        body = _copy(member)
        if expand:
            body["properties"]["instanceView"] = {
                "platformUpdateDomain": 0,
                "platformFaultDomain": 0,
                "computerName": member["name"],
                "statuses": _statuses(self._power.get(member["id"].lower())),
            }
        return body

    def _page(self, path: str, query: dict[str, str], items: list[dict[str, Any]]) -> dict[str, Any]:
        start = int(query.get("$skiptoken", "0") or 0)
        size = max(1, int(query.get("$top") or self.page_size))
        body: dict[str, Any] = {"value": items[start : start + size]}
        if start + size < len(items):
            params = {k: v for k, v in query.items() if k != "$skiptoken"}
            params["$skiptoken"] = str(start + size)
            body["nextLink"] = f"{self.url}{path}?{urlencode(params)}"
        return body


def _zone_apex_records(zone: dict[str, Any]) -> list[dict[str, Any]]:
    """The NS and SOA record sets Azure DNS creates at every zone's apex (from its name servers)."""
    servers = list(zone["properties"].get("nameServers") or [])
    name = zone["name"]
    base = {"name": "@", "etag": str(uuid.uuid5(uuid.NAMESPACE_URL, zone["id"]))}
    ns = {
        **base,
        "id": f"{zone['id']}/NS/@",
        "type": "Microsoft.Network/dnszones/NS",
        "properties": {
            "TTL": 172800,
            "fqdn": f"{name}.",
            "provisioningState": "Succeeded",
            "NSRecords": [{"nsdname": s} for s in servers],
        },
    }
    soa = {
        **base,
        "id": f"{zone['id']}/SOA/@",
        "type": "Microsoft.Network/dnszones/SOA",
        "properties": {
            "TTL": 3600,
            "fqdn": f"{name}.",
            "provisioningState": "Succeeded",
            "SOARecord": {
                "host": servers[0] if servers else "ns1-01.azure-dns.com.",
                "email": "azuredns-hostmaster.microsoft.com",
                "serialNumber": 1,
                "refreshTime": 3600,
                "retryTime": 300,
                "expireTime": 2419200,
                "minimumTTL": 300,
            },
        },
    }
    return [ns, soa]


def _find(items: list[dict[str, Any]], rid: str) -> dict[str, Any] | None:
    """The item with this ARM id (ids compare case-insensitively)."""
    rid = rid.lower()
    return next((r for r in items if r["id"].lower() == rid), None)


def _copy(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource as served: a deep copy without the fake's own bookkeeping (keys starting with ``_``)."""
    return json.loads(json.dumps({k: v for k, v in resource.items() if not k.startswith("_")}))


def _server_fields(native_type: str, rid: str, props: dict[str, Any]) -> dict[str, Any]:
    """Read-only fields the service fills in whatever the creator sent."""
    t = native_type.lower()
    if t == "microsoft.network/trafficmanagerprofiles":
        endpoints = []
        for e in props.get("endpoints") or []:
            e = dict(e)
            e.setdefault("id", f"{rid}/{str(e.get('type', '')).rpartition('/')[2]}/{e.get('name')}")
            e["properties"] = {"alwaysServe": "Disabled", **(e.get("properties") or {})}
            endpoints.append(e)
        return {**props, "endpoints": endpoints}
    if t == "microsoft.network/dnszones":
        n = sum(ord(c) for c in rid) % 10
        defaults = {
            "maxNumberOfRecordSets": 10000,
            "maxNumberOfRecordsPerRecordSet": 20,
            "numberOfRecordSets": 2,
            "nameServers": [
                f"ns1-0{n}.azure-dns.com.",
                f"ns2-0{n}.azure-dns.net.",
                f"ns3-0{n}.azure-dns.org.",
                f"ns4-0{n}.azure-dns.info.",
            ],
            "zoneType": "Public",
        }
        return {**defaults, **props}
    return props


def _list_entry(resource: dict[str, Any], expand: str) -> dict[str, Any]:
    """A ``GET /resources`` entry (GenericResourceExpanded): top-level fields only, never ``properties``;
    ``$expand`` adds ``createdTime``, ``changedTime`` and ``provisioningState`` at the top level."""
    entry = {k: resource[k] for k in _LIST_FIELDS if k in resource}
    wanted = {e.strip().lower() for e in expand.split(",") if e.strip()}
    arm = resource.get("_arm") or {}
    for key in ("createdTime", "changedTime", "provisioningState"):
        if key.lower() in wanted and key in arm:
            entry[key] = arm[key]
    return json.loads(json.dumps(entry))


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {"x-ms-failure-cause": "gateway"}, {"error": {"code": code, "message": message}}


def seed_demo(fake: FakeArm, subscription: str = "00000000-0000-0000-0000-0000000000a2") -> None:
    """A small two-region estate: web tier in eastus (primary) and westus2 (secondary, a uniform scale
    set with an autoscale setting), a Traffic Manager profile in front, a Postgres flexible server with
    a cross-region replica, GRS storage, and a lock."""
    for rg, loc in (("web-eastus", "eastus"), ("web-westus2", "westus2"), ("dns", "global")):
        fake.add_resource_group(subscription, rg, location=loc if loc != "global" else "eastus", tags={"app": "web"})
    fake.add_vm(
        subscription,
        "web-eastus",
        "web-1",
        size="Standard_D4s_v5",
        location="eastus",
        tags={"app": "web", "site": "primary"},
        zones=["1"],
    )
    fake.add_vm(
        subscription,
        "web-eastus",
        "web-2",
        size="Standard_D4s_v5",
        location="eastus",
        tags={"app": "web", "site": "primary"},
        zones=["2"],
    )
    vmss = fake.add_scale_set(
        subscription,
        "web-westus2",
        "web-vmss",
        size="Standard_D2s_v5",
        capacity=2,
        location="westus2",
        tags={"app": "web", "site": "secondary"},
    )
    fake.add_autoscale(
        subscription, "web-westus2", "web-vmss-autoscale", target=vmss["id"], minimum=2, maximum=8, location="westus2"
    )
    for rg, loc in (("web-eastus", "eastus"), ("web-westus2", "westus2")):
        fake.add_resource(
            subscription,
            rg,
            "Microsoft.Network/loadBalancers",
            f"lb-{loc}",
            location=loc,
            sku={"name": "Standard", "tier": "Regional"},
            tags={"app": "web"},
        )
    fake.add_dns_zone(subscription, "dns", "example.com")
    fake.add_traffic_manager(
        subscription,
        "dns",
        "web-tm",
        tags={"app": "web"},
        endpoints=[
            {"name": "eastus", "target": "web-eastus.example.com", "priority": 1, "location": "eastus"},
            {"name": "westus2", "target": "web-westus2.example.com", "priority": 2, "location": "westus2"},
        ],
    )
    primary = fake.add_postgres_flexible(
        subscription,
        "web-eastus",
        "db-eastus",
        location="eastus",
        geo_redundant_backup=True,
        high_availability="ZoneRedundant",
        tags={"app": "web"},
    )
    fake.add_postgres_flexible(
        subscription,
        "web-westus2",
        "db-westus2",
        location="westus2",
        role="AsyncReplica",
        source=primary["id"],
        tags={"app": "web"},
    )
    fake.add_resource(
        subscription,
        "web-eastus",
        "Microsoft.Storage/storageAccounts",
        "webassets",
        location="eastus",
        sku={"name": "Standard_RAGRS", "tier": "Standard"},
        kind="StorageV2",
        tags={"app": "web"},
    )
    fake.add_lock(f"/subscriptions/{subscription}/resourceGroups/web-eastus", "no-delete", notes="primary site")
