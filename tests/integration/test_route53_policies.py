"""Route 53 latency, weighted, geo and multivalue records as failover mechanisms, read from moto through
the real adapter: every record that takes traffic is health-governed, one reaches the secondary, a
weight-0 standby is active-passive, detection is held against the RTO, and what cannot be seen is
unknown. Also the zone's accelerated recovery status, the control plane a record change needs."""

from __future__ import annotations

from typing import Any

import pytest

from failover.checks import Evidence, run_checks
from failover.checks.mechanisms import MECHANISMS, routing_path
from failover.model import FindingStatus, Kind
from failover.sandbox.aws import (
    AwsSandbox,
    seed_health_check,
    seed_instances,
    seed_load_balancer,
    seed_records,
    seed_zone,
)
from failover.schema import DNS_PROVIDER, Config, Mechanism
from failover.scoring import estimate_rto
from providers.aws import AwsAdapter
from tests.fixtures.shop import PUBLIC, WEST, ZONE, inventories, one, shop_config, shop_evidence

PASS, WARN, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.WARN, FindingStatus.FAIL, FindingStatus.UNKNOWN


def config(sb: AwsSandbox, mechanism: str, rto: str = "15m") -> Config:
    return shop_config(sb.account("app", ["us-east-1", "us-west-2"]), mechanism, rto=rto)


def evidence(cfg: Config, inventoried: bool = True) -> Evidence:
    return shop_evidence(cfg, inventories(cfg, AwsAdapter(services=("ec2", "elbv2", "route53"))) if inventoried else [])


@pytest.fixture
def west(aws_sandbox: AwsSandbox) -> dict[str, str]:
    ids = seed_instances(aws_sandbox, "us-west-2", tags=WEST)
    return seed_load_balancer(aws_sandbox, "us-west-2", "shop-west", instance_ids=ids, tags=WEST)


def hc(sb: AwsSandbox, interval: int = 10, threshold: int = 3) -> str:
    return seed_health_check(
        sb,
        {
            "Type": "HTTP",
            "IPAddress": "192.0.2.10",
            "Port": 80,
            "ResourcePath": "/healthz",
            "RequestInterval": interval,
            "FailureThreshold": threshold,
        },
    )


def primary(set_id: str, health_check: str | None, **policy: Any) -> dict[str, Any]:
    extra = {"HealthCheckId": health_check} if health_check else {}
    return {
        "Name": PUBLIC,
        "Type": "A",
        "SetIdentifier": set_id,
        "TTL": 60,
        "ResourceRecords": [{"Value": "192.0.2.10"}],
        **extra,
        **policy,
    }


def secondary(set_id: str, lb: dict[str, str], evaluate: bool = True, **policy: Any) -> dict[str, Any]:
    alias = {"HostedZoneId": "Z1H1FL5HABSF5", "DNSName": lb["dns_name"], "EvaluateTargetHealth": evaluate}
    return {"Name": PUBLIC, "Type": "A", "SetIdentifier": set_id, "AliasTarget": alias, **policy}


def test_every_route53_mechanism_in_the_config_has_a_reader() -> None:
    values = set(Mechanism.__args__)  # type: ignore[attr-defined]
    assert {m for m in values if m.startswith("route53-")} <= set(MECHANISMS)
    assert all(DNS_PROVIDER[m] == MECHANISMS[m].provider for m in MECHANISMS)


# --- weighted ----------------------------------------------------------------------------------------


def test_weighted_primary_with_health_check_and_governed_standby_is_ready(
    aws_sandbox: AwsSandbox, west: dict[str, str]
) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    seed_records(aws_sandbox, zone, [primary("east", hc(aws_sandbox), Weight=100), secondary("west", west, Weight=0)])
    ev = evidence(cfg := config(aws_sandbox, "route53-weighted"))
    records = one(ev, "dns.failover_records")
    assert records.status == PASS, records.reason
    assert "reaches secondary west" in records.reason
    health = run_checks(ev, only={"dns.health_check"})
    assert [f.status for f in health] == [PASS] and health[0].evidence["detection_s"] == 30.0
    rto = estimate_rto(ev, cfg.scoring)
    assert (rto.detection_s, rto.decision_s) == (30.0, 0.0)


