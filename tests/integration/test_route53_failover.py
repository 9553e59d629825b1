"""The Route 53 failover path read as Route 53 evaluates it, on moto data shaped like the real API:
disabled/inverted health checks, alias records evaluating target health, calculated, CloudWatch-alarm
and routing-control health checks, SECONDARY answers followed through DNS, a central DNS account, and
target groups judged by how failover reaches them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from failover.checks import Evidence
from failover.model import FindingStatus, Inventory, Observation, ObsStatus
from failover.probing import probe_workloads
from failover.runner import secondary_targets
from failover.sandbox.aws import (
    AwsSandbox,
    seed_alarm,
    seed_failover_zone,
    seed_health_check,
    seed_instances,
    seed_load_balancer,
    seed_records,
    seed_zone,
)
from failover.sandbox.dns import AuthoritativeServer
from failover.schema import Config
from failover.scoring import estimate_rto
from providers.aws import AwsAdapter
from tests.fixtures.shop import EAST, PUBLIC, WEST, ZONE, inventories, one, shop_config, shop_evidence

PASS, WARN, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.WARN, FindingStatus.FAIL, FindingStatus.UNKNOWN
WEST_URL = "https://shop-west.example.net/healthz"
SERVICES = ("ec2", "elbv2", "route53")


def config(
    sb: AwsSandbox, *, dns: dict[str, Any] | None = None, accounts: list[dict[str, Any]] | None = None
) -> Config:
    return shop_config(
        sb.account("app", ["us-east-1", "us-west-2"]),
        "route53-failover",
        dns=dns,
        accounts=accounts or (),
        west={"endpoints": [{"url": WEST_URL}]},
    )


def inventory(cfg: Config) -> list[Inventory]:
    return inventories(cfg, AwsAdapter(services=SERVICES))


def west_probe(status: ObsStatus = ObsStatus.OK) -> list[Observation]:
    return [
        Observation(
            probe="http", target=WEST_URL, status=status, reason="HTTP 200", workload="shop", site="west", label=label
        )
        for label in ("direct", "as-public-name")
    ]


def evidence(cfg: Config, invs: list[Inventory], observations: list[Observation] | None = None) -> Evidence:
    return shop_evidence(cfg, invs, observations or (), now=invs[0].finished_at)


@pytest.fixture
def west(aws_sandbox: AwsSandbox) -> dict[str, str]:
    """The secondary: an ALB in us-west-2 with one healthy instance behind it."""
    ids = seed_instances(aws_sandbox, "us-west-2", tags=WEST)
    return seed_load_balancer(aws_sandbox, "us-west-2", "shop-west", instance_ids=ids, tags=WEST)


def alarm_health_check(sb: AwsSandbox, region: str, alarm: str, insufficient: str | None = None) -> str:
    """A health check following CloudWatch alarm ``alarm`` in ``region`` (``insufficient``: its
    InsufficientDataHealthStatus, Route 53's default when None); returns its id."""
    spec: dict[str, Any] = {"Type": "CLOUDWATCH_METRIC", "AlarmIdentifier": {"Region": region, "Name": alarm}}
    if insufficient is not None:
        spec["InsufficientDataHealthStatus"] = insufficient
    return seed_health_check(sb, spec)


def failover_pair(sb: AwsSandbox, primary: dict[str, Any], secondary: dict[str, Any]) -> str:
    """The zone with a PRIMARY and a SECONDARY failover record for the public name (each adds its
    answer and health settings to an A record)."""
    zone_id = seed_zone(sb, ZONE)
    base = {"Name": PUBLIC, "Type": "A"}
    seed_records(
        sb,
        zone_id,
        [
            {**base, "SetIdentifier": "primary", "Failover": "PRIMARY", **primary},
            {**base, "SetIdentifier": "secondary", "Failover": "SECONDARY", **secondary},
        ],
    )
    return zone_id


def http_check(sb: AwsSandbox, **config: Any) -> str:
    return seed_health_check(
        sb, {"Type": "HTTP", "IPAddress": "192.0.2.10", "Port": 80, "ResourcePath": "/healthz", **config}
    )


def primary_with(hc_id: str) -> dict[str, Any]:
    return {"TTL": 60, "HealthCheckId": hc_id, "ResourceRecords": [{"Value": "192.0.2.10"}]}


def secondary_alias(lb: dict[str, str], evaluate: bool = False) -> dict[str, Any]:
    return {
        "AliasTarget": {"HostedZoneId": "Z1H1FL5HABSF5", "DNSName": lb["dns_name"], "EvaluateTargetHealth": evaluate}
    }


# --- 3: disabled and inverted ----------------------------------------------------------------------


def test_disabled_health_check_never_fails_over(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    failover_pair(aws_sandbox, primary_with(http_check(aws_sandbox, Disabled=True)), secondary_alias(west))
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg))
    hc = one(ev, "dns.health_check")
    assert hc.status == FAIL and "is disabled: Route 53 treats it as always healthy" in hc.reason
    records = one(ev, "dns.failover_records")
    assert records.status == FAIL and "never fails over" in records.reason
    rto = estimate_rto(ev, cfg.scoring)
    assert (rto.detection_s, rto.decision_s) == (0.0, cfg.scoring.manual_decision)


