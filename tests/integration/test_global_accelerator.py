"""AWS Global Accelerator (``global-accelerator``) as a failover mechanism: accelerators served by the
sandbox's emulator (moto has none), read by the real adapter through boto3, judged by ``run_checks``. A
healthy, non-zero-weight endpoint of the secondary in any endpoint group of the listener is a path (a
dial-0 group included: failover ignores dials); weight 0, unhealthy or absent is not; detection comes from
the group's health checks (EC2, Elastic IP) or the load balancer's target groups (ALB/NLB); what the
reader cannot see is unknown with the reason; the public name must resolve to the accelerator."""

from __future__ import annotations

from typing import Any

import pytest

from failover.checks import Evidence, run_checks
from failover.checks.dns import names_to_resolve
from failover.checks.mechanisms import MECHANISMS, routing_path
from failover.model import FindingStatus, Kind, Observation, ObsStatus
from failover.sandbox.aws import (
    AwsSandbox,
    seed_accelerator,
    seed_instances,
    seed_load_balancer,
    seed_records,
    seed_zone,
)
from failover.schema import DNS_PROVIDER, Config
from failover.scoring import estimate_rto, single_provider_risk
from providers.aws import AwsAdapter
from tests.fixtures.shop import EAST, PUBLIC, WEST, ZONE, inventories, one, shop_config, shop_evidence

PASS, WARN, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.WARN, FindingStatus.FAIL, FindingStatus.UNKNOWN
SERVICES = ("ec2", "elbv2", "route53", "globalaccelerator")


def config(sb: AwsSandbox, rto: str = "15m", **west: Any) -> Config:
    return shop_config(sb.account("app", ["us-east-1", "us-west-2"]), "global-accelerator", rto=rto, west=west)


def evidence(cfg: Config, observations: list[Observation] | None = None, inventoried: bool = True) -> Evidence:
    invs = inventories(cfg, AwsAdapter(services=SERVICES)) if inventoried else []
    return shop_evidence(cfg, invs, observations or ())


def chain(*values: str) -> list[Observation]:
    """The public name's chain as measured at its authoritative servers."""
    hop = {"name": PUBLIC, "rdtype": "A", "ttl": 300, "values": list(values)}
    data = {"chain": [hop], "effective_ttl": 300}
    return [Observation("dns", PUBLIC, ObsStatus.OK, "1 hop(s)", data=data, workload="shop", label="chain")]


@pytest.fixture
def sites(aws_sandbox: AwsSandbox) -> dict[str, Any]:
    """The primary's EC2 instance in us-east-1, the secondary's ALB (two instances) in us-west-2."""
    [east] = seed_instances(aws_sandbox, "us-east-1", tags=EAST)
    west = seed_instances(aws_sandbox, "us-west-2", count=2, tags=WEST)
    lb = seed_load_balancer(aws_sandbox, "us-west-2", "shop-west", instance_ids=west, tags=WEST)
    return {"east": east, "west": west, "lb": lb}


def groups(
    sites: dict[str, Any], *, west_weight: int = 128, dial: float = 100.0, interval: int = 10, threshold: int = 3
) -> list[dict[str, Any]]:
    return [
        {
            "EndpointGroupRegion": "us-east-1",
            "HealthCheckIntervalSeconds": interval,
            "ThresholdCount": threshold,
            "HealthCheckProtocol": "HTTP",
            "HealthCheckPath": "/healthz",
            "EndpointConfigurations": [{"EndpointId": sites["east"], "Weight": 128}],
        },
        {
            "EndpointGroupRegion": "us-west-2",
            "TrafficDialPercentage": dial,
            "EndpointConfigurations": [{"EndpointId": sites["lb"]["arn"], "Weight": west_weight}],
        },
    ]


def test_global_accelerator_is_a_registered_aws_mechanism() -> None:
    assert MECHANISMS["global-accelerator"].provider == DNS_PROVIDER["global-accelerator"] == "aws"


# --- ready ---------------------------------------------------------------------------------------------


def test_healthy_weighted_secondary_endpoint_is_a_ready_path(aws_sandbox: AwsSandbox, sites: dict[str, Any]) -> None:
    acc = seed_accelerator(aws_sandbox, "shop", groups=groups(sites))
    ev = evidence(cfg := config(aws_sandbox), chain(*acc["ips"]))
    records = one(ev, "dns.failover_records")
    assert records.status == PASS, records.reason
    assert "accelerator shop fails www.shop.example over to alb" in records.reason
    assert records.evidence["identified_by"] == "dns-chain"
    assert "fails open" in records.evidence["fails_open"]
    [health] = run_checks(ev, only={"dns.health_check"})
    assert health.status == PASS and health.evidence["detection_s"] == 30.0  # 10 s x 3
    assert "endpoint group us-east-1 health-checks ec2-instance" in health.reason
    ttl = one(ev, "dns.ttl")
    assert ttl.status == PASS and "static anycast IPs" in ttl.reason  # 300 s does not delay failover
    rto = estimate_rto(ev, cfg.scoring)
    assert (rto.detection_s, rto.decision_s, rto.dns_s) == (30.0, 0.0, 0.0)
    assert run_checks(ev, only={"dependencies.single_provider"}) == []
    path = routing_path(ev)
    assert path is not None and (path.control_plane.region, path.data_plane.provider) == ("us-west-2", "aws")
    assert names_to_resolve(ev) == {}


