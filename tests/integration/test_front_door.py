"""Azure Front Door (``front-door``) as a failover mechanism, and Traffic Manager found through an Azure DNS
alias record: read from the ARM fake by the real adapter, judged by ``run_checks``. A probed primary origin
with an enabled lower-priority origin at the secondary is ready; a disabled secondary origin, an unprobed
origin group, a disabled route or detection slower than the RTO fail; what the reader cannot see (classic
Front Door, unreadable origins) is unknown with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from failover.checks import Evidence, run_checks
from failover.checks.dns import names_to_resolve
from failover.checks.mechanisms import MECHANISMS, routing_path
from failover.model import FindingStatus
from failover.sandbox.azure import FakeArm
from failover.schema import DNS_PROVIDER, Config
from failover.scoring import estimate_rto
from providers.azure.resources import CLASSIC_FRONT_DOOR_NOTE
from tests.fixtures.azure import seed_front_door
from tests.fixtures.shop import inventories, one, shop_config, shop_evidence

PASS, WARN, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.WARN, FindingStatus.FAIL, FindingStatus.UNKNOWN
SUB = "sub-1"
PUBLIC = "www.example.com"
SECONDARY_HOST = "web-westus2.example.com"


def config(arm: FakeArm, mechanism: str = "front-door", rto: str = "15m") -> Config:
    account = {
        "name": "azure-prod",
        "provider": "azure",
        "subscriptions": [SUB],
        "endpoint": arm.url,
        "credentials": "anonymous",
        "timeout": 5,
    }
    return shop_config(
        account,
        mechanism,
        rto=rto,
        public=PUBLIC,
        regions=("eastus", "westus2"),
        tags=({"site": "east"}, {"site": "west"}),
        east={"failover_targets": ["web-eastus.example.com"]},
        west={"failover_targets": [SECONDARY_HOST]},
    )


def evidence(cfg: Config, adapter: Any) -> Evidence:
    return shop_evidence(cfg, inventories(cfg, adapter))


def front_door(arm: FakeArm, **kw: Any) -> dict[str, Any]:
    arm.add_resource_group(SUB, "edge")
    return seed_front_door(arm, SUB, "edge", "fd", host=PUBLIC, secondary=SECONDARY_HOST, **kw)


def test_front_door_and_traffic_manager_are_registered_for_azure() -> None:
    assert MECHANISMS["front-door"].provider == DNS_PROVIDER["front-door"] == "azure"
    assert "Microsoft.Cdn/profiles/originGroups/origins/read" in MECHANISMS["front-door"].permissions


def test_probed_primary_with_enabled_secondary_origin_is_ready(fake_arm, azure_adapter) -> None:
    front_door(fake_arm)  # probe every 30 s, sampleSize 4, 3 successes needed: out after 2 failed probes
    ev = evidence(cfg := config(fake_arm), azure_adapter)
    records = one(ev, "dns.failover_records")
    assert records.status == PASS, records.reason
    assert "fails www.example.com over to origin west (web-westus2.example.com)" in records.reason
    assert "no DNS TTL delays it" in records.reason and "dns.ttl" in records.evidence["ttl"]
    [health] = run_checks(ev, only={"dns.health_check"})
    assert health.status == PASS, health.reason
    assert health.evidence["detection_s"] == 60.0 and health.evidence["mechanism"] == "front-door"
    assert "probes /healthz every 30s" in health.reason
    rto = estimate_rto(ev, cfg.scoring)
    assert (rto.detection_s, rto.decision_s) == (60.0, 0.0)
    path = routing_path(ev)
    assert path is not None and (path.control_plane.provider, path.data_plane.provider) == ("azure", "azure")
    assert [a.name for a in path.to_secondary] == ["west"] and not path.needs_control_plane


def test_disabled_secondary_origin_leaves_no_path_to_the_secondary(fake_arm, azure_adapter) -> None:
    front_door(fake_arm, secondary_enabled=False)
    records = one(evidence(config(fake_arm), azure_adapter), "dns.failover_records")
    assert records.status == FAIL
    assert "origin west (web-westus2.example.com) of route fd/fd/web points at secondary west but is disabled" in (
        records.reason
    )


def test_origin_group_without_a_probe_never_fails_over(fake_arm, azure_adapter) -> None:
    front_door(fake_arm, no_probe=True)
    ev = evidence(config(fake_arm), azure_adapter)
    [health] = run_checks(ev, only={"dns.health_check"})
    assert health.status == FAIL and "origin group web has no health probe" in health.reason
    assert one(ev, "dns.failover_records").status == FAIL
    path = routing_path(ev)
    assert path is not None and path.needs_control_plane


def test_disabled_route_fails(fake_arm, azure_adapter) -> None:
    fake_arm.add_resource_group(SUB, "edge")
    fake_arm.add_front_door(
        SUB,
        "edge",
        "fd",
        domains={"www": PUBLIC},
        origin_groups=[
            {
                "name": "web",
                "origins": [
                    {"name": "east", "host": "web-eastus.example.com", "priority": 1},
                    {"name": "west", "host": SECONDARY_HOST, "priority": 2},
                ],
            }
        ],
        routes=[{"name": "web", "endpoint": "fd", "origin_group": "web", "domains": ["www"], "enabled": False}],
    )
    records = one(evidence(config(fake_arm), azure_adapter), "dns.failover_records")
    assert records.status == FAIL and "route fd/fd/web (or its endpoint) is disabled" in records.reason


def test_detection_slower_than_the_rto_fails(fake_arm, azure_adapter) -> None:
    # 255 s probes (the API's maximum), one success of 4 samples needed: out after 4 failed probes = 17 min.
    front_door(fake_arm, probe={"path": "/", "protocol": "Https", "interval_s": 255}, sample_size=4, successful=1)
    ev = evidence(config(fake_arm, rto="5m"), azure_adapter)
    [health] = run_checks(ev, only={"dns.health_check"})
    assert health.status == FAIL and health.evidence["detection_s"] == 1020.0
    assert "detects in 17m" in health.reason and "RTO 5m" in health.reason
    assert one(ev, "dns.failover_records").status == PASS  # the path exists; it is just slow


def test_classic_front_door_is_unknown_with_the_reason(fake_arm, azure_adapter) -> None:
    fake_arm.add_resource_group(SUB, "edge")
    fake_arm.add_resource(SUB, "edge", "Microsoft.Network/frontDoors", "legacy-fd", location="global")
    ev = evidence(config(fake_arm), azure_adapter)
    records = one(ev, "dns.failover_records")
    assert records.status == UNKNOWN and CLASSIC_FRONT_DOOR_NOTE in records.reason
    [health] = run_checks(ev, only={"dns.health_check"})
    assert health.status == UNKNOWN


def test_unreadable_origins_are_unknown_not_a_missing_standby(fake_arm, azure_adapter) -> None:
    front_door(fake_arm)
    fake_arm.fail(403, collection="afd_origins")
    ev = evidence(config(fake_arm), azure_adapter)
    records = one(ev, "dns.failover_records")
    assert records.status == UNKNOWN
    assert "the origins of origin group web could not be read" in records.reason
    assert [f.status for f in run_checks(ev, only={"dns.health_check"})] == [UNKNOWN]


def test_no_route_for_the_name_fails(fake_arm, azure_adapter) -> None:
    fake_arm.add_resource_group(SUB, "edge")
    seed_front_door(fake_arm, SUB, "edge", "fd", host="other.example.com", secondary=SECONDARY_HOST)
    records = one(evidence(config(fake_arm), azure_adapter), "dns.failover_records")
    assert records.status == FAIL and "no Front Door route lists www.example.com as a domain" in records.reason


# --- Traffic Manager behind an Azure DNS alias record ---------------------------------------------------


def traffic_manager(arm: FakeArm, name: str = "shop-tm", **kw: Any) -> dict[str, Any]:
    endpoints = kw.pop(
        "endpoints",
        [
            {"name": "east", "target": "web-eastus.example.com", "priority": 1},
            {"name": "west", "target": SECONDARY_HOST, "priority": 2},
        ],
    )
    return arm.add_traffic_manager(SUB, "dns", name, endpoints=endpoints, **kw)


def alias(arm: FakeArm, target: str) -> None:
    zone = arm.add_dns_zone(SUB, "dns", "example.com")
    arm.add_record_set(zone["id"], "www", "A", ttl=60, target_resource=target)


def test_traffic_manager_behind_an_alias_record_is_found_by_reading_it(fake_arm, azure_adapter) -> None:
    fake_arm.add_resource_group(SUB, "dns")
    traffic_manager(fake_arm, "decoy-tm")  # two profiles, neither selected by a site: only the alias says which
    profile = traffic_manager(fake_arm)
    alias(fake_arm, profile["id"])
    ev = evidence(config(fake_arm, "traffic-manager"), azure_adapter)
    records = one(ev, "dns.failover_records")
    assert records.status == PASS, records.reason
    assert records.evidence["profile"] == profile["id"]
    assert records.evidence["alias_chain"] == [{"record": PUBLIC, "type": "A", "target": profile["id"]}]


def test_traffic_manager_without_the_alias_is_not_guessed(fake_arm, azure_adapter) -> None:
    fake_arm.add_resource_group(SUB, "dns")
    traffic_manager(fake_arm, "decoy-tm")
    traffic_manager(fake_arm)
    records = one(evidence(config(fake_arm, "traffic-manager"), azure_adapter), "dns.failover_records")
    assert records.status == FAIL and "no Traffic Manager profile serves" in records.reason


def test_nested_profile_reaches_the_secondary_through_its_child(fake_arm, azure_adapter) -> None:
    fake_arm.add_resource_group(SUB, "dns")
    child = traffic_manager(fake_arm, "west-tm", endpoints=[{"name": "w1", "target": SECONDARY_HOST, "priority": 1}])
    parent = traffic_manager(
        fake_arm,
        endpoints=[
            {"name": "east", "target": "web-eastus.example.com", "priority": 1},
            {
                "name": "west",
                "kind": "nested",
                "target_resource_id": child["id"],
                "priority": 2,
                "min_child_endpoints": 1,
            },
        ],
    )
    alias(fake_arm, parent["id"])
    ev = evidence(config(fake_arm, "traffic-manager"), azure_adapter)
    records = one(ev, "dns.failover_records")
    assert records.status == PASS, records.reason
    [nested] = records.evidence["nested"]
    assert nested["child_profile"] == child["id"] and nested["min_child_endpoints"] == 1
    assert nested["child_read"] is True and nested["child_endpoints"] == [{"name": "w1", "target": SECONDARY_HOST}]


@pytest.mark.parametrize("target", ["name", "address"])
def test_alias_named_profile_endpoints_are_resolved_without_a_cname(fake_arm, azure_adapter, target) -> None:
    fake_arm.add_resource_group(SUB, "dns")
    standby = "west.cdn.example.net" if target == "name" else "192.0.2.50"
    profile = traffic_manager(
        fake_arm,
        endpoints=[
            {"name": "east", "target": "web-eastus.example.com", "priority": 1},
            {"name": "west", "target": standby, "priority": 2},
        ],
    )
    alias(fake_arm, profile["id"])
    plan = names_to_resolve(evidence(config(fake_arm, "traffic-manager"), azure_adapter))
    assert plan == ({"": [standby]} if target == "name" else {})