def test_inverted_health_check_flips_the_signal(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    failover_pair(aws_sandbox, primary_with(http_check(aws_sandbox, Inverted=True)), secondary_alias(west))
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg))
    hc = one(ev, "dns.health_check")
    assert hc.status == FAIL and "is inverted" in hc.reason
    assert one(ev, "dns.failover_records").status == FAIL


def test_disabled_and_inverted_health_check_forces_failover(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    failover_pair(
        aws_sandbox, primary_with(http_check(aws_sandbox, Disabled=True, Inverted=True)), secondary_alias(west)
    )
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg))
    hc = one(ev, "dns.health_check")
    assert hc.status == WARN and hc.reason.startswith("failover forced:") and "SECONDARY serves" in hc.reason
    assert hc.evidence["mode"] == "forced"
    records = one(ev, "dns.failover_records")
    assert records.status == PASS and "failover forced" in records.reason
    rto = estimate_rto(ev, cfg.scoring)
    assert (rto.detection_s, rto.decision_s) == (0.0, 0.0)


# --- 8: alias records evaluating target health -------------------------------------------------------


def test_primary_alias_to_alb_evaluating_target_health_is_governed(
    aws_sandbox: AwsSandbox, west: dict[str, str]
) -> None:
    east = seed_load_balancer(
        aws_sandbox,
        "us-east-1",
        "shop-east",
        instance_ids=seed_instances(aws_sandbox, "us-east-1", tags=EAST),
        tags=EAST,
    )
    alias = {
        "AliasTarget": {
            "HostedZoneId": "Z35SXDOTRQ7X7K",
            "DNSName": f"dualstack.{east['dns_name']}",
            "EvaluateTargetHealth": True,
        }
    }
    failover_pair(aws_sandbox, alias, secondary_alias(west))
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg))
    hc = one(ev, "dns.health_check")
    # moto's target group: HealthCheckIntervalSeconds 30 x UnhealthyThresholdCount 2, plus 30 s for Route 53
    assert hc.status == PASS and "evaluating target health: detects in 90s" in hc.reason
    assert hc.evidence["mechanism"] == "alias-target" and hc.evidence["detection_s"] == 90.0
    records = one(ev, "dns.failover_records")
    assert records.status == PASS and "alias evaluating target health" in records.reason
    assert estimate_rto(ev, cfg.scoring).detection_s == 90.0


