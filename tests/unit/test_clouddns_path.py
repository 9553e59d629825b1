"""The Cloud DNS path facts, on record sets built the way the GCP reader builds them (its pure normalizers
over API-shaped bodies from the emulator's builders): which policy serves the name, which answers take
traffic normally and whether each is health-checked, which point at the secondary, trickle, detection, TTL."""

from __future__ import annotations

from typing import Any

from failover.checks.clouddns_path import CloudDnsPath, cloud_dns_path
from failover.model import Resource
from failover.sandbox import gcp_dns as d
from providers.gcp.clouddns import HealthCheck, IlbChain, ilb_key, normalize_ilb, normalize_rrset, routing_view
from providers.gcp.common import Target

T = Target(account="gcp-dns", project="acme")
PUBLIC = d.managed_zone("acme", "pub", "example.com", zone_id="1")
PRIVATE = d.managed_zone("acme", "corp", "example.com", zone_id="2", visibility="private")
HC = "https://www.googleapis.com/compute/v1/projects/acme/global/healthChecks/dns-hc"
CHECKS: dict[str, HealthCheck] = {HC: {"interval_s": 30, "threshold": 3, "timeout_s": 10}}
PRIMARY_IP, SECONDARY_IP = "203.0.113.10", "198.51.100.10"
SITES = {"primary": {PRIMARY_IP, "web.prod.example.net"}, "secondary": {SECONDARY_IP, "web.dr.example.net"}}


def rrset(
    policy: dict[str, Any] | None = None,
    rrdatas: list[str] | None = None,
    *,
    zone: dict[str, Any] = PUBLIC,
    name: str = "shop.example.com.",
    rtype: str = "A",
    ttl: int = 60,
    checks: dict[str, HealthCheck] | None = None,
) -> list[Resource]:
    """The record set and (with a policy) its routing view, as the reader normalizes them."""
    record = normalize_rrset(T, zone, d.rrset(name, rtype, rrdatas, ttl=ttl, policy=policy))
    view = routing_view(T, record, CHECKS if checks is None else checks)
    return [record] + ([view] if view else [])


def facts(resources: list[Resource], name: str = "shop.example.com", **kw: Any) -> CloudDnsPath:
    return cloud_dns_path(name, resources, **SITES, **kw)  # type: ignore[arg-type]


def failover_policy(trickle: float | None = None, fencing: bool | None = None) -> dict[str, Any]:
    backup = d.geo_policy([d.geo_item("us-east1", targets=[SECONDARY_IP])], fencing=fencing)
    return d.policy(primary_backup=d.primary_backup([PRIMARY_IP], backup, trickle=trickle), health_check=HC)


def test_failover_policy_with_health_checked_primary_and_a_trickle_to_the_secondary() -> None:
    f = facts(rrset(failover_policy(trickle=0.05)))
    assert f.found and f.mechanism == "cloud-dns-failover" and f.policy == "primaryBackup"
    assert f.ttl == 60 and f.trickle_ratio == 0.05 and f.record_type == "A"
    assert f.all_serving_health_checked is True and f.unchecked_serving == []
    assert f.secondary_answers == ["backup us-east1"] and f.secondary_standby == []
    assert f.detection_s == 90.0  # the Compute health check's 30 s interval x 3 failures
    primary = next(t for t in f.targets if t.name == "primary")
    assert primary.to_primary and primary.serving and primary.weight == 0.95


def test_without_trickle_the_backup_is_a_standby_that_takes_no_traffic_normally() -> None:
    f = facts(rrset(failover_policy()))
    assert [t.name for t in f.targets if t.serving] == ["primary"]
    assert f.secondary_standby == ["backup us-east1"] and f.trickle_ratio == 0.0
    assert f.fencing is None


def test_backup_geo_fencing_is_reported() -> None:
    assert facts(rrset(failover_policy(fencing=True))).fencing is True


