"""The Azure adapter's pure parts: type → kind, VM sizes, normalizing ARM shapes, locks, error grouping."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from failover.equivalence import group_members, is_running, site_capacity, state_unknown
from failover.errors import AccessDenied, ProviderError, Throttled, Unreachable
from failover.model import Capacity, Kind, Resource, ScopeError
from providers.azure.adapter import collapse_detail_errors
from providers.azure.kinds import DETAIL_API_VERSIONS, kind_for, vm_size
from providers.azure.locks import apply_locks, covers
from providers.azure.resources import (
    apply_autoscale,
    canonical_references,
    detail_api_version,
    enrich,
    link_flexible_members,
    lock_scope,
    normalize_lock,
    normalize_resource,
    normalize_resource_group,
    power_state,
    resource_group_of,
    uniform_scale_sets,
    with_members,
    with_power_state,
)
from providers.base import with_retries

SUB = "/subscriptions/s1"
VM_ID = f"{SUB}/resourceGroups/Web/providers/Microsoft.Compute/virtualMachines/vm1"


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("Standard_D2s_v3", (2, 8192)),
        ("standard_d2s_v3", (2, 8192)),
        ("Standard_D96ads_v5", (96, 393216)),
        ("Standard_E64s_v3", (64, 432 * 1024)),
        ("Standard_E96_v5", (96, 672 * 1024)),
        ("Standard_F72s_v2", (72, 147456)),
        ("Standard_B1ls", (1, 512)),
        ("Standard_D2_v2", (2, 7168)),
        ("Standard_NC24ads_A100_v4", None),
        ("Standard_D3s_v3", None),  # not a real size: no extrapolation
        ("", None),
        (None, None),
    ],
)
def test_vm_sizes_come_from_the_table_or_are_unknown(size, expected):
    assert vm_size(size) == expected


def test_kinds_ignore_the_case_arm_types_come_in():
    assert kind_for("Microsoft.Network/dnsZones") == Kind.DNS_ZONE
    assert kind_for("microsoft.compute/VIRTUALMACHINES") == Kind.COMPUTE_INSTANCE
    assert kind_for("Microsoft.Cdn/profiles", "Standard_AzureFrontDoor") == Kind.LB
    assert kind_for("Microsoft.Cdn/profiles", "Standard_Verizon") == Kind.OTHER
    assert kind_for("Microsoft.Cdn/profiles") == Kind.OTHER
    assert kind_for("Microsoft.Web/sites") == Kind.OTHER


def test_resource_group_comes_from_the_id():
    assert resource_group_of(VM_ID) == "Web"
    assert resource_group_of("/subscriptions/s1/resourcegroups/lower/providers/X/y/z") == "lower"
    assert resource_group_of("/subscriptions/s1") is None


def sdk_entry(**fields):
    """A list entry as the SDK hands it back (its hybrid model), turned into the wire dict we normalize."""
    from azure.mgmt.resource.resources.models import GenericResourceExpanded

    return GenericResourceExpanded(fields).as_dict()


def test_a_vm_list_entry_has_unknown_capacity_until_it_is_read_by_id():
    vm = normalize_resource(
        "s1",
        sdk_entry(
            id=VM_ID,
            name="vm1",
            type="Microsoft.Compute/virtualMachines",
            location="eastus",
            provisioningState="Succeeded",
        ),
    )
    assert vm.kind == Kind.COMPUTE_INSTANCE and vm.capacity.vcpu is None and vm.attrs["vm_size"] is None
    assert detail_api_version(vm) == DETAIL_API_VERSIONS["microsoft.compute/virtualmachines"]
    detailed = enrich(
        vm,
        {
            "id": VM_ID,
            "zones": ["3"],
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_E4s_v5"},
                "storageProfile": {"imageReference": {"id": "/galleries/g/images/web"}},
            },
        },
    )
    assert (detailed.capacity.vcpu, detailed.capacity.memory_mib) == (4, 32768)
    assert detailed.attrs["image"] == "/galleries/g/images/web" and detailed.zone == "3"
    assert detail_api_version(detailed) is None  # read once


VMSS_TYPE = "Microsoft.Compute/virtualMachineScaleSets"
VMSS_ID = f"{SUB}/resourceGroups/rg/providers/{VMSS_TYPE}/ss"


def scale_set(sku=None, orchestration="Uniform"):
    """A scale set as listed, then read by id (``orchestrationMode``)."""
    listed = normalize_resource("s1", sdk_entry(id=VMSS_ID, name="ss", type=VMSS_TYPE, sku=sku or {}))
    return enrich(listed, {"id": VMSS_ID, "sku": sku or {}, "properties": {"orchestrationMode": orchestration}})


def test_a_scale_set_wants_its_sku_capacity_and_runs_only_what_its_members_report():
    listed = normalize_resource("s1", sdk_entry(id=VMSS_ID, type=VMSS_TYPE, sku={"name": "Odd_Size", "capacity": 0}))
    assert listed.capacity.instances is None  # not read yet: unknown, never sku.capacity
    assert listed.attrs["desired"] == 0 and listed.attrs["vcpu_per_instance"] is None
    ss = scale_set({"name": "Standard_D4s_v5", "capacity": 3})
    counted = with_members(ss, ["running", "deallocated", "running"])
    assert counted.capacity.instances == 2 and counted.attrs["desired"] == 3
    assert counted.attrs["member_power_states"] == {"running": 2, "deallocated": 1}
    assert with_members(ss, []).capacity.instances == 0  # a real zero stays zero


def test_a_scale_set_member_without_a_power_state_makes_its_running_count_unknown():
    counted = with_members(scale_set({"name": "Standard_D4s_v5", "capacity": 2}), ["running", None])
    assert counted.capacity.instances is None
    assert counted.attrs["member_power_states"] == {"running": 1, "unknown": 1}


def test_scale_sets_without_an_orchestration_mode_are_uniform():
    listed = normalize_resource("s1", sdk_entry(id=VMSS_ID, type=VMSS_TYPE, sku={"name": "Standard_D2s_v3"}))
    assert uniform_scale_sets([listed]) == []  # not read by id yet: mode unknown, nothing listed
    detailed = enrich(listed, {"id": VMSS_ID, "properties": {}})
    assert detailed.attrs["orchestration_mode"] == "Uniform"
    assert uniform_scale_sets([detailed, scale_set(orchestration="Flexible")]) == [detailed]


STATUS_ONLY_ENTRY = {  # one VM of GET …/virtualMachines?statusOnly=true, as the compute SDK hands it back
    "id": VM_ID,
    "name": "vm1",
    "type": "Microsoft.Compute/virtualMachines",
    "location": "eastus",
    "properties": {
        "instanceView": {
            "statuses": [
                {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded"},
                {"code": "PowerState/deallocated", "level": "Info", "displayStatus": "VM deallocated"},
            ]
        }
    },
}


def vm(**entry):
    return normalize_resource(
        "s1",
        sdk_entry(
            id=VM_ID, name="vm1", type="Microsoft.Compute/virtualMachines", provisioningState="Succeeded", **entry
        ),
    )


def test_a_vm_state_is_its_power_state_never_its_provisioning_state():
    listed = vm()
    assert listed.state == "unknown" and listed.attrs["provisioning_state"] == "Succeeded"
    powered = with_power_state(listed, STATUS_ONLY_ENTRY)
    assert powered.state == "deallocated" and not is_running(powered)
    detailed = enrich(
        powered,
        {
            "id": VM_ID,
            "properties": {"provisioningState": "Succeeded", "hardwareProfile": {"vmSize": "Standard_D2s_v3"}},
        },
    )
    assert detailed.state == "deallocated"  # the read by id does not turn it back into "Succeeded"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([{"code": "PowerState/running"}], "running"),
        ([{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/stopped"}], "stopped"),
        ([{"code": "ProvisioningState/creating"}], None),  # being created: no power state yet
        ([], None),
    ],
)
def test_the_power_state_is_the_powerstate_status_code(statuses, expected):
    assert power_state({"statuses": statuses}) == expected


def test_a_vm_missing_from_the_status_list_is_unknown_and_counts_as_unknown_capacity():
    gone = with_power_state(vm(), None)
    assert gone.state == "unknown" and state_unknown(gone) and not is_running(gone)
    sized = dataclasses.replace(gone, capacity=Capacity(vcpu=2))
    assert site_capacity([sized]).vcpu is None
    assert site_capacity([sized]).unknown == ("vm1 (power state unknown)",)


def test_a_vm_read_with_its_instance_view_takes_the_power_state_from_it():
    detailed = enrich(
        vm(), {"id": VM_ID, "properties": {"instanceView": {"statuses": [{"code": "PowerState/running"}]}}}
    )
    assert detailed.state == "running"


def test_flexible_members_name_their_scale_set_and_make_its_running_count():
    ss = scale_set({"name": "Standard_D2s_v3", "capacity": 3}, orchestration="Flexible")
    members = []
    for i, power in enumerate(["running", "running", "deallocated"]):
        vm_id = f"{VM_ID}{i}"
        listed = normalize_resource("s1", {"id": vm_id, "name": f"m{i}", "type": "Microsoft.Compute/virtualMachines"})
        detailed = enrich(
            listed,
            {
                "id": vm_id,
                "properties": {
                    "hardwareProfile": {"vmSize": "Standard_D2s_v3"},
                    "virtualMachineScaleSet": {"id": VMSS_ID.upper()},
                },
            },
        )
        members.append(dataclasses.replace(detailed, state=power))
    linked = canonical_references(link_flexible_members([ss, *members]))
    group, members = linked[0], linked[1:]
    assert group.capacity.instances == 2 and group.attrs["desired"] == 3
    assert group_members(group, members) == {m.native_id for m in members}
    cap = site_capacity(linked)
    assert (cap.vcpu, cap.instances) == (4, 2)  # the members once, not again as group members
    assert cap.shortfalls == ("group ss runs 2 of 3 desired",)


def autoscale(target, *, enabled=True, profiles=((2, 8),)):
    asid = f"{SUB}/resourceGroups/rg/providers/microsoft.insights/autoscalesettings/as"
    listed = normalize_resource("s1", {"id": asid, "name": "as", "type": "microsoft.insights/autoscalesettings"})
    return enrich(
        listed,
        {
            "id": asid,
            "properties": {
                "enabled": enabled,
                "targetResourceUri": target,
                "profiles": [
                    {"name": f"p{i}", "capacity": {"minimum": str(lo), "maximum": str(hi), "default": str(lo)}}
                    for i, (lo, hi) in enumerate(profiles)
                ],
            },
        },
    )


def test_autoscale_limits_become_the_scale_sets_size_limits():
    ss = scale_set({"name": "Standard_D2s_v3", "capacity": 2})
    (limited, _) = apply_autoscale([ss, autoscale(VMSS_ID.lower(), profiles=((2, 10), (1, 4)))], False)
    # the most it can count on whichever profile is in effect: the smallest maximum
    assert (limited.attrs["min_size"], limited.attrs["max_size"], limited.attrs["scaling_note"]) == (1, 4, None)
    assert limited.attrs["autoscale"].endswith("/autoscalesettings/as")


def test_without_an_enabled_autoscale_setting_a_scale_set_cannot_grow_on_its_own():
    ss = scale_set({"name": "Standard_D2s_v3", "capacity": 2})
    for extra in ([], [autoscale(VMSS_ID, enabled=False)], [autoscale(VMSS_ID + "-other")]):
        (limited, *_) = apply_autoscale([ss, *extra], False)
        assert limited.attrs["max_size"] == 2 and limited.attrs["autoscale"] is None
        assert "cannot grow beyond its desired size" in limited.attrs["scaling_note"]


def test_unreadable_autoscale_settings_leave_the_limits_unknown():
    ss = scale_set({"name": "Standard_D2s_v3", "capacity": 2})
    (limited,) = apply_autoscale([ss], True)
    assert limited.attrs["max_size"] is None and "could not be read" in limited.attrs["scaling_note"]
    unread = normalize_resource(
        "s1",
        {
            "id": f"{SUB}/resourceGroups/rg/providers/microsoft.insights/autoscalesettings/x",
            "type": "microsoft.insights/autoscalesettings",
        },
    )
    (limited, _) = apply_autoscale([ss, unread], False)  # its read by id failed: it may target this one
    assert limited.attrs["max_size"] is None


def test_storage_replication_is_read_from_the_sku():
    def storage(sku):
        return normalize_resource(
            "s1",
            sdk_entry(
                id=f"{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st",
                type="Microsoft.Storage/storageAccounts",
                **({"sku": sku} if sku else {}),
            ),
        )

    assert storage({"name": "Standard_RAGZRS"}).attrs["geo_redundant"] is True
    assert storage({"name": "Premium_ZRS"}).attrs["geo_redundant"] is False
    assert storage(None).attrs["geo_redundant"] is None  # no sku: unknown


def test_a_resource_group_keeps_state_tags_and_location():
    from azure.mgmt.resource.resources.models import ResourceGroup

    rg = ResourceGroup(
        {
            "id": f"{SUB}/resourceGroups/app",
            "name": "app",
            "location": "westeurope",
            "tags": {"team": "a"},
            "properties": {"provisioningState": "Deleting"},
        }
    ).as_dict()
    r = normalize_resource_group("s1", rg)
    assert (r.kind, r.region, r.state, r.tags, r.account) == (
        Kind.RESOURCE_GROUP,
        "westeurope",
        "Deleting",
        {"team": "a"},
        "s1",
    )


def test_a_traffic_manager_profile_carries_its_monitoring_and_endpoints():
    tm_type = "Microsoft.Network/trafficManagerProfiles"
    tm_id = f"{SUB}/resourceGroups/rg/providers/{tm_type}/tm"
    tm = normalize_resource("s1", {"id": tm_id, "type": tm_type, "location": "global"})
    tm = enrich(
        tm,
        {
            "properties": {
                "trafficRoutingMethod": "Priority",
                "monitorConfig": {"intervalInSeconds": 30, "toleratedNumberOfFailures": 3, "timeoutInSeconds": 10},
                "endpoints": [
                    {
                        "id": f"{tm_id}/azureEndpoints/a",
                        "name": "a",
                        "type": "Microsoft.Network/trafficManagerProfiles/azureEndpoints",
                        "properties": {
                            "targetResourceId": "/x",
                            "priority": 1,
                            "endpointMonitorStatus": "Degraded",
                            "alwaysServe": "Enabled",
                        },
                    },
                    {
                        "name": "b",
                        "type": "Microsoft.Network/trafficManagerProfiles/externalEndpoints",
                        "properties": {"target": "b.example.com", "priority": 2},
                    },
                ],
            }
        },
    )
    assert tm.kind == Kind.DNS_HEALTH_CHECK
    assert (tm.attrs["interval_s"], tm.attrs["failure_threshold"], tm.attrs["timeout_s"]) == (30, 3, 10)
    assert tm.attrs["endpoints"][0]["type"] == "azureEndpoints"
    assert tm.attrs["endpoints"][0]["monitor_status"] == "Degraded"
    assert tm.attrs["endpoints"][0]["id"] == f"{tm_id}/azureEndpoints/a"
    assert [e["always_serve"] for e in tm.attrs["endpoints"]] == [True, None]  # absent: not said, not False


PG_TYPE = "Microsoft.DBforPostgreSQL/flexibleServers"


def test_a_postgres_flexible_replica_carries_its_role_and_replication_state():
    pg_id = f"{SUB}/resourceGroups/rg/providers/{PG_TYPE}/pg-dr"
    listed = normalize_resource("s1", {"id": pg_id, "type": PG_TYPE, "provisioningState": "Succeeded"})
    detailed = enrich(
        listed,
        {
            "id": pg_id,
            "properties": {
                "state": "Ready",
                "replicationRole": "AsyncReplica",
                "sourceServerResourceId": "/p",
                "replica": {"role": "GeoAsyncReplica", "capacity": 0, "replicationState": "Catchup"},
            },
        },
    )
    assert detailed.state == "Ready"
    assert (detailed.attrs["replication_role"], detailed.attrs["replication_state"]) == ("GeoAsyncReplica", "Catchup")


def test_a_replica_source_is_spelled_as_its_inventoried_primary():
    primary_id = f"{SUB}/resourceGroups/RG/providers/{PG_TYPE}/pg"
    primary = normalize_resource("s1", {"id": primary_id, "type": PG_TYPE})
    replica = dataclasses.replace(
        normalize_resource("s1", {"id": primary_id + "-dr", "type": PG_TYPE}),
        attrs={"replica_source": primary_id.lower()},
    )
    assert canonical_references([primary, replica])[1].attrs["replica_source"] == primary_id


def test_azure_sql_databases_say_their_replicas_are_not_read_and_master_is_not_a_workload_database():
    sql = "Microsoft.Sql/servers/databases"
    db = normalize_resource(
        "s1",
        {
            "id": f"{SUB}/resourceGroups/rg/providers/Microsoft.Sql/servers/s/databases/app",
            "type": sql,
            "kind": "v12.0,user",
        },
    )
    assert db.kind == Kind.DB_INSTANCE and "failover groups" in db.attrs["replicas_unknown_reason"]
    master = normalize_resource(
        "s1",
        {
            "id": f"{SUB}/resourceGroups/rg/providers/Microsoft.Sql/servers/s/databases/master",
            "type": sql,
            "kind": "v12.0,system",
        },
    )
    assert master.kind == Kind.OTHER


def lock(scope: str, name: str = "l", sub: str = "s1") -> Resource:
    return normalize_lock(
        sub,
        {
            "id": f"{scope}/providers/Microsoft.Authorization/locks/{name}",
            "name": name,
            "properties": {"level": "CanNotDelete"},
        },
    )


def test_a_lock_scope_is_its_id_without_the_lock_part():
    nested = f"{VM_ID}/providers/Microsoft.Authorization/locks/keep"
    assert lock_scope(nested) == VM_ID
    assert lock_scope(f"{SUB}/providers/microsoft.authorization/locks/x") == SUB


def test_a_scope_covers_itself_and_what_is_below_it_only():
    rg = f"{SUB}/resourceGroups/web"
    assert covers(rg, rg) and covers(rg, f"{rg}/providers/A/b/c")
    assert covers(rg.upper(), f"{rg}/providers/A/b/c")  # ARM ids compare case-insensitively
    assert not covers(rg, f"{SUB}/resourceGroups/web2")
    assert not covers(f"{rg}/providers/A/b/c", rg)


def test_locks_apply_within_their_own_subscription_only():
    vm1 = normalize_resource("s1", {"id": VM_ID, "type": "Microsoft.Compute/virtualMachines"})
    vm2_id = VM_ID.replace("/s1/", "/s2/")
    vm2 = normalize_resource("s2", {"id": vm2_id, "type": "Microsoft.Compute/virtualMachines"})
    out = {r.native_id: r for r in apply_locks([vm1, vm2, lock(SUB)], unreadable=set())}
    assert out[VM_ID].attrs["deletion_protection"] is True
    assert out[vm2_id].attrs["deletion_protection"] is False


def test_unreadable_locks_make_protection_unknown_not_false():
    vm1 = normalize_resource("s1", {"id": VM_ID, "type": "Microsoft.Compute/virtualMachines"})
    (out,) = apply_locks([vm1], unreadable={"s1"})
    assert out.attrs["deletion_protection"] is None and out.attrs["locks"] is None


def test_many_failed_reads_by_id_are_one_problem_per_type():
    vms = {
        f"{VM_ID}{i}": normalize_resource("s1", {"id": f"{VM_ID}{i}", "type": "Microsoft.Compute/virtualMachines"})
        for i in range(3)
    }
    tm_id = f"{SUB}/resourceGroups/rg/providers/Microsoft.Network/trafficManagerProfiles/tm"
    tm = normalize_resource("s1", {"id": tm_id, "type": "Microsoft.Network/trafficManagerProfiles"})
    pending = {**vms, tm_id: tm}
    errors = [ScopeError(scope=i, error="access_denied", reason="HTTP 403 AuthorizationFailed: no") for i in pending]
    out = collapse_detail_errors(errors, pending)
    assert [(e.scope, e.error) for e in out] == [
        ("subscriptions/s1/Microsoft.Compute/virtualMachines", "access_denied"),
        (tm_id, "access_denied"),
    ]
    assert out[0].reason.startswith("3 resources could not be read by id")


def test_retries_wait_at_least_the_servers_retry_after_capped():
    waits: list[float] = []
    calls = iter([Throttled("slow down", retry_after=2.5), Throttled("again", retry_after=600), "done"])

    def call() -> str:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    result = with_retries(
        call,
        classify=lambda e: e if isinstance(e, Throttled) else None,
        base_delay=0.01,
        max_delay=4.0,
        sleep=waits.append,
    )
    assert result == "done"
    assert waits[0] >= 2.5 and waits[1] == 4.0


def arm_error(status: int, code: str, headers: dict[str, str] | None = None):
    """An ``HttpResponseError`` as the SDK raises it, around a real ``requests`` response."""
    import requests
    from azure.core.exceptions import HttpResponseError
    from azure.core.pipeline.transport import RequestsTransportResponse
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.exceptions import ARMErrorFormat

    raw = requests.Response()
    raw.status_code, raw.reason = status, "x"
    raw.headers.update(headers or {})
    raw._content = json.dumps({"error": {"code": code, "message": f"{code} says no"}}).encode()
    response = RequestsTransportResponse(HttpRequest("GET", "https://management.azure.com/x"), raw)
    return HttpResponseError(response=response, error_format=ARMErrorFormat)


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (403, "AuthorizationFailed", AccessDenied),
        (401, "InvalidAuthenticationToken", AccessDenied),
        (429, "TooManyRequests", Throttled),
        (500, "InternalServerError", Unreachable),
        (503, "ServiceUnavailable", Unreachable),
        (404, "SubscriptionNotFound", ProviderError),
    ],
)
def test_sdk_errors_are_classified_with_their_arm_code(status, code, kind):
    from providers.azure.clients import classify

    err = classify(arm_error(status, code))
    assert type(err) is kind and f"HTTP {status} {code}" in str(err)


def test_retry_after_is_read_in_seconds_or_as_a_date():
    from providers.azure.clients import classify

    seconds = classify(arm_error(429, "TooManyRequests", {"Retry-After": "12"}))
    assert isinstance(seconds, Throttled) and seconds.retry_after == 12
    later = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    dated = classify(arm_error(429, "TooManyRequests", {"Retry-After": later}))
    assert isinstance(dated, Throttled) and 20 < (dated.retry_after or 0) <= 30
    none = classify(arm_error(429, "TooManyRequests"))
    assert isinstance(none, Throttled) and none.retry_after is None


def test_errors_that_are_not_the_sdks_are_left_alone():
    from providers.azure.clients import classify

    assert classify(KeyError("bug")) is None
    assert classify(ProviderError("refused to send POST")) is None


def test_every_type_read_by_id_is_granted_by_the_role_definition():
    from pathlib import Path

    role = json.loads((Path(__file__).resolve().parents[2] / "docs/permissions/azure-role-definition.json").read_text())
    granted = {a.lower() for a in role["Actions"]}
    assert {f"{t}/read" for t in DETAIL_API_VERSIONS} <= granted