@pytest.mark.parametrize(
    ("target", "zone", "evaluate", "text"),
    [
        (
            "shop-assets.s3-website-us-east-1.amazonaws.com",
            "Z3AQBSTGFYJSTF",
            True,
            "S3 website endpoint, which gives Route 53 no health signal",
        ),
        ("d-abc123.execute-api.us-east-1.amazonaws.com", "Z1UJRXOUMOOFQ8", True, "API Gateway API"),
        ("d111111abcdef8.cloudfront.net", "Z2FDTNDATAQYW2", False, "without EvaluateTargetHealth"),
    ],
)
def test_primary_alias_without_a_health_signal_is_not_governed(
    aws_sandbox: AwsSandbox, west: dict[str, str], target: str, zone: str, evaluate: bool, text: str
) -> None:
    alias = {"AliasTarget": {"HostedZoneId": zone, "DNSName": target, "EvaluateTargetHealth": evaluate}}
    failover_pair(aws_sandbox, alias, secondary_alias(west))
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg))
    for check in ("dns.health_check", "dns.failover_records"):
        f = one(ev, check)
        assert f.status == FAIL and text in f.reason, (check, f.reason)


def test_primary_alias_to_health_checked_records_in_its_zone(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    hc = http_check(aws_sandbox, RequestInterval=10, FailureThreshold=3)
    zone_id = failover_pair(
        aws_sandbox,
        {"AliasTarget": {"HostedZoneId": "", "DNSName": f"east.{ZONE}", "EvaluateTargetHealth": True}},
        secondary_alias(west),
    )
    # The alias names its own zone (filled in after the zone exists).
    records = aws_sandbox.client("route53")
    records.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": PUBLIC,
                        "Type": "A",
                        "SetIdentifier": "primary",
                        "Failover": "PRIMARY",
                        "AliasTarget": {
                            "HostedZoneId": zone_id,
                            "DNSName": f"east.{ZONE}",
                            "EvaluateTargetHealth": True,
                        },
                    },
                }
            ]
        },
    )
    seed_records(
        aws_sandbox,
        zone_id,
        [
            {
                "Name": f"east.{ZONE}",
                "Type": "A",
                "TTL": 60,
                "HealthCheckId": hc,
                "ResourceRecords": [{"Value": "192.0.2.10"}],
            }
        ],
    )
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg))
    f = one(ev, "dns.health_check")
    assert f.status == PASS and f"alias to records east.{ZONE}, evaluating their health: detects in 30s" in f.reason
    assert one(ev, "dns.failover_records").status == PASS


# --- 9: calculated, CloudWatch alarm and routing-control health checks -------------------------------


def test_calculated_health_check_detects_from_its_children(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    fast = http_check(aws_sandbox, RequestInterval=10, FailureThreshold=3)
    slow = http_check(aws_sandbox, RequestInterval=30, FailureThreshold=3)
    calc = seed_health_check(
        aws_sandbox, {"Type": "CALCULATED", "ChildHealthChecks": [fast, slow], "HealthThreshold": 2}
    )
    failover_pair(aws_sandbox, primary_with(calc), secondary_alias(west))
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg))
    f = one(ev, "dns.health_check")
    # HealthThreshold 2 of 2: the first child to fail (10 s x 3) turns it unhealthy.
    assert f.status == PASS and "calculated health check" in f.reason and "detects in 30s (1 of 2 children" in f.reason
    assert estimate_rto(ev, cfg.scoring).detection_s == 30.0


def test_calculated_health_check_with_a_disabled_child_it_needs_never_fails_over(
    aws_sandbox: AwsSandbox, west: dict[str, str]
) -> None:
    on = http_check(aws_sandbox)
    off = http_check(aws_sandbox, Disabled=True)
    calc = seed_health_check(aws_sandbox, {"Type": "CALCULATED", "ChildHealthChecks": [on, off], "HealthThreshold": 1})
    failover_pair(aws_sandbox, primary_with(calc), secondary_alias(west))
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg))
    f = one(ev, "dns.health_check")
    assert f.status == FAIL and "only when 2 of its 2 children do, and only 1 can" in f.reason


