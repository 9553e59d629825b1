"""Every body the ARM fake serves is one the Azure SDKs' own models know: no field they do not declare,
no enum value they do not list, no value of the wrong type. The models come from the SDK packages
(test-only dependencies where the adapter does not need them), so the fake is held to Microsoft's
API definitions, not to what our adapter happens to read. Every route in ``ROUTES`` must be covered.
"""

from __future__ import annotations

import datetime
import enum
import importlib
import re
import sys
import typing
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from failover.sandbox.azure import COLLECTIONS, FakeArm, seed_demo
from providers.azure.kinds import DETAIL_LISTS

AUTH = {"Authorization": "Bearer x"}
SUB = "sub-c"
# Enums the SDK itself documents as not the list of values: VirtualMachineSizeTypes "is currently
# deprecated" in favour of the sizes APIs (real sizes such as Standard_D4s_v5 are not in it).
OPEN_ENUMS = {"VirtualMachineSizeTypes"}


# -- the model walker ---------------------------------------------------------------------------------
def _hints(cls: type) -> dict[str, Any]:
    """Resolved annotations of a generated model (their ``_models.X`` forward references included)."""
    module = sys.modules[cls.__module__]
    models = importlib.import_module(cls.__module__.rsplit(".", 1)[0])
    namespace = {**vars(module), "_models": models}
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if "__annotations__" in vars(klass):
            hints |= typing.get_type_hints(klass, globalns=namespace)
    return hints


def _is_hybrid(tp: Any) -> bool:
    """A TypeSpec-generated model (``_utils.model_base.Model``), as opposed to an msrest one."""
    return isinstance(tp, type) and any(c.__name__ == "Model" and "model_base" in c.__module__ for c in tp.__mro__)


def _is_msrest(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "_attribute_map")


def check(value: Any, tp: Any, path: str, problems: list[str]) -> None:
    """Append to ``problems`` every way ``value`` (wire JSON) does not fit type ``tp`` of an SDK model."""
    if value is None or tp is Any or tp is object:
        return
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        enums = [a for a in args if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums and all(e.__name__ in OPEN_ENUMS for e in enums):
            return
        if enums and isinstance(value, str):
            known = {str(m.value).lower() for e in enums for m in e}
            if value.lower() not in known:
                problems.append(f"{path}: {value!r} is not a known {'/'.join(e.__name__ for e in enums)}")
            return
        others = [a for a in args if a not in enums]
        if len(others) == 1:
            check(value, others[0], path, problems)
        return
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            problems.append(f"{path}: {value!r} is not one of {typing.get_args(tp)}")
        return
    if origin is list:
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        (item,) = typing.get_args(tp)
        for i, v in enumerate(value):
            check(v, item, f"{path}[{i}]", problems)
        return
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        _, item = typing.get_args(tp)
        for k, v in value.items():
            check(v, item, f"{path}.{k}", problems)
        return
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if str(value).lower() not in {str(m.value).lower() for m in tp}:
            problems.append(f"{path}: {value!r} is not a known {tp.__name__}")
        return
    if _is_hybrid(tp):
        check_model(value, tp, path, problems)
        return
    simple: dict[Any, tuple[type, ...]] = {str: (str,), int: (int,), float: (int, float), bool: (bool,)}
    if tp in simple:
        if not isinstance(value, simple[tp]) or (tp is int and isinstance(value, bool)):
            problems.append(f"{path}: expected {tp.__name__}, got {value!r}")
        return
    if tp in (datetime.datetime, datetime.date):
        try:
            datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{path}: {value!r} is not an RFC 3339 time")
        return
    if tp is datetime.timedelta:
        if not re.fullmatch(r"P(?!$)(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?", str(value)):
            problems.append(f"{path}: {value!r} is not an ISO 8601 duration")
        return
    problems.append(f"{path}: the walker does not know type {tp!r}")


def check_model(value: Any, cls: type, path: str, problems: list[str]) -> None:
    """A hybrid (TypeSpec-generated) model: every key a declared rest field, each value of its type."""
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a {cls.__name__} object, got {type(value).__name__}")
        return
    cls({})  # the model computes its field table on first instantiation
    mapping = getattr(cls, "__mapping__", None)
    if mapping:
        disc = next((rf for rf in cls._attr_to_rest_field.values() if rf._is_discriminator), None)
        if disc is not None and value.get(disc._rest_name) in mapping:
            cls = mapping[value[disc._rest_name]]
            cls({})
    fields = {rf._rest_name: attr for attr, rf in cls._attr_to_rest_field.items()}
    hints = _hints(cls)
    for key, v in value.items():
        if key not in fields:
            problems.append(f"{path}.{key}: {cls.__name__} has no such field")
            continue
        check(v, hints.get(fields[key], Any), f"{path}.{key}", problems)


_MSREST_SIMPLE: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "long": (int,),
    "float": (int, float),
    "bool": (bool,),
    "object": (object,),
}


