"""The local Compute REST fake on the wire: shapes, pagination, errors and fault injection, over plain HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from failover.sandbox.gcp import FakeGcp

P = "/compute/v1/projects/acme"


def get(fake: FakeGcp, path: str, method: str = "GET", body: Any = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        fake.url + path, method=method, data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_url_is_a_free_loopback_port_and_stop_closes_it() -> None:
    with FakeGcp() as a, FakeGcp() as b:
        assert a.url.startswith("http://127.0.0.1:") and a.url != b.url
        url = a.url
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + P + "/regions", timeout=2)


def test_aggregated_list_groups_items_by_scope_and_warns_for_empty_scopes(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region("acme", "us-east1", zones=["us-east1-b", "us-east1-c"])
    gcp_fake.add_instance("acme", "us-east1-b", "web-1", machine_type="e2-standard-4", network_ip="10.0.0.5")
    status, body = get(gcp_fake, P + "/aggregated/instances")
    assert status == 200
    inst = body["items"]["zones/us-east1-b"]["instances"][0]
    assert inst["machineType"].endswith("/zones/us-east1-b/machineTypes/e2-standard-4")
    assert inst["networkInterfaces"][0]["networkIP"] == "10.0.0.5"
    assert body["items"]["zones/us-east1-c"]["warning"]["code"] == "NO_RESULTS_ON_PAGE"
    assert "nextPageToken" not in body and "unreachables" not in body


def test_pages_honour_max_results_and_the_fake_page_size(gcp_fake: FakeGcp) -> None:
    for i in range(5):
        gcp_fake.add_region("acme", f"r{i}")
    status, first = get(gcp_fake, P + "/regions?maxResults=2")
    assert status == 200 and [r["name"] for r in first["items"]] == ["r0", "r1"]
    _, last = get(gcp_fake, P + f"/regions?maxResults=2&pageToken={first['nextPageToken']}")
    _, end = get(gcp_fake, P + f"/regions?maxResults=2&pageToken={last['nextPageToken']}")
    assert [r["name"] for r in end["items"]] == ["r4"] and "nextPageToken" not in end
    gcp_fake.page_size = 3
    _, capped = get(gcp_fake, P + "/regions?maxResults=500")
    assert len(capped["items"]) == 3
    status, bad = get(gcp_fake, P + "/regions?pageToken=garbage")
    assert status == 400 and bad["error"]["code"] == 400


def test_unreachable_scope_carries_its_own_warning_without_partial_success(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_instance("acme", "us-east1-b", "a")
    gcp_fake.add_instance("acme", "us-west1-a", "b")
    gcp_fake.set_unreachable("acme", "instances", "zones/us-west1-a")
    _, body = get(gcp_fake, P + "/aggregated/instances")
    assert body["items"]["zones/us-west1-a"] == {
        "warning": {
            "code": "UNREACHABLE",
            "message": "Scope 'zones/us-west1-a' is unreachable.",
            "data": [{"key": "scope", "value": "zones/us-west1-a"}],
        }
    }
    assert [i["name"] for i in body["items"]["zones/us-east1-b"]["instances"]] == ["a"]
    assert "unreachables" not in body  # the v1 client cannot ask for partial success


def test_partial_success_request_gets_top_level_unreachables(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_instance("acme", "us-east1-b", "a")
    gcp_fake.add_instance("acme", "us-west1-a", "b")
    gcp_fake.set_unreachable("acme", "instances", "zones/us-west1-a")
    _, body = get(gcp_fake, P + "/aggregated/instances?returnPartialSuccess=true")
    assert list(body["items"]) == ["zones/us-east1-b"]
    assert body["unreachables"] == ["zones/us-west1-a"]


def test_global_forwarding_rules_are_in_the_aggregated_global_scope(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region("acme", "us-east1")
    gcp_fake.add_forwarding_rule("acme", "pub", ip_address="198.51.100.1")
    gcp_fake.add_forwarding_rule("acme", "int", region="us-east1", ip_address="10.0.0.1")
    _, agg = get(gcp_fake, P + "/aggregated/forwardingRules")
    assert [r["name"] for r in agg["items"]["global"]["forwardingRules"]] == ["pub"]
    assert [r["name"] for r in agg["items"]["regions/us-east1"]["forwardingRules"]] == ["int"]
    _, listed = get(gcp_fake, P + "/global/forwardingRules")
    assert [r["name"] for r in listed["items"]] == ["pub"]
    _, instances = get(gcp_fake, P + "/aggregated/instances")
    assert "global" not in instances["items"]  # instances have no global scope


def test_group_members_status_and_actions_follow_its_instances(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region("acme", "us-east1", zones=["us-east1-b"])
    mig = gcp_fake.add_group("acme", "web", zone="us-east1-b", target_size=3, autoscaler_max=5)
    path = mig["selfLink"].split("/compute/v1/", 1)[1]
    gcp_fake.add_instance("acme", "us-east1-b", "web-a", created_by=path)
    gcp_fake.add_instance("acme", "us-east1-b", "web-b", created_by=path, status="STAGING", member_action="VERIFYING")
    _, agg = get(gcp_fake, P + "/aggregated/instanceGroupManagers")
    shown = agg["items"]["zones/us-east1-b"]["instanceGroupManagers"][0]
    assert shown["status"]["isStable"] is False
    assert shown["status"]["autoscaler"].endswith("/zones/us-east1-b/autoscalers/web-autoscaler")
    assert {k: v for k, v in shown["currentActions"].items() if v} == {"none": 1, "verifying": 1, "creating": 1}
    assert set(shown["currentActions"]) >= {"creatingWithoutRetries", "resuming", "starting", "stopping", "suspending"}
    status, members = get(gcp_fake, P + "/zones/us-east1-b/instanceGroupManagers/web/listManagedInstances", "POST")
    assert status == 200
    summary = [(m["name"], m.get("instanceStatus"), m["currentAction"]) for m in members["managedInstances"]]
    assert summary == [("web-a", "RUNNING", "NONE"), ("web-b", "STAGING", "VERIFYING"), ("web-new0", None, "CREATING")]
    assert get(gcp_fake, P + "/zones/us-east1-b/instanceGroupManagers/web/listManagedInstances")[0] == 405
    assert get(gcp_fake, P + "/zones/us-east1-b/instanceGroupManagers/nope/listManagedInstances", "POST")[0] == 404


def test_pageless_groups_ignore_max_results_and_paginated_ones_page(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region("acme", "us-east1", zones=["us-east1-b"])
    gcp_fake.add_group("acme", "pageless", region="us-east1", target_size=3)
    gcp_fake.add_group("acme", "paged", region="us-east1", target_size=3, paginated_members=True)
    url = P + "/regions/us-east1/instanceGroupManagers/{}/listManagedInstances?maxResults=2"
    _, pageless = get(gcp_fake, url.format("pageless"), "POST")
    assert len(pageless["managedInstances"]) == 3 and "nextPageToken" not in pageless
    _, paged = get(gcp_fake, url.format("paged"), "POST")
    assert len(paged["managedInstances"]) == 2 and paged["nextPageToken"]


def test_regions_report_family_quotas_or_a_quota_status_warning_and_projects_their_own(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region("acme", "us-east1", quotas={"CPUS": (24, 8), "N2_CPUS": (16, 4)})
    gcp_fake.add_region("acme", "europe-west4", quotas={"CPUS": (24, 0)}, quota_warning="Quotas unavailable.")
    gcp_fake.add_project("acme", quotas={"CPUS_ALL_REGIONS": (32, 12)})
    _, regions = get(gcp_fake, P + "/regions")
    east, west = regions["items"]
    assert {q["metric"]: q["limit"] for q in east["quotas"]} == {"CPUS": 24, "N2_CPUS": 16}
    assert "quotaStatusWarning" not in east
    assert west["quotas"] == [] and west["quotaStatusWarning"]["code"] == "QUOTA_INFO_UNAVAILABLE"
    status, project = get(gcp_fake, P)
    assert status == 200 and project["name"] == "acme"
    assert project["quotas"] == [{"metric": "CPUS_ALL_REGIONS", "limit": 32, "usage": 12}]
    assert get(gcp_fake, "/compute/v1/projects/nobody")[0] == 404


def test_serverless_negs_take_no_health_check_and_get_health_refuses_them(gcp_fake: FakeGcp) -> None:
    neg = "regions/us-east1/networkEndpointGroups/run"
    with pytest.raises(ValueError, match="health check"):
        gcp_fake.add_backend_service("acme", "bad", serverless_negs=[neg], health_checks=["hc"])
    bs = gcp_fake.add_backend_service("acme", "run", serverless_negs=[neg])
    assert bs["healthChecks"] == [] and bs["backends"][0]["group"].endswith(neg)
    status, body = get(
        gcp_fake, P + "/global/backendServices/run/getHealth", "POST", {"group": bs["backends"][0]["group"]}
    )
    assert status == 400 and "Serverless" in body["error"]["message"]


def test_injected_errors_use_the_api_error_body_and_count_down(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region("acme", "us-east1")
    gcp_fake.fail(429, project="acme", collection="regions", times=2)
    codes = [get(gcp_fake, P + "/regions")[0] for _ in range(3)]
    assert codes == [429, 429, 200]
    gcp_fake.fail(403, collection="regions", message="Required 'compute.regions.list' permission")
    status, body = get(gcp_fake, P + "/regions")
    assert status == 403
    assert body["error"]["status"] == "PERMISSION_DENIED"
    assert body["error"]["errors"][0]["reason"] == "forbidden"
    assert "compute.regions.list" in body["error"]["message"]
    assert get(gcp_fake, P + "/aggregated/instances")[0] == 200  # another collection is untouched
    gcp_fake.clear_faults()
    assert get(gcp_fake, P + "/regions")[0] == 200


def test_fault_can_target_one_project(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region("acme", "us-east1")
    gcp_fake.add_region("other", "us-east1")
    gcp_fake.fail(500, project="other")
    assert get(gcp_fake, P + "/regions")[0] == 200
    assert get(gcp_fake, "/compute/v1/projects/other/regions")[0] == 500


def test_slow_fault_delays_the_answer(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region("acme", "us-east1")
    gcp_fake.slow(0.3, collection="regions", times=1)
    started = time.monotonic()
    assert get(gcp_fake, P + "/regions")[0] == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    get(gcp_fake, P + "/regions")
    assert time.monotonic() - started < 0.3


def test_get_health_answers_per_backend_group(gcp_fake: FakeGcp) -> None:
    status_a = {"instance": "i-a", "ipAddress": "10.0.0.1", "port": 80, "healthState": "HEALTHY"}
    bs = gcp_fake.add_backend_service("acme", "web", health={"zones/us-east1-b/instanceGroups/a": [status_a]})
    group = bs["backends"][0]["group"]
    status, body = get(gcp_fake, P + "/global/backendServices/web/getHealth", "POST", {"group": group})
    assert status == 200 and body["healthStatus"] == [status_a]
    assert get(gcp_fake, P + "/global/backendServices/web/getHealth", "POST", {"group": "nope"})[0] == 400
    assert get(gcp_fake, P + "/global/backendServices/missing/getHealth", "POST", {"group": group})[0] == 404
    gcp_fake.set_health("acme", "web", "zones/us-east1-b/instanceGroups/a", [])
    _, emptied = get(gcp_fake, P + "/global/backendServices/web/getHealth", "POST", {"group": group})
    assert "healthStatus" not in emptied


def test_writes_are_refused_and_every_request_is_recorded(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region("acme", "us-east1")
    assert get(gcp_fake, P + "/regions", "POST", {"name": "x"})[0] == 405
    assert get(gcp_fake, P + "/zones/us-east1-b/instances/x", "DELETE")[0] == 404
    assert get(gcp_fake, P + "/regions?maxResults=1")[0] == 200
    seen = [(r.method, r.path, r.query.get("maxResults"), r.route, r.status) for r in gcp_fake.requests]
    assert seen == [
        ("POST", P + "/regions", None, "", 405),
        ("DELETE", P + "/zones/us-east1-b/instances/x", None, "", 404),
        ("GET", P + "/regions", "1", "regions", 200),
    ]
    assert gcp_fake.requests[-1].response["items"][0]["name"] == "us-east1"
    gcp_fake.clear_requests()
    assert gcp_fake.requests == []


def test_machine_types_are_served_in_known_zones_only(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region("acme", "us-east1", zones=["us-east1-b"])
    gcp_fake.add_machine_type("e2-standard-4", 4, 16384)
    status, mt = get(gcp_fake, P + "/zones/us-east1-b/machineTypes/e2-standard-4")
    assert status == 200 and (mt["guestCpus"], mt["memoryMb"]) == (4, 16384)
    assert get(gcp_fake, P + "/zones/eu-west9-z/machineTypes/e2-standard-4")[0] == 404
    assert get(gcp_fake, P + "/zones/us-east1-b/machineTypes/unknown-1")[0] == 404
