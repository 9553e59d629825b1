"""The Cloud DNS emulator routes answer as the real APIs do: every managed-zone and record-set body holds
only fields the ``dns.v1`` discovery document (bundled with google-api-python-client) defines, with enum
values it lists; every health check fits ``compute.v1``'s ``HealthCheck`` and parses into the Compute
SDK's type. Every route in ``DNS_ROUTES`` is exercised and is a method of its API; a new route without a
check here fails the suite. The schema walker is the data tier's (test_sandbox_gcp_data_conformance)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from failover.sandbox import gcp_dns as d
from failover.sandbox.gcp import DNS_ROUTES, FakeGcp, Request
from failover.schema import Account
from providers.gcp import GcpAdapter
from tests.fixtures.discovery import doc, violations

# route -> (discovery document, response schema)
ROUTE_DOCS = {
    "dns_zones": ("dns.v1.json", "ManagedZonesListResponse"),
    "dns_rrsets": ("dns.v1.json", "ResourceRecordSetsListResponse"),
    "health_check": ("compute.v1.json", "HealthCheck"),
    "region_health_check": ("compute.v1.json", "HealthCheck"),
}
P = "acme"


@pytest.fixture
def served(gcp_fake: FakeGcp) -> list[Request]:
    fake = gcp_fake
    fake.page_size = 2
    fake.add_region(P, "us-central1")
    fake.add_dns_zone(P, "pub", "example.com", description="public", labels={"team": "web"})
    fake.add_dns_zone(P, "internal", "corp.example.com", visibility="private")
    fake.add_dns_zone(P, "third", "example.org")
    hc = fake.add_dns_health_check(P, "dns-hc", type_="HTTP", port=80)
    tcp = fake.add_dns_health_check(P, "dns-tcp", type_="TCP", port=443)
    east = d.ilb(P, "us-east1", "10.2.0.5", lb_type="regionalL7ilb", port="443")
    # the us-central1 internal passthrough load balancer's chain: rule -> backend service -> regional check
    fake.add_dns_health_check(P, "ilb-hc", region="us-central1", type_="TCP", port=80, interval_s=5)
    fake.add_backend_service(
        P,
        "ilb-bs",
        region="us-central1",
        scheme="INTERNAL",
        protocol="TCP",
        health_checks=["regions/us-central1/healthChecks/ilb-hc"],
    )
    fake.add_forwarding_rule(
        P,
        "ilb-fr",
        region="us-central1",
        ip_address="10.1.0.5",
        scheme="INTERNAL",
        backend_service="regions/us-central1/backendServices/ilb-bs",
    )
    fake.add_rrset(P, "pub", "static", "CNAME", ["cdn.example.net."])
    fake.add_rrset(
        P,
        "pub",
        "www",
        "A",
        policy=d.policy(
            primary_backup=d.primary_backup(
                ["203.0.113.10"],
                d.geo_policy([d.geo_item("us-east1", targets=["198.51.100.10"])], fencing=True),
                trickle=0.05,
            ),
            health_check=hc["selfLink"],
        ),
    )
    fake.add_rrset(
        P,
        "pub",
        "api",
        "A",
        policy=d.policy(
            wrr=[d.wrr_item(0.8, targets=["203.0.113.11"]), d.wrr_item(0.2, ["198.51.100.11"], ["198.51.100.12"])],
            health_check=tcp["selfLink"],
        ),
    )
    fake.add_rrset(
        P,
        "internal",
        "app",
        "A",
        policy=d.policy(
            geo=d.geo_policy(
                [
                    d.geo_item("us-central1", targets=[d.ilb(P, "us-central1", "10.1.0.5")]),
                    d.geo_item("us-east1", targets=[east]),
                ]
            )
        ),
    )
    fake.add_rrset(P, "internal", "app", "AAAA", ["fd00::5"])
    account = Account(name="gcp", provider="gcp", project=P, endpoint=fake.url, credentials="anonymous", timeout=5)
    inv = GcpAdapter(base_delay=0.01).inventory(account)
    assert inv.complete, inv.incomplete
    return [r for r in fake.requests if r.route in ROUTE_DOCS]


def test_every_dns_route_is_covered(served: list[Request]) -> None:
    ok = {r.route for r in served if r.status == 200}
    assert ok == {name for _v, _p, name, _c in DNS_ROUTES} == set(ROUTE_DOCS)
    assert any(r.query.get("pageToken") for r in served if r.route == "dns_zones")
    assert any(r.query.get("pageToken") for r in served if r.route == "dns_rrsets")


def test_dns_and_health_check_bodies_hold_only_discovery_fields_and_enum_values(served: list[Request]) -> None:
    checked: set[str] = set()
    for req in served:
        document, response = ROUTE_DOCS[req.route]
        schemas = doc(document)["schemas"]
        assert req.status == 200, req.response
        assert violations(schemas, schemas[response], req.response, f"{req.method} {req.path}") == []
        checked.add(req.route)
    assert checked == set(ROUTE_DOCS)
    policies = [
        rr["routingPolicy"]
        for r in served
        if r.route == "dns_rrsets"
        for rr in r.response["rrsets"]
        if "routingPolicy" in rr
    ]
    assert {next(k for k in p if k in ("primaryBackup", "wrr", "geo")) for p in policies} == {
        "primaryBackup",
        "wrr",
        "geo",
    }


def test_health_checks_parse_into_the_compute_sdk_type(served: list[Request]) -> None:
    compute_v1 = pytest.importorskip("google.cloud.compute_v1")
    bodies = [r.response for r in served if r.route == "health_check"]
    assert len(bodies) == 2
    for body in bodies:
        hc = compute_v1.HealthCheck.from_json(json.dumps(body), ignore_unknown_fields=False)
        assert len(hc.source_regions) == 3 and hc.check_interval_sec >= 30
    [regional] = [r.response for r in served if r.route == "region_health_check"]
    hc = compute_v1.HealthCheck.from_json(json.dumps(regional), ignore_unknown_fields=False)
    assert hc.region.endswith("/regions/us-central1") and not hc.source_regions and hc.check_interval_sec == 5


def test_every_dns_route_is_a_method_of_its_api(served: list[Request]) -> None:
    prefixes = {"dns.v1.json": "/", "compute.v1.json": "/compute/v1/"}
    for req in served:
        document, _response = ROUTE_DOCS[req.route]
        found = doc(document)

        def methods(resources: dict[str, Any]) -> list[dict[str, Any]]:
            out = []
            for r in resources.values():
                out += list(r.get("methods", {}).values()) + methods(r.get("resources", {}))
            return out

        prefix = prefixes[document]
        patterns = [
            (m["httpMethod"], re.compile("^" + prefix + re.sub(r"\{\+?[^}]+\}", "[^/]+", m["path"]) + "$"))
            for m in methods(found["resources"])
        ]
        assert any(v == req.method and p.match(req.path) for v, p in patterns), f"{req.method} {req.path}"


def test_the_validator_catches_a_field_the_dns_api_does_not_have() -> None:
    schemas = doc("dns.v1.json")["schemas"]
    bad = {"rrsets": [{"name": "a.", "routingPolicy": {"failover": {}, "wrr": {"items": [{"weight": "x"}]}}}]}
    assert violations(schemas, schemas["ResourceRecordSetsListResponse"], bad, "r") == [
        "r.rrsets[0].routingPolicy.failover (unknown field)",
        "r.rrsets[0].routingPolicy.wrr.items[0].weight = 'x' (not a number)",
    ]
    lb = d.ilb(P, "us-east1", "10.0.0.1")
    assert violations(schemas, schemas["RRSetRoutingPolicyLoadBalancerTarget"], {**lb, "ipProtocol": "icmp"}, "t") == [
        "t.ipProtocol = 'icmp' (not in the enum)"
    ]


def test_the_emulator_refuses_what_the_api_refuses(gcp_fake: FakeGcp) -> None:
    import urllib.error
    import urllib.request

    gcp_fake.add_dns_zone(P, "pub", "example.com")
    for path, code in (
        ("/dns/v1/projects/acme/managedZones/nope/rrsets", 404),
        ("/dns/v1/projects/acme/managedZones/pub/rrsets?type=A", 400),
        ("/compute/v1/projects/acme/global/healthChecks/nope", 404),
    ):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(gcp_fake.url + path, timeout=5)
        assert err.value.code == code, path
    with pytest.raises(ValueError, match="exactly one"):
        d.rrset("a.example.com.", "A", ["192.0.2.1"], policy=d.policy(wrr=[]))
    with pytest.raises(ValueError, match="30 s"):
        d.health_check(P, "fast", hc_id="1", interval_s=10)
