"""Azure readings end to end: the real SDK clients read the ARM fake (answering in the real API's shapes),
the adapter normalizes, and the public checks give their verdict. Each test is one reading an SRE
would get wrong by eye: a deallocated VM, a scale set that wants more than it runs, a replica that
stopped replicating, a Traffic Manager endpoint that is always served."""

from __future__ import annotations

from typing import Any

import pytest

from failover.checks import Evidence, run_checks
from failover.model import FindingStatus, Inventory, Kind, Observation, ObsStatus, Resource
from failover.sandbox.azure import FakeArm, arm_action
from failover.schema import Config
from tests.fixtures.azure import ROLE

FAIL, PASS, WARN, UNKNOWN = FindingStatus.FAIL, FindingStatus.PASS, FindingStatus.WARN, FindingStatus.UNKNOWN
SUB = "sub-1"
PRIMARY = {"app": "web", "site": "primary"}
SECONDARY = {"app": "web", "site": "secondary"}
TM_FQDN = "web-tm.trafficmanager.net"


def config(arm: FakeArm, **targets: Any) -> Config:
    return Config.model_validate(
        {
            "accounts": [
                {
                    "name": "azure-test",
                    "provider": "azure",
                    "subscription": SUB,
                    "endpoint": arm.url,
                    "credentials": "anonymous",
                }
            ],
            "workloads": [
                {
                    "name": "web",
                    "owners": ["web@example.com"],
                    "targets": {"rto": "15m", "rpo": "5m", "capacity_ratio": 1.0, **targets},
                    "dns": {"name": "web.example.com", "mechanism": "traffic-manager"},
                    "sites": [
                        {
                            "name": "east",
                            "role": "primary",
                            "account": "azure-test",
                            "regions": ["eastus"],
                            "select": {"tags": PRIMARY},
                        },
                        {
                            "name": "west",
                            "role": "secondary",
                            "account": "azure-test",
                            "regions": ["westus2"],
                            "select": {"tags": SECONDARY},
                            "failover_targets": ["web-west.example.com"],
                        },
                    ],
                }
            ],
        }
    )


def verdicts(arm: FakeArm, adapter: Any, **targets: Any) -> tuple[dict[str, list[tuple[str, str]]], Inventory]:
    """Inventory the fake, run every check: check id -> [(status, reason)]."""
    cfg = config(arm, **targets)
    inv = adapter.inventory(cfg.accounts[0])
    chain = Observation(
        probe="dns",
        target="web.example.com",
        status=ObsStatus.OK,
        reason="ok",
        observed_at=inv.finished_at,
        data={"chain": [{"name": "web.example.com", "rdtype": "CNAME", "ttl": 30, "values": [TM_FQDN + "."]}]},
        workload="web",
        label="chain",
    )
    ev = Evidence(
        config=cfg,
        workload=cfg.workloads[0],
        inventories={"azure-test": inv},
        observations=[chain],
        now=inv.finished_at,
    )
    out: dict[str, list[tuple[str, str]]] = {}
    for f in run_checks(ev):
        out.setdefault(f.check, []).append((str(f.status), f.reason))
    return out, inv


def primary_vms(arm: FakeArm, n: int = 2, size: str = "Standard_D4s_v5") -> None:
    arm.add_resource_group(SUB, "east", location="eastus")
    arm.add_resource_group(SUB, "west", location="westus2")
    for i in range(n):
        arm.add_vm(SUB, "east", f"web-e{i}", size=size, location="eastus", tags=PRIMARY)


def by_name(inv: Inventory) -> dict[str, Resource]:
    return {r.name: r for r in inv.resources}


# -- VM power state -------------------------------------------------------------------------------
@pytest.mark.parametrize("power", ["deallocated", "stopped", "starting"])
def test_a_vm_that_is_not_powered_on_is_not_running_capacity(fake_arm, azure_adapter, power):
    primary_vms(fake_arm)
    fake_arm.add_vm(SUB, "west", "web-w0", size="Standard_D4s_v5", location="westus2", tags=SECONDARY)
    fake_arm.add_vm(
        SUB, "west", "web-w1", size="Standard_D4s_v5", location="westus2", tags=SECONDARY, power_state=power
    )
    found, inv = verdicts(fake_arm, azure_adapter)
    assert found["capacity.ratio"] == [("fail", "secondary 4 vCPU / primary 8 vCPU = 0.50 (target 1)")]
    vm = by_name(inv)["web-w1"]
    assert (vm.state, vm.attrs["provisioning_state"]) == (power, "Succeeded")