def test_cloudwatch_alarm_health_check_detects_in_its_alarm_periods(
    aws_sandbox: AwsSandbox, west: dict[str, str]
) -> None:
    seed_alarm(aws_sandbox, "eu-west-1", "shop-east-hosts", period=60, evaluation_periods=3, datapoints_to_alarm=2)
    hc = alarm_health_check(aws_sandbox, "eu-west-1", "shop-east-hosts", insufficient="Unhealthy")
    failover_pair(aws_sandbox, primary_with(hc), secondary_alias(west))
    aws_sandbox.clear_requests()
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg))
    assert [(q.region, q.operation) for q in aws_sandbox.requests if q.service == "cloudwatch"] == [
        ("us-east-1", "GetMetricData"),  # every governing check's status, Route 53's metrics region
        ("eu-west-1", "DescribeAlarms"),
    ]
    f = one(ev, "dns.health_check")
    assert f.status == PASS and "follows alarm shop-east-hosts (eu-west-1): detects in 2m" in f.reason
    assert f.evidence["detection_s"] == 120.0 and f.evidence["mechanism"] == "cloudwatch-alarm"


def test_alarm_that_cannot_be_read_makes_detection_unknown(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    seed_alarm(aws_sandbox, "eu-west-1", "shop-east-hosts")
    hc = alarm_health_check(aws_sandbox, "eu-west-1", "shop-east-hosts")
    failover_pair(aws_sandbox, primary_with(hc), secondary_alias(west))
    aws_sandbox.inject("access_denied", service="cloudwatch", operation="DescribeAlarms")
    invs = inventory(cfg := config(aws_sandbox))
    assert [(e.scope, e.error) for e in invs[0].incomplete] == [("global/route53/alarms/eu-west-1", "access_denied")]
    ev = evidence(cfg, invs)
    f = one(ev, "dns.health_check")
    assert f.status == UNKNOWN and "alarm shop-east-hosts (eu-west-1) could not be read" in f.reason
    assert estimate_rto(ev, cfg.scoring).detection_s is None


def test_alarm_health_check_that_reads_missing_data_as_healthy_warns(
    aws_sandbox: AwsSandbox, west: dict[str, str]
) -> None:
    seed_alarm(aws_sandbox, "us-east-1", "shop-east-hosts", treat_missing_data="missing")
    hc = alarm_health_check(aws_sandbox, "us-east-1", "shop-east-hosts", insufficient="Healthy")
    failover_pair(aws_sandbox, primary_with(hc), secondary_alias(west))
    f = one(evidence(cfg := config(aws_sandbox), inventory(cfg)), "dns.health_check")
    assert (
        f.status == WARN
        and "if the metric stops arriving" in f.reason
        and "InsufficientDataHealthStatus Healthy" in f.reason
    )


def test_alarm_health_check_on_a_deleted_alarm_never_fails_over(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    seed_alarm(aws_sandbox, "us-east-1", "gone")
    hc = alarm_health_check(aws_sandbox, "us-east-1", "gone", insufficient="LastKnownStatus")
    aws_sandbox.client("cloudwatch").delete_alarms(AlarmNames=["gone"])
    failover_pair(aws_sandbox, primary_with(hc), secondary_alias(west))
    f = one(evidence(cfg := config(aws_sandbox), inventory(cfg)), "dns.health_check")
    assert f.status == FAIL and "which does not exist" in f.reason


def test_routing_control_health_check_is_a_manual_decision(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    arn = "arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/east"
    hc = seed_health_check(aws_sandbox, {"Type": "RECOVERY_CONTROL", "RoutingControlArn": arn})
    failover_pair(aws_sandbox, primary_with(hc), secondary_alias(west))
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg))
    f = one(ev, "dns.health_check")
    assert f.status == PASS and f"ARC routing control {arn}: failover is a manual decision" in f.reason
    assert "decision time 10m counts in the RTO" in f.reason
    rto = estimate_rto(ev, cfg.scoring)
    assert (rto.detection_s, rto.decision_s) == (0.0, cfg.scoring.manual_decision)
    assert one(ev, "dns.failover_records").status == PASS


# --- 10: the SECONDARY answer, followed through DNS ------------------------------------------------------


def _west_ip(invs: list[Inventory]) -> str:
    return next(r.attrs["private_ip"] for i in invs for r in i.resources if r.tags == WEST and "private_ip" in r.attrs)


@pytest.mark.parametrize(("edge_is_west", "expected"), [(True, PASS), (False, FAIL)])
def test_secondary_cname_is_followed_through_the_authoritative_servers(
    aws_sandbox: AwsSandbox, west: dict[str, str], edge_is_west: bool, expected: FindingStatus
) -> None:
    failover_pair(
        aws_sandbox,
        primary_with(http_check(aws_sandbox)),
        {"Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": f"dr.{ZONE}"}]},
    )
    cfg0 = config(aws_sandbox)
    invs = inventory(cfg0)
    edge = _west_ip(invs) if edge_is_west else "203.0.113.50"
    zone = [
        ("@", 3600, "NS", "ns-1.awsdns-01.org."),
        ("www", 60, "A", "192.0.2.10"),
        ("dr", 60, "CNAME", f"edge.{ZONE}."),
        ("edge", 60, "A", edge),
    ]
    with AuthoritativeServer({ZONE: zone}) as server:
        cfg = config(aws_sandbox, dns={"nameservers": [server.address]})
        targets = secondary_targets(cfg, cfg.workloads[0:1], invs)
        assert targets == {"shop": {"": [f"dr.{ZONE}"]}}
        observations = [o for o in asyncio.run(probe_workloads(cfg, cfg.workloads, "t", targets)) if o.probe == "dns"]
    resolved = [o for o in observations if o.label == "secondary-target"]
    assert [(o.target, o.status, o.data["answers"]) for o in resolved] == [(f"dr.{ZONE}", ObsStatus.OK, [edge])]
    assert resolved[0].data["names"] == [f"dr.{ZONE}", f"edge.{ZONE}"]
    f = one(evidence(cfg, invs, observations), "dns.failover_records")
    assert f.status == expected, f.reason
    assert f.evidence["resolved"] == [f"dr.{ZONE} -> {edge}"]
    if expected == FAIL:
        assert f"(resolves dr.{ZONE} -> 203.0.113.50), not at secondary west" in f.reason


