"""GCP readings end to end: the real adapter reads the Compute emulator (shaped like the real API), and
the public checks judge the result. Each test asserts the check id, status and reason a user sees.

The primary is the ready AWS site of tests/factories.py (4 x 4 vCPU = 16 vCPU, capacity_ratio 1.0);
the secondary is project acme-dr in us-central1, selected by the label app=checkout.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from failover.checks import run_checks
from failover.model import FindingStatus, Inventory
from failover.sandbox.gcp import BASE, FakeGcp
from failover.schema import Account, Config
from providers.gcp import GcpAdapter
from tests import factories as f

PASS, WARN, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.WARN, FindingStatus.FAIL, FindingStatus.UNKNOWN
PROJECT, REGION, ZONE = "acme-dr", "us-central1", "us-central1-a"
LABELS = {"app": "checkout"}


def secondary(
    fake: FakeGcp,
    *,
    target: int,
    running: int,
    machine_type: str = "n2-standard-4",
    max_size: int = 8,
    quotas: dict[str, tuple[float, float]] | None = None,
    project_quotas: dict[str, tuple[float, float]] | None = None,
    quota_warning: str | None = None,
) -> None:
    """A MIG of ``machine_type`` wanting ``target`` members, of which ``running`` run (the rest boot)."""
    fake.add_machine_type("n2-standard-4", 4, 16384)
    fake.add_machine_type("e2-standard-4", 4, 16384)
    fake.add_project(PROJECT, quotas={"CPUS_ALL_REGIONS": (64, 0)} if project_quotas is None else project_quotas)
    fake.add_region(
        PROJECT,
        REGION,
        zones=[ZONE, f"{REGION}-b"],
        quotas={"CPUS": (64, 0), "N2_CPUS": (64, 0)} if quotas is None else quotas,
        quota_warning=quota_warning,
    )
    fake.add_instance_template(PROJECT, "checkout-tmpl", machine_type=machine_type, labels=LABELS)
    mig = fake.add_group(
        PROJECT, "checkout-mig", zone=ZONE, target_size=target, template="checkout-tmpl", autoscaler_max=max_size
    )
    created_by = mig["selfLink"].removeprefix(BASE + "/")
    for n in range(target):
        up = n < running
        fake.add_instance(
            PROJECT,
            ZONE,
            f"checkout-mig-{n}",
            machine_type=machine_type,
            labels=LABELS,
            created_by=created_by,
            status="RUNNING" if up else "STAGING",
            member_action="NONE" if up else "CREATING",
        )


def selecting(*ids: str) -> Config:
    """The factory config, with the secondary also selecting these names (backend services carry no labels)."""
    cfg = f.config()
    w = cfg.workloads[0]
    site = w.sites[1]
    site = site.model_copy(update={"select": site.select.model_copy(update={"ids": list(ids)})})
    return cfg.model_copy(update={"workloads": [w.model_copy(update={"sites": [w.sites[0], site]})]})


def judge(
    fake: FakeGcp, check: str, cfg: Config | None = None, **inventory_changes: Any
) -> tuple[list[FindingStatus], str]:
    account = Account(name="gcp-dr", provider="gcp", project=PROJECT, endpoint=fake.url, credentials="anonymous")
    inv: Inventory = GcpAdapter(base_delay=0.01).inventory(account)
    invs = {**f.ready_inventory(), "gcp-dr": dataclasses.replace(inv, finished_at=f.NOW, **inventory_changes)}
    findings = run_checks(f.evidence(cfg, inventories=invs), only={check})
    return [x.status for x in findings], " | ".join(x.reason for x in findings)


def test_group_that_wants_four_but_runs_one_fails_capacity_ratio_with_the_shortfall(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=4, running=1)
    statuses, reason = judge(gcp_fake, "capacity.ratio")
    assert statuses == [FAIL]
    assert reason == ("secondary 4 vCPU / primary 16 vCPU = 0.25 (target 1); group checkout-mig runs 1 of 4 desired")
    statuses, reason = judge(gcp_fake, "secondary.health")
    assert statuses == [WARN]
    assert "group checkout-mig: 1 of 4 instances in service" in reason


def test_running_vms_the_group_is_verifying_or_autohealing_are_not_capacity(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=2, running=2)
    mig = f"projects/{PROJECT}/zones/{ZONE}/instanceGroupManagers/checkout-mig"
    for name, kw in (
        ("checkout-mig-v", {"member_action": "VERIFYING"}),
        ("checkout-mig-u", {"member_health": "UNHEALTHY"}),
    ):
        gcp_fake.add_instance(PROJECT, ZONE, name, machine_type="n2-standard-4", labels=LABELS, created_by=mig, **kw)
    statuses, reason = judge(gcp_fake, "capacity.ratio")  # four VMs RUNNING, two serving
    assert statuses == [FAIL]
    assert reason == "secondary 8 vCPU / primary 16 vCPU = 0.50 (target 1)"


def test_group_running_every_member_passes_capacity(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=4, running=4)
    assert judge(gcp_fake, "capacity.ratio") == (
        [PASS],
        "secondary 16 vCPU / primary 16 vCPU = 1.00 (target 1)",
    )
    assert judge(gcp_fake, "capacity.headroom") == ([PASS], "secondary already runs 16 of 16 vCPU needed")


def test_unreadable_members_make_capacity_unknown_not_the_target_size(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=4, running=4)
    gcp_fake.fail(403, collection="listManagedInstances", message="Required 'compute.instanceGroupManagers.list'")
    statuses, reason = judge(gcp_fake, "capacity.ratio")
    assert statuses == [UNKNOWN]
    assert reason.startswith(
        "inventory incomplete: gcp-dr acme-dr/zones/us-central1-a/instanceGroupManagers/checkout-mig/managedInstances"
    )


def test_running_size_unknown_without_an_inventory_gap_is_still_unknown(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=4, running=4)
    gcp_fake.fail(403, collection="listManagedInstances")
    statuses, reason = judge(gcp_fake, "capacity.ratio", incomplete=[])  # even if the gap were dropped
    assert statuses == [UNKNOWN]
    assert "checkout-mig (running members unknown)" in reason


def test_series_quota_too_small_for_the_scale_up_fails_headroom(gcp_fake: FakeGcp) -> None:
    # 2 x n2-standard-4 run (8 vCPU); the autoscaler may reach 8 members, but N2_CPUS has 4 vCPU free.
    secondary(gcp_fake, target=2, running=2, quotas={"CPUS": (64, 0), "N2_CPUS": (12, 8)})
    statuses, reason = judge(gcp_fake, "capacity.headroom")
    assert statuses == [FAIL]
    assert reason == (
        "quotas let the secondary reach only 12 of 16 vCPU: "
        "region us-central1 N2_CPUS quota has 4 vCPU free, scale-up needs 8"
    )


def test_e2_groups_draw_on_the_general_cpus_quota(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=2, running=2, machine_type="e2-standard-4", quotas={"CPUS": (10, 8), "N2_CPUS": (64, 0)})
    statuses, reason = judge(gcp_fake, "capacity.headroom")
    assert statuses == [FAIL]
    assert reason.endswith("region us-central1 CPUS quota has 2 vCPU free, scale-up needs 8")


def test_series_quota_the_region_does_not_report_is_unknown_never_unlimited(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=2, running=2, quotas={"CPUS": (64, 0)})
    statuses, reason = judge(gcp_fake, "capacity.headroom")
    assert statuses == [UNKNOWN]
    assert reason == "needs 16 vCPU; region us-central1 reports no N2_CPUS quota (group checkout-mig, n2-standard-4)"


def test_region_whose_quotas_failed_to_load_makes_headroom_unknown(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=2, running=2, quota_warning="Quota information is temporarily unavailable.")
    statuses, reason = judge(gcp_fake, "capacity.headroom")
    assert statuses == [UNKNOWN]
    assert reason == (
        "needs 16 vCPU; region us-central1 quotas could not be loaded "
        "(QUOTA_INFO_UNAVAILABLE Quota information is temporarily unavailable.)"
    )


def test_project_wide_cpu_quota_too_small_fails_headroom(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=2, running=2, project_quotas={"CPUS_ALL_REGIONS": (40, 34)})
    statuses, reason = judge(gcp_fake, "capacity.headroom")
    assert statuses == [FAIL]
    assert reason == (
        "quotas let the secondary reach only 14 of 16 vCPU: "
        "project acme-dr CPUS_ALL_REGIONS quota has 6 vCPU free, scale-up needs 8"
    )


def test_project_without_cpus_all_regions_makes_headroom_unknown(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=2, running=2, project_quotas={})
    statuses, reason = judge(gcp_fake, "capacity.headroom")
    assert statuses == [UNKNOWN]
    assert reason == "needs 16 vCPU; project acme-dr CPUS_ALL_REGIONS quota unknown"


def test_quotas_with_room_pass_headroom(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=2, running=2)
    assert judge(gcp_fake, "capacity.headroom") == ([PASS], "secondary can scale from 8 to 32 vCPU (needs 16)")


def test_zone_the_aggregated_list_could_not_reach_makes_capacity_unknown(gcp_fake: FakeGcp) -> None:
    secondary(gcp_fake, target=4, running=4)
    gcp_fake.set_unreachable(PROJECT, "instances", f"zones/{ZONE}")
    statuses, reason = judge(gcp_fake, "capacity.ratio")
    assert statuses == [UNKNOWN]
    assert reason.startswith("inventory incomplete: gcp-dr acme-dr/zones/us-central1-a/instances:")
    assert "UNREACHABLE" in reason


@pytest.mark.parametrize("fault", [None, 503])
def test_serverless_backends_are_not_a_health_signal_but_unread_health_is_unknown(
    gcp_fake: FakeGcp, fault: int | None
) -> None:
    secondary(gcp_fake, target=4, running=4)
    gcp_fake.add_backend_service(
        PROJECT, "checkout-run", region=REGION, serverless_negs=[f"regions/{REGION}/networkEndpointGroups/run"]
    )
    if fault:
        gcp_fake.add_backend_service(
            PROJECT,
            "checkout-vm",
            region=REGION,
            health={
                f"zones/{ZONE}/networkEndpointGroups/vm-neg": [{"ipAddress": "10.0.0.2", "healthState": "HEALTHY"}]
            },
            health_checks=["hc"],
        )
        gcp_fake.fail(fault, collection="getHealth")
    statuses, reason = judge(gcp_fake, "secondary.health", selecting("checkout-run", "checkout-vm"))
    if fault is None:  # two probes and the group; the serverless-only service is no signal, not a failure
        assert statuses == [PASS]
        assert reason == "secondary gcp-central: 3 health signals good"
    else:
        assert statuses == [UNKNOWN]
        assert "backend service checkout-vm: health of 1 backends could not be read" in reason
