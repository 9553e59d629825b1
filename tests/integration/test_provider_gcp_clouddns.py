"""Cloud DNS end to end: the real GCP adapter (google-api-python-client's bundled ``dns v1`` document, the
Compute SDK for health checks) reads zones, record sets and routing policies from the emulator, and the
path facts are drawn from what it read. Zones a part failed to read are incomplete, never empty."""

from __future__ import annotations

from typing import Any

import pytest

from failover.attrs import attrs_of
from failover.checks.clouddns_path import cloud_dns_path
from failover.model import Inventory, Kind, Resource
from failover.sandbox import gcp_dns as d
from failover.sandbox.gcp import FakeGcp
from failover.schema import Account
from probes.dnspath import nameserver_provider
from providers.gcp import GcpAdapter
from tests import factories as f

P = "acme"
PRIMARY_IP, SECONDARY_IP = "203.0.113.10", "198.51.100.10"


def seed(fake: FakeGcp) -> None:
    fake.page_size = 2
    fake.add_region(P, "us-central1")
    fake.add_dns_zone(P, "pub", "example.com", labels={"team": "web"})
    fake.add_dns_zone(P, "corp", "corp.example.com", visibility="private")
    hc = fake.add_dns_health_check(P, "dns-hc", interval_s=30, unhealthy_threshold=2)
    backup = d.geo_policy([d.geo_item("us-east1", targets=[SECONDARY_IP])])
    pb = d.primary_backup([PRIMARY_IP], backup, trickle=0.1)
    fake.add_rrset(P, "pub", "shop", "A", ttl=30, policy=d.policy(primary_backup=pb, health_check=hc["selfLink"]))
    fake.add_rrset(P, "pub", "www", "CNAME", ["shop.example.com."])
    items = [d.wrr_item(1, targets=[d.ilb(P, "us-central1", "10.1.0.5")]), d.wrr_item(0, ["10.2.0.5"])]
    fake.add_rrset(P, "corp", "api", "A", policy=d.policy(wrr=items))


def inventory(fake: FakeGcp, **kw: Any) -> Inventory:
    account = Account(name="gcp", provider="gcp", project=P, endpoint=fake.url, credentials="anonymous", timeout=5)
    return GcpAdapter(base_delay=0.01, **kw).inventory(account)


def of(inv: Inventory, kind: Kind) -> dict[str, Resource]:
    return {r.native_id: r for r in inv.resources if r.kind == kind}


def test_zones_record_sets_and_routing_policies_are_read(gcp_fake: FakeGcp) -> None:
    seed(gcp_fake)
    inv = inventory(gcp_fake)
    assert inv.complete, inv.incomplete
    zones = of(inv, Kind.DNS_ZONE)
    assert set(zones) == {"acme/pub", "acme/corp"}
    pub = attrs_of(zones["acme/pub"], Kind.DNS_ZONE)
    assert zones["acme/pub"].name == "example.com" and pub["private"] is False and pub["record_count"] == 4
    assert {nameserver_provider(ns) for ns in pub["nameservers"] or []} == {"gcp"}  # dns.delegation sees GCP
    assert zones["acme/pub"].tags == {"team": "web"}
    assert attrs_of(zones["acme/corp"], Kind.DNS_ZONE)["private"] is True
    records = of(inv, Kind.DNS_RECORD)
    assert set(records) == {
        "acme/pub/example.com/NS",
        "acme/pub/example.com/SOA",
        "acme/pub/shop.example.com/A",
        "acme/pub/www.example.com/CNAME",
        "acme/corp/corp.example.com/NS",
        "acme/corp/corp.example.com/SOA",
        "acme/corp/api.corp.example.com/A",
    }
    assert attrs_of(records["acme/pub/www.example.com/CNAME"], Kind.DNS_RECORD)["values"] == ["shop.example.com."]
    shop = attrs_of(records["acme/pub/shop.example.com/A"], Kind.DNS_RECORD)
    assert shop["ttl"] == 30 and shop["routing_policy"] is not None
    assert shop["routing_policy"]["policy"] == "primaryBackup" and shop["routing_policy"]["trickle_ratio"] == 0.1
    views = of(inv, Kind.ROUTING)
    assert {attrs_of(v, Kind.ROUTING)["mechanism"] for v in views.values()} == {
        "cloud-dns-failover",
        "cloud-dns-weighted",
    }
    view = attrs_of(views["acme/pub/shop.example.com/A/routingPolicy"], Kind.ROUTING)
    assert view["control_plane"] == "gcp" and view["ttl"] == 30 and view["self_link"] == shop["self_link"]
    primary = (view["targets"] or [])[0]
    assert primary["addresses"] == [PRIMARY_IP] and primary["detection_s"] == 60.0 and primary["threshold"] == 2
    assert f.undeclared_attrs(inv.resources) == {}