def test_dial_zero_secondary_group_still_takes_failover_traffic(aws_sandbox: AwsSandbox, sites: dict[str, Any]) -> None:
    seed_accelerator(aws_sandbox, "shop", groups=groups(sites, dial=0.0))
    records = one(evidence(config(aws_sandbox)), "dns.failover_records")
    assert records.status == PASS, records.reason
    assert "traffic dial 0%" in records.reason and "ignores dials" in records.reason
    assert records.evidence["identified_by"] == "endpoints"  # no chain measured, no Route 53 record


def test_elastic_ip_of_a_secondary_instance_counts_as_the_secondarys(
    aws_sandbox: AwsSandbox, sites: dict[str, Any]
) -> None:
    ec2 = aws_sandbox.client("ec2", "us-west-2")
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=eip, InstanceId=sites["west"][0])
    spec = groups(sites)
    spec[1]["EndpointConfigurations"] = [{"EndpointId": eip}]
    seed_accelerator(aws_sandbox, "shop", groups=spec)
    records = one(evidence(config(aws_sandbox)), "dns.failover_records")
    assert records.status == PASS and "elastic-ip" in records.reason


def test_route53_alias_to_the_accelerator_names_it(aws_sandbox: AwsSandbox, sites: dict[str, Any]) -> None:
    acc = seed_accelerator(aws_sandbox, "shop", groups=groups(sites))
    seed_accelerator(aws_sandbox, "other", groups=groups(sites))  # two accelerators reach the sites
    zone = seed_zone(aws_sandbox, ZONE)
    alias = {"HostedZoneId": "Z2BJ6XQ5FK7U4H", "DNSName": acc["dns_name"], "EvaluateTargetHealth": False}
    seed_records(aws_sandbox, zone, [{"Name": PUBLIC, "Type": "A", "AliasTarget": alias}])
    records = one(evidence(config(aws_sandbox)), "dns.failover_records")
    assert records.status == PASS and records.evidence["identified_by"] == "route53-record"
    assert records.evidence["accelerator"] == acc["arn"]


# --- no health-governed path to the secondary ------------------------------------------------------------


def test_secondary_endpoint_with_weight_zero_is_no_path(aws_sandbox: AwsSandbox, sites: dict[str, Any]) -> None:
    seed_accelerator(aws_sandbox, "shop", groups=groups(sites, west_weight=0))
    records = one(evidence(config(aws_sandbox)), "dns.failover_records")
    assert records.status == FAIL and "has weight 0: Global Accelerator sends it no traffic" in records.reason


def test_unhealthy_secondary_endpoint_is_no_path(aws_sandbox: AwsSandbox, sites: dict[str, Any]) -> None:
    seed_accelerator(aws_sandbox, "shop", groups=groups(sites), health={sites["lb"]["arn"]: "UNHEALTHY"})
    records = one(evidence(config(aws_sandbox)), "dns.failover_records")
    assert records.status == FAIL and "is UNHEALTHY now" in records.reason


def test_accelerator_without_a_secondary_endpoint_fails(aws_sandbox: AwsSandbox, sites: dict[str, Any]) -> None:
    seed_accelerator(aws_sandbox, "shop", groups=groups(sites)[:1])
    records = one(evidence(config(aws_sandbox)), "dns.failover_records")
    assert records.status == FAIL and "no endpoint of listener TCP 443 is at secondary west" in records.reason


def test_every_endpoint_unhealthy_says_global_accelerator_fails_open(
    aws_sandbox: AwsSandbox, sites: dict[str, Any]
) -> None:
    health = {sites["east"]: "UNHEALTHY", sites["lb"]["arn"]: "UNHEALTHY"}
    seed_accelerator(aws_sandbox, "shop", groups=groups(sites), health=health)
    ev = evidence(config(aws_sandbox))
    path = routing_path(ev)
    assert path is not None
    assert any(p.status == WARN and "fails open" in p.reason for p in path.problems)
    [health_finding] = run_checks(ev, only={"dns.health_check"})
    assert health_finding.status == WARN and "reports unhealthy now" in health_finding.reason


def test_disabled_accelerator_fails(aws_sandbox: AwsSandbox, sites: dict[str, Any]) -> None:
    seed_accelerator(aws_sandbox, "shop", groups=groups(sites), enabled=False)
    records = one(evidence(config(aws_sandbox)), "dns.failover_records")
    assert records.status == FAIL and "accelerator shop is disabled" in records.reason


def test_public_name_resolving_elsewhere_fails(aws_sandbox: AwsSandbox, sites: dict[str, Any]) -> None:
    seed_accelerator(aws_sandbox, "shop", groups=groups(sites))
    records = one(evidence(config(aws_sandbox), chain("192.0.2.10")), "dns.failover_records")
    assert records.status == FAIL and "does not resolve to accelerator shop" in records.reason


