"""The ARM fake on its own, over plain HTTP: the shapes, paging, errors and faults the adapter relies on."""

from __future__ import annotations

import ssl
import time

import httpx
import pytest

from failover.sandbox.azure import FakeArm, arm_action, resource_id, seed_demo

AUTH = {"Authorization": "Bearer x"}
V = {"api-version": "2025-04-01"}


def get(arm: FakeArm, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{arm.url}{path}", params={**V, **params}, headers=AUTH, timeout=5)


def test_lists_are_paged_with_absolute_next_links_that_keep_the_query(fake_arm):
    fake_arm.page_size = 2
    for i in range(5):
        fake_arm.add_resource("sub-1", "rg", "Microsoft.Network/dnszones", f"z{i}")
    first = get(fake_arm, "/subscriptions/sub-1/resources", **{"$expand": "provisioningState"}).json()
    assert [r["name"] for r in first["value"]] == ["z0", "z1"]
    assert first["nextLink"].startswith(fake_arm.url + "/subscriptions/sub-1/resources?")
    assert first["value"][0]["provisioningState"] == "Succeeded"
    names = [r["name"] for r in first["value"]]
    link = first["nextLink"]
    while link:
        page = httpx.get(link, headers=AUTH, timeout=5).json()
        assert "provisioningState" in page["value"][0]  # $expand survives into the next link
        names += [r["name"] for r in page["value"]]
        link = page.get("nextLink")
    assert names == [f"z{i}" for i in range(5)]
    assert len(get(fake_arm, "/subscriptions/sub-1/resources", **{"$top": "4"}).json()["value"]) == 4


def test_a_list_leaves_properties_out_and_a_read_by_id_has_them(fake_arm):
    vm = fake_arm.add_vm("sub-1", "rg", "vm1", size="Standard_B2s")
    listed = get(fake_arm, "/subscriptions/sub-1/resources").json()["value"][0]
    assert "properties" not in listed and "provisioningState" not in listed
    read = get(fake_arm, vm["id"]).json()
    assert read["properties"]["hardwareProfile"]["vmSize"] == "Standard_B2s"
    assert get(fake_arm, vm["id"].upper().replace("/SUBSCRIPTIONS/SUB-1", "/subscriptions/sub-1")).status_code == 200
    assert get(fake_arm, vm["id"] + "x").json()["error"]["code"] == "ResourceNotFound"


def test_errors_use_arm_bodies_and_statuses(fake_arm):
    fake_arm.add_subscription("sub-1")
    fake_arm.fail(403, subscription="sub-1", collection="resourcegroups")
    denied = get(fake_arm, "/subscriptions/sub-1/resourcegroups")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "AuthorizationFailed"
    assert get(fake_arm, "/subscriptions/sub-1/resources").status_code == 200
    missing = get(fake_arm, "/subscriptions/nope/resources")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SubscriptionNotFound"
    no_version = httpx.get(f"{fake_arm.url}/subscriptions/sub-1/resources", headers=AUTH, timeout=5)
    assert no_version.status_code == 400
    anonymous = httpx.get(f"{fake_arm.url}/subscriptions/sub-1/resources", params=V, timeout=5)
    assert anonymous.status_code == 401


def test_throttling_counts_down_and_sends_retry_after(fake_arm):
    fake_arm.add_subscription("sub-1")
    fake_arm.fail(429, collection="locks", times=2, retry_after=7)
    path = "/subscriptions/sub-1/providers/Microsoft.Authorization/locks"
    answers = [get(fake_arm, path) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "7"


def test_a_fault_can_let_the_first_requests_through(fake_arm):
    fake_arm.add_subscription("sub-1")
    fake_arm.fail(500, collection="resources", after=1, times=1)
    assert [get(fake_arm, "/subscriptions/sub-1/resources").status_code for _ in range(3)] == [200, 500, 200]


def test_slow_answers_are_slow(fake_arm):
    fake_arm.add_subscription("sub-1")
    fake_arm.slow(0.3, collection="resourcegroups", times=1)
    started = time.monotonic()
    assert get(fake_arm, "/subscriptions/sub-1/resourcegroups").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_writes_are_refused_and_recorded(fake_arm):
    fake_arm.add_subscription("sub-1")
    r = httpx.post(
        f"{fake_arm.url}/subscriptions/sub-1/providers/Microsoft.Compute/register", params=V, headers=AUTH, timeout=5
    )
    assert r.status_code == 405
    assert [(q.method, q.path) for q in fake_arm.requests] == [
        ("POST", "/subscriptions/sub-1/providers/Microsoft.Compute/register")
    ]
    assert fake_arm.requests[0].authorization == "Bearer"  # recorded as present, the token itself is not kept


def test_locks_are_listed_per_subscription_whatever_their_scope(fake_arm):
    rg = "/subscriptions/sub-1/resourceGroups/rg"
    fake_arm.add_lock(rg, "a")
    fake_arm.add_lock(resource_id("sub-1", "rg", "Microsoft.Sql/servers/databases", "s/d"), "b", level="ReadOnly")
    fake_arm.add_lock("/subscriptions/sub-2", "c")
    body = get(fake_arm, "/subscriptions/sub-1/providers/Microsoft.Authorization/locks").json()
    assert [(lk["name"], lk["properties"]["level"]) for lk in body["value"]] == [
        ("a", "CanNotDelete"),
        ("b", "ReadOnly"),
    ]
    assert body["value"][1]["id"].endswith("/servers/s/databases/d/providers/Microsoft.Authorization/locks/b")


def test_nested_resource_ids_interleave_types_and_names():
    assert resource_id("s", "rg", "Microsoft.Sql/servers/databases", "srv/db") == (
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/srv/databases/db"
    )
    with pytest.raises(ValueError):
        resource_id("s", "rg", "Microsoft.Sql/servers/databases", "db")


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("GET", "/subscriptions/s/resourcegroups", "Microsoft.Resources/subscriptions/resourceGroups/read"),
        ("GET", "/subscriptions/s/resources", "Microsoft.Resources/subscriptions/resources/read"),
        ("GET", "/subscriptions/s/providers/Microsoft.Authorization/locks", "Microsoft.Authorization/locks/read"),
        (
            "GET",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
            "Microsoft.Compute/virtualMachines/read",
        ),
        (
            "GET",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/a/databases/b",
            "Microsoft.Sql/servers/databases/read",
        ),
        (
            "DELETE",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
            "Microsoft.Compute/virtualMachines/delete",
        ),
        ("POST", "/subscriptions/s/providers/Microsoft.Compute/register", "Microsoft.Compute/register/action"),
    ],
)
def test_requests_map_to_rbac_actions(method, path, action):
    assert arm_action(method, path) == action