def test_vms_come_from_two_listings_per_subscription_not_calls_per_vm(fake_arm, azure_account, azure_adapter):
    """Power states from the ``statusOnly=true`` listing, sizes and images from the plain VM listing."""
    fake_arm.page_size = 100
    primary_vms(fake_arm, n=6)
    inv = azure_adapter.inventory(azure_account(SUB))
    listings = [q for q in fake_arm.requests if q.collection == "vm_list"]
    assert sorted(str(q.query.get("statusOnly")) for q in listings) == ["None", "true"]
    assert not [q for q in fake_arm.requests if q.collection in ("vm_instance_view", "resource")]
    vms = [r for r in inv.resources if r.kind == Kind.COMPUTE_INSTANCE]
    assert len(vms) == 6 and all(vm.attrs["vm_size"] and vm.capacity.vcpu for vm in vms)


def test_a_vm_without_a_power_state_makes_capacity_unknown_not_zero(fake_arm, azure_adapter):
    primary_vms(fake_arm)
    fake_arm.add_vm(SUB, "west", "web-w0", size="Standard_D4s_v5", location="westus2", tags=SECONDARY, power_state=None)
    found, inv = verdicts(fake_arm, azure_adapter)
    assert found["capacity.ratio"] == [("unknown", "vCPU unknown for web-w0 (power state unknown)")]
    assert by_name(inv)["web-w0"].state == "unknown"


def test_unreadable_power_states_make_capacity_unknown_and_say_where(fake_arm, azure_adapter):
    primary_vms(fake_arm)
    fake_arm.add_vm(SUB, "west", "web-w0", size="Standard_D4s_v5", location="westus2", tags=SECONDARY)
    fake_arm.fail(403, collection="vm_list")
    found, inv = verdicts(fake_arm, azure_adapter)
    ((status, reason),) = found["capacity.ratio"]
    assert status == "unknown" and reason.startswith("inventory incomplete: azure-test subscriptions/sub-1/powerstates")
    assert {r.state for r in inv.resources if r.kind == Kind.COMPUTE_INSTANCE} == {"unknown"}


# -- scale sets -----------------------------------------------------------------------------------
def test_a_uniform_scale_set_counts_its_running_members_and_reports_the_gap(fake_arm, azure_adapter):
    primary_vms(fake_arm)
    ss = fake_arm.add_scale_set(
        SUB,
        "west",
        "web-vmss",
        size="Standard_D4s_v5",
        capacity=2,
        location="westus2",
        tags=SECONDARY,
        member_states=["running", "deallocated"],
    )
    fake_arm.add_autoscale(SUB, "west", "web-vmss-as", target=ss["id"], minimum=2, maximum=4, location="westus2")
    found, inv = verdicts(fake_arm, azure_adapter)
    assert found["capacity.ratio"] == [
        ("fail", "secondary 4 vCPU / primary 8 vCPU = 0.50 (target 1); group web-vmss runs 1 of 2 desired")
    ]
    assert found["capacity.headroom"] == [("pass", "secondary can scale from 4 to 16 vCPU (needs 8)")]
    vmss = by_name(inv)["web-vmss"]
    assert vmss.attrs["member_power_states"] == {"running": 1, "deallocated": 1}
    member_lists = [q for q in fake_arm.requests if q.collection == "scale_set_vms"]
    assert [q.query.get("$expand") for q in member_lists] == ["instanceView"]


def test_a_scale_set_without_autoscale_cannot_grow_past_its_desired_size(fake_arm, azure_adapter):
    primary_vms(fake_arm, n=4)
    fake_arm.add_scale_set(
        SUB, "west", "web-vmss", size="Standard_D4s_v5", capacity=2, location="westus2", tags=SECONDARY
    )
    found, inv = verdicts(fake_arm, azure_adapter)
    assert found["capacity.headroom"] == [("fail", "secondary can reach only 8 of 16 vCPU at max size")]
    assert "no enabled autoscale setting" in by_name(inv)["web-vmss"].attrs["scaling_note"]