def check_msrest(value: Any, cls: type, path: str, problems: list[str]) -> None:
    """An msrest-style model: keys from ``_attribute_map`` (dotted keys are flattened ``properties``),
    types from its type strings, enums from the ``:vartype`` lines of its docstring."""
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a {cls.__name__} object, got {type(value).__name__}")
        return
    models = importlib.import_module(cls.__module__.rsplit(".", 1)[0])
    enums = {
        attr: getattr(models, name)
        for attr, name in re.findall(r":vartype (\w+): str or ~[\w.]+\.models\.(\w+)", cls.__doc__ or "")
        if isinstance(getattr(models, name, None), type) and issubclass(getattr(models, name), enum.Enum)
    }
    tree: dict[str, Any] = {}
    for attr, spec in cls._attribute_map.items():
        keys = [k.replace("\\.", ".") for k in re.split(r"(?<!\\)\.", spec["key"])]
        node = tree
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = (attr, spec["type"])

    def walk(obj: Any, node: dict[str, Any], where: str) -> None:
        if not isinstance(obj, dict):
            problems.append(f"{where}: expected an object")
            return
        for key, v in obj.items():
            if key not in node:
                problems.append(f"{where}.{key}: {cls.__name__} has no such field")
            elif isinstance(node[key], dict):
                walk(v, node[key], f"{where}.{key}")
            else:
                attr, type_name = node[key]
                typed(v, type_name, f"{where}.{key}", enums.get(attr))

    def typed(v: Any, type_name: str, where: str, enum_cls: type[enum.Enum] | None) -> None:
        if v is None:
            return
        if type_name.startswith("["):
            if not isinstance(v, list):
                problems.append(f"{where}: expected a list")
                return
            for i, item in enumerate(v):
                typed(item, type_name[1:-1], f"{where}[{i}]", enum_cls)
        elif type_name.startswith("{"):
            for k, item in (v or {}).items():
                typed(item, type_name[1:-1], f"{where}.{k}", None)
        elif type_name in _MSREST_SIMPLE:
            if not isinstance(v, _MSREST_SIMPLE[type_name]):
                problems.append(f"{where}: expected {type_name}, got {v!r}")
            elif enum_cls is not None and str(v).lower() not in {str(m.value).lower() for m in enum_cls}:
                problems.append(f"{where}: {v!r} is not a known {enum_cls.__name__}")
        elif type_name in ("iso-8601", "rfc-1123", "duration", "date"):
            if not isinstance(v, str):
                problems.append(f"{where}: expected a {type_name} string, got {v!r}")
        else:
            sub = getattr(models, type_name, None)
            if isinstance(sub, type) and issubclass(sub, enum.Enum):
                if str(v).lower() not in {str(m.value).lower() for m in sub}:
                    problems.append(f"{where}: {v!r} is not a known {type_name}")
            elif sub is not None:
                check_msrest(v, sub, where, problems)
            else:
                problems.append(f"{where}: unknown msrest type {type_name}")

    walk(value, tree, path)


def conforms(value: Any, cls: type) -> list[str]:
    problems: list[str] = []
    (check_msrest if _is_msrest(cls) else check_model)(value, cls, cls.__name__, problems)
    return problems