def test_weighted_items_with_plain_rrdatas_keep_their_share_when_dead() -> None:
    policy = d.policy(wrr=[d.wrr_item(0.7, [PRIMARY_IP]), d.wrr_item(0.3, targets=[SECONDARY_IP])], health_check=HC)
    f = facts(rrset(policy))
    assert f.mechanism == "cloud-dns-weighted"
    assert f.all_serving_health_checked is False and f.unchecked_serving == ["weight 0.7 #0 rrdatas"]
    assert f.secondary_answers == ["weight 0.3 #1"]
    assert f.detection_s == 90.0  # no health check governs the primary answer: the checked one's is all there is


def test_a_zero_weight_standby_on_the_secondary_behind_health_checked_items() -> None:
    policy = d.policy(wrr=[d.wrr_item(1, targets=[PRIMARY_IP]), d.wrr_item(0, [SECONDARY_IP])], health_check=HC)
    f = facts(rrset(policy))
    assert f.all_serving_health_checked is True
    assert f.secondary_standby == ["weight 0 #1 rrdatas"]
    assert any("zero-weight" in n for n in f.notes)


def test_an_item_mixing_rrdatas_and_health_checked_targets_leaves_the_rrdatas_unchecked() -> None:
    policy = d.policy(wrr=[d.wrr_item(1, [PRIMARY_IP], [SECONDARY_IP])], health_check=HC)
    f = facts(rrset(policy))
    assert {t.name: t.health_checked for t in f.targets} == {"weight 1 #0": True, "weight 1 #0 rrdatas": False}
    assert f.unchecked_serving == ["weight 1 #0 rrdatas"]


def test_geo_with_internal_load_balancers_has_unknown_detection_and_fencing_noted() -> None:
    east = d.ilb("acme", "us-east1", SECONDARY_IP)
    central = d.ilb("acme", "us-central1", PRIMARY_IP)
    geo = d.geo_policy(
        [d.geo_item("us-central1", targets=[central]), d.geo_item("us-east1", targets=[east])], fencing=True
    )
    f = facts(rrset(d.policy(geo=geo), zone=PRIVATE))
    assert f.mechanism == "cloud-dns-geo" and f.private is True and f.fencing is True
    assert f.all_serving_health_checked is True
    assert f.detection_s is None
    assert len(f.detection_unknown) == 1 and f.detection_unknown[0].startswith("us-central1: internal load balancer")
    assert any("fencing" in n for n in f.notes) and any("private" in n for n in f.notes)
    assert [t.region for t in f.targets] == ["us-central1", "us-east1"]


def test_internal_load_balancer_detection_is_its_backend_services_health_check() -> None:
    """The chain the reader resolved (forwarding rule -> backend service -> health check) gives the
    detection: interval x unhealthy threshold of the load balancer's own health check."""
    central = d.ilb("acme", "us-central1", PRIMARY_IP)
    east = d.ilb("acme", "us-east1", SECONDARY_IP)
    ilb_hc = "projects/acme/regions/us-central1/healthChecks/ilb-hc"
    chains: dict[tuple[str, str, str, str], IlbChain] = {
        ilb_key(normalize_ilb(central), "acme"): {
            "forwarding_rule": "projects/acme/regions/us-central1/forwardingRules/ilb",
            "backend_service": "projects/acme/regions/us-central1/backendServices/ilb-bs",
            "health_check": ilb_hc,
        },
        ilb_key(normalize_ilb(east), "acme"): "no internal forwarding rule with address 198.51.100.10 in us-east1",
    }
    backup = d.geo_policy([d.geo_item("us-east1", targets=[east])])
    policy = d.policy(primary_backup=d.primary_backup([central], backup))
    record = normalize_rrset(T, PRIVATE, d.rrset("shop.example.com.", "A", None, ttl=60, policy=policy))
    view = routing_view(T, record, {ilb_hc: {"interval_s": 5, "threshold": 3}}, chains)
    assert view is not None
    f = facts([record, view])
    assert f.detection_s == 15.0 and f.detection_unknown == []  # the primary's health check governs
    primary = next(t for t in view.attrs["targets"] if t["name"] == "primary")
    assert (primary["interval_s"], primary["threshold"], primary["detection_s"]) == (5.0, 3, 15.0)
    backup_target = next(t for t in view.attrs["targets"] if t["name"] == "backup us-east1")
    assert backup_target["detection_s"] is None
    assert any("no internal forwarding rule with address 198.51.100.10" in n for n in view.attrs["notes"])