def test_weight_zero_standby_without_its_own_health_check_only_warns(
    aws_sandbox: AwsSandbox, west: dict[str, str]
) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    seed_records(
        aws_sandbox, zone, [primary("east", hc(aws_sandbox), Weight=100), secondary("west", west, False, Weight=0)]
    )
    records = one(evidence(config(aws_sandbox, "route53-weighted")), "dns.failover_records")
    assert records.status == WARN and "standby record west (weight 0) has no health check" in records.reason


def test_weighted_records_without_health_checks_keep_a_dead_primary_in_the_answers(
    aws_sandbox: AwsSandbox, west: dict[str, str]
) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    aws_sandbox.set_accelerated_recovery(zone, "DISABLED")
    seed_records(aws_sandbox, zone, [primary("east", None, Weight=50), secondary("west", west, False, Weight=50)])
    ev = evidence(cfg := config(aws_sandbox, "route53-weighted"))
    records = one(ev, "dns.failover_records")
    assert records.status == FAIL and "weighted record east has no health check" in records.reason
    assert "keeps answering with it" in records.reason
    plane = records.evidence["control_plane"]
    assert plane["region"] == "us-east-1" and plane["accelerated_recovery"] == {ZONE: "DISABLED"}
    assert "needs a record change through Route 53's control plane in us-east-1" in plane["note"]
    assert {f.status for f in run_checks(ev, only={"dns.health_check"})} == {FAIL}
    rto = estimate_rto(ev, cfg.scoring)
    assert (rto.detection_s, rto.decision_s) == (0.0, cfg.scoring.manual_decision)


def test_accelerated_recovery_is_read_into_the_zone_and_the_routing_path(aws_sandbox: AwsSandbox) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    aws_sandbox.set_accelerated_recovery(zone, "ENABLED")
    seed_records(aws_sandbox, zone, [primary("east", None, Weight=1)])
    ev = evidence(config(aws_sandbox, "route53-weighted"))
    [z] = [r for inv in ev.inventories.values() for r in inv.resources if r.kind == Kind.DNS_ZONE]
    assert z.attrs["accelerated_recovery"] == "ENABLED"
    path = routing_path(ev)
    assert path is not None and path.needs_control_plane
    assert path.control_plane.detail["changes_through"] == "us-east-1, else us-west-2"
    assert path.data_plane.provider == "aws"


# --- latency -------------------------------------------------------------------------------------------


