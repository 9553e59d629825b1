"""The GCP adapter: the real google-cloud-compute clients against the local Compute REST fake."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from failover.attrs import declared_keys
from failover.model import Inventory, Resource
from failover.sandbox import gcp_dns
from failover.sandbox.gcp import BASE, FakeGcp, seed_demo
from failover.schema import Account
from providers.base import get_adapter
from providers.gcp import GcpAdapter
from providers.gcp.permissions import permission_for, required_permissions

IMAGE = "projects/debian-cloud/global/images/debian-12-bookworm-v20240515"
MakeAccount = Callable[..., Account]


def one(inv: Inventory, kind: str, name: str, project: str | None = None) -> Resource:
    found = [
        r
        for r in inv.resources
        if r.kind == kind and r.name == name and (project is None or r.attrs.get("project") == project)
    ]
    assert len(found) == 1, f"expected one {kind} {name!r}, got {len(found)}: {[r.native_id for r in inv.resources]}"
    return found[0]


def names(inv: Inventory, kind: str, project: str | None = None) -> set[str]:
    return {r.name for r in inv.resources if r.kind == kind and (project is None or r.attrs.get("project") == project)}


def scopes(inv: Inventory) -> dict[str, str]:
    return {e.scope: e.error for e in inv.incomplete}


@pytest.fixture
def world(gcp_fake: FakeGcp) -> FakeGcp:
    gcp_fake.add_machine_type("e2-standard-4", 4, 16384)
    gcp_fake.add_machine_type("e2-micro", 2, 1024, shared_cpu=True)
    gcp_fake.add_region(
        "acme", "us-east1", zones=["us-east1-b", "us-east1-c"], quotas={"CPUS": (24, 8), "N2_CPUS": (8, 0)}
    )
    gcp_fake.add_instance(
        "acme",
        "us-east1-b",
        "web-1",
        machine_type="e2-standard-4",
        labels={"app": "web", "env": "prod"},
        deletion_protection=True,
        network_ip="10.0.0.5",
        nat_ip="203.0.113.5",
        image=IMAGE,
    )
    gcp_fake.add_instance("acme", "us-east1-c", "tiny", machine_type="e2-micro", status="TERMINATED")
    gcp_fake.add_instance("acme", "us-east1-c", "big", machine_type="n2-custom-8-32768")
    return gcp_fake


def test_instances_carry_size_labels_addresses_image_and_deletion_protection(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete
    web = one(inv, "compute.instance", "web-1")
    assert (web.provider, web.account, web.region, web.zone) == ("gcp", "gcp-test", "us-east1", "us-east1-b")
    assert web.native_id == "projects/acme/zones/us-east1-b/instances/web-1"
    assert web.state == "RUNNING"
    assert (web.capacity.vcpu, web.capacity.memory_mib) == (4.0, 16384)
    assert web.tags == {"app": "web", "env": "prod"}
    assert web.attrs["deletion_protection"] is True
    assert web.attrs["network_ips"] == ["10.0.0.5"]
    assert web.attrs["nat_ips"] == ["203.0.113.5"]
    assert web.attrs["image"] == IMAGE
    assert web.attrs["machine_type"] == "e2-standard-4"
    tiny = one(inv, "compute.instance", "tiny")
    assert tiny.state == "TERMINATED"
    assert (tiny.capacity.vcpu, tiny.capacity.memory_mib) == (2.0, 1024)
    assert tiny.attrs["shared_cpu"] is True
    assert tiny.attrs["deletion_protection"] is False
    assert tiny.attrs["image"] is None  # no boot disk image recorded for it


def test_custom_machine_type_is_sized_from_its_name_and_predefined_ones_are_fetched_once(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.add_instance("acme", "us-east1-c", "web-2", machine_type="e2-standard-4")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    big = one(inv, "compute.instance", "big")
    assert (big.capacity.vcpu, big.capacity.memory_mib) == (8.0, 32768)
    lookups = sorted(r.path.rsplit("/", 1)[-1] for r in world.requests if "/machineTypes/" in r.path)
    assert lookups == ["e2-micro", "e2-standard-4"]  # one get per distinct name, none for the custom type


def test_unknown_machine_type_leaves_capacity_unknown_and_says_why(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.add_instance("acme", "us-east1-b", "odd", machine_type="z9-mystery-4")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    odd = one(inv, "compute.instance", "odd")
    assert odd.capacity.vcpu is None and odd.capacity.memory_mib is None
    assert scopes(inv) == {"acme/machineTypes/z9-mystery-4": "error"}
    assert one(inv, "compute.instance", "web-1").capacity.vcpu == 4.0


def test_regions_carry_per_series_cpu_quotas_and_the_projects_quotas(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.add_project("acme", quotas={"CPUS_ALL_REGIONS": (32, 12)})
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete
    region = one(inv, "region", "us-east1")
    assert region.state == "UP"
    assert region.attrs["quotas"]["CPUS"] == {"limit": 24.0, "usage": 8.0}
    assert region.attrs["quotas"]["N2_CPUS"] == {"limit": 8.0, "usage": 0.0}
    assert region.attrs["quota_warning"] is None
    assert region.attrs["project_quotas"] == {"CPUS_ALL_REGIONS": {"limit": 32.0, "usage": 12.0}}
    assert region.attrs["zones"] == ["us-east1-b", "us-east1-c"]
    assert sum(r.path == "/compute/v1/projects/acme" for r in world.requests) == 1


def test_region_whose_quotas_failed_to_load_says_so(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.add_region("acme", "europe-west4", quota_warning="Quota information is temporarily unavailable.")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    region = one(inv, "region", "europe-west4")
    assert region.attrs["quotas"] == {}
    assert region.attrs["quota_warning"] == "QUOTA_INFO_UNAVAILABLE Quota information is temporarily unavailable."


def test_unreadable_project_quotas_are_unknown_not_empty(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.fail(403, collection="projects", message="Required 'compute.projects.get' permission")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert one(inv, "region", "us-east1").attrs["project_quotas"] is None
    assert scopes(inv) == {"acme/project": "access_denied"}


def member(fake: FakeGcp, group: dict[str, object], zone: str, name: str, **kw: object) -> dict[str, object]:
    """An instance the group created (its ``created-by`` metadata names the group)."""
    link = str(group["selfLink"])
    kw.setdefault("machine_type", "e2-standard-4")
    return fake.add_instance("acme", zone, name, created_by=link.split("/compute/v1/", 1)[1], **kw)  # type: ignore[arg-type]


def test_managed_groups_carry_running_members_stability_autoscaler_bounds_and_vcpu(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.add_instance_template("acme", "web-tmpl", machine_type="e2-standard-4", labels={"app": "web"})
    web = world.add_group(
        "acme", "web", zone="us-east1-b", target_size=3, template="web-tmpl", autoscaler_min=2, autoscaler_max=10
    )
    for i in range(3):
        member(world, web, "us-east1-b", f"web-{i}")
    api = world.add_group(
        "acme",
        "api",
        region="us-east1",
        target_size=2,
        template="web-tmpl",
        distribution_zones=["us-east1-b", "us-east1-c"],
    )
    member(world, api, "us-east1-c", "api-0")  # the second member is still being created
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete
    web_g = one(inv, "compute.group", "web")
    assert (web_g.region, web_g.zone, web_g.state) == ("us-east1", "us-east1-b", "STABLE")
    assert web_g.capacity.instances == 3 and web_g.attrs["desired"] == 3 and web_g.attrs["in_service"] == 3
    assert (web_g.capacity.vcpu, web_g.capacity.memory_mib) == (12.0, 3 * 16384)
    assert web_g.attrs["instance_ids"] == [f"projects/acme/zones/us-east1-b/instances/web-{i}" for i in range(3)]
    assert web_g.attrs["instance_template"] == "projects/acme/global/instanceTemplates/web-tmpl"
    assert (web_g.attrs["autoscaled"], web_g.attrs["min_size"], web_g.attrs["max_size"]) == (True, 2, 10)
    assert web_g.attrs["cpu_quota_metric"] == "CPUS"  # E2 counts against the general CPU quota
    assert web_g.tags == {"app": "web"}  # the template's labels: what a site's tag selector matches
    api_g = one(inv, "compute.group", "api")
    assert (api_g.region, api_g.zone, api_g.state) == ("us-east1", "", "UPDATING")
    assert (api_g.capacity.instances, api_g.attrs["desired"], api_g.capacity.vcpu) == (1, 2, 4.0)
    assert api_g.attrs["current_actions"]["creating"] == 1 and api_g.attrs["current_actions"]["none"] == 1
    assert api_g.attrs["not_serving"] == ["api-new0 (no VM, CREATING)"]
    assert api_g.attrs["zones"] == ["us-east1-b", "us-east1-c"]
    assert (api_g.attrs["autoscaled"], api_g.attrs["max_size"]) == (False, None)


def test_group_capacity_counts_running_idle_healthy_members_not_its_target_size(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.add_instance_template("acme", "web-tmpl", machine_type="e2-standard-4", labels={"app": "web"})
    web = world.add_group("acme", "web", zone="us-east1-b", target_size=6, template="web-tmpl", autoscaler_max=8)
    member(world, web, "us-east1-b", "ok")
    member(world, web, "us-east1-b", "refreshing", member_action="REFRESHING")  # changed in place: serves
    member(world, web, "us-east1-b", "booting", status="STAGING", member_action="CREATING")
    member(world, web, "us-east1-b", "verifying", member_action="VERIFYING")
    member(world, web, "us-east1-b", "sick", member_health="UNHEALTHY")
    member(world, web, "us-east1-b", "stopped", status="TERMINATED", member_action="RECREATING")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete
    g = one(inv, "compute.group", "web")
    assert (g.capacity.instances, g.capacity.vcpu, g.attrs["desired"]) == (2, 8.0, 6)
    assert g.state == "UPDATING"
    assert sorted(g.attrs["not_serving"]) == [
        "booting (STAGING, CREATING)",
        "sick (RUNNING, NONE, UNHEALTHY)",
        "stopped (TERMINATED, RECREATING)",
        "verifying (RUNNING, VERIFYING)",
    ]
    actions = g.attrs["current_actions"]
    assert (actions["none"], actions["verifying"], actions["refreshing"], actions["recreating"]) == (2, 1, 1, 1)
    assert set(actions) >= {"creating_without_retries", "resuming", "starting", "stopping", "suspending"}


def test_members_are_read_once_per_group_zonal_and_regional_following_pages(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.page_size = 2
    world.add_instance_template("acme", "t", machine_type="e2-standard-4")
    paged = world.add_group("acme", "paged", zone="us-east1-b", target_size=5, template="t", paginated_members=True)
    pageless = world.add_group("acme", "pageless", region="us-east1", target_size=5, template="t")
    for i in range(5):
        member(world, paged, "us-east1-b", f"paged-{i}")
        member(world, pageless, "us-east1-c", f"pageless-{i}")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete
    assert one(inv, "compute.group", "paged").capacity.instances == 5
    assert one(inv, "compute.group", "pageless").capacity.instances == 5
    calls = [(r.method, r.path, r.query.get("pageToken", "")) for r in world.requests if "listManaged" in r.path]
    base = "/compute/v1/projects/acme"
    assert sorted(calls) == [
        ("POST", f"{base}/regions/us-east1/instanceGroupManagers/pageless/listManagedInstances", ""),
        ("POST", f"{base}/zones/us-east1-b/instanceGroupManagers/paged/listManagedInstances", ""),
        ("POST", f"{base}/zones/us-east1-b/instanceGroupManagers/paged/listManagedInstances", "page-2"),
        ("POST", f"{base}/zones/us-east1-b/instanceGroupManagers/paged/listManagedInstances", "page-4"),
    ]


def test_unreadable_members_leave_the_groups_running_size_unknown_not_its_target(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.add_instance_template("acme", "t", machine_type="e2-standard-4")
    web = world.add_group("acme", "web", zone="us-east1-b", target_size=2, template="t")
    member(world, web, "us-east1-b", "web-0")
    member(world, web, "us-east1-b", "web-1")
    world.fail(403, collection="listManagedInstances", message="Required 'compute.instanceGroupManagers.list'")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    g = one(inv, "compute.group", "web")
    assert (g.capacity.instances, g.capacity.vcpu, g.attrs["in_service"]) == (None, None, None)
    assert g.attrs["desired"] == 2
    assert scopes(inv) == {"acme/zones/us-east1-b/instanceGroupManagers/web/managedInstances": "access_denied"}


def test_group_from_a_regional_template_is_sized_and_labelled_by_it(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.add_instance_template("acme", "rt", machine_type="n2-custom-8-32768", region="us-east1", labels={"app": "rt"})
    g = world.add_group(
        "acme", "rt", zone="us-east1-b", target_size=1, template="regions/us-east1/instanceTemplates/rt"
    )
    member(world, g, "us-east1-b", "rt-0", machine_type="n2-custom-8-32768")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete
    rt = one(inv, "compute.group", "rt")
    assert rt.attrs["instance_template"] == "projects/acme/regions/us-east1/instanceTemplates/rt"
    assert (rt.capacity.vcpu, rt.tags, rt.attrs["cpu_quota_metric"]) == (8.0, {"app": "rt"}, "N2_CPUS")


def test_autoscaler_in_mode_off_does_not_scale_the_group(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.add_group("acme", "web", zone="us-east1-b", target_size=0, autoscaler_max=10, autoscaler_mode="OFF")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    web = one(inv, "compute.group", "web")
    assert (web.attrs["autoscaled"], web.attrs["max_size"]) == (False, None)


def test_denied_autoscalers_leave_max_size_unknown_not_absent(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    web = world.add_group("acme", "web", zone="us-east1-b", target_size=1, autoscaler_max=10)
    member(world, web, "us-east1-b", "web-0")
    world.fail(403, collection="autoscalers")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    g = one(inv, "compute.group", "web")
    assert (g.attrs["autoscaled"], g.attrs["max_size"]) == (None, None)
    assert g.capacity.instances == 1
    assert scopes(inv) == {"acme/autoscalers": "access_denied"}


def test_forwarding_rules_regional_and_global(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.add_forwarding_rule(
        "acme",
        "int-fr",
        region="us-east1",
        ip_address="10.0.0.100",
        port_range="8080-8080",
        backend_service="regions/us-east1/backendServices/int-bs",
        scheme="INTERNAL",
        labels={"app": "api"},
    )
    world.add_forwarding_rule(
        "acme", "pub-fr", ip_address="198.51.100.7", port_range="443-443", target="global/targetHttpsProxies/pub"
    )
    inv = gcp_adapter.inventory(gcp_account("acme"))
    internal = one(inv, "lb", "int-fr")
    assert (internal.region, internal.native_type) == ("us-east1", "compute.googleapis.com/ForwardingRule")
    assert internal.attrs["ip_address"] == "10.0.0.100"
    assert internal.attrs["port_range"] == "8080-8080"
    assert internal.attrs["backend_service"] == "projects/acme/regions/us-east1/backendServices/int-bs"
    assert internal.attrs["scheme"] == "INTERNAL"
    assert internal.tags == {"app": "api"}
    public = one(inv, "lb", "pub-fr")
    assert (public.region, public.attrs["is_global"]) == ("", True)
    assert public.native_id == "projects/acme/global/forwardingRules/pub-fr"
    assert public.attrs["target"] == "projects/acme/global/targetHttpsProxies/pub"
    # global rules come from the aggregated list's ``global`` scope: one listing, no second call
    assert not any(r.path.endswith("/global/forwardingRules") for r in world.requests)


def test_backend_services_carry_per_endpoint_health(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    def status(name: str, ip: str, state: str) -> dict[str, object]:
        return {
            "instance": f"projects/acme/zones/us-east1-b/instances/{name}",
            "ipAddress": ip,
            "port": 80,
            "healthState": state,
        }

    world.add_backend_service(
        "acme",
        "web-bs",
        health={
            "zones/us-east1-b/instanceGroups/a": [
                status("a1", "10.0.0.1", "HEALTHY"),
                status("a2", "10.0.0.2", "UNHEALTHY"),
            ],
            "zones/us-east1-c/instanceGroups/b": [status("b1", "10.0.0.3", "HEALTHY")],
        },
        health_checks=["web-hc"],
    )
    world.add_backend_service(
        "acme",
        "int-bs",
        region="us-east1",
        health={"zones/us-east1-b/instanceGroups/i": [status("i1", "10.0.0.9", "HEALTHY")]},
    )
    world.add_backend_service("acme", "empty-bs", health={"zones/us-east1-b/instanceGroups/e": []})
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete
    web = one(inv, "lb.backend", "web-bs")
    assert (web.state, web.attrs["healthy"], web.attrs["unhealthy"]) == ("degraded", 2, 1)
    assert {(h["ipAddress"], h["port"], h["healthState"]) for h in web.attrs["health"]} == {
        ("10.0.0.1", 80, "HEALTHY"),
        ("10.0.0.2", 80, "UNHEALTHY"),
        ("10.0.0.3", 80, "HEALTHY"),
    }
    assert web.attrs["health"][0]["instance"] == "projects/acme/zones/us-east1-b/instances/a1"
    assert web.attrs["health_checks"] == ["projects/acme/global/healthChecks/web-hc"]
    internal = one(inv, "lb.backend", "int-bs")
    assert (internal.region, internal.state, internal.native_type) == (
        "us-east1",
        "healthy",
        "compute.googleapis.com/RegionBackendService",
    )
    assert any(r.path.endswith("/regions/us-east1/backendServices/int-bs/getHealth") for r in world.requests)
    empty = one(inv, "lb.backend", "empty-bs")
    assert (empty.state, empty.attrs["healthy"]) == ("unhealthy", 0)


def test_unreadable_backend_health_is_unknown_never_healthy(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.add_backend_service(
        "acme", "web-bs", health={"zones/us-east1-b/instanceGroups/a": [{"instance": "x", "healthState": "HEALTHY"}]}
    )
    world.fail(403, collection="getHealth")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    web = one(inv, "lb.backend", "web-bs")
    assert web.state == "unknown"
    assert web.attrs["health_unknown_groups"] == ["projects/acme/zones/us-east1-b/instanceGroups/a"]
    assert scopes(inv) == {"acme/backendServices/web-bs/health": "access_denied"}


def test_neg_backends_zonal_are_health_read_and_serverless_are_unmonitored(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    endpoint = {"ipAddress": "10.0.0.7", "port": 8080, "healthState": "HEALTHY"}
    world.add_backend_service(
        "acme", "mixed-bs", health={"zones/us-east1-b/networkEndpointGroups/web-neg": [endpoint]}, health_checks=["hc"]
    )
    world.add_backend_service("acme", "run-bs", serverless_negs=["regions/us-east1/networkEndpointGroups/run-neg"])
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete  # no getHealth was sent for the serverless NEG, so none failed
    mixed = one(inv, "lb.backend", "mixed-bs")
    assert (mixed.state, mixed.attrs["healthy"], mixed.attrs["unmonitored_backends"]) == ("healthy", 1, [])
    assert mixed.attrs["health"][0]["group"] == "projects/acme/zones/us-east1-b/networkEndpointGroups/web-neg"
    run = one(inv, "lb.backend", "run-bs")
    assert (run.state, run.attrs["healthy"], run.attrs["unhealthy"]) == ("unknown", 0, 0)
    assert run.attrs["unmonitored_backends"] == ["projects/acme/regions/us-east1/networkEndpointGroups/run-neg"]
    health_calls = [r.body["group"] for r in world.requests if r.path.endswith("/getHealth")]
    assert health_calls == [f"{BASE}/projects/acme/zones/us-east1-b/networkEndpointGroups/web-neg"]


def test_listing_follows_every_page(gcp_fake: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter) -> None:
    gcp_fake.page_size = 2
    gcp_fake.add_machine_type("e2-standard-2", 2, 8192)
    for r in range(5):
        gcp_fake.add_region("acme", f"region{r}", zones=[f"region{r}-a"])
    for i in range(7):
        gcp_fake.add_instance("acme", f"region{i % 3}-a", f"vm-{i}", machine_type="e2-standard-2")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete
    assert names(inv, "compute.instance") == {f"vm-{i}" for i in range(7)}
    assert names(inv, "region") == {f"region{r}" for r in range(5)}
    tokens = [r.query.get("pageToken", "") for r in gcp_fake.requests if r.path.endswith("/aggregated/instances")]
    assert tokens == ["", "page-2", "page-4", "page-6"]


def test_two_projects_are_inventoried_in_one_call(
    gcp_fake: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    seed_demo(gcp_fake, "acme-prod", "acme-dr")
    inv = gcp_adapter.inventory(gcp_account("acme-prod", "acme-dr"))
    assert inv.complete, inv.incomplete
    assert names(inv, "compute.instance", "acme-prod") == {"web-0", "web-1", "web-2"}
    assert names(inv, "compute.instance", "acme-dr") == {"web-0"}
    assert one(inv, "compute.group", "web", "acme-prod").capacity.vcpu == 12.0
    assert one(inv, "compute.group", "web", "acme-dr").capacity.vcpu == 2.0
    assert one(inv, "lb.backend", "web-bs", "acme-dr").state == "unhealthy"
    assert {r.account for r in inv.resources} == {"gcp-test"}
    assert len({r.native_id for r in inv.resources}) == len(inv.resources)


def test_throttled_listing_is_retried_until_it_succeeds(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.fail(429, project="acme", collection="instances", times=2, message="Rate Limit Exceeded")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete
    assert names(inv, "compute.instance") == {"web-1", "tiny", "big"}
    assert sum(r.path.endswith("/aggregated/instances") for r in world.requests) == 3


def test_throttling_waits_at_least_the_servers_retry_after(world: FakeGcp, gcp_account: MakeAccount) -> None:
    waits: list[float] = []
    adapter = GcpAdapter(base_delay=0.01, sleep=waits.append)
    world.fail(429, collection="regions", times=1, retry_after=2)
    inv = adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete
    assert waits == [2.0]


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried(
    status: int, world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.fail(status, collection="regions", times=1)
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert inv.complete, inv.incomplete
    assert names(inv, "region") == {"us-east1"}


def test_throttling_that_never_ends_is_reported_not_empty(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.fail(429, collection="instances")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert scopes(inv) == {"acme/instances": "throttled"}
    assert names(inv, "compute.instance") == set()
    assert names(inv, "region") == {"us-east1"}
    assert sum(r.path.endswith("/aggregated/instances") for r in world.requests) == gcp_adapter.attempts


def test_denied_scope_is_reported_incomplete_and_the_rest_inventoried(
    gcp_fake: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    seed_demo(gcp_fake, "acme-prod", "acme-dr")
    gcp_fake.fail(403, project="acme-dr", collection="instances", message="Required 'compute.instances.list'")
    inv = gcp_adapter.inventory(gcp_account("acme-prod", "acme-dr"))
    assert scopes(inv) == {"acme-dr/instances": "access_denied"}
    reason = inv.incomplete[0].reason
    assert "compute.instances.list" in reason and "403" in reason
    assert names(inv, "compute.instance", "acme-dr") == set()
    assert names(inv, "compute.instance", "acme-prod") == {"web-0", "web-1", "web-2"}
    assert names(inv, "compute.group", "acme-dr") == {"web"}
    assert names(inv, "region", "acme-dr") == {"us-east1"}
    assert sum(r.path == "/compute/v1/projects/acme-dr/aggregated/instances" for r in gcp_fake.requests) == 1


def test_denied_project_reports_every_part(
    gcp_fake: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    seed_demo(gcp_fake, "acme-prod", "acme-dr")
    gcp_fake.fail(403, project="acme-dr")
    inv = gcp_adapter.inventory(gcp_account("acme-prod", "acme-dr"))
    assert scopes(inv) == {
        "acme-dr/instances": "access_denied",
        "acme-dr/regions": "access_denied",
        "acme-dr/instanceGroupManagers": "access_denied",
        "acme-dr/forwardingRules": "access_denied",
        "acme-dr/backendServices": "access_denied",
        "acme-dr/sqlInstances": "access_denied",
        "acme-dr/buckets": "access_denied",
        "acme-dr/managedZones": "access_denied",
    }
    assert {r.attrs["project"] for r in inv.resources} == {"acme-prod"}


def test_unreachable_zone_is_reported_incomplete(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.set_unreachable("acme", "instances", "zones/us-east1-c")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert scopes(inv) == {"acme/zones/us-east1-c/instances": "unreachable"}
    assert "UNREACHABLE" in inv.incomplete[0].reason  # the scope's own warning, not a top-level list
    assert names(inv, "compute.instance") == {"web-1"}


def test_unreachable_disks_leave_images_unknown(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.set_unreachable("acme", "disks", "zones/us-east1-b")
    inv = gcp_adapter.inventory(gcp_account("acme"))
    assert scopes(inv) == {"acme/disks": "error"}
    assert one(inv, "compute.instance", "web-1").attrs["image"] is None


def test_slow_api_times_out_into_an_unreachable_scope(
    world: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    world.slow(4.0, collection="regions")  # margins a loaded machine's ordinary calls stay well inside
    gcp_adapter.attempts = 2
    inv = gcp_adapter.inventory(gcp_account("acme", timeout=1.5))
    assert scopes(inv) == {"acme/regions": "unreachable"}
    assert "timed out" in inv.incomplete[0].reason
    assert names(inv, "compute.instance") == {"web-1", "tiny", "big"}


def test_unreachable_endpoint_reports_every_part_unreachable(gcp_adapter: GcpAdapter) -> None:
    with FakeGcp() as fake:
        url = fake.url
    gcp_adapter.attempts = 1
    account = Account(name="gone", provider="gcp", project="acme", endpoint=url, credentials="anonymous", timeout=1)
    inv = gcp_adapter.inventory(account)
    assert inv.resources == []
    assert set(scopes(inv).values()) == {"unreachable"}
    assert "acme/instances" in scopes(inv)


def test_empty_project_is_complete_and_empty(
    gcp_fake: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    gcp_fake.add_region("quiet", "europe-west1", zones=["europe-west1-b"])
    inv = gcp_adapter.inventory(gcp_account("quiet"))
    assert inv.complete, inv.incomplete
    assert [r.kind for r in inv.resources] == ["region"]


def test_adapter_only_reads_and_every_request_needs_a_permission_in_the_role(
    gcp_fake: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    seed_demo(gcp_fake, "acme-prod", "acme-dr")
    gcp_fake.add_backend_service(
        "acme-dr", "int-bs", region="us-east1", health={"zones/us-east1-b/instanceGroups/i": []}
    )
    gcp_fake.add_group("acme-dr", "api", region="us-east1", target_size=1)
    gcp_fake.add_sql_instance("acme-prod", "db", region="us-central1")
    gcp_fake.add_sql_instance("acme-prod", "db-dr", region="us-east1", master="db")  # lag read from Monitoring
    gcp_fake.add_bucket("acme-prod", "assets", location="NAM4", location_type="dual-region")
    gcp_fake.add_dns_zone("acme-prod", "pub", "example.com")
    hc = gcp_fake.add_dns_health_check("acme-prod", "dns-hc")
    backup = gcp_dns.geo_policy([gcp_dns.geo_item("us-east1", targets=["198.51.100.10"])])
    policy = gcp_dns.policy(
        primary_backup=gcp_dns.primary_backup(["203.0.113.10"], backup), health_check=hc["selfLink"]
    )
    gcp_fake.add_rrset("acme-prod", "pub", "shop", "A", policy=policy)
    # an internal load balancer target: its forwarding rule -> backend service -> regional health check
    gcp_fake.add_dns_health_check("acme-prod", "ilb-hc", region="us-central1", type_="TCP", port=80, interval_s=5)
    gcp_fake.add_backend_service(
        "acme-prod",
        "ilb-bs",
        region="us-central1",
        scheme="INTERNAL",
        health_checks=["regions/us-central1/healthChecks/ilb-hc"],
    )
    gcp_fake.add_forwarding_rule(
        "acme-prod",
        "ilb-fr",
        region="us-central1",
        ip_address="10.1.0.5",
        scheme="INTERNAL",
        backend_service="regions/us-central1/backendServices/ilb-bs",
    )
    ilb = gcp_dns.ilb("acme-prod", "us-central1", "10.1.0.5")
    gcp_fake.add_rrset("acme-prod", "pub", "api", "A", policy=gcp_dns.policy(wrr=[gcp_dns.wrr_item(1, targets=[ilb])]))
    inv = gcp_adapter.inventory(gcp_account("acme-prod", "acme-dr"))
    assert inv.complete, inv.incomplete
    role_file = Path(__file__).resolve().parents[2] / "docs" / "permissions" / "gcp-custom-role.yaml"
    role = set(yaml.safe_load(role_file.read_text())["includedPermissions"])
    assert role == set(required_permissions())
    sent = gcp_fake.requests
    assert sent
    used = set()
    for req in sent:
        read_only_post = req.path.endswith(("/getHealth", "/listManagedInstances"))
        assert req.method == "GET" or read_only_post, f"not a read: {req.method} {req.path}"
        permission = permission_for(req.method, req.path)
        assert permission in role, f"{req.method} {req.path} needs {permission!r}, not in the custom role"
        used.add(permission)
    assert used == role  # the demo exercises every call, so no permission in the role is superfluous


def test_every_attr_the_adapter_fills_is_declared_for_its_kind(
    gcp_fake: FakeGcp, gcp_account: MakeAccount, gcp_adapter: GcpAdapter
) -> None:
    seed_demo(gcp_fake, "acme-prod", "acme-dr")
    gcp_fake.add_group("acme-dr", "api", region="us-east1", target_size=1)
    gcp_fake.add_backend_service("acme-dr", "run", serverless_negs=["regions/us-east1/networkEndpointGroups/run"])
    gcp_fake.add_forwarding_rule("acme-dr", "int", region="us-east1", ip_address="10.0.0.1")
    inv = gcp_adapter.inventory(gcp_account("acme-prod", "acme-dr"))
    kinds = {r.kind for r in inv.resources}
    assert kinds == {"compute.instance", "compute.group", "region", "lb", "lb.backend"}
    for r in inv.resources:
        undeclared = set(r.attrs) - declared_keys(r.kind)
        assert not undeclared, f"{r.kind} {r.name}: {sorted(undeclared)} not in failover/attrs.py"


def test_anonymous_credentials_need_a_loopback_endpoint() -> None:
    with pytest.raises(ValidationError, match="loopback"):
        Account(
            name="x", provider="gcp", project="acme", endpoint="https://compute.example.com", credentials="anonymous"
        )
    with pytest.raises(ValidationError, match="loopback"):
        Account(name="x", provider="gcp", project="acme", credentials="anonymous")


def test_missing_default_credentials_mark_every_project_incomplete(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    account = Account(name="real", provider="gcp", projects=["a", "b"])
    inv = GcpAdapter().inventory(account)
    assert inv.resources == []
    assert scopes(inv) == {"a": "access_denied", "b": "access_denied"}
    assert "credentials" in inv.incomplete[0].reason


def test_registry_builds_the_gcp_adapter() -> None:
    assert isinstance(get_adapter("gcp"), GcpAdapter)


def test_importing_the_adapter_does_not_import_the_sdk() -> None:
    code = (
        "import sys, providers.gcp, providers.base; providers.base.get_adapter('gcp');"
        "heavy = [m for m in sys.modules if m.startswith(('google.cloud.compute', 'google.api_core', 'grpc'))];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