def listed(cls_loader: Callable[[], type]) -> Callable[[Any], list[str]]:
    """A paged list body: ``{"value": [cls...], "nextLink": str}``, nothing else."""

    def verify(body: Any) -> list[str]:
        cls = cls_loader()
        problems = [f"list body has field {k!r}" for k in body if k not in ("value", "nextLink")]
        for i, item in enumerate(body.get("value", [])):
            problems += [f"[{i}] {p}" for p in conforms(item, cls)]
        return problems

    return verify


def model(module: str, name: str) -> Callable[[], type]:
    return lambda: getattr(importlib.import_module(module), name)


COMPUTE, RESOURCES = "azure.mgmt.compute.models", "azure.mgmt.resource.resources.models"
SQL, COSMOS = "azure.mgmt.sql.models", "azure.mgmt.cosmosdb.models"
CDN = "azure.mgmt.cdn.models"
# What each route's body must deserialize into.
ROUTE_MODELS: dict[str, Callable[[Any], list[str]] | None] = {
    "resourcegroups": listed(model(RESOURCES, "ResourceGroup")),
    "resources": listed(model(RESOURCES, "GenericResourceExpanded")),
    "locks": listed(model("azure.mgmt.resource.locks.models", "ManagementLockObject")),
    "vm_list": listed(model(COMPUTE, "VirtualMachine")),
    "vm_instance_view": lambda body: conforms(body, model(COMPUTE, "VirtualMachineInstanceView")()),
    "scale_set_vms": listed(model(COMPUTE, "VirtualMachineScaleSetVM")),
    "scale_set_vm_instance_view": lambda body: conforms(body, model(COMPUTE, "VirtualMachineScaleSetVMInstanceView")()),
    "sql_failover_groups": listed(model(SQL, "FailoverGroup")),
    "sql_replication_links": listed(model(SQL, "ReplicationLink")),
    "sql_recoverable_databases": listed(model(SQL, "RecoverableDatabase")),
    "cosmos_accounts": listed(model(COSMOS, "DatabaseAccountGetResults")),
    "afd_endpoints": listed(model(CDN, "AFDEndpoint")),
    "afd_routes": listed(model(CDN, "Route")),
    "afd_origin_groups": listed(model(CDN, "AFDOriginGroup")),
    "afd_origins": listed(model(CDN, "AFDOrigin")),
    "afd_custom_domains": listed(model(CDN, "AFDDomain")),
    "dns_record_sets": listed(model("azure.mgmt.dns.models", "RecordSet")),
    "storage_account": lambda body: conforms(body, model("azure.mgmt.storage.models", "StorageAccount")()),
    "metrics": lambda body: conforms(body, model("azure.mgmt.monitor.models", "Response")()),
    "resource": None,  # by the resource's type, below
    "type_list": None,  # each listed item by its type, below
}
# A resource read by id, by its ARM type; types without a model package of their own use ARM's generic one.
TYPE_MODELS: dict[str, Callable[[], type]] = {
    "microsoft.compute/virtualmachines": model(COMPUTE, "VirtualMachine"),
    "microsoft.compute/virtualmachinescalesets": model(COMPUTE, "VirtualMachineScaleSet"),
    "microsoft.network/loadbalancers": model("azure.mgmt.network.models", "LoadBalancer"),
    "microsoft.network/applicationgateways": model("azure.mgmt.network.models", "ApplicationGateway"),
    "microsoft.network/dnszones": model("azure.mgmt.dns.models", "Zone"),
    "microsoft.network/trafficmanagerprofiles": model("azure.mgmt.trafficmanager.models", "Profile"),
    "microsoft.insights/autoscalesettings": model("azure.mgmt.monitor.models", "AutoscaleSettingResource"),
    "microsoft.dbforpostgresql/flexibleservers": model("azure.mgmt.postgresqlflexibleservers.models", "Server"),
    "microsoft.sql/servers": model("azure.mgmt.sql.models", "Server"),
    "microsoft.sql/servers/databases": model("azure.mgmt.sql.models", "Database"),
    "microsoft.documentdb/databaseaccounts": model(COSMOS, "DatabaseAccountGetResults"),
    "microsoft.cdn/profiles": model(CDN, "Profile"),
    "microsoft.authorization/locks": model("azure.mgmt.resource.locks.models", "ManagementLockObject"),
}
GENERIC = model(RESOURCES, "GenericResource")
# The types the adapter lists per subscription (``providers.azure.kinds.DETAIL_LISTS``; VMs have their own
# route, ``vm_list``).
LISTED_TYPES = sorted(t for key, t in DETAIL_LISTS.items() if key != "microsoft.compute/virtualmachines")
# Types the SDKs installed here have no model for (MySQL flexible, retired single servers, Key Vault,
# classic Front Door): ARM's generic resource, whose ``properties`` are free-form.
GENERIC_TYPES = {
    "microsoft.dbformysql/flexibleservers",
    "microsoft.dbforpostgresql/servers",
    "microsoft.dbformysql/servers",
    "microsoft.keyvault/vaults",
    "microsoft.network/frontdoors",
}


