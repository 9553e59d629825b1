"""The Compute emulator answers as the real API does: every body it serves parses into the SDK's own
``google.cloud.compute_v1`` message type with no unknown field, and every enum-valued field holds a
value the SDK knows. Every route the emulator serves is exercised; a new route without a type here
fails the suite."""

from __future__ import annotations

import enum
import inspect
import json
import urllib.request
from typing import Any

import pytest

from failover.sandbox.gcp import ACTION_COUNTERS, AGGREGATED, BASE, ROUTES, FakeGcp, Request, seed_demo
from failover.schema import Account
from providers.gcp import GcpAdapter

compute_v1 = pytest.importorskip("google.cloud.compute_v1")
STRING = 9  # FieldDescriptor.TYPE_STRING

# aggregated collection -> its list type
AGGREGATED_TYPES = {
    "instances": "InstanceAggregatedList",
    "disks": "DiskAggregatedList",
    "instanceGroupManagers": "InstanceGroupManagerAggregatedList",
    "autoscalers": "AutoscalerAggregatedList",
    "forwardingRules": "ForwardingRuleAggregatedList",
    "backendServices": "BackendServiceAggregatedList",
    "instanceTemplates": "InstanceTemplateAggregatedList",
}


def message_type(req: Request) -> Any:
    """The SDK type of a successful answer on ``req``'s route."""
    if req.route == "aggregated":
        return getattr(compute_v1, AGGREGATED_TYPES[req.path.rsplit("/", 1)[1]])
    if req.route == "members":
        regional = "/regions/" in req.path
        name = (
            "RegionInstanceGroupManagersListInstancesResponse"
            if regional
            else ("InstanceGroupManagersListManagedInstancesResponse")
        )
        return getattr(compute_v1, name)
    return getattr(
        compute_v1,
        {
            "project": "Project",
            "regions": "RegionList",
            "global_rules": "ForwardingRuleList",
            "mtype": "MachineType",
            "health": "BackendServiceGroupHealth",
        }[req.route],
    )


def _enum_of(cls: Any, field_name: str) -> type[enum.Enum] | None:
    """compute_v1 keeps enum values in string fields and names the allowed values in a nested enum
    (``current_action`` -> ``CurrentAction``, ``I_p_protocol`` -> ``IPProtocolEnum``)."""
    want = field_name.replace("_", "").lower()
    for name, value in vars(cls).items():
        is_enum = inspect.isclass(value) and issubclass(value, enum.Enum)
        if is_enum and name.lower().removesuffix("enum") == want:
            return value
    return None


def enum_violations(cls: Any, wire: dict[str, Any], where: str) -> list[str]:
    """Every enum-valued string in ``wire`` that ``cls`` (and its nested types) does not know."""
    fields = {f.json_name: f for f in cls.pb().DESCRIPTOR.fields}
    bad: list[str] = []
    for key, value in wire.items():
        descriptor = fields[key]  # from_json already refused unknown keys
        field = cls.meta.fields[descriptor.name]
        values = value if isinstance(value, list) else [value]
        if field.message is not None:
            nested = field.message
            if nested.pb().DESCRIPTOR.GetOptions().map_entry:
                inner = nested.meta.fields["value"].message
                if inner is not None:
                    for k, v in value.items():
                        bad += enum_violations(inner, v, f"{where}.{key}[{k}]")
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    bad += enum_violations(nested, v, f"{where}.{key}[{i}]")
            else:
                bad += enum_violations(nested, value, f"{where}.{key}")
        elif descriptor.type == STRING:
            allowed = _enum_of(cls, descriptor.name)
            if allowed is not None:
                known = {m for m in allowed.__members__ if not m.startswith("UNDEFINED_")}
                bad += [f"{where}.{key} = {v!r}" for v in values if v not in known]
    return bad