def test_latency_records_each_health_checked_pass(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    seed_records(
        aws_sandbox,
        zone,
        [primary("east", hc(aws_sandbox), Region="us-east-1"), secondary("west", west, Region="us-west-2")],
    )
    ev = evidence(config(aws_sandbox, "route53-latency"))
    assert one(ev, "dns.failover_records").status == PASS
    assert {f.status for f in run_checks(ev, only={"dns.health_check"})} == {PASS}


def test_latency_detection_slower_than_the_rto_fails(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    slow = hc(aws_sandbox, interval=30, threshold=10)
    seed_records(
        aws_sandbox, zone, [primary("east", slow, Region="us-east-1"), secondary("west", west, Region="us-west-2")]
    )
    ev = evidence(config(aws_sandbox, "route53-latency", rto="2m"))
    statuses = {f.subject: f.status for f in run_checks(ev, only={"dns.health_check"})}
    assert statuses[slow] == FAIL
    assert one(ev, "dns.failover_records").status == PASS  # the path exists; it is just too slow


def test_latency_records_that_never_reach_the_secondary_fail(aws_sandbox: AwsSandbox) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    seed_records(
        aws_sandbox,
        zone,
        [
            primary("east", hc(aws_sandbox), Region="us-east-1"),
            {**primary("east-2", hc(aws_sandbox), Region="us-east-2"), "ResourceRecords": [{"Value": "192.0.2.11"}]},
        ],
    )
    records = one(evidence(config(aws_sandbox, "route53-latency")), "dns.failover_records")
    assert (
        records.status == FAIL and "no latency record for www.shop.example points at secondary west" in records.reason
    )


# --- geo and multivalue -------------------------------------------------------------------------------


def test_geo_records_need_a_default_location(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    seed_records(
        aws_sandbox,
        zone,
        [
            primary("us", hc(aws_sandbox), GeoLocation={"CountryCode": "US"}),
            secondary("eu", west, GeoLocation={"ContinentCode": "EU"}),
        ],
    )
    records = one(evidence(config(aws_sandbox, "route53-geo")), "dns.failover_records")
    assert records.status == WARN and "no default (*) geolocation record" in records.reason
    seed_records(aws_sandbox, zone, [secondary("default", west, GeoLocation={"CountryCode": "*"})])
    assert one(evidence(config(aws_sandbox, "route53-geo")), "dns.failover_records").status == PASS


def test_multivalue_record_without_health_check_fails(aws_sandbox: AwsSandbox) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    ips = hc(aws_sandbox)
    west_ip = "198.51.100.7"
    seed_records(
        aws_sandbox,
        zone,
        [
            primary("a", ips, MultiValueAnswer=True),
            {**primary("b", None, MultiValueAnswer=True), "ResourceRecords": [{"Value": west_ip}]},
        ],
    )
    cfg = config(aws_sandbox, "route53-multivalue")
    cfg.workloads[0].sites[1].failover_targets.append(west_ip)
    records = one(evidence(cfg), "dns.failover_records")
    assert records.status == FAIL and "multivalue record b has no health check" in records.reason


# --- what cannot be seen -------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["route53-latency", "route53-weighted", "route53-geo", "route53-multivalue"])
def test_policy_records_in_an_account_never_inventoried_are_unknown(aws_sandbox: AwsSandbox, mechanism: str) -> None:
    ev = evidence(config(aws_sandbox, mechanism), inventoried=False)
    records = one(ev, "dns.failover_records")
    assert records.status == UNKNOWN
    assert "no Route 53 hosted zone for www.shop.example" in records.reason and "not been inventoried" in records.reason
    assert {f.status for f in run_checks(ev, only={"dns.health_check"})} == {UNKNOWN}


def test_zone_without_records_of_the_policy_fails_and_names_what_it_has(aws_sandbox: AwsSandbox) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    seed_records(aws_sandbox, zone, [primary("east", hc(aws_sandbox), Failover="PRIMARY")])
    records = one(evidence(config(aws_sandbox, "route53-latency")), "dns.failover_records")
    assert (
        records.status == FAIL
        and "no latency records for www.shop.example in hosted zone shop.example" in records.reason
    )


def test_failover_that_needs_a_record_change_depends_on_the_primarys_provider(
    aws_sandbox: AwsSandbox, west: dict[str, str]
) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    seed_records(aws_sandbox, zone, [primary("east", None, Weight=50), secondary("west", west, False, Weight=50)])
    ev = evidence(cfg := config(aws_sandbox, "route53-weighted"))
    [dep] = run_checks(ev, only={"dependencies.single_provider"})
    assert dep.status == FAIL and "control plane (aws us-east-1), on aws, the primary's provider" in dep.reason
    findings = run_checks(ev)
    from failover.scoring import single_provider_risk

    assert single_provider_risk(ev, findings)["aws"] == 1.0
    assert cfg.workloads[0].dns is not None


def test_health_governed_weighted_records_add_no_dependency(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    zone = seed_zone(aws_sandbox, ZONE)
    seed_records(aws_sandbox, zone, [primary("east", hc(aws_sandbox), Weight=100), secondary("west", west, Weight=0)])
    assert run_checks(evidence(config(aws_sandbox, "route53-weighted")), only={"dependencies.single_provider"}) == []