# -- the estate and the crawl -------------------------------------------------------------------------
def seed_everything(arm: FakeArm) -> None:
    """The demo estate plus every seeding helper and resource type the tests use."""
    seed_demo(arm, SUB)
    from tests.fixtures.azure import seed_every_type

    seed_every_type(arm, SUB)
    arm.add_vm(SUB, "rg", "vm-off", size="Standard_D2s_v3", power_state="deallocated")
    arm.add_vm(SUB, "rg", "vm-stopped", size="Standard_D2s_v3", power_state="stopped")
    arm.add_vm(SUB, "rg", "vm-creating", size="Standard_D2s_v3", power_state=None)
    flex = arm.add_scale_set(SUB, "rg", "flex", size="Standard_D2s_v3", capacity=2, orchestration="Flexible")
    arm.add_vm(SUB, "rg", "flex_1", size="Standard_D2s_v3", scale_set=flex["id"])
    arm.add_vm(SUB, "rg", "flex_2", size="Standard_D2s_v3", scale_set=flex["id"], power_state="deallocated")
    arm.add_scale_set(
        SUB,
        "rg",
        "uni",
        size="Standard_D2s_v3",
        capacity=3,
        zones=["1", "2"],
        member_states=["running", "deallocated", None],
    )
    arm.add_autoscale(SUB, "rg", "flex-autoscale", target=flex["id"], minimum=1, maximum=4, enabled=False)
    broken = arm.add_postgres_flexible(
        SUB,
        "rg",
        "pg-broken",
        role="GeoAsyncReplica",
        replication_state="Broken",
        source="/subscriptions/x/resourceGroups/y/providers/Microsoft.DBforPostgreSQL/flexibleServers/z",
    )
    seed_metrics(arm, broken["id"])
    arm.add_traffic_manager(
        SUB,
        "rg",
        "tm-always",
        endpoints=[
            {"name": "a", "target": "a.example.com", "priority": 1, "always_serve": "Enabled"},
            {
                "name": "b",
                "target_resource_id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/"
                "publicIPAddresses/ip",
                "priority": 2,
                "kind": "azure",
                "monitor_status": "Degraded",
            },
        ],
    )
    arm.add_dns_zone(SUB, "rg", "example.org", name_servers=["ns1-01.azure-dns.com."])
    seed_traffic_steering(arm, SUB)
    arm.add_lock(f"/subscriptions/{SUB}/resourceGroups/rg", "keep")
    seed_data_tier(arm, SUB)