def test_internal_application_load_balancer_detection_stays_unknown_with_the_reason() -> None:
    l7 = d.ilb("acme", "us-central1", PRIMARY_IP, lb_type="regionalL7ilb")
    chains: dict[tuple[str, str, str, str], IlbChain] = {
        ilb_key(
            normalize_ilb(l7), "acme"
        ): "regionalL7ilb: an internal Application Load Balancer reaches its backend service "
        "through a target proxy and URL map, which are not read"
    }
    policy = d.policy(wrr=[d.wrr_item(1, targets=[l7]), d.wrr_item(0, [SECONDARY_IP])])
    record = normalize_rrset(T, PRIVATE, d.rrset("shop.example.com.", "A", None, ttl=60, policy=policy))
    view = routing_view(T, record, {}, chains)
    assert view is not None
    f = facts([record, view])
    assert f.detection_s is None
    [why] = f.detection_unknown
    assert why.startswith("weight 1 #0: internal load balancer 203.0.113.10") and "target proxy and URL map" in why


def test_external_endpoints_without_a_health_check_are_not_health_checked() -> None:
    policy = d.policy(wrr=[d.wrr_item(1, targets=[PRIMARY_IP]), d.wrr_item(1, targets=[SECONDARY_IP])])
    f = facts(rrset(policy))
    assert f.all_serving_health_checked is False
    assert f.unchecked_serving == ["weight 1 #0", "weight 1 #1"]
    assert f.detection_s is None


def test_a_health_check_that_could_not_be_read_leaves_detection_unknown_with_the_reason() -> None:
    f = facts(rrset(failover_policy(), checks={HC: "access denied reading acme/healthChecks/dns-hc"}))
    assert f.all_serving_health_checked is True
    assert f.detection_s is None
    assert f.detection_unknown == [
        f"primary: health check {HC} unknown: access denied reading acme/healthChecks/dns-hc"
    ]


def test_a_plain_record_set_is_no_routing_policy() -> None:
    f = facts(rrset(rrdatas=[PRIMARY_IP]))
    assert f.found and f.mechanism is None and f.all_serving_health_checked is False
    assert "no routing policy" in f.reason


def test_public_policy_before_private_and_a_before_aaaa_the_rest_listed() -> None:
    resources = [
        *rrset(rrdatas=["10.0.0.1"], zone=PRIVATE),
        *rrset(rrdatas=["2001:db8::1"], rtype="AAAA"),
        *rrset(failover_policy()),
        *rrset(rrdatas=["v=spf1 -all"], rtype="TXT"),
    ]
    f = facts(resources)
    assert f.record == "acme/pub/shop.example.com/A" and f.private is False
    assert sorted(f.others) == ["acme/corp/shop.example.com/A", "acme/pub/shop.example.com/AAAA"]


def test_no_record_for_the_name_says_what_was_not_read() -> None:
    f = facts(rrset(failover_policy(), name="other.example.com."), gaps=["acme/managedZones"])
    assert not f.found
    assert f.reason == "no Cloud DNS record set for shop.example.com was inventoried; not read: acme/managedZones"


def test_a_policy_without_its_routing_view_is_not_found() -> None:
    record = rrset(failover_policy())[0]
    f = facts([record])
    assert not f.found and "no routing view" in f.reason


def test_names_that_match_neither_site_are_listed_for_resolution() -> None:
    policy = d.policy(wrr=[d.wrr_item(1, ["lb.elsewhere.example.net."]), d.wrr_item(1, ["web.dr.example.net."])])
    f = facts(rrset(policy, rtype="CNAME"))
    assert [t.names for t in f.targets] == [["lb.elsewhere.example.net"], []]
    assert f.secondary_answers == ["weight 1 #1 rrdatas"]
