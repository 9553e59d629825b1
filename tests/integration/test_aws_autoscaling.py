"""Auto Scaling groups as the checks see them, read by the AWS adapter from moto behind the sandbox
middleware: deletion protection levels, weighted capacity (sizes in units), warm pools (not running
capacity, but a faster scale-up)."""

from __future__ import annotations

from typing import Any

import pytest

from failover.checks import run_checks
from failover.checks.evidence import Evidence
from failover.model import Finding, FindingStatus, Inventory, Kind
from failover.sandbox.aws import AwsSandbox, seed_auto_scaling_group, seed_instances, seed_warm_pool
from failover.schema import ScoringConfig
from failover.scoring import estimate_rto
from tests.fixtures.aws import SHOP, read_aws, shop_evidence

PASS, WARN, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.WARN, FindingStatus.FAIL, FindingStatus.UNKNOWN


def read(sb: AwsSandbox) -> tuple[dict[str, Any], Inventory]:
    return read_aws(sb, ("ec2", "autoscaling"))


def evidence(sb: AwsSandbox, **targets: Any) -> Evidence:
    return shop_evidence(*read(sb), **targets)


def finding(ev: Evidence, check_id: str, subject: str | None = None) -> Finding:
    found = [x for x in run_checks(ev, only={check_id}) if subject is None or x.subject == subject]
    assert len(found) == 1, found
    return found[0]


def _protect_members(sb: AwsSandbox, region: str, group: str) -> None:
    """Members carry termination protection too, so only the group's own setting decides the check."""
    g = sb.client("autoscaling", region).describe_auto_scaling_groups(AutoScalingGroupNames=[group])
    for m in g["AutoScalingGroups"][0]["Instances"]:
        sb.client("ec2", region).modify_instance_attribute(
            InstanceId=m["InstanceId"], DisableApiTermination={"Value": True}
        )


# --- item 14: deletion protection ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "status", "reason"),
    [
        ("prevent-all-deletion", PASS, "secondary west: all 3 instances, groups and databases protected"),
        (
            "prevent-force-deletion",
            PASS,
            "secondary west: all 3 instances, groups and databases protected"
            " (web-dr: prevent-force-deletion (deletable once scaled to zero))",
        ),
        ("none", FAIL, "secondary west: 1 unprotected: web-dr"),
        (None, FAIL, "secondary west: 1 unprotected: web-dr"),  # not set: the documented default, none
    ],
)
def test_group_deletion_protection_counts_in_guardrails(
    aws_sandbox: AwsSandbox, level: str | None, status: FindingStatus, reason: str
) -> None:
    seed_auto_scaling_group(aws_sandbox, "us-west-2", "web-dr", desired=2, tags=SHOP, deletion_protection=level)
    _protect_members(aws_sandbox, "us-west-2", "web-dr")
    ev = evidence(aws_sandbox)
    group = next(r for r in ev.resources(ev.workload.secondaries[0]) if r.kind == Kind.COMPUTE_GROUP)
    assert group.attrs["deletion_protection_level"] == (level or "none")
    result = finding(ev, "guardrails.deletion_protection", subject="west")
    assert (result.check, result.status, result.reason) == ("guardrails.deletion_protection", status, reason)


# --- item 14: weighted capacity ------------------------------------------------------------------


def _weighted_secondary(sb: AwsSandbox, max_units: int) -> None:
    """Primary: 2 x m5.xlarge (8 vCPU). Secondary: an ASG wanting 8 units of m5.xlarge weighing 4 each
    (so 2 instances, 8 vCPU), allowed up to ``max_units`` units."""
    seed_instances(sb, "us-east-1", count=2, instance_type="m5.xlarge", tags=SHOP)
    seed_auto_scaling_group(
        sb, "us-west-2", "web-dr", desired=8, min_size=8, max_size=max_units, weights={"m5.xlarge": 4}, tags=SHOP
    )