def seed_traffic_steering(arm: FakeArm, sub: str) -> None:
    """Front Door profiles (probed and unprobed origin groups, a disabled origin and route), alias and
    plain record sets of every type the fake serves, and a nested Traffic Manager endpoint."""
    from tests.fixtures.azure import seed_front_door

    fd = seed_front_door(arm, sub, "rg", "fd-steer", secondary_enabled=False)
    arm.add_front_door(
        sub,
        "rg",
        "fd-premium",
        sku="Premium_AzureFrontDoor",
        endpoints=["a", "b"],
        endpoint_states={"b": "Disabled"},
        origin_groups=[{"name": "unprobed", "probe": None, "origins": [{"name": "o", "host": "o.example.net"}]}],
        routes=[{"name": "r", "endpoint": "b", "origin_group": "unprobed", "enabled": False, "link_default": False}],
    )
    zone = arm.add_dns_zone(sub, "rg", "steer.example")
    arm.add_record_set(zone["id"], "www", "CNAME", target_resource=f"{fd['id']}/afdEndpoints/fd-steer")
    arm.add_record_set(
        zone["id"],
        "@",
        "A",
        target_resource="/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/trafficManagerProfiles/tm",
    )
    arm.add_record_set(zone["id"], "v6", "AAAA", values=["2001:db8::1"])
    arm.add_record_set(zone["id"], "api", "CNAME", values=["api.example.net"])
    arm.add_record_set(zone["id"], "txt", "TXT", values=["v=spf1 -all"])
    arm.add_traffic_manager(
        sub,
        "rg",
        "tm-parent",
        endpoints=[
            {
                "name": "child",
                "kind": "nested",
                "target_resource_id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/"
                "trafficManagerProfiles/tm-child",
                "priority": 1,
                "location": "eastus",
                "min_child_endpoints": 2,
            },
            {"name": "b", "target": "b.example.com", "priority": 2},
        ],
    )


def seed_data_tier(arm: FakeArm, sub: str) -> None:
    """SQL servers with a failover group, replication links in every state and geo-backups; Cosmos DB
    accounts at every consistency level; storage accounts of every SKU azure-mgmt-storage lists."""
    primary = arm.add_sql_server(sub, "rg", "sql-east", location="eastus")
    secondary = arm.add_sql_server(sub, "rg", "sql-west", location="westus")
    dbs = [
        arm.add_sql_database(sub, "rg", "sql-east", f"db-{state.lower()}", last_geo_backup="2026-03-01T12:00:00Z")
        for state in ("PENDING", "SEEDING", "CATCH_UP", "SUSPENDED")
    ]
    for db, state in zip(dbs, ("PENDING", "SEEDING", "CATCH_UP", "SUSPENDED"), strict=True):
        name = db["name"].split("/")[1]
        arm.add_sql_database(sub, "rg", "sql-west", name, location="westus")
        arm.add_replication_link(
            db["id"],
            partner_server="sql-west",
            partner_location="West US",
            state=state,
            partner_database_id=f"{secondary['id']}/databases/{name}",
        )
        arm.add_replication_link(
            f"{secondary['id']}/databases/{name}",
            partner_server="sql-east",
            partner_location="East US",
            role="Secondary",
            state=state,
            link_type="NAMED" if state == "PENDING" else "STANDBY",
        )
    arm.add_failover_group(
        primary["id"],
        "fg",
        location="East US",
        partners=[(secondary["id"], "West US")],
        databases=[dbs[2]["id"]],
        policy="Automatic",
        grace_minutes=60,
    )
    arm.add_failover_group(
        secondary["id"],
        "fg",
        location="West US",
        partners=[(primary["id"], "East US")],
        databases=[dbs[2]["id"]],
        role="Secondary",
    )
    for level in ("Strong", "BoundedStaleness", "Session", "ConsistentPrefix", "Eventual"):
        arm.add_cosmos_account(
            sub,
            "rg",
            f"cosmos-{level.lower()}",
            locations=[("East US", 0), ("West US", 1)],
            consistency=level,
            multi_region_writes=level == "Session",
            location_states={"West US": "Creating"} if level == "Eventual" else None,
        )
    from azure.mgmt.storage.models import SkuName

    for i, sku in enumerate(SkuName):
        arm.add_storage_account(
            sub,
            "rg",
            f"st{i}",
            sku=sku.value,
            geo_status=("Live", "Bootstrap", "Unavailable")[i % 3],
            last_sync_time=None if i % 3 == 1 else "2026-03-01T12:29:00Z",
        )


# Azure Monitor metrics: every aggregation, with and without a dimension filter, platform and custom namespaces
METRIC_QUERIES: tuple[dict[str, str], ...] = (
    {"metricnames": "physical_replication_delay_in_seconds", "aggregation": "Average,Count,Maximum,Minimum,Total"},
    {"metricnames": "apply_lag_seconds", "metricnamespace": "shop/replication", "$filter": "slot eq '*'"},
    {"metricnames": "apply_lag_seconds", "metricnamespace": "shop/replication", "interval": "PT5M"},
)