def test_https_with_a_trusted_test_ca():
    with FakeArm(tls=True) as arm:
        seed_demo(arm, "sub-1")
        assert arm.url.startswith("https://127.0.0.1:") and arm.ca_file
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{arm.url}/subscriptions/sub-1/resourcegroups", params=V, headers=AUTH, timeout=5)
        ok = httpx.get(
            f"{arm.url}/subscriptions/sub-1/resourcegroups",
            params=V,
            headers=AUTH,
            timeout=5,
            verify=ssl.create_default_context(cafile=arm.ca_file),
        )
        assert ok.status_code == 200 and len(ok.json()["value"]) == 3


def power_codes(statuses: list[dict]) -> list[str]:
    return [s["code"] for s in statuses if s["code"].startswith("PowerState/")]


def test_vm_power_states_show_in_instance_views_and_the_status_listing(fake_arm):
    on = fake_arm.add_vm("sub-1", "rg", "on", size="Standard_B2s")
    off = fake_arm.add_vm("sub-1", "rg", "off", size="Standard_B2s", power_state="deallocated")
    fake_arm.add_vm("sub-1", "rg", "new", size="Standard_B2s", power_state=None)
    assert power_codes(get(fake_arm, f"{off['id']}/instanceView").json()["statuses"]) == ["PowerState/deallocated"]
    expanded = get(fake_arm, on["id"], **{"$expand": "instanceView"}).json()
    assert power_codes(expanded["properties"]["instanceView"]["statuses"]) == ["PowerState/running"]
    assert "instanceView" not in get(fake_arm, on["id"]).json()["properties"]
    listing = get(fake_arm, "/subscriptions/sub-1/providers/Microsoft.Compute/virtualMachines", statusOnly="true")
    by_name = {vm["name"]: power_codes(vm["properties"]["instanceView"]["statuses"]) for vm in listing.json()["value"]}
    assert by_name == {"on": ["PowerState/running"], "off": ["PowerState/deallocated"], "new": []}
    fake_arm.set_power_state(off["id"], "running")
    assert power_codes(get(fake_arm, f"{off['id']}/instanceView").json()["statuses"]) == ["PowerState/running"]
    with pytest.raises(ValueError):
        fake_arm.set_power_state(off["id"], "sleeping")


