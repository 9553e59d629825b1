"""Front Door Standard/Premium and Azure DNS read end to end: the real SDK clients against the ARM fake,
through the adapter, into ``routing`` and ``dns.record`` resources the path helper reads."""

from __future__ import annotations

from failover.checks.frontdoor_path import alias_chain, front_door_path
from failover.model import Kind
from providers.azure.resources import CLASSIC_FRONT_DOOR_NOTE
from tests.fixtures.azure import seed_front_door

SUB = "sub-1"


def _seed(fake_arm, **kw):
    fake_arm.add_resource_group(SUB, "edge")
    fd = seed_front_door(fake_arm, SUB, "edge", "fd", **kw)
    zone = fake_arm.add_dns_zone(SUB, "edge", "example.com")
    fake_arm.add_record_set(zone["id"], "www", "CNAME", target_resource=f"{fd['id']}/afdEndpoints/fd")
    return fd, zone


def test_front_door_route_is_read_with_origins_probe_and_detection(fake_arm, azure_account, azure_adapter):
    _seed(fake_arm, sample_size=4, successful=3, probe={"path": "/healthz", "protocol": "Https", "interval_s": 30})
    inv = azure_adapter.inventory(azure_account(SUB))
    assert inv.complete, inv.incomplete
    (route,) = [r for r in inv.resources if r.kind == Kind.ROUTING]
    a = route.attrs
    assert a["mechanism"] == "front-door" and a["proxied"] is True and a["control_plane"] == "azure"
    assert a["fqdn"] == "www.example.com" and a["hostnames"][1].endswith(".z01.azurefd.net")
    assert a["probe"] == {"path": "/healthz", "protocol": "Https", "request_type": "HEAD", "interval_s": 30}
    assert [(t["name"], t["priority"], t["enabled"], t["threshold"], t["detection_s"]) for t in a["targets"]] == [
        ("east", 1, True, 2, 60.0),  # out after 4 - 3 + 1 = 2 failed probes, 30 s apart
        ("west", 2, True, 2, 60.0),
    ]
    path = front_door_path("www.example.com", {"web-westus2.example.com"}, inv.resources)
    assert path.route == route and [o["name"] for o in path.standby] == ["west"]
    assert path.primary_probed is True and path.detection_s == 60.0
    chain = alias_chain("www.example.com", inv.resources)
    assert chain.terminal == route and chain.terminal_kind == "front-door"


def test_a_disabled_secondary_origin_and_an_unprobed_group_are_read_as_such(fake_arm, azure_account, azure_adapter):
    _seed(fake_arm, secondary_enabled=False, no_probe=True)
    inv = azure_adapter.inventory(azure_account(SUB))
    path = front_door_path("www.example.com", {"web-westus2.example.com"}, inv.resources)
    assert path.standby == [] and path.secondary_origins[0]["enabled"] is False
    assert path.primary_probed is False and path.detection_s is None


def test_unreadable_origins_leave_the_route_unknown_and_the_inventory_incomplete(
    fake_arm, azure_account, azure_adapter
):
    _seed(fake_arm)
    fake_arm.fail(403, collection="afd_origins")
    inv = azure_adapter.inventory(azure_account(SUB))
    assert [(e.scope.rsplit("/", 1)[-1], e.error) for e in inv.incomplete] == [("origins", "access_denied")]
    (route,) = [r for r in inv.resources if r.kind == Kind.ROUTING]
    assert route.attrs["targets"] == []
    path = front_door_path("www.example.com", {"web-westus2.example.com"}, inv.resources)
    assert path.primary is None and path.unknown == ["fd/fd/web: the origins of origin group web could not be read"]


