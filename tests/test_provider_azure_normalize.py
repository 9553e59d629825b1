"""The Azure adapter's pure parts: type → kind, VM sizes, normalizing ARM shapes, locks, error grouping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from failover.errors import AccessDenied, ProviderError, Throttled, Unreachable
from failover.model import Kind, Resource, ScopeError
from providers.azure.adapter import collapse_detail_errors
from providers.azure.kinds import DETAIL_API_VERSIONS, kind_for, vm_size
from providers.azure.locks import apply_locks, covers
from providers.azure.resources import (
    detail_api_version,
    enrich,
    lock_scope,
    normalize_lock,
    normalize_resource,
    normalize_resource_group,
    resource_group_of,
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
    vm = normalize_resource("s1", sdk_entry(id=VM_ID, name="vm1", type="Microsoft.Compute/virtualMachines",
                                            location="eastus", provisioningState="Succeeded"))
    assert vm.kind == Kind.COMPUTE_INSTANCE and vm.capacity.vcpu is None and vm.attrs["vm_size"] is None
    assert detail_api_version(vm) == DETAIL_API_VERSIONS["microsoft.compute/virtualmachines"]
    detailed = enrich(vm, {"id": VM_ID, "zones": ["3"],
                           "properties": {"hardwareProfile": {"vmSize": "Standard_E4s_v5"},
                                          "storageProfile": {"imageReference": {"id": "/galleries/g/images/web"}}}})
    assert (detailed.capacity.vcpu, detailed.capacity.memory_mib) == (4, 32768)
    assert detailed.attrs["image"] == "/galleries/g/images/web" and detailed.zone == "3"
    assert detail_api_version(detailed) is None  # read once


def test_a_scale_set_counts_instances_not_vcpu():
    vmss = normalize_resource("s1", sdk_entry(id=f"{SUB}/resourceGroups/rg/providers/Microsoft.Compute/"
                                                 "virtualMachineScaleSets/ss", type="Microsoft.Compute/"
                                                 "virtualMachineScaleSets", sku={"name": "Odd_Size", "capacity": 0}))
    assert vmss.capacity.instances == 0  # a real zero from the API stays zero
    assert vmss.capacity.vcpu is None and vmss.attrs["vcpu_per_instance"] is None


def test_storage_replication_is_read_from_the_sku():
    def storage(sku):
        return normalize_resource("s1", sdk_entry(id=f"{SUB}/resourceGroups/rg/providers/Microsoft.Storage/"
                                                     "storageAccounts/st", type="Microsoft.Storage/storageAccounts",
                                                  **({"sku": sku} if sku else {})))

    assert storage({"name": "Standard_RAGZRS"}).attrs["geo_redundant"] is True
    assert storage({"name": "Premium_ZRS"}).attrs["geo_redundant"] is False
    assert storage(None).attrs["geo_redundant"] is None  # no sku: unknown


def test_a_resource_group_keeps_state_tags_and_location():
    from azure.mgmt.resource.resources.models import ResourceGroup

    rg = ResourceGroup({"id": f"{SUB}/resourceGroups/app", "name": "app", "location": "westeurope",
                        "tags": {"team": "a"}, "properties": {"provisioningState": "Deleting"}}).as_dict()
    r = normalize_resource_group("s1", rg)
    assert (r.kind, r.region, r.state, r.tags, r.account) == (Kind.RESOURCE_GROUP, "westeurope", "Deleting",
                                                              {"team": "a"}, "s1")


def test_a_traffic_manager_profile_carries_its_monitoring_and_endpoints():
    tm_type = "Microsoft.Network/trafficManagerProfiles"
    tm_id = f"{SUB}/resourceGroups/rg/providers/{tm_type}/tm"
    tm = normalize_resource("s1", {"id": tm_id, "type": tm_type, "location": "global"})
    tm = enrich(tm, {"properties": {
        "trafficRoutingMethod": "Priority",
        "monitorConfig": {"intervalInSeconds": 30, "toleratedNumberOfFailures": 3, "timeoutInSeconds": 10},
        "endpoints": [{"name": "a", "type": "Microsoft.Network/trafficManagerProfiles/azureEndpoints",
                       "properties": {"targetResourceId": "/x", "priority": 1, "endpointMonitorStatus": "Degraded"}}],
    }})
    assert tm.kind == Kind.DNS_HEALTH_CHECK
    assert (tm.attrs["interval_s"], tm.attrs["failure_threshold"], tm.attrs["timeout_s"]) == (30, 3, 10)
    assert tm.attrs["endpoints"][0]["type"] == "azureEndpoints"
    assert tm.attrs["endpoints"][0]["monitor_status"] == "Degraded"


def lock(scope: str, name: str = "l", sub: str = "s1") -> Resource:
    return normalize_lock(sub, {"id": f"{scope}/providers/Microsoft.Authorization/locks/{name}", "name": name,
                                "properties": {"level": "CanNotDelete"}})


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
    vms = {f"{VM_ID}{i}": normalize_resource("s1", {"id": f"{VM_ID}{i}", "type": "Microsoft.Compute/virtualMachines"})
           for i in range(3)}
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

    result = with_retries(call, classify=lambda e: e if isinstance(e, Throttled) else None, base_delay=0.01,
                          max_delay=4.0, sleep=waits.append)
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

    role = json.loads((Path(__file__).resolve().parents[1] / "docs/permissions/azure-role-definition.json").read_text())
    granted = {a.lower() for a in role["Actions"]}
    assert {f"{t}/read" for t in DETAIL_API_VERSIONS} <= granted