def test_secondary_cname_not_resolved_yet_is_unknown(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    failover_pair(
        aws_sandbox,
        primary_with(http_check(aws_sandbox)),
        {"Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": f"dr.{ZONE}"}]},
    )
    f = one(evidence(cfg := config(aws_sandbox), inventory(cfg)), "dns.failover_records")
    assert f.status == UNKNOWN and f"dr.{ZONE}: not resolved yet" in f.reason


# --- 11: DNS in a central account --------------------------------------------------------------------------


@pytest.fixture
def central(aws_sandbox: AwsSandbox) -> AwsSandbox:
    return aws_sandbox.in_account("111111111111")


def test_zone_in_a_central_dns_account_is_found(
    aws_sandbox: AwsSandbox, central: AwsSandbox, west: dict[str, str]
) -> None:
    seed_failover_zone(central, ZONE, "www", primary="192.0.2.10", secondary="192.0.2.20")
    dns_account = central.account("dns-central", ["us-east-1"])
    for dns in ({}, {"account": "dns-central"}):
        cfg = config(aws_sandbox, dns=dns, accounts=[dns_account])
        assert cfg.workload_accounts(cfg.workloads[0]) == ["app", "dns-central"]
        ev = evidence(cfg, inventory(cfg))
        f = one(ev, "dns.failover_records")
        # found in the central account: its SECONDARY points at an address no site has
        assert f.status == FAIL and "SECONDARY record points at 192.0.2.20" in f.reason, f.reason
        assert f.evidence["primary"][0].split("/")[1:] == [PUBLIC, "A", "primary"]
        assert one(ev, "dns.health_check").status == PASS


