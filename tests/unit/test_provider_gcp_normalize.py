"""The GCP normalizers on the SDK's own message types, parsed from the REST wire shapes: no network."""

from __future__ import annotations

import json
from typing import Any

import pytest

from providers.gcp.common import Target, location_of, path_of, region_of_zone
from providers.gcp.groups import Members, normalize_group, summarize_members
from providers.gcp.instances import normalize_instance
from providers.gcp.lb import normalize_backend_service, normalize_forwarding_rule, reports_health
from providers.gcp.machine_types import MachineSpec, cpu_quota_metric, parse_custom
from providers.gcp.regions import normalize_region

compute_v1 = pytest.importorskip("google.cloud.compute_v1")
T = Target(account="gcp-prod", project="acme")
BASE = "https://compute.googleapis.com/compute/v1/projects/acme"


def parse(cls: Any, wire: dict[str, Any]) -> Any:
    return cls.from_json(json.dumps(wire), ignore_unknown_fields=True)


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("custom-4-16384", MachineSpec(4.0, 16384)),
        ("n2-custom-8-32768", MachineSpec(8.0, 32768)),
        ("n2d-custom-2-20480-ext", MachineSpec(2.0, 20480)),
        ("e2-standard-4", None),
        ("custom-x-1", None),
    ],
)
def test_custom_machine_types_are_sized_from_the_name(name: str, spec: MachineSpec | None) -> None:
    assert parse_custom(name) == spec


def test_paths_and_locations() -> None:
    assert path_of(f"{BASE}/zones/us-east1-b/instances/a") == "projects/acme/zones/us-east1-b/instances/a"
    assert path_of("http://127.0.0.1:9/compute/v1/projects/p/global/x/y") == "projects/p/global/x/y"
    assert path_of("projects/p/regions/r") == "projects/p/regions/r"
    assert path_of("") == ""
    assert region_of_zone("europe-west4-a") == "europe-west4"
    assert location_of("zones/us-east1-b") == ("us-east1", "us-east1-b")
    assert location_of("regions/us-east1") == ("us-east1", "")
    assert location_of("global") == ("", "")


def test_instance_without_known_size_or_images_stays_unknown() -> None:
    inst = parse(
        compute_v1.Instance,
        {
            "name": "a",
            "id": "123",
            "zone": f"{BASE}/zones/us-east1-b",
            "status": "RUNNING",
            "machineType": f"{BASE}/zones/us-east1-b/machineTypes/e2-standard-2",
            "disks": [{"boot": True, "source": f"{BASE}/zones/us-east1-b/disks/a"}],
            "metadata": {
                "items": [{"key": "created-by", "value": "projects/acme/zones/us-east1-b/instanceGroupManagers/g"}]
            },
            "someFutureField": {"x": 1},
        },
    )
    res = normalize_instance(T, inst, None, None)
    assert (res.capacity.vcpu, res.capacity.memory_mib) == (None, None)
    assert res.attrs["image"] is None
    assert res.attrs["group"] == "projects/acme/zones/us-east1-b/instanceGroupManagers/g"
    assert (res.account, res.attrs["project"], res.attrs["id"]) == ("gcp-prod", "acme", "123")
    known = normalize_instance(
        T,
        inst,
        MachineSpec(2.0, 8192),
        {"projects/acme/zones/us-east1-b/disks/a": "projects/cos-cloud/global/images/c"},
    )
    assert known.attrs["image"] == "projects/cos-cloud/global/images/c"
    assert known.capacity.vcpu == 2.0


def test_group_with_unreadable_autoscalers_has_unknown_bounds() -> None:
    mig = parse(
        compute_v1.InstanceGroupManager,
        {
            "name": "web",
            "selfLink": f"{BASE}/regions/us-east1/instanceGroupManagers/web",
            "targetSize": 4,
            "status": {"isStable": True},
            "versions": [{"instanceTemplate": f"{BASE}/global/instanceTemplates/t2"}],
            "distributionPolicy": {"zones": [{"zone": f"{BASE}/zones/us-east1-c"}]},
        },
    )
    running = Members(serving=3, instance_ids=("projects/acme/zones/us-east1-c/instances/a",))
    res = normalize_group(T, "regions/us-east1", mig, None, "e2-standard-2", MachineSpec(2.0, 8192), None, running)
    assert (res.region, res.zone) == ("us-east1", "")
    assert res.attrs["instance_template"] == "projects/acme/global/instanceTemplates/t2"
    assert (res.attrs["autoscaled"], res.attrs["max_size"]) == (None, None)
    assert (res.capacity.instances, res.capacity.vcpu, res.attrs["desired"]) == (3, 6.0, 4)
    assert res.attrs["zones"] == ["us-east1-c"]
    no_scaler = normalize_group(T, "regions/us-east1", mig, {}, None, None)
    assert (no_scaler.attrs["autoscaled"], no_scaler.capacity.vcpu) == (False, None)
    assert no_scaler.capacity.instances is None  # members not read: unknown, never the target size


def test_group_naming_an_autoscaler_the_listing_lacks_has_unknown_bounds() -> None:
    mig = parse(
        compute_v1.InstanceGroupManager,
        {
            "name": "web",
            "selfLink": f"{BASE}/zones/us-east1-b/instanceGroupManagers/web",
            "targetSize": 2,
            "status": {"isStable": True, "autoscaler": f"{BASE}/zones/us-east1-b/autoscalers/web-as"},
        },
    )
    res = normalize_group(T, "zones/us-east1-b", mig, {}, None, None)
    assert (res.attrs["autoscaled"], res.attrs["max_size"]) == (None, None)