def _internal_load_balancer(fake: FakeGcp, health_check: str) -> None:
    """The internal passthrough load balancer at 10.1.0.5 that the corp zone's api policy health-checks."""
    fake.add_backend_service(
        P, "api-bs", region="us-central1", scheme="INTERNAL", protocol="TCP", health_checks=[health_check]
    )
    fake.add_forwarding_rule(
        P,
        "api-ilb",
        region="us-central1",
        ip_address="10.1.0.5",
        scheme="INTERNAL",
        backend_service="regions/us-central1/backendServices/api-bs",
    )


def _api_target(inv: Inventory) -> tuple[dict[str, Any], list[str]]:
    view = attrs_of(of(inv, Kind.ROUTING)["acme/corp/api.corp.example.com/A/routingPolicy"], Kind.ROUTING)
    target = (view["targets"] or [])[0]
    return dict(target), [str(n) for n in view["notes"] or []]


@pytest.mark.parametrize("regional", [True, False])
def test_internal_load_balancer_detection_is_read_through_its_rule_and_backend_service(
    gcp_fake: FakeGcp, regional: bool
) -> None:
    seed(gcp_fake)
    region = {"region": "us-central1"} if regional else {"source_regions": []}
    gcp_fake.add_dns_health_check(P, "api-hc", type_="TCP", port=80, interval_s=5, unhealthy_threshold=3, **region)
    _internal_load_balancer(gcp_fake, "regions/us-central1/healthChecks/api-hc" if regional else "api-hc")
    gcp_fake.requests.clear()
    inv = inventory(gcp_fake)
    assert inv.complete, inv.incomplete
    target, notes = _api_target(inv)
    assert (target["interval_s"], target["threshold"], target["detection_s"]) == (5.0, 3, 15.0)
    hc_path = f"projects/acme/{'regions/us-central1' if regional else 'global'}/healthChecks/api-hc"
    assert (
        f"weight 1 #0: internal load balancer 10.1.0.5: internal load balancer target: Cloud DNS follows the load "
        f"balancer's own backend health check ({hc_path}, via projects/acme/regions/us-central1/forwardingRules/"
        "api-ilb -> projects/acme/regions/us-central1/backendServices/api-bs)"
    ) in notes
    facts = cloud_dns_path("api.corp.example.com", inv.resources, primary={"10.1.0.5"}, secondary={"10.2.0.5"})
    assert facts.detection_s == 15.0
    assert all(r.method == "GET" for r in gcp_fake.requests if "healthChecks" in r.path)


def test_internal_load_balancer_without_a_forwarding_rule_leaves_detection_unknown_with_the_reason(
    gcp_fake: FakeGcp,
) -> None:
    seed(gcp_fake)
    inv = inventory(gcp_fake)
    target, _notes = _api_target(inv)
    assert target["detection_s"] is None
    facts = cloud_dns_path("api.corp.example.com", inv.resources, primary={"10.1.0.5"}, secondary={"10.2.0.5"})
    [why] = facts.detection_unknown
    assert why.endswith("whose settings are unknown (no internal forwarding rule with address 10.1.0.5 in us-central1)")


