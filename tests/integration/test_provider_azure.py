"""The Azure adapter, with the real SDK clients, against the local ARM fake over real HTTP(S)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from failover.errors import ConfigError
from failover.model import Inventory, Kind, Resource
from failover.sandbox.azure import FakeArm, arm_action, seed_demo
from failover.schema import LagMetric, LagMetricRead
from providers.azure import AzureAdapter
from providers.base import get_adapter, inventory_accounts
from tests.factories import undeclared_attrs
from tests.fixtures.azure import ROLE, ROOT, seed_every_type


def by_name(inv: Inventory) -> dict[str, Resource]:
    return {r.name: r for r in inv.resources}


def scopes(inv: Inventory) -> dict[str, str]:
    return {e.scope: e.error for e in inv.incomplete}


def test_every_mapped_type_is_normalized(fake_arm, azure_account, azure_adapter):
    seed_every_type(fake_arm)
    inv = azure_adapter.inventory(azure_account("sub-1"))
    assert inv.complete, inv.incomplete
    assert undeclared_attrs(inv.resources) == {}
    records = {(x.name, x.attrs["type"]) for x in inv.resources if x.kind == Kind.DNS_RECORD}
    # every zone's apex NS and SOA, and the alias record to the Front Door endpoint
    assert {("example.com", "NS"), ("example.com", "SOA"), ("www.steer.example", "CNAME")} <= records
    r = {x.name: x for x in inv.resources if x.kind != Kind.DNS_RECORD}
    kinds = {name: res.kind for name, res in r.items()}
    assert kinds == {
        "rg": Kind.RESOURCE_GROUP,
        "vm-known": Kind.COMPUTE_INSTANCE,
        "vm-odd": Kind.COMPUTE_INSTANCE,
        "vmss": Kind.COMPUTE_GROUP,
        "lb": Kind.LB,
        "agw": Kind.LB,
        "fd-classic": Kind.LB,
        "afd": Kind.LB,
        "cdn": Kind.OTHER,
        "example.com": Kind.DNS_ZONE,
        "tm": Kind.DNS_HEALTH_CHECK,
        "sqlsrv": Kind.OTHER,
        "sqlsrv/appdb": Kind.DB_INSTANCE,
        "pg-single": Kind.DB_INSTANCE,
        "pg-flex": Kind.DB_INSTANCE,
        "my-single": Kind.DB_INSTANCE,
        "my-flex": Kind.DB_INSTANCE,
        "stgrs": Kind.STORAGE_BUCKET,
        "stlrs": Kind.STORAGE_BUCKET,
        "kv": Kind.OTHER,
        "cosmos": Kind.DB_TABLE,
        "vmss-autoscale": Kind.OTHER,
        "steer.example": Kind.DNS_ZONE,
        "afd/afd/web": Kind.ROUTING,
    }
    vm = r["vm-known"]
    assert (vm.capacity.vcpu, vm.capacity.memory_mib) == (2, 8192)
    assert vm.attrs["vm_size"] == "Standard_D2s_v3" and vm.zone == "2" and vm.tags == {"app": "web"}
    assert vm.attrs["image"] == "Canonical:ubuntu-24_04-lts:server:latest"
    assert vm.state == "running" and vm.attrs["provisioning_state"] == "Succeeded"  # the power state, not provisioning
    assert vm.attrs["created_time"] and vm.attrs["resource_group"] == "rg"
    odd = r["vm-odd"]
    assert odd.attrs["vm_size"] == "Standard_NC24ads_A100_v4"
    assert odd.capacity.vcpu is None and odd.capacity.memory_mib is None  # unknown size: unknown, never 0
    vmss = r["vmss"]
    assert (vmss.capacity.instances, vmss.attrs["desired"], vmss.attrs["vcpu_per_instance"]) == (3, 3, 4)
    assert (vmss.attrs["min_size"], vmss.attrs["max_size"], vmss.attrs["orchestration_mode"]) == (2, 6, "Uniform")
    assert r["afd"].attrs["lb_type"] == "front_door" and r["agw"].attrs["lb_type"] == "application_gateway"
    tm = r["tm"]
    assert (tm.attrs["interval_s"], tm.attrs["failure_threshold"], tm.attrs["ttl"]) == (10, 2, 30)
    assert r["pg-flex"].attrs["geo_redundant_backup"] is True and r["pg-flex"].state == "Ready"
    assert r["my-flex"].attrs["replica_source"].endswith("/flexibleServers/my-primary")
    assert r["my-flex"].region == "westus"
    assert r["stgrs"].attrs["geo_redundant"] is True and r["stlrs"].attrs["geo_redundant"] is False
    assert r["kv"].native_type == "Microsoft.KeyVault/vaults" and r["kv"].tags == {"team": "sec"}
    assert r["sqlsrv/appdb"].attrs["resource_group"] == "rg"
    assert {res.account for res in inv.resources} == {"azure-test"} and inv.account == "azure-test"
    assert {res.attrs["subscription"] for res in inv.resources} == {"sub-1"}


def test_every_page_of_every_collection_is_read(fake_arm, azure_account, azure_adapter):
    fake_arm.page_size = 4
    for i in range(6):
        fake_arm.add_resource_group("sub-1", f"rg-{i}")
        fake_arm.add_lock(f"/subscriptions/sub-1/resourceGroups/rg-{i}", f"lock-{i}")
    for i in range(23):
        fake_arm.add_resource("sub-1", "rg-0", "Microsoft.Network/dnszones", f"z{i}.example", location="global")
    inv = azure_adapter.inventory(azure_account("sub-1"))
    assert inv.complete
    kinds = [r.kind for r in inv.resources]
    assert (kinds.count(Kind.DNS_ZONE), kinds.count(Kind.RESOURCE_GROUP), kinds.count(Kind.LOCK)) == (23, 6, 6)
    pages = [q for q in fake_arm.requests if q.collection == "resources"]
    assert len(pages) == 6  # ceil(23 / 4)
    assert all(q.query["$expand"] == "createdTime,changedTime,provisioningState" for q in pages)


def test_two_subscriptions_are_read_concurrently(fake_arm, azure_account, azure_adapter):
    for sub in ("sub-1", "sub-2"):
        fake_arm.add_resource_group(sub, f"rg-{sub}")
        fake_arm.add_resource(sub, f"rg-{sub}", "Microsoft.Network/loadBalancers", f"lb-{sub}")
    fake_arm.slow(0.3)  # every request, so concurrent reads overlap in the server
    inv = azure_adapter.inventory(azure_account("sub-1", "sub-2", max_concurrency=6))
    assert inv.complete
    assert {(r.name, r.attrs["subscription"]) for r in inv.resources if r.kind == Kind.LB} == {
        ("lb-sub-1", "sub-1"),
        ("lb-sub-2", "sub-2"),
    }
    assert fake_arm.max_in_flight >= 4  # 2 subscriptions x 4 collections, read side by side


def test_concurrency_is_bounded_by_the_account(fake_arm, azure_account, azure_adapter):
    for sub in ("sub-1", "sub-2", "sub-3"):
        fake_arm.add_resource_group(sub, f"rg-{sub}")
    fake_arm.slow(0.1)
    inv = azure_adapter.inventory(azure_account("sub-1", "sub-2", "sub-3", max_concurrency=2))
    assert inv.complete and len(inv.resources) == 3
    assert fake_arm.max_in_flight == 2


def test_throttled_reads_are_retried_until_they_succeed(fake_arm, azure_account, azure_adapter, retry_sleeps):
    fake_arm.add_resource_group("sub-1", "rg")
    fake_arm.add_resource("sub-1", "rg", "Microsoft.Network/dnszones", "example.com")
    fake_arm.fail(429, collection="resources", times=2, retry_after=0)
    inv = azure_adapter.inventory(azure_account("sub-1"))
    assert inv.complete
    assert "example.com" in by_name(inv)
    assert len([q for q in fake_arm.requests if q.collection == "resources"]) == 3
    assert len(retry_sleeps.waits) == 2


def test_retry_after_is_honoured_when_throttled(fake_arm, azure_account, azure_adapter, retry_sleeps):
    fake_arm.add_resource_group("sub-1", "rg")
    fake_arm.fail(429, collection="resourcegroups", times=1, retry_after=3)
    inv = azure_adapter.inventory(azure_account("sub-1"))
    assert inv.complete
    assert retry_sleeps.waits and retry_sleeps.waits[0] >= 3


def test_a_failed_page_is_fetched_again_without_restarting_the_list(fake_arm, azure_account, azure_adapter):
    fake_arm.page_size = 2
    for i in range(5):
        fake_arm.add_resource("sub-1", "rg", "Microsoft.Network/dnszones", f"z{i}.example")
    fake_arm.add_resource_group("sub-1", "rg")
    fake_arm.fail(503, collection="resources", after=1, times=1)  # the second page fails once
    inv = azure_adapter.inventory(azure_account("sub-1"))
    assert inv.complete
    assert sum(r.kind == Kind.DNS_ZONE for r in inv.resources) == 5
    tokens = [q.query.get("$skiptoken", "0") for q in fake_arm.requests if q.collection == "resources"]
    assert tokens == ["0", "2", "2", "4"]  # page 2 failed once and was fetched again, page 1 not re-read


def test_denied_subscription_is_reported_incomplete_and_the_rest_inventoried(
    fake_arm, azure_account, azure_adapter, retry_sleeps
):
    for sub in ("sub-1", "sub-2"):
        fake_arm.add_resource_group(sub, f"rg-{sub}")
        fake_arm.add_resource(sub, f"rg-{sub}", "Microsoft.Network/loadBalancers", f"lb-{sub}")
    fake_arm.fail(403, subscription="sub-2")
    inv = azure_adapter.inventory(azure_account("sub-1", "sub-2"))
    assert not inv.complete
    assert scopes(inv) == {
        "subscriptions/sub-2/resourcegroups": "access_denied",
        "subscriptions/sub-2/resources": "access_denied",
        "subscriptions/sub-2/locks": "access_denied",
        "subscriptions/sub-2/powerstates": "access_denied",
    }
    assert all("AuthorizationFailed" in e.reason for e in inv.incomplete)
    assert {r.name for r in inv.resources} == {"rg-sub-1", "lb-sub-1"}
    assert not retry_sleeps.waits  # AccessDenied is never retried
    assert len([q for q in fake_arm.requests if q.subscription == "sub-2"]) == 4


def test_one_denied_collection_leaves_the_others_inventoried(fake_arm, azure_account, azure_adapter):
    fake_arm.add_resource_group("sub-1", "rg")
    fake_arm.add_resource("sub-1", "rg", "Microsoft.Network/loadBalancers", "lb")
    fake_arm.fail(403, subscription="sub-1", collection="resources")
    inv = azure_adapter.inventory(azure_account("sub-1"))
    assert scopes(inv) == {"subscriptions/sub-1/resources": "access_denied"}
    assert [r.name for r in inv.resources] == ["rg"]


def test_server_errors_that_persist_are_unreachable_never_empty(fake_arm, azure_account, azure_adapter, retry_sleeps):
    fake_arm.add_resource_group("sub-1", "rg")
    fake_arm.fail(500, collection="resources")
    inv = azure_adapter.inventory(azure_account("sub-1"))
    assert scopes(inv) == {"subscriptions/sub-1/resources": "unreachable"}
    assert len([q for q in fake_arm.requests if q.collection == "resources"]) == 4  # attempts=4
    assert len(retry_sleeps.waits) == 3


def test_slow_answers_past_the_timeout_are_unreachable(fake_arm, azure_account):
    fake_arm.add_resource_group("sub-1", "rg")
    fake_arm.slow(5, collection="resources")  # margins a loaded machine's ordinary calls stay well inside
    adapter = AzureAdapter(attempts=1)
    started = time.monotonic()
    inv = adapter.inventory(azure_account("sub-1", timeout=1.5))
    assert time.monotonic() - started < 4.5
    assert scopes(inv) == {"subscriptions/sub-1/resources": "unreachable"}
    assert [r.name for r in inv.resources] == ["rg"]


def test_unknown_subscription_is_an_error_not_an_empty_one(fake_arm, azure_account, azure_adapter):
    fake_arm.add_resource_group("sub-1", "rg")
    inv = azure_adapter.inventory(azure_account("sub-1", "sub-missing"))
    assert scopes(inv) == {
        f"subscriptions/sub-missing/{c}": "error" for c in ("resourcegroups", "resources", "locks", "powerstates")
    }
    assert all("SubscriptionNotFound" in e.reason for e in inv.incomplete)


def test_resource_group_lock_protects_every_resource_in_it(fake_arm, azure_account, azure_adapter):
    fake_arm.add_resource_group("sub-1", "locked")
    fake_arm.add_resource_group("sub-1", "locked2")  # a name sharing the prefix is not covered
    fake_arm.add_resource("sub-1", "locked", "Microsoft.Network/loadBalancers", "lb-a")
    fake_arm.add_resource("sub-1", "locked", "Microsoft.Storage/storageAccounts", "st-a", sku={"name": "Standard_LRS"})
    fake_arm.add_resource("sub-1", "locked2", "Microsoft.Network/loadBalancers", "lb-b")
    fake_arm.add_lock("/subscriptions/sub-1/resourceGroups/locked", "rg-lock", level="CanNotDelete")
    inv = azure_adapter.inventory(azure_account("sub-1"))
    r = by_name(inv)
    for name in ("locked", "lb-a", "st-a"):
        assert r[name].attrs["deletion_protection"] is True, name
        assert [lk["name"] for lk in r[name].attrs["locks"]] == ["rg-lock"]
    for name in ("locked2", "lb-b"):
        assert r[name].attrs["deletion_protection"] is False and r[name].attrs["locks"] == []
    assert r["rg-lock"].kind == Kind.LOCK and r["rg-lock"].attrs["scope"].endswith("/resourceGroups/locked")


def test_resource_lock_protects_only_that_resource(fake_arm, azure_account, azure_adapter):
    fake_arm.add_resource_group("sub-1", "rg")
    db = fake_arm.add_resource("sub-1", "rg", "Microsoft.Sql/servers/databases", "srv/db")
    fake_arm.add_resource("sub-1", "rg", "Microsoft.Sql/servers/databases", "srv/db2")
    fake_arm.add_lock(db["id"], "db-readonly", level="ReadOnly")
    inv = azure_adapter.inventory(azure_account("sub-1"))
    r = by_name(inv)
    assert r["srv/db"].attrs["deletion_protection"] is True
    assert r["srv/db"].attrs["locks"][0]["level"] == "ReadOnly"
    assert r["srv/db2"].attrs["deletion_protection"] is False
    assert r["rg"].attrs["deletion_protection"] is False  # a lock below a group does not protect the group


def test_subscription_lock_protects_everything_in_it(fake_arm, azure_account, azure_adapter):
    fake_arm.add_resource_group("sub-1", "rg")
    fake_arm.add_resource("sub-1", "rg", "Microsoft.Network/loadBalancers", "lb")
    fake_arm.add_lock("/subscriptions/sub-1", "whole-sub")
    inv = azure_adapter.inventory(azure_account("sub-1"))
    assert all(r.attrs["deletion_protection"] is True for r in inv.resources if r.kind != Kind.LOCK)


def test_unreadable_locks_leave_protection_unknown(fake_arm, azure_account, azure_adapter):
    fake_arm.add_resource_group("sub-1", "rg")
    fake_arm.add_resource("sub-1", "rg", "Microsoft.Network/loadBalancers", "lb")
    fake_arm.add_lock("/subscriptions/sub-1/resourceGroups/rg", "rg-lock")
    fake_arm.fail(403, collection="locks")
    inv = azure_adapter.inventory(azure_account("sub-1"))
    assert scopes(inv) == {"subscriptions/sub-1/locks": "access_denied"}
    for r in inv.resources:
        assert r.attrs["deletion_protection"] is None and r.attrs["locks"] is None, r.name


def test_a_denied_vm_listing_leaves_capacity_unknown_and_says_so(fake_arm, azure_account, azure_adapter):
    fake_arm.add_resource_group("sub-1", "rg")
    for i in range(3):
        fake_arm.add_vm("sub-1", "rg", f"vm-{i}", size="Standard_D2s_v3")
    # the VMs' sizes come from the subscription's VM list, read after its statusOnly listing (same route)
    fake_arm.fail(403, collection="vm_list", after=1, times=1)  # (the first is the statusOnly listing)
    inv = azure_adapter.inventory(azure_account("sub-1"))
    vms = [r for r in inv.resources if r.kind == Kind.COMPUTE_INSTANCE]
    assert len(vms) == 3
    assert all(vm.capacity.vcpu is None and vm.attrs["vm_size"] is None for vm in vms)
    assert [(e.scope, e.error) for e in inv.incomplete] == [
        ("subscriptions/sub-1/Microsoft.Compute/virtualMachines", "access_denied")
    ]
    assert "3 resources" in inv.incomplete[0].reason


def test_the_adapter_only_reads(fake_arm, azure_account, azure_adapter):
    seed_every_type(fake_arm)
    seed_demo(fake_arm, "sub-2")
    fake_arm.add_lock("/subscriptions/sub-1/resourceGroups/rg", "rg-lock")
    azure_adapter.inventory(azure_account("sub-1", "sub-2"))
    assert fake_arm.requests
    assert {q.method for q in fake_arm.requests} == {"GET"}


def test_an_unregistered_provider_is_reported_without_registering_it(fake_arm, azure_account, azure_adapter):
    """ARM's pipeline would POST a provider registration on this 409; the read-only guard refuses it."""
    sub = "0b1c2d3e-0000-4000-8000-00000000beef"  # the SDK's registration step only acts on GUIDs
    fake_arm.add_resource_group(sub, "rg")
    fake_arm.fail(
        409,
        code="MissingSubscriptionRegistration",
        collection="resources",
        message="The subscription is not registered to use namespace 'Microsoft.Compute'.",
    )
    inv = azure_adapter.inventory(azure_account(sub))
    assert scopes(inv) == {f"subscriptions/{sub}/resources": "error"}
    assert "failover only reads" in inv.incomplete[0].reason
    assert {q.method for q in fake_arm.requests} == {"GET"}