def seed_metrics(arm: FakeArm, resource_id: str) -> None:
    arm.add_metric(resource_id, "physical_replication_delay_in_seconds", [3.0, 4.0, 2.0])
    arm.add_metric(resource_id, "apply_lag_seconds", [], namespace="shop/replication", dimensions={"slot": "a"})
    arm.add_metric(resource_id, "apply_lag_seconds", [9.0], namespace="shop/replication", dimensions={"slot": "b"})


def crawl(arm: FakeArm) -> list[tuple[str, str, Any]]:
    """GET every path the fake serves for the seeded estate: (route, path, body) of each answer."""
    out: list[tuple[str, str, Any]] = []

    def get(path: str, **params: str) -> Any:
        answer = httpx.get(f"{arm.url}{path}", params={"api-version": "2024-07-01", **params}, headers=AUTH, timeout=10)
        assert answer.status_code == 200, (path, answer.text)
        route = arm.requests[-1].collection
        assert route is not None
        out.append((route, path, answer.json()))
        return answer.json()

    base = f"/subscriptions/{SUB}"
    get(f"{base}/resourcegroups")
    resources = get(f"{base}/resources", **{"$expand": "createdTime,changedTime,provisioningState"})["value"]
    locks = get(f"{base}/providers/Microsoft.Authorization/locks")["value"]
    get(f"{base}/providers/Microsoft.Compute/virtualMachines")
    get(f"{base}/providers/Microsoft.Compute/virtualMachines", statusOnly="true")
    get(f"{base}/providers/Microsoft.DocumentDB/databaseAccounts")
    for listed_type in LISTED_TYPES:
        get(f"{base}/providers/{listed_type}")
    for r in [*resources, *locks]:
        get(r["id"])
        t = r["type"].lower()
        if t == "microsoft.sql/servers":
            for child in ("failoverGroups", "replicationLinks", "recoverableDatabases"):
                get(f"{r['id']}/{child}")
        if t == "microsoft.storage/storageaccounts":
            get(r["id"], **{"$expand": "geoReplicationStats"})
        if r["name"] == "pg-broken":
            now = datetime.datetime.now(datetime.UTC)
            span = f"{(now - datetime.timedelta(minutes=10)):%Y-%m-%dT%H:%M:%SZ}/{now:%Y-%m-%dT%H:%M:%SZ}"
            for query in METRIC_QUERIES:
                params = {"api-version": "2023-10-01", "timespan": span, "interval": "PT1M", **query}
                get(f"{r['id']}/providers/Microsoft.Insights/metrics", **params)
        if t == "microsoft.network/dnszones":
            get(f"{r['id']}/recordsets")
            get(f"{r['id']}/all")
        if t == "microsoft.cdn/profiles" and "frontdoor" in str((r.get("sku") or {}).get("name", "")).lower():
            get(f"{r['id']}/customDomains")
            for ep in get(f"{r['id']}/afdEndpoints")["value"]:
                get(f"{ep['id']}/routes")
            for group in get(f"{r['id']}/originGroups")["value"]:
                get(f"{group['id']}/origins")
        if t == "microsoft.compute/virtualmachines":
            get(r["id"], **{"$expand": "instanceView"})
            get(f"{r['id']}/instanceView")
        if t == "microsoft.compute/virtualmachinescalesets":
            if get(r["id"])["properties"].get("orchestrationMode") == "Flexible":
                continue
            get(f"{r['id']}/virtualMachines")
            for member in get(f"{r['id']}/virtualMachines", **{"$expand": "instanceView"})["value"]:
                get(f"{member['id']}/instanceView")
    return out


@pytest.fixture(scope="module")
def served() -> list[tuple[str, str, Any]]:
    with FakeArm(page_size=1000) as arm:
        seed_everything(arm)
        return crawl(arm)


def test_every_route_has_a_model_and_is_exercised(served):
    assert set(ROUTE_MODELS) == set(COLLECTIONS), "a route of the fake has no conformance model"
    assert {route for route, _, _ in served} == set(COLLECTIONS), "a route of the fake was never served here"