def test_internal_load_balancer_whose_rules_cannot_be_listed_is_unknown_and_incomplete(gcp_fake: FakeGcp) -> None:
    seed(gcp_fake)
    gcp_fake.fail(403, project=P, collection="forwardingRules")
    inv = inventory(gcp_fake)
    target, notes = _api_target(inv)
    assert target["detection_s"] is None
    assert any("forwarding rules or backend services not read" in n for n in notes)
    assert ("acme/forwardingRules", "access_denied") in {(e.scope, e.error) for e in inv.incomplete}


def test_path_facts_from_what_the_reader_read(gcp_fake: FakeGcp) -> None:
    seed(gcp_fake)
    facts = cloud_dns_path(
        "Shop.Example.com.", inventory(gcp_fake).resources, primary={PRIMARY_IP}, secondary={SECONDARY_IP}
    )
    assert facts.mechanism == "cloud-dns-failover" and facts.ttl == 30 and facts.trickle_ratio == 0.1
    assert facts.all_serving_health_checked is True and facts.secondary_answers == ["backup us-east1"]
    assert facts.detection_s == 60.0


def test_a_zone_whose_record_sets_cannot_be_read_is_incomplete_not_empty(gcp_fake: FakeGcp) -> None:
    seed(gcp_fake)
    gcp_fake.fail(403, project=P, collection="rrsets", times=1)
    inv = inventory(gcp_fake)
    unread = [r for r in of(inv, Kind.DNS_ZONE).values() if attrs_of(r, Kind.DNS_ZONE)["record_count"] is None]
    assert len(unread) == 1
    zone = unread[0].native_id.split("/")[1]
    assert {(e.scope, e.error) for e in inv.incomplete} == {(f"acme/managedZones/{zone}/rrsets", "access_denied")}
    assert "record sets unknown" in " ".join(attrs_of(unread[0], Kind.DNS_ZONE)["notes"] or [])
    assert not any(r.native_id.startswith(f"acme/{zone}/") for r in of(inv, Kind.DNS_RECORD).values())


def test_zones_that_cannot_be_listed_leave_the_part_unknown(gcp_fake: FakeGcp) -> None:
    seed(gcp_fake)
    gcp_fake.fail(403, project=P, collection="managedZones")
    inv = inventory(gcp_fake)
    assert {(e.scope, e.error) for e in inv.incomplete} == {("acme/managedZones", "access_denied")}
    assert not of(inv, Kind.DNS_ZONE) and not of(inv, Kind.DNS_RECORD)
    facts = cloud_dns_path(
        "shop.example.com", inv.resources, primary=set(), secondary=set(), gaps=[e.scope for e in inv.incomplete]
    )
    assert not facts.found and "acme/managedZones" in facts.reason


def test_a_health_check_that_cannot_be_read_leaves_detection_unknown(gcp_fake: FakeGcp) -> None:
    seed(gcp_fake)
    gcp_fake.fail(404, project=P, collection="healthChecks")
    inv = inventory(gcp_fake)
    assert {e.scope for e in inv.incomplete} == {"acme/healthChecks/dns-hc"}
    facts = cloud_dns_path("shop.example.com", inv.resources, primary={PRIMARY_IP}, secondary={SECONDARY_IP})
    assert facts.detection_s is None and facts.detection_unknown[0].startswith("primary: health check")


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_and_server_errors_are_retried(gcp_fake: FakeGcp, status: int) -> None:
    seed(gcp_fake)
    gcp_fake.fail(status, project=P, collection="managedZones", times=1)
    inv = inventory(gcp_fake)
    assert inv.complete, inv.incomplete
    assert len(of(inv, Kind.DNS_ZONE)) == 2