def test_every_request_maps_to_an_action_in_the_role_definition(fake_arm, azure_account, azure_adapter):
    seed_every_type(fake_arm)
    fake_arm.add_lock("/subscriptions/sub-1/resourceGroups/rg", "rg-lock")
    server = fake_arm.add_postgres_flexible("sub-1", "rg", "pg-copy")
    fake_arm.add_metric(server["id"], "apply_lag_seconds", [12.0], namespace="shop/replication")
    lag = LagMetric(resource_id=server["id"], name="apply_lag_seconds", namespace="shop/replication")
    inv = azure_adapter.inventory(azure_account("sub-1").reading((LagMetricRead("w/pg-copy", lag),)))
    assert inv.complete
    assert [r.attrs["value_s"] for r in inv.resources if r.kind == Kind.METRIC] == [12.0]
    used = {arm_action(q.method, q.path).lower() for q in fake_arm.requests}
    granted = {a.lower() for a in ROLE["Actions"]}
    assert used <= granted, used - granted
    assert used == granted, f"the role grants actions the adapter never uses: {granted - used}"
    assert ROLE["NotActions"] == [] and ROLE["DataActions"] == []


def test_real_bearer_policy_over_https_with_the_default_credential_path(monkeypatch, azure_account):
    """credentials: default goes through the SDK's own bearer-token policy, which insists on TLS."""
    from providers.azure.clients import StaticTokenCredential

    with FakeArm(tls=True, token="t0ken-from-the-chain") as arm:
        arm.add_resource_group("sub-1", "rg")
        arm.add_vm("sub-1", "rg", "vm", size="Standard_B2s")
        assert arm.ca_file
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", arm.ca_file)
        adapter = AzureAdapter(credential_factory=lambda account: StaticTokenCredential("t0ken-from-the-chain"))
        account = azure_account("sub-1", endpoint=arm.url, credentials="default")
        inv = adapter.inventory(account)
        assert inv.complete, inv.incomplete
        assert by_name(inv)["vm"].capacity.vcpu == 2
        assert all(q.authorization == "Bearer" for q in arm.requests)

        wrong = AzureAdapter(credential_factory=lambda account: StaticTokenCredential("stale"), attempts=1)
        denied = wrong.inventory(account)
        assert set(scopes(denied).values()) == {"access_denied"} and not denied.resources