def test_every_body_deserializes_into_the_sdk_models_with_known_fields_and_enums(served):
    problems: list[str] = []
    for route, path, body in served:
        verify = ROUTE_MODELS[route]
        if verify is not None:
            problems += [f"{route} {path}: {p}" for p in verify(body)]
            continue
        for item in body["value"] if route == "type_list" else [body]:
            t = str(item.get("type", "")).lower()
            if t in TYPE_MODELS:
                cls = TYPE_MODELS[t]()
            else:
                assert t in GENERIC_TYPES, f"resource type {t} has no conformance model"
                cls = GENERIC()
            problems += [f"{path}: {p}" for p in conforms(item, cls)]
    assert problems == []


def test_every_type_listed_by_subscription_is_served_with_its_properties(served):
    """What the adapter reads instead of one GET per resource: each listing holds the type's resources
    with the same ``properties`` their read by id answers."""
    by_id = {body["id"].lower(): body for route, _, body in served if route == "resource"}
    listed = {path.rsplit("/providers/", 1)[1]: body["value"] for route, path, body in served if route == "type_list"}
    assert set(listed) == set(LISTED_TYPES)
    for listed_type, items in listed.items():
        assert items, f"nothing of {listed_type} seeded"
        for item in items:
            assert item["type"].lower() == listed_type.lower()
            assert item["properties"] == by_id[item["id"].lower()]["properties"]


def test_every_resource_type_read_by_id_has_a_model(served):
    types = {str(body.get("type", "")).lower() for route, _, body in served if route == "resource"}
    assert types <= set(TYPE_MODELS) | GENERIC_TYPES
    assert set(TYPE_MODELS) <= types, f"never served: {set(TYPE_MODELS) - types}"


@pytest.mark.parametrize(
    ("body", "cls", "problem"),
    [
        (
            {"properties": {"hardwareProfile": {"vmSize": "x"}, "powerState": "on"}},
            ("VirtualMachine", COMPUTE),
            "VirtualMachine.properties.powerState: VirtualMachineProperties has no such field",
        ),
        (
            {"statuses": [{"code": "PowerState/running", "level": "Loud"}]},
            ("VirtualMachineInstanceView", COMPUTE),
            "VirtualMachineInstanceView.statuses[0].level: 'Loud' is not a known StatusLevelTypes",
        ),
        (
            {"properties": {"endpoints": [{"properties": {"alwaysServe": "Sometimes"}}]}},
            ("Profile", "azure.mgmt.trafficmanager.models"),
            "Profile.properties.endpoints[0].properties.alwaysServe: 'Sometimes' is not a known AlwaysServe",
        ),
        (
            {"properties": {"nameServers": "ns1"}},
            ("Zone", "azure.mgmt.dns.models"),
            "Zone.properties.nameServers: expected a list",
        ),
        (
            {"properties": {"zoneType": "Secret"}},
            ("Zone", "azure.mgmt.dns.models"),
            "Zone.properties.zoneType: 'Secret' is not a known ZoneType",
        ),
        (
            {"properties": {"profiles": [{"capacity": {"maximum": 3}}]}},
            ("AutoscaleSettingResource", "azure.mgmt.monitor.models"),
            "AutoscaleSettingResource.properties.profiles[0].capacity.maximum: expected str, got 3",
        ),
        (
            {"properties": {"replica": {"replicationState": "Fine"}}},
            ("Server", "azure.mgmt.postgresqlflexibleservers.models"),
            "Server.properties.replica.replicationState: 'Fine' is not a known ReplicationState",
        ),
        (
            {"properties": {"replicationState": "CATCHUP"}},
            ("ReplicationLink", SQL),
            "ReplicationLink.properties.replicationState: 'CATCHUP' is not a known ReplicationState",
        ),
        (
            {"properties": {"geoReplicationStats": {"status": "Synced"}}},
            ("StorageAccount", "azure.mgmt.storage.models"),
            "StorageAccount.properties.geoReplicationStats.status: 'Synced' is not a known GeoReplicationStatus",
        ),
        (
            {"properties": {"locations": [{"failoverPriority": "1"}]}},
            ("DatabaseAccountGetResults", COSMOS),
            "DatabaseAccountGetResults.properties.locations[0].failoverPriority: expected int, got '1'",
        ),
        (
            {"properties": {"enabledState": "On"}},
            ("Route", CDN),
            "Route.properties.enabledState: 'On' is not a known EnabledState",
        ),
        (
            {"properties": {"healthProbeSettings": {"probeIntervalInSeconds": "30"}}},
            ("AFDOriginGroup", CDN),
            "AFDOriginGroup.properties.healthProbeSettings.probeIntervalInSeconds: expected int, got '30'",
        ),
        (
            {"properties": {"targetResource": {"id": "x", "name": "y"}}},
            ("RecordSet", "azure.mgmt.dns.models"),
            "RecordSet.properties.targetResource.name: SubResource has no such field",
        ),
        ({"id": "x", "properties": {"a": 1}}, ("GenericResourceExpanded", RESOURCES), None),
        (
            {"zones": ["1"]},
            ("GenericResourceExpanded", RESOURCES),
            "GenericResourceExpanded.zones: GenericResourceExpanded has no such field",
        ),
    ],
)
def test_the_walker_catches_unknown_fields_enums_and_types(body, cls, problem):
    """The conformance check itself can fail: each of these is a mistake a fake could make."""
    found = conforms(body, model(cls[1], cls[0])())
    assert found == ([problem] if problem else [])