# --- detection against the RTO ---------------------------------------------------------------------------


def test_detection_slower_than_the_rto_fails(aws_sandbox: AwsSandbox, sites: dict[str, Any]) -> None:
    seed_accelerator(aws_sandbox, "shop", groups=groups(sites, interval=30, threshold=10))
    ev = evidence(config(aws_sandbox, rto="2m"))
    [health] = run_checks(ev, only={"dns.health_check"})
    assert health.status == FAIL and health.evidence["detection_s"] == 300.0
    assert one(ev, "dns.failover_records").status == PASS  # the path exists; it is too slow


def test_load_balancer_endpoint_detects_through_its_target_groups(
    aws_sandbox: AwsSandbox, sites: dict[str, Any]
) -> None:
    east = seed_load_balancer(aws_sandbox, "us-east-1", "shop-east", instance_ids=[sites["east"]], tags=EAST)
    aws_sandbox.client("elbv2", "us-east-1").modify_target_group(
        TargetGroupArn=east["target_group_arn"], HealthCheckIntervalSeconds=10, UnhealthyThresholdCount=2
    )
    spec = groups(sites)
    spec[0]["EndpointConfigurations"] = [{"EndpointId": east["arn"]}]
    seed_accelerator(aws_sandbox, "shop", groups=spec)
    [health] = run_checks(evidence(config(aws_sandbox)), only={"dns.health_check"})
    assert health.status == PASS and health.evidence["detection_s"] == 20.0, health.reason
    assert "load balancer shop-east: its target groups detect in 20s" in health.reason


# --- what the reader cannot see --------------------------------------------------------------------------


def test_accelerators_the_reader_may_not_list_are_unknown_with_the_reason(
    aws_sandbox: AwsSandbox, sites: dict[str, Any]
) -> None:
    seed_accelerator(aws_sandbox, "shop", groups=groups(sites))
    aws_sandbox.inject("access_denied", service="globalaccelerator")
    ev = evidence(config(aws_sandbox))
    records = one(ev, "dns.failover_records")
    assert records.status == UNKNOWN
    assert "global/globalaccelerator" in records.reason and "AccessDeniedException" in records.reason
    assert {f.status for f in run_checks(ev, only={"dns.health_check"})} == {UNKNOWN}


def test_endpoint_groups_not_readable_leave_the_accelerator_unknown(
    aws_sandbox: AwsSandbox, sites: dict[str, Any]
) -> None:
    seed_accelerator(aws_sandbox, "shop", groups=groups(sites))
    aws_sandbox.inject("access_denied", service="globalaccelerator", operation="ListEndpointGroups")
    records = one(evidence(config(aws_sandbox)), "dns.failover_records")
    assert records.status == UNKNOWN and "endpoint groups not read" in records.reason
    assert "AccessDeniedException" in records.reason


def test_account_never_inventoried_is_unknown(aws_sandbox: AwsSandbox) -> None:
    records = one(evidence(config(aws_sandbox), inventoried=False), "dns.failover_records")
    assert records.status == UNKNOWN and "not been inventoried" in records.reason


def test_no_accelerator_at_all_fails(aws_sandbox: AwsSandbox, sites: dict[str, Any]) -> None:
    records = one(evidence(config(aws_sandbox)), "dns.failover_records")
    assert records.status == FAIL and "no Global Accelerator" in records.reason


def test_accelerator_is_inventoried_as_a_routing_resource(aws_sandbox: AwsSandbox, sites: dict[str, Any]) -> None:
    acc = seed_accelerator(aws_sandbox, "shop", ip_address_type="DUAL_STACK", groups=groups(sites, dial=0.0))
    [inv] = [AwsAdapter(services=("globalaccelerator",)).inventory(a) for a in config(aws_sandbox).accounts]
    assert inv.incomplete == []
    [r] = [r for r in inv.resources if r.kind == Kind.ROUTING]
    assert (r.native_id, r.state, r.region) == (acc["arn"], "DEPLOYED", "")
    assert r.attrs["hostnames"] == [acc["dns_name"], acc["dual_stack_dns_name"]]
    assert [s["family"] for s in r.attrs["ip_sets"]] == ["IPv4", "IPv6"]
    [lst] = r.attrs["listeners"]
    assert (lst["protocol"], lst["ports"], lst["client_affinity"]) == ("TCP", ["443"], "NONE")
    east, west = r.attrs["targets"]
    assert (east["interval_s"], east["threshold"], east["detection_s"]) == (10.0, 3, 30.0)
    assert east["monitor"] == {"protocol": "HTTP", "port": 443, "path": "/healthz"}
    assert west["traffic_dial"] == 0.0
    [lb] = west["origins"]
    assert (lb["kind"], lb["weight"], lb["health_state"], lb["client_ip_preservation"]) == (
        "alb",
        128.0,
        "HEALTHY",
        True,
    )
    assert single_provider_risk is not None