def test_zone_found_in_no_account_is_unknown_with_the_accounts_searched(
    aws_sandbox: AwsSandbox, central: AwsSandbox, west: dict[str, str]
) -> None:
    seed_zone(central, "other.example")
    cfg = config(aws_sandbox, accounts=[central.account("dns-central", ["us-east-1"])])
    ev = evidence(cfg, inventory(cfg))
    f = one(ev, "dns.failover_records")
    assert (f.status, f.reason) == (UNKNOWN, f"no Route 53 hosted zone for {PUBLIC} in app, dns-central")
    assert one(ev, "dns.health_check").status == UNKNOWN


def test_zone_in_an_account_other_than_dns_account_is_not_read(
    aws_sandbox: AwsSandbox, central: AwsSandbox, west: dict[str, str]
) -> None:
    seed_failover_zone(aws_sandbox, ZONE, "www", primary="192.0.2.10", secondary="192.0.2.20")
    cfg = config(aws_sandbox, dns={"account": "dns-central"}, accounts=[central.account("dns-central", ["us-east-1"])])
    f = one(evidence(cfg, inventory(cfg)), "dns.failover_records")
    assert (f.status, f.reason) == (UNKNOWN, f"no Route 53 hosted zone for {PUBLIC} in dns-central")


# --- 12: target groups, judged by how failover reaches them -----------------------------------------------


def _empty_west(sb: AwsSandbox) -> dict[str, str]:
    return seed_load_balancer(sb, "us-west-2", "shop-west", tags=WEST)  # its target group has no targets


@pytest.mark.parametrize("probe", [ObsStatus.OK, ObsStatus.FAILED])
def test_empty_target_group_behind_a_secondary_alias_evaluating_target_health_fails(
    aws_sandbox: AwsSandbox, probe: ObsStatus
) -> None:
    lb = _empty_west(aws_sandbox)
    failover_pair(aws_sandbox, primary_with(http_check(aws_sandbox)), secondary_alias(lb, evaluate=True))
    f = one(evidence(cfg := config(aws_sandbox), inventory(cfg), west_probe(probe)), "secondary.health")
    assert f.status == FAIL
    assert (
        "target group shop-west-tg: no registered targets, so Route 53 (SECONDARY alias evaluating target health)"
        in f.reason
    )
    assert "treats load balancer shop-west as unhealthy" in f.reason


def test_idle_empty_target_group_warns_when_reached_otherwise_and_probes_pass(aws_sandbox: AwsSandbox) -> None:
    lb = _empty_west(aws_sandbox)
    failover_pair(aws_sandbox, primary_with(http_check(aws_sandbox)), secondary_alias(lb, evaluate=False))
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg), west_probe())
    f = one(ev, "secondary.health")
    assert (f.status, f.reason) == (
        WARN,
        "secondary west: target group shop-west-tg: no registered targets (idle; the site's probes pass)",
    )
    failing = one(evidence(cfg, inventory(cfg), west_probe(ObsStatus.FAILED)), "secondary.health")
    assert failing.status == FAIL and "shop-west-tg: no registered targets" in failing.reason


def test_alias_target_group_with_healthy_targets_passes(aws_sandbox: AwsSandbox, west: dict[str, str]) -> None:
    failover_pair(aws_sandbox, primary_with(http_check(aws_sandbox)), secondary_alias(west, evaluate=True))
    ev = evidence(cfg := config(aws_sandbox), inventory(cfg), west_probe())
    assert one(ev, "secondary.health").status == PASS
    assert one(ev, "dns.failover_records").status == PASS