def post(fake: FakeGcp, path: str, body: Any = None) -> None:
    data = json.dumps(body).encode() if body is not None else b""
    req = urllib.request.Request(
        fake.url + path, method="POST", data=data, headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(req, timeout=5).read()


def get(fake: FakeGcp, path: str) -> None:
    urllib.request.urlopen(fake.url + path, timeout=5).read()


@pytest.fixture
def served(gcp_fake: FakeGcp) -> list[Request]:
    """Every request of a full inventory over a world using each feature of the emulator, plus the
    calls the adapter does not make (the global rule list, partial-success aggregated lists)."""
    fake = gcp_fake
    fake.page_size = 2
    seed_demo(fake, "acme-prod", "acme-dr")
    p = "acme-dr"
    fake.add_machine_type("n2-standard-4", 4, 16384)
    fake.add_region(p, "europe-west4", zones=["europe-west4-a"], quota_warning="Quota info unavailable.")
    fake.add_instance_template(p, "rt", machine_type="n2-standard-4", region="us-east1", labels={"app": "rt"})
    regional = fake.add_group(
        p,
        "rt",
        region="us-east1",
        target_size=4,
        template="regions/us-east1/instanceTemplates/rt",
        autoscaler_min=2,
        autoscaler_max=6,
        autoscaler_mode="ONLY_SCALE_OUT",
        distribution_zones=["us-east1-b", "us-east1-c"],
        paginated_members=True,
    )
    created_by = regional["selfLink"].removeprefix(BASE + "/")
    for name, status, action, health in [
        ("rt-a", "RUNNING", "NONE", "HEALTHY"),
        ("rt-b", "RUNNING", "VERIFYING", None),
        ("rt-c", "STAGING", "CREATING_WITHOUT_RETRIES", None),
    ]:
        fake.add_instance(
            p,
            "us-east1-c",
            name,
            machine_type="n2-standard-4",
            created_by=created_by,
            status=status,
            member_action=action,
            member_health=health,
        )
    fake.add_backend_service(
        p,
        "neg-bs",
        health={
            "zones/us-east1-b/networkEndpointGroups/vm": [
                {"ipAddress": "10.2.0.9", "port": 8080, "healthState": "HEALTHY"}
            ]
        },
        health_checks=["hc"],
    )
    fake.add_backend_service(
        p, "run-bs", region="us-east1", serverless_negs=["regions/us-east1/networkEndpointGroups/run"]
    )
    fake.add_forwarding_rule(p, "int-fr", region="us-east1", ip_address="10.2.0.100", scheme="INTERNAL", protocol="UDP")
    fake.set_unreachable(p, "disks", "zones/us-east1-c")
    account = Account(
        name="gcp", provider="gcp", projects=["acme-prod", p], endpoint=fake.url, credentials="anonymous", timeout=5
    )
    GcpAdapter(base_delay=0.01).inventory(account)
    get(fake, f"/compute/v1/projects/{p}/global/forwardingRules")
    for collection in AGGREGATED:
        get(fake, f"/compute/v1/projects/{p}/aggregated/{collection}?returnPartialSuccess=true")
    # the data tier's routes have their own conformance test (test_sandbox_gcp_data_conformance.py)
    return [r for r in fake.requests if r.path.startswith("/compute/")]


def test_every_route_is_covered(served: list[Request]) -> None:
    ok = [r for r in served if r.status == 200]
    assert {r.route for r in ok} == {name for _verb, _pattern, name, _collection in ROUTES}
    assert {r.path.rsplit("/", 1)[1] for r in ok if r.route == "aggregated"} == set(AGGREGATED)
    assert {"/regions/" in r.path for r in ok if r.route == "members"} == {True, False}
    assert len([r for r in ok if r.route == "members" and r.query.get("pageToken")]) >= 1


def test_every_body_parses_into_the_sdk_types_with_no_unknown_field_or_enum_value(served: list[Request]) -> None:
    checked = 0
    for req in served:
        if req.status != 200:
            continue
        cls = message_type(req)
        cls.from_json(json.dumps(req.response), ignore_unknown_fields=False)  # raises on an unknown field
        assert enum_violations(cls, req.response, f"{req.method} {req.path}") == []
        checked += 1
    assert checked > 30


@pytest.fixture(scope="module")
def discovery() -> dict[str, Any]:
    """The Compute v1 discovery document google-api-python-client ships: methods, fields, enums."""
    from pathlib import Path

    googleapiclient = pytest.importorskip("googleapiclient")
    doc = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "compute.v1.json"
    return dict(json.loads(doc.read_text()))


def test_every_route_is_a_method_of_the_v1_api(served: list[Request], discovery: dict[str, Any]) -> None:
    import re

    methods = [
        (m["httpMethod"], re.compile("^/compute/v1/" + re.sub(r"\{[^}]+\}", "[^/]+", m["path"]) + "$"))
        for resource in discovery["resources"].values()
        for m in resource.get("methods", {}).values()
    ]
    for req in served:
        if req.route:
            assert any(v == req.method and p.match(req.path) for v, p in methods), f"{req.method} {req.path}"


def test_group_action_counters_are_the_apis(discovery: dict[str, Any]) -> None:
    schemas = discovery["schemas"]
    assert set(ACTION_COUNTERS) == set(schemas["ManagedInstance"]["properties"]["currentAction"]["enum"])
    assert set(ACTION_COUNTERS.values()) == set(schemas["InstanceGroupManagerActionsSummary"]["properties"])


def test_the_enum_check_catches_values_the_sdk_does_not_know() -> None:
    wire = {"managedInstances": [{"name": "a", "currentAction": "TELEPORTING", "instanceStatus": "RUNNING"}]}
    cls = compute_v1.InstanceGroupManagersListManagedInstancesResponse
    assert enum_violations(cls, wire, "x") == ["x.managedInstances[0].currentAction = 'TELEPORTING'"]
    rule = {"name": "r", "IPProtocol": "QUIC", "loadBalancingScheme": "EXTERNAL"}
    assert enum_violations(compute_v1.ForwardingRule, rule, "fr") == ["fr.IPProtocol = 'QUIC'"]
    scoped = {"items": {"zones/z": {"warning": {"code": "NOT_A_CODE"}}}}
    assert enum_violations(compute_v1.InstanceAggregatedList, scoped, "agg") == [
        "agg.items[zones/z].warning.code = 'NOT_A_CODE'"
    ]