def test_serving_members_are_running_idle_or_refreshing_and_not_failing_health() -> None:
    def mi(name: str, status: str | None, action: str, health: str | None = None) -> dict[str, Any]:
        wire: dict[str, Any] = {"name": name, "instance": f"{BASE}/zones/us-east1-b/instances/{name}"}
        wire["currentAction"] = action
        if status:
            wire["instanceStatus"] = status
        if health:
            wire["instanceHealth"] = [{"detailedHealthState": health, "healthCheck": f"{BASE}/global/healthChecks/h"}]
        return wire

    wire = {
        "managedInstances": [
            mi("a", "RUNNING", "NONE"),
            mi("b", "RUNNING", "REFRESHING", "HEALTHY"),
            mi("c", "RUNNING", "VERIFYING"),
            mi("d", "RUNNING", "NONE", "UNKNOWN"),
            mi("e", None, "CREATING"),
            mi("f", "PROVISIONING", "CREATING_WITHOUT_RETRIES"),
        ]
    }
    page = parse(compute_v1.InstanceGroupManagersListManagedInstancesResponse, wire)
    members = summarize_members(page.managed_instances)
    assert members.serving == 2
    assert len(members.instance_ids) == 5  # "e" has no VM yet
    assert members.not_serving == (
        "c (RUNNING, VERIFYING)",
        "d (RUNNING, NONE, UNKNOWN)",
        "e (no VM, CREATING)",
        "f (PROVISIONING, CREATING_WITHOUT_RETRIES)",
    )


@pytest.mark.parametrize(
    ("machine_type", "metric"),
    [
        ("e2-standard-4", "CPUS"),
        ("n1-highmem-8", "CPUS"),
        ("custom-4-16384", "CPUS"),
        ("f1-micro", "CPUS"),
        ("n2-standard-8", "N2_CPUS"),
        ("n2d-custom-2-20480-ext", "N2D_CPUS"),
        ("c2-standard-60", "C2_CPUS"),
        ("c3d-standard-8", "C3D_CPUS"),
        ("", None),
    ],
)
def test_each_machine_series_counts_against_its_cpu_quota(machine_type: str, metric: str | None) -> None:
    assert cpu_quota_metric(machine_type) == metric


def test_region_quota_status_warning_is_kept_so_missing_quotas_are_not_unlimited() -> None:
    region = parse(
        compute_v1.Region,
        {
            "name": "us-east1",
            "status": "UP",
            "quotas": [],
            "quotaStatusWarning": {"code": "QUOTA_INFO_UNAVAILABLE", "message": "Quota info is unavailable."},
        },
    )
    res = normalize_region(T, region, {"CPUS_ALL_REGIONS": {"limit": 32.0, "usage": 0.0}})
    assert res.attrs["quotas"] == {}
    assert res.attrs["quota_warning"] == "QUOTA_INFO_UNAVAILABLE Quota info is unavailable."
    assert res.attrs["project_quotas"] == {"CPUS_ALL_REGIONS": {"limit": 32.0, "usage": 0.0}}


@pytest.mark.parametrize(
    ("group", "reported"),
    [
        (f"{BASE}/zones/us-east1-b/instanceGroups/web", True),
        (f"{BASE}/zones/us-east1-b/networkEndpointGroups/web-neg", True),
        (f"{BASE}/regions/us-east1/networkEndpointGroups/cloud-run", False),
        (f"{BASE}/global/networkEndpointGroups/internet", False),
    ],
)
def test_get_health_is_read_for_instance_groups_and_zonal_negs_only(group: str, reported: bool) -> None:
    assert reports_health(group) is reported


def test_forwarding_rule_python_field_names_map_from_the_wire() -> None:
    rule = parse(
        compute_v1.ForwardingRule,
        {"name": "fr", "IPAddress": "192.0.2.1", "IPProtocol": "TCP", "portRange": "80-80", "ports": []},
    )
    res = normalize_forwarding_rule(T, "regions/europe-west1", rule)
    assert (res.attrs["ip_address"], res.attrs["protocol"], res.attrs["port_range"]) == ("192.0.2.1", "TCP", "80-80")
    assert res.native_id == "projects/acme/regions/europe-west1/forwardingRules/fr"


@pytest.mark.parametrize(
    ("groups", "state", "healthy", "unhealthy"),
    [
        ({"g": [{"healthState": "HEALTHY"}, {"healthState": "HEALTHY"}]}, "healthy", 2, 0),
        ({"g": [{"healthState": "HEALTHY"}, {"healthState": "DRAINING"}]}, "degraded", 1, 1),
        ({"g": [{"healthState": "UNKNOWN"}]}, "unhealthy", 0, 1),
        ({"g": []}, "unhealthy", 0, 0),
        ({}, "unhealthy", 0, 0),
        ({"g": [{"healthState": "HEALTHY"}], "h": None}, "unknown", 1, 0),
    ],
)
def test_backend_state_never_counts_unknown_as_healthy(
    groups: dict[str, Any], state: str, healthy: int, unhealthy: int
) -> None:
    bs = parse(compute_v1.BackendService, {"name": "bs"})
    res = normalize_backend_service(T, "global", bs, groups)
    assert (res.state, res.attrs["healthy"], res.attrs["unhealthy"]) == (state, healthy, unhealthy)


def test_backend_service_with_only_unmonitored_negs_is_unknown_not_unhealthy() -> None:
    bs = parse(
        compute_v1.BackendService, {"name": "run", "backends": [{"group": f"{BASE}/regions/r/networkEndpointGroups/n"}]}
    )
    res = normalize_backend_service(T, "global", bs, {}, ["projects/acme/regions/r/networkEndpointGroups/n"])
    assert (res.state, res.attrs["healthy"], res.attrs["unmonitored_backends"]) == (
        "unknown",
        0,
        ["projects/acme/regions/r/networkEndpointGroups/n"],
    )