def test_flexible_scale_set_members_are_counted_once(fake_arm, azure_adapter):
    primary_vms(fake_arm)
    ss = fake_arm.add_scale_set(
        SUB,
        "west",
        "web-flex",
        size="Standard_D4s_v5",
        capacity=2,
        location="westus2",
        tags=SECONDARY,
        orchestration="Flexible",
    )
    fake_arm.add_vm(
        SUB,
        "west",
        "web-flex_a",
        size="Standard_D4s_v5",
        location="westus2",
        tags=SECONDARY,
        scale_set=ss["id"].lower(),
    )
    fake_arm.add_vm(
        SUB,
        "west",
        "web-flex_b",
        size="Standard_D4s_v5",
        location="westus2",
        tags=SECONDARY,
        scale_set=ss["id"],
        power_state="deallocated",
    )
    found, inv = verdicts(fake_arm, azure_adapter)
    assert found["capacity.ratio"] == [
        ("fail", "secondary 4 vCPU / primary 8 vCPU = 0.50 (target 1); group web-flex runs 1 of 2 desired")
    ]
    r = by_name(inv)
    assert r["web-flex"].capacity.instances == 1 and r["web-flex_a"].attrs["group"] == ss["id"]
    assert not [q for q in fake_arm.requests if q.collection == "scale_set_vms"]  # members are VMs: no member list


def test_unreadable_scale_set_members_make_capacity_unknown(fake_arm, azure_adapter):
    primary_vms(fake_arm)
    fake_arm.add_scale_set(
        SUB, "west", "web-vmss", size="Standard_D4s_v5", capacity=2, location="westus2", tags=SECONDARY
    )
    fake_arm.fail(403, collection="scale_set_vms")
    found, inv = verdicts(fake_arm, azure_adapter)
    ((status, reason),) = found["capacity.ratio"]
    assert status == "unknown" and "Microsoft.Compute/virtualMachineScaleSets/web-vmss/virtualMachines" in reason
    assert by_name(inv)["web-vmss"].capacity.instances is None


# -- databases ------------------------------------------------------------------------------------
def pg_pair(arm: FakeArm, **replica: Any) -> None:
    arm.add_resource_group(SUB, "east", location="eastus")
    arm.add_resource_group(SUB, "west", location="westus2")
    primary = arm.add_postgres_flexible(SUB, "east", "db-east", location="eastus", tags=PRIMARY)
    arm.add_postgres_flexible(
        SUB,
        "west",
        "db-west",
        location="westus2",
        role="AsyncReplica",
        source=primary["id"].lower(),
        tags=SECONDARY,
        **replica,
    )


def test_a_ready_active_replica_is_not_failed_for_being_ready(fake_arm, azure_adapter):
    pg_pair(fake_arm)
    found, inv = verdicts(fake_arm, azure_adapter)
    # Ready and replicating; ARM gives no lag, so the RPO cannot be proven: unknown, not "is Ready"
    assert found["data.replica"] == [
        ("unknown", "database db-east: replica azure:westus2 db-west lag unknown (not reported)")
    ]
    replica = by_name(inv)["db-west"]
    assert (replica.state, replica.attrs["replication_state"]) == ("Ready", "Active")


@pytest.mark.parametrize("state", ["Broken", "Catchup", "Reconfiguring"])
def test_a_replica_that_is_not_replicating_fails_data_replica(fake_arm, azure_adapter, state):
    pg_pair(fake_arm, replication_state=state)
    found, _ = verdicts(fake_arm, azure_adapter)
    assert found["data.replica"] == [
        ("fail", f"database db-east: replica azure:westus2 db-west replication is {state}, not Active")
    ]


def test_a_stopped_replica_fails_data_replica(fake_arm, azure_adapter):
    pg_pair(fake_arm, state="Stopped")
    found, _ = verdicts(fake_arm, azure_adapter)
    assert found["data.replica"] == [("fail", "database db-east: replica azure:westus2 db-west is Stopped")]