def test_weighted_group_running_its_desired_units_has_no_shortfall(aws_sandbox: AwsSandbox) -> None:
    _weighted_secondary(aws_sandbox, max_units=16)
    ev = evidence(aws_sandbox)
    group = next(r for r in ev.resources(ev.workload.secondaries[0]) if r.kind == Kind.COMPUTE_GROUP)
    assert (group.capacity.instances, group.attrs["running_units"], group.attrs["capacity_unit"]) == (2, 8.0, "units")
    assert [m["weight"] for m in group.attrs["instances"]] == [4.0, 4.0]
    ratio = finding(ev, "capacity.ratio")
    assert (ratio.check, ratio.status) == ("capacity.ratio", PASS)
    assert ratio.reason == "secondary 8 vCPU / primary 8 vCPU = 1.00 (target 1)"  # not "runs 2 of 8 desired"


@pytest.mark.parametrize(
    ("max_units", "status", "reason"),
    [
        (16, PASS, "secondary can scale from 8 to 16 vCPU (needs 16)"),
        # Max size counts units, not instances: 12 units of 1 vCPU each, not 12 more m5.xlarge.
        (12, FAIL, "secondary can reach only 12 of 16 vCPU at max size"),
    ],
)
def test_weighted_group_headroom_counts_max_size_in_units(
    aws_sandbox: AwsSandbox, max_units: int, status: FindingStatus, reason: str
) -> None:
    _weighted_secondary(aws_sandbox, max_units=max_units)
    headroom = finding(evidence(aws_sandbox, capacity_ratio=2.0), "capacity.headroom")
    assert (headroom.check, headroom.status, headroom.reason) == ("capacity.headroom", status, reason)


# --- item 14: warm pools -------------------------------------------------------------------------


def _warm_secondary(sb: AwsSandbox) -> list[str]:
    """Primary: 2 x m5.large (4 vCPU). Secondary: 1 x m5.large in service, up to 4, with a warm pool of
    stopped instances (4 - 1 = 3)."""
    seed_instances(sb, "us-east-1", count=2, instance_type="m5.large", tags=SHOP)
    seed_auto_scaling_group(sb, "us-west-2", "web-dr", desired=1, max_size=4, instance_type="m5.large", tags=SHOP)
    return seed_warm_pool(sb, "us-west-2", "web-dr", min_size=1)


def test_warm_pool_instances_are_not_running_capacity(aws_sandbox: AwsSandbox) -> None:
    warm = _warm_secondary(aws_sandbox)
    ev = evidence(aws_sandbox)
    group = next(r for r in ev.resources(ev.workload.secondaries[0]) if r.kind == Kind.COMPUTE_GROUP)
    assert (group.attrs["warm_instances"], group.attrs["warm_pool_state"]) == (3, "Stopped")
    stopped = [r for r in ev.resources(ev.workload.secondaries[0]) if r.native_id in warm]
    assert {r.state for r in stopped} == {"stopped"}  # in EC2 they are stopped instances
    ratio = finding(ev, "capacity.ratio")
    assert (ratio.status, ratio.reason) == (FAIL, "secondary 2 vCPU / primary 4 vCPU = 0.50 (target 1)")


def test_warm_pool_counts_toward_headroom_and_a_faster_scale_up(aws_sandbox: AwsSandbox) -> None:
    _warm_secondary(aws_sandbox)
    ev = evidence(aws_sandbox)
    headroom = finding(ev, "capacity.headroom")
    assert (headroom.check, headroom.status) == ("capacity.headroom", PASS)
    assert headroom.reason == "secondary can scale from 2 to 8 vCPU (needs 4); 3 warm-pool instances ready to join"
    cfg = ScoringConfig(provision_seconds_per_instance=60, warm_start_seconds=25)
    rto = estimate_rto(ev, cfg)
    assert rto.scale_s == 25.0  # one instance, started from the warm pool, not launched (60 s)
    assert "scale-up of 1 instances (2 vCPU, 1 from warm pools) in 1 batch(es)" in rto.notes


def test_unreadable_warm_pool_is_an_incomplete_scope(aws_sandbox: AwsSandbox) -> None:
    _warm_secondary(aws_sandbox)
    aws_sandbox.inject("access_denied", region="us-west-2", service="autoscaling", operation="DescribeWarmPool")
    _, inv = read(aws_sandbox)
    assert [e.scope for e in inv.incomplete] == ["us-west-2/autoscaling/warm-pools"]
    group = next(r for r in inv.resources if r.kind == Kind.COMPUTE_GROUP)
    assert group.attrs["warm_instances"] is None