def test_default_credentials_over_plain_http_are_refused_up_front(fake_arm, azure_account, azure_adapter):
    with pytest.raises(ConfigError, match="plain http"):
        azure_adapter.inventory(azure_account("sub-1", credentials="default"))
    assert fake_arm.requests == []
    # through the registry's runner it is an incomplete inventory, not an empty one
    (inv,) = inventory_accounts([azure_account("sub-1", credentials="default")])
    assert not inv.complete and "plain http" in inv.incomplete[0].reason


def test_the_adapter_is_found_through_the_registry(fake_arm, azure_account):
    fake_arm.add_resource_group("sub-1", "rg")
    adapter = get_adapter("azure")
    assert isinstance(adapter, AzureAdapter) and adapter.provider == "azure"
    assert [r.name for r in adapter.inventory(azure_account("sub-1")).resources] == ["rg"]


def test_importing_the_adapter_does_not_import_the_sdk():
    code = (
        "import sys, providers.azure, providers.azure.adapter, providers.azure.resources, providers.azure.locks;"
        "print(sorted(m for m in sys.modules if m == 'azure' or m.startswith('azure.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_anonymous_credentials_send_a_static_bearer_over_plain_http(fake_arm, azure_account, azure_adapter):
    fake_arm.add_resource_group("sub-1", "rg")
    inv = azure_adapter.inventory(azure_account("sub-1", credentials="anonymous"))
    assert inv.complete and fake_arm.url.startswith("http://")
    assert all(q.authorization == "Bearer" for q in fake_arm.requests)


def test_details_come_from_one_listing_per_subscription_and_type_not_a_read_per_resource(
    fake_arm, azure_account, azure_adapter
):
    seed_every_type(fake_arm)
    seed_demo(fake_arm, "sub-1")
    inv = azure_adapter.inventory(azure_account("sub-1"))
    assert [q.path for q in fake_arm.requests if q.collection == "resource"] == []
    listed = [
        q.path.rsplit("/providers/", 1)[1].lower()
        for q in fake_arm.requests
        if q.collection in ("type_list", "vm_list") and "statusOnly" not in q.query
    ]
    assert sorted(listed) == sorted(set(listed))  # one listing per type
    assert "microsoft.compute/virtualmachinescalesets" in listed and "microsoft.network/dnszones" in listed
    vms = [r for r in inv.resources if r.kind == Kind.COMPUTE_INSTANCE]
    assert vms and all(vm.attrs["vm_size"] for vm in vms)