def test_a_resource_listing_never_carries_properties_only_the_expanded_top_level_fields(fake_arm):
    fake_arm.add_postgres_flexible("sub-1", "rg", "pg")
    (entry,) = get(
        fake_arm, "/subscriptions/sub-1/resources", **{"$expand": "createdTime,changedTime,provisioningState"}
    ).json()["value"]
    assert "properties" not in entry and "zones" not in entry
    assert {"createdTime", "changedTime", "provisioningState"} <= set(entry)
    assert "provisioningState" not in get(fake_arm, entry["id"]).json()["properties"]  # not a field of Server


def test_a_uniform_scale_set_lists_its_members_and_a_flexible_one_refuses_as_arm_does(fake_arm):
    uni = fake_arm.add_scale_set(
        "sub-1", "rg", "uni", size="Standard_B2s", capacity=2, member_states=["running", "stopped"]
    )
    members = get(fake_arm, f"{uni['id']}/virtualMachines", **{"$expand": "instanceView"}).json()["value"]
    assert [power_codes(m["properties"]["instanceView"]["statuses"]) for m in members] == [
        ["PowerState/running"],
        ["PowerState/stopped"],
    ]
    assert "instanceView" not in get(fake_arm, f"{uni['id']}/virtualMachines").json()["value"][0]["properties"]
    view = get(fake_arm, f"{members[1]['id']}/instanceView").json()
    assert power_codes(view["statuses"]) == ["PowerState/stopped"]
    flex = fake_arm.add_scale_set("sub-1", "rg", "flex", size="Standard_B2s", capacity=1, orchestration="Flexible")
    fake_arm.add_vm("sub-1", "rg", "flex_1", size="Standard_B2s", scale_set=flex["id"])
    refused = get(fake_arm, f"{flex['id']}/virtualMachines")
    assert refused.status_code == 400 and "not allowed on Virtual Machine Scale Set flex" in refused.text
    vm = get(fake_arm, resource_id("sub-1", "rg", "Microsoft.Compute/virtualMachines", "flex_1")).json()
    assert vm["properties"]["virtualMachineScaleSet"] == {"id": flex["id"]}


def test_service_filled_fields_traffic_manager_endpoint_ids_and_dns_name_servers(fake_arm):
    tm = fake_arm.add_traffic_manager(
        "sub-1", "rg", "tm", endpoints=[{"name": "a", "target": "a.example", "priority": 1}]
    )
    (endpoint,) = get(fake_arm, tm["id"]).json()["properties"]["endpoints"]
    assert endpoint["id"] == f"{tm['id']}/externalEndpoints/a" and endpoint["properties"]["alwaysServe"] == "Disabled"
    zone = fake_arm.add_dns_zone("sub-1", "rg", "example.com")
    assert len(get(fake_arm, zone["id"]).json()["properties"]["nameServers"]) == 4


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ("/subscriptions/s/providers/Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachines/read"),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines",
            "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read",
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/autoscalesettings/a",
            "microsoft.insights/autoscalesettings/read",
        ),
    ],
)
def test_compute_and_autoscale_reads_map_to_their_rbac_actions(path, action):
    assert arm_action("GET", path) == action