def test_an_azure_sql_database_with_no_failover_group_link_or_geo_backup_has_no_copy(fake_arm, azure_adapter):
    """Its server's failover groups, replication links and recoverable databases were read and name it
    nowhere: a fact, not a gap (a server's system database is not judged at all)."""
    fake_arm.add_resource_group(SUB, "east", location="eastus")
    fake_arm.add_resource(
        SUB,
        "east",
        "Microsoft.Sql/servers",
        "sql-east",
        location="eastus",
        tags=PRIMARY,
        properties={"version": "12.0", "state": "Ready"},
    )
    for db, kind in (("sql-east/orders", "v12.0,user"), ("sql-east/master", "v12.0,system")):
        fake_arm.add_resource(
            SUB,
            "east",
            "Microsoft.Sql/servers/databases",
            db,
            location="eastus",
            tags=PRIMARY,
            kind=kind,
            sku={"name": "GP_Gen5", "tier": "GeneralPurpose", "capacity": 2},
            properties={"status": "Online"},
        )
    found, _ = verdicts(fake_arm, azure_adapter)
    assert found["data.replica"] == [("fail", "database sql-east/orders has no replica outside azure:eastus")]


# -- Traffic Manager ------------------------------------------------------------------------------
def traffic_manager(arm: FakeArm, primary_always: str = "Disabled", standby_always: str = "Disabled") -> None:
    arm.add_resource_group(SUB, "dns", location="eastus")
    arm.add_traffic_manager(
        SUB,
        "dns",
        "web-tm",
        endpoints=[
            {"name": "east", "target": "web-east.example.com", "priority": 1, "always_serve": primary_always},
            {"name": "west", "target": "web-west.example.com", "priority": 2, "always_serve": standby_always},
        ],
    )


def test_a_primary_endpoint_that_is_always_served_never_fails_over(fake_arm, azure_adapter):
    traffic_manager(fake_arm, primary_always="Enabled")
    found, inv = verdicts(fake_arm, azure_adapter)
    assert found["dns.failover_records"] == [
        (
            "fail",
            "primary endpoint east has alwaysServe Enabled: Traffic Manager keeps serving it when its health "
            "checks fail, so the profile never fails over",
        )
    ]
    endpoint = by_name(inv)["web-tm"].attrs["endpoints"][0]
    assert endpoint["always_serve"] is True
    assert endpoint["id"].endswith("/trafficManagerProfiles/web-tm/externalEndpoints/east")


def test_an_always_served_standby_warns(fake_arm, azure_adapter):
    traffic_manager(fake_arm, standby_always="Enabled")
    found, _ = verdicts(fake_arm, azure_adapter)
    assert found["dns.failover_records"] == [
        (
            "warn",
            "Traffic Manager profile web-tm fails web.example.com over to web-west.example.com, but standby "
            "endpoint(s) west have alwaysServe Enabled: traffic goes there even when their probes fail",
        )
    ]


def test_a_monitored_priority_profile_fails_over(fake_arm, azure_adapter):
    traffic_manager(fake_arm)
    found, _ = verdicts(fake_arm, azure_adapter)
    assert found["dns.failover_records"] == [
        ("pass", "Traffic Manager profile web-tm fails web.example.com over to web-west.example.com")
    ]


def test_every_new_read_is_a_get_granted_by_the_role_definition(fake_arm, azure_account, azure_adapter):
    primary_vms(fake_arm)
    ss = fake_arm.add_scale_set(SUB, "west", "web-vmss", size="Standard_D4s_v5", capacity=2, location="westus2")
    fake_arm.add_autoscale(SUB, "west", "as", target=ss["id"], minimum=1, maximum=3)
    inv = azure_adapter.inventory(azure_account(SUB))
    assert inv.complete, inv.incomplete
    assert {q.method for q in fake_arm.requests} == {"GET"}
    used = {arm_action(q.method, q.path).lower() for q in fake_arm.requests}
    assert used <= {a.lower() for a in ROLE["Actions"]}
    assert {
        "microsoft.compute/virtualmachinescalesets/virtualmachines/read",
        "microsoft.insights/autoscalesettings/read",
        "microsoft.compute/virtualmachines/read",
    } <= used
