"""The ``global-accelerator`` mechanism's judging, on data shaped as the AWS reader fills it: which endpoints
are the secondary's, what counts as a path to it (healthy, weight above 0, any dial), fail-open, detection
per endpoint kind, and what stays unknown."""

from __future__ import annotations

from typing import Any

from failover.checks import Evidence
from failover.checks.dns import path_verdict
from failover.checks.governance import Mode
from failover.checks.mechanisms import routing_path
from failover.model import FindingStatus, Inventory, Kind, Observation, ObsStatus, Resource, ScopeError
from failover.schema import Config
from tests.factories import NOW, aws

PASS, WARN, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.WARN, FindingStatus.FAIL, FindingStatus.UNKNOWN
PUBLIC = "www.shop.example"
ARN = "arn:aws:globalaccelerator::123456789012:accelerator/abc"
LISTENER = f"{ARN}/listener/l1"
WEST_LB = "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/west/1"
EAST, WEST = {"site": "east"}, {"site": "west"}


def config() -> Config:
    def site(name: str, role: str, region: str, tags: dict[str, str]) -> dict[str, Any]:
        return {"name": name, "role": role, "account": "aws-prod", "regions": [region], "select": {"tags": tags}}

    return Config.model_validate(
        {
            "accounts": [{"name": "aws-prod", "provider": "aws", "regions": ["us-east-1", "us-west-2"]}],
            "workloads": [
                {
                    "name": "shop",
                    "owners": ["shop@example.com"],
                    "targets": {"rto": "5m"},
                    "dns": {"name": PUBLIC, "mechanism": "global-accelerator"},
                    "sites": [site("east", "primary", "us-east-1", EAST), site("west", "secondary", "us-west-2", WEST)],
                }
            ],
        }
    )


def endpoint(eid: str, kind: str, weight: float = 128.0, state: str = "HEALTHY", **extra: Any) -> dict[str, Any]:
    healthy = {"HEALTHY": True, "UNHEALTHY": False}.get(state)
    return {"id": eid, "name": eid, "kind": kind, "weight": weight, "health_state": state, "healthy": healthy, **extra}


def group(
    region: str, *origins: dict[str, Any], dial: float = 100.0, interval: float = 10.0, threshold: int = 3
) -> dict[str, Any]:
    return {
        "id": f"{LISTENER}/endpoint-group/{region}",
        "name": region,
        "region": region,
        "listener": LISTENER,
        "traffic_dial": dial,
        "interval_s": interval,
        "threshold": threshold,
        "detection_s": interval * threshold,
        "monitor": {"protocol": "TCP", "port": 443, "path": None},
        "origins": list(origins),
    }


def accelerator(*groups: dict[str, Any], arn: str = ARN, name: str = "shop", **attrs: Any) -> Resource:
    return aws(
        Kind.ROUTING,
        arn,
        region="",
        name=name,
        state="DEPLOYED",
        tags={},
        attrs={
            "mechanism": "global-accelerator",
            "enabled": True,
            "hostnames": ["a0123456789abcdef.awsglobalaccelerator.com"],
            "ip_sets": [{"family": "IPv4", "addresses": ["75.2.0.1", "99.83.0.1"]}],
            "listeners": [{"arn": LISTENER, "protocol": "TCP", "ports": ["443"], "client_affinity": "NONE"}],
            "targets": list(groups),
            **attrs,
        },
    )


def estate(*extra: Resource) -> list[Resource]:
    return [
        aws(Kind.COMPUTE_INSTANCE, "i-east", tags=EAST),
        aws(Kind.COMPUTE_INSTANCE, "i-west", region="us-west-2", tags=WEST, attrs={"public_ip": "198.51.100.7"}),
        aws(Kind.LB, WEST_LB, region="us-west-2", tags=WEST, attrs={"target_groups": []}),
        *extra,
    ]


def evidence(resources: list[Resource], observations: list[Observation] | None = None, **inv: Any) -> Evidence:
    cfg = config()
    inventory = Inventory(
        account="aws-prod", provider="aws", resources=resources, started_at=NOW, finished_at=NOW, **inv
    )
    return Evidence(cfg, cfg.workloads[0], {"aws-prod": inventory}, observations or [], now=NOW)


def verdict(ev: Evidence) -> tuple[FindingStatus, str]:
    path = routing_path(ev)
    assert path is not None
    return path_verdict(path)


def ready(**west: Any) -> Resource:
    return accelerator(
        group("us-east-1", endpoint("i-east", "ec2-instance")),
        group("us-west-2", endpoint(WEST_LB, "alb", **west), dial=0.0),
    )


def test_a_dial_zero_group_with_a_healthy_weighted_secondary_endpoint_is_a_path() -> None:
    ev = evidence(estate(ready()))
    status, reason = verdict(ev)
    assert status == PASS and "traffic dial 0%" in reason
    path = routing_path(ev)
    assert path is not None and [a.subject for a in path.to_secondary] == [WEST_LB]
    [g] = path.governors
    assert (g.mode, g.detection_s, g.subject) == (Mode.AUTOMATIC, 30.0, "i-east")
    assert path.proxy and not path.needs_control_plane


def test_a_secondary_endpoint_still_initial_is_unknown() -> None:
    status, reason = verdict(evidence(estate(ready(state="INITIAL", healthy=None))))
    assert status == UNKNOWN and "health INITIAL" in reason