def test_metrics_answer_every_minute_and_name_the_filtered_dimension(served):
    """What the SDK's ``Response`` model cannot say: a minute with no sample has no value, never zero."""
    bodies = [body for route, _, body in served if route == "metrics"]
    assert len(bodies) == len(METRIC_QUERIES)
    platform, by_slot, coarse = bodies
    [series] = platform["value"][0]["timeseries"]
    assert len(series["data"]) >= 10  # every minute from the (floored) start to the end
    keys = [sorted(p) for p in series["data"]]
    assert keys.count(["average", "count", "maximum", "minimum", "timeStamp", "total"]) == 3  # three samples
    assert keys.count(["timeStamp"]) == len(keys) - 3
    assert platform["namespace"] == "Microsoft.DBforPostgreSQL/flexibleServers"
    slots = {s["metadatavalues"][0]["value"]: s["data"] for s in by_slot["value"][0]["timeseries"]}
    # slot b's one sample (seeded before the crawl, so a minute may have begun since: not always the last point)
    assert [p["average"] for p in slots["b"] if "average" in p] == [9.0] and all("average" not in p for p in slots["a"])
    coarse_points = coarse["value"][0]["timeseries"][0]["data"]
    assert coarse["interval"] == "PT5M" and [p["average"] for p in coarse_points if "average" in p] == [9.0]
    assert {datetime.datetime.fromisoformat(p["timeStamp"]).minute % 5 for p in coarse_points} == {0}


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("pg-broken", {"metricnames": "no_such_metric"}, 400, "BadRequest"),
        (
            "pg-broken",
            {"metricnames": "apply_lag_seconds", "metricnamespace": "shop/replication", "$filter": "x eq 'a'"},
            400,
            "BadRequest",
        ),
        ("pg-gone", {"metricnames": "physical_replication_delay_in_seconds"}, 404, "ResourceNotFound"),
    ],
)
def test_metrics_errors_have_the_arm_error_shape(path: str, params: dict[str, str], status: int, code: str) -> None:
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.monitor import MonitorManagementClient

    from failover.schema import Account
    from providers.azure.clients import client_options, make_credential

    with FakeArm() as arm:
        arm.add_resource_group(SUB, "rg")
        server = arm.add_postgres_flexible(SUB, "rg", "pg-broken")
        seed_metrics(arm, server["id"])
        account = Account(name="a", provider="azure", subscription=SUB, endpoint=arm.url, credentials="anonymous")
        client = MonitorManagementClient(make_credential(account), SUB, **client_options(account))
        query = {"filter" if k == "$filter" else k: v for k, v in params.items()}
        with pytest.raises(HttpResponseError) as err:
            client.metrics.list(server["id"].replace("pg-broken", path), **query)
        client.close()
    assert (err.value.status_code, err.value.error.code if err.value.error else None) == (status, code)