def test_unreadable_endpoints_are_noted_on_the_profile(fake_arm, azure_account, azure_adapter):
    _seed(fake_arm)
    fake_arm.fail(403, collection="afd_endpoints")
    inv = azure_adapter.inventory(azure_account(SUB))
    assert not inv.complete and not [r for r in inv.resources if r.kind == Kind.ROUTING]
    path = front_door_path("www.example.com", {"web-westus2.example.com"}, inv.resources)
    assert path.route is None and len(path.unknown) == 2
    assert path.unknown[0].startswith("fd: Front Door routes unknown: its afdEndpoints could not be read (HTTP 403")
    assert path.unknown[1].endswith("/afdEndpoints/fd, which is not in the inventory (or has no route)")


def test_record_sets_and_zone_name_servers_are_read(fake_arm, azure_account, azure_adapter):
    _, zone = _seed(fake_arm)
    fake_arm.add_record_set(zone["id"], "api", "A", values=["192.0.2.7"], ttl=60)
    inv = azure_adapter.inventory(azure_account(SUB))
    (z,) = [r for r in inv.resources if r.kind == Kind.DNS_ZONE]
    assert z.attrs["nameservers"] == zone["properties"]["nameServers"] and len(z.attrs["nameservers"]) == 4
    records = {(r.name, r.attrs["type"]): r.attrs for r in inv.resources if r.kind == Kind.DNS_RECORD}
    assert (
        records[("api.example.com", "A")]["values"] == ["192.0.2.7"] and records[("api.example.com", "A")]["ttl"] == 60
    )
    assert records[("www.example.com", "CNAME")]["alias_target_resource"].endswith("/afdEndpoints/fd")
    assert records[("example.com", "NS")]["values"] == zone["properties"]["nameServers"]


def test_unreadable_record_sets_make_the_alias_chain_unknown(fake_arm, azure_account, azure_adapter):
    _seed(fake_arm)
    fake_arm.fail(403, collection="dns_record_sets")
    inv = azure_adapter.inventory(azure_account(SUB))
    assert [e.scope.rsplit("/", 1)[-1] for e in inv.incomplete] == ["recordsets"]
    chain = alias_chain("www.example.com", inv.resources)
    assert chain.terminal is None and chain.unknown[0].startswith("zone example.com: its record sets could not be read")


def test_classic_front_door_is_not_read_and_says_so(fake_arm, azure_account, azure_adapter):
    fake_arm.add_resource(SUB, "edge", "Microsoft.Network/frontdoors", "classic", location="global")
    inv = azure_adapter.inventory(azure_account(SUB))
    (fd,) = [r for r in inv.resources if r.name == "classic"]
    assert fd.attrs["notes"] == [CLASSIC_FRONT_DOOR_NOTE]
    assert front_door_path("www.example.com", set(), inv.resources).unknown == [f"classic: {CLASSIC_FRONT_DOOR_NOTE}"]


def test_nested_traffic_manager_endpoints_carry_their_minimum_children(fake_arm, azure_account, azure_adapter):
    child = "/subscriptions/sub-1/resourceGroups/edge/providers/Microsoft.Network/trafficManagerProfiles/child"
    fake_arm.add_traffic_manager(
        SUB,
        "edge",
        "parent",
        endpoints=[
            {"name": "east", "kind": "nested", "target_resource_id": child, "priority": 1, "min_child_endpoints": 2},
            {"name": "west", "target": "web-westus2.example.com", "priority": 2},
        ],
    )
    inv = azure_adapter.inventory(azure_account(SUB))
    (tm,) = [r for r in inv.resources if r.name == "parent"]
    east, west = tm.attrs["endpoints"]
    assert (east["type"], east["target_resource_id"], east["min_child_endpoints"]) == ("nestedEndpoints", child, 2)
    assert "min_child_endpoints" not in west


def test_front_door_and_dns_reads_are_gets_only(fake_arm, azure_account, azure_adapter):
    _seed(fake_arm)
    azure_adapter.inventory(azure_account(SUB))
    used = {q.collection for q in fake_arm.requests}
    assert {
        "afd_endpoints",
        "afd_routes",
        "afd_origin_groups",
        "afd_origins",
        "afd_custom_domains",
        "dns_record_sets",
    } <= used
    assert {q.method for q in fake_arm.requests} == {"GET"}