def test_weight_zero_and_unhealthy_secondary_endpoints_are_no_path() -> None:
    assert verdict(evidence(estate(ready(weight=0.0))))[0] == FAIL
    status, reason = verdict(evidence(estate(ready(state="UNHEALTHY"))))
    assert status == FAIL and "UNHEALTHY now" in reason


def test_no_endpoint_healthy_notes_that_global_accelerator_fails_open() -> None:
    acc = accelerator(
        group("us-east-1", endpoint("i-east", "ec2-instance", state="UNHEALTHY")),
        group("us-west-2", endpoint(WEST_LB, "alb", state="UNHEALTHY")),
    )
    path = routing_path(evidence(estate(acc)))
    assert path is not None
    assert [p.status for p in path.problems if "fails open" in p.reason] == [WARN]
    assert "fails open" in path.evidence["fails_open"]


def test_an_elastic_ip_is_the_secondarys_through_its_instance_or_address() -> None:
    by_instance = endpoint("eipalloc-1", "elastic-ip", address="203.0.113.9", instance="i-west")
    by_address = endpoint("eipalloc-2", "elastic-ip", address="198.51.100.7")
    for eip in (by_instance, by_address):
        acc = accelerator(group("us-east-1", endpoint("i-east", "ec2-instance")), group("us-west-2", eip))
        assert verdict(evidence(estate(acc)))[0] == PASS, eip


def test_a_load_balancer_endpoint_detects_through_its_target_groups() -> None:
    tg = aws(
        Kind.LB_TARGET_GROUP,
        "tg-east",
        attrs={"health_check": {"interval_s": 5, "unhealthy_threshold": 2}, "healthy": 1},
    )
    east_lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/east/2"
    lb = aws(Kind.LB, east_lb, tags=EAST, attrs={"target_groups": ["tg-east"]})
    acc = accelerator(
        group("us-east-1", endpoint(east_lb, "nlb"), interval=30, threshold=10),
        group("us-west-2", endpoint(WEST_LB, "alb")),
    )
    path = routing_path(evidence(estate(acc, lb, tg)))
    assert path is not None
    [g] = path.governors
    assert (g.mode, g.detection_s) == (Mode.AUTOMATIC, 10.0)  # the NLB's 5 s x 2, not the group's 30 s x 10


def test_a_load_balancer_not_in_inventory_leaves_detection_unknown() -> None:
    other = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/gone/3"
    acc = accelerator(
        group("us-east-1", endpoint("i-east", "ec2-instance"), endpoint(other, "alb")),
        group("us-west-2", endpoint(WEST_LB, "alb")),
    )
    status, reason = verdict(evidence(estate(acc)))
    assert status == UNKNOWN and "not in the inventory" in reason


def test_an_accelerator_read_in_part_is_unknown() -> None:
    acc = ready()
    acc.attrs["notes"] = ["endpoint groups of listener l1 not read: AccessDenied"]
    status, reason = verdict(evidence(estate(acc)))
    assert status == UNKNOWN and "AccessDenied" in reason


def test_several_accelerators_at_the_sites_are_told_apart_only_by_the_public_name() -> None:
    other = accelerator(*ready().attrs["targets"], arn=f"{ARN}2", name="spare")
    other.attrs["ip_sets"] = [{"family": "IPv4", "addresses": ["75.2.0.2"]}]
    status, reason = verdict(evidence(estate(ready(), other)))
    assert status == UNKNOWN and "several accelerators" in reason
    hop = {"name": PUBLIC, "rdtype": "A", "ttl": 60, "values": ["75.2.0.2"]}
    chain = Observation("dns", PUBLIC, ObsStatus.OK, "ok", observed_at=NOW, data={"chain": [hop]}, label="chain")
    path = routing_path(evidence(estate(ready(), other), [chain]))
    assert path is not None and path.subject == "spare" and path.evidence["identified_by"] == "dns-chain"


def test_endpoints_at_no_site_with_the_secondary_inventory_incomplete_are_unknown() -> None:
    acc = accelerator(
        group("us-east-1", endpoint("i-east", "ec2-instance")), group("us-west-2", endpoint("i-x", "ec2-instance"))
    )
    gap = ScopeError(scope="us-west-2/ec2", error="access_denied", reason="denied")
    status, reason = verdict(evidence(estate(acc), incomplete=[gap]))
    assert status == UNKNOWN and "secondary inventory incomplete" in reason
    assert verdict(evidence(estate(acc)))[0] == FAIL


def test_a_disabled_accelerator_fails() -> None:
    acc = ready()
    acc.attrs["enabled"] = False
    status, reason = verdict(evidence(estate(acc)))
    assert status == FAIL and "is disabled" in reason


def test_no_primary_endpoint_taking_traffic_is_nothing_to_detect() -> None:
    from failover.checks import run_checks

    acc = accelerator(
        group("us-east-1", endpoint("i-east", "ec2-instance", weight=0.0)),
        group("us-west-2", endpoint(WEST_LB, "alb")),
    )
    [health] = run_checks(evidence(estate(acc)), only={"dns.health_check"})
    assert health.status == WARN and "the secondary serves" in health.reason


def test_tags_that_could_not_be_read_do_not_make_the_path_unknown() -> None:
    acc = ready()
    acc.attrs["notes"] = ["tags unknown: ListTagsForResource: AccessDeniedException"]
    assert verdict(evidence(estate(acc)))[0] == PASS
