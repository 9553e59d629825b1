"""The Front Door / Azure DNS path facts, on factory data: which route serves the name, its origins in
priority order, whether an enabled lower-priority origin reaches the secondary, how fast the primary is
taken out; and the alias chain from the public name to a Traffic Manager profile or Front Door endpoint."""

from __future__ import annotations

from typing import Any

from failover.checks.frontdoor_path import alias_chain, front_door_path
from failover.model import Kind, Resource
from tests.factories import res

PROFILE = "/subscriptions/s/resourceGroups/edge/providers/Microsoft.Cdn/profiles/fd"
ENDPOINT = f"{PROFILE}/afdEndpoints/web"
SECONDARY = {"web-westus2.example.com", "20.1.2.3"}


def origin(name: str, host: str, priority: int, *, enabled: bool = True, probed: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "addresses": [host],
        "priority": priority,
        "weight": 1000,
        "enabled": enabled,
        "healthy": None,
        "health_checked": probed,
        "interval_s": 30.0 if probed else None,
        "threshold": 2 if probed else None,
        "detection_s": 60.0 if probed else None,
        "region": None,
    }


def route(name: str = "fd/web/web", *, targets: list[dict[str, Any]] | None = None, **attrs: Any) -> Resource:
    base: dict[str, Any] = {
        "mechanism": "front-door",
        "fqdn": "www.example.com",
        "hostnames": ["www.example.com", "web-abc.z01.azurefd.net"],
        "enabled": True,
        "proxied": True,
        "control_plane": "azure",
        "profile": PROFILE,
        "endpoint_id": ENDPOINT,
        "endpoint_hostname": "web-abc.z01.azurefd.net",
        "origin_group": f"{PROFILE}/originGroups/web",
        "patterns": ["/*"],
        "targets": targets
        if targets is not None
        else [origin("east", "web-eastus.example.com", 1), origin("west", "web-westus2.example.com", 2)],
        "notes": [],
    }
    return res(
        "azure", "azure-prod", "Global", Kind.ROUTING, f"{ENDPOINT}/routes/{name}", name=name, attrs=base | attrs
    )


def record(name: str, rtype: str, *, values: list[str] | None = None, alias: str | None = None) -> Resource:
    attrs = {"type": rtype, "values": values or [], "alias_target_resource": alias, "zone": "example.com"}
    return res(
        "azure", "azure-prod", "global", Kind.DNS_RECORD, f"/zones/example.com/{rtype}/{name}", name=name, attrs=attrs
    )


def tm_profile(
    native_id: str = "/subscriptions/s/resourceGroups/dns/providers/Microsoft.Network/trafficManagerProfiles/tm",
) -> Resource:
    attrs = {"routing_method": "Priority", "fqdn": "tm.trafficmanager.net", "endpoints": []}
    return res("azure", "azure-prod", "global", Kind.DNS_HEALTH_CHECK, native_id, name="tm", attrs=attrs)


def test_an_enabled_lower_priority_origin_on_the_secondary_is_the_standby():
    path = front_door_path("WWW.example.com.", SECONDARY, [route()])
    assert path.route is not None and path.route.name == "fd/web/web"
    assert [o["name"] for o in path.origins] == ["east", "west"]
    assert path.primary is not None and path.primary["name"] == "east"
    assert [o["name"] for o in path.standby] == ["west"]
    assert path.primary_probed is True and path.detection_s == 60.0
    assert path.unknown == [] and path.notes == []


def test_a_disabled_secondary_origin_is_no_standby():
    targets = [origin("east", "web-eastus.example.com", 1), origin("west", "web-westus2.example.com", 2, enabled=False)]
    path = front_door_path("www.example.com", SECONDARY, [route(targets=targets)])
    assert path.standby == []
    assert [o["name"] for o in path.secondary_origins] == ["west"]


def test_a_secondary_at_the_same_priority_shares_traffic_and_is_not_a_standby():
    targets = [origin("east", "web-eastus.example.com", 1), origin("west", "web-westus2.example.com", 1)]
    path = front_door_path("www.example.com", SECONDARY, [route(targets=targets)])
    assert path.primary is not None and path.primary["name"] == "east"
    assert path.standby == [] and len(path.secondary_origins) == 1


def test_an_unprobed_primary_has_no_detection():
    targets = [origin("east", "web-eastus.example.com", 1, probed=False), origin("west", "20.1.2.3", 2, probed=False)]
    path = front_door_path("www.example.com", SECONDARY, [route(targets=targets)])
    assert path.primary_probed is False and path.detection_s is None
    assert [o["name"] for o in path.standby] == ["west"]  # matched by IP address too


def test_the_enabled_catch_all_route_wins_over_a_disabled_one():
    off = route("fd/web/old", enabled=False)
    api = route("fd/web/api", patterns=["/api/*"])
    main = route("fd/web/main")
    path = front_door_path("www.example.com", SECONDARY, [off, api, main])
    assert path.route is main and {r.name for r in path.routes} == {"fd/web/old", "fd/web/api", "fd/web/main"}


def test_a_disabled_route_is_said():
    path = front_door_path("www.example.com", SECONDARY, [route(enabled=False)])
    assert path.notes == ["route fd/web/web (or its endpoint) is disabled"]


def test_no_route_for_the_name_is_unknown_when_a_profile_or_classic_front_door_was_not_read():
    profile = res(
        "azure",
        "azure-prod",
        "Global",
        Kind.LB,
        PROFILE,
        name="fd",
        native_type="Microsoft.Cdn/profiles",
        attrs={"notes": ["Front Door routes unknown: its afdEndpoints could not be read (HTTP 403)"]},
    )
    classic = res(
        "azure",
        "azure-prod",
        "global",
        Kind.LB,
        "/x/frontdoors/old",
        name="old",
        native_type="Microsoft.Network/frontDoors",
        attrs={"notes": ["classic Front Door is not read"]},
    )
    path = front_door_path("shop.example.com", SECONDARY, [route(), profile, classic])
    assert path.route is None
    assert path.unknown == [
        "fd: Front Door routes unknown: its afdEndpoints could not be read (HTTP 403)",
        "old: classic Front Door is not read",
    ]


def test_a_route_whose_origins_were_not_read_says_so():
    r = route(targets=[], notes=["the origins of origin group web could not be read"])
    path = front_door_path("www.example.com", SECONDARY, [r])
    assert path.primary is None and path.primary_probed is None
    assert path.unknown == ["fd/web/web: the origins of origin group web could not be read"]


def test_a_name_aliased_to_an_endpoint_without_a_route_for_it_is_said():
    alias = record("shop.example.com", "CNAME", alias=ENDPOINT)
    path = front_door_path("shop.example.com", SECONDARY, [route(), alias])
    assert path.route is None
    assert path.notes == [
        "shop.example.com resolves to Front Door endpoint web-abc.z01.azurefd.net, but no route of it lists "
        "shop.example.com as a domain"
    ]


def test_alias_chain_to_a_traffic_manager_profile_is_read():
    tm = tm_profile()
    chain = alias_chain("example.com", [record("example.com", "A", alias=tm.native_id.upper()), tm])
    assert chain.terminal is tm and chain.terminal_kind == "traffic-manager"
    assert [(h.record, h.type) for h in chain.hops] == [("example.com", "A")]


def test_alias_chain_through_a_cname_to_a_front_door_endpoint():
    recs = [
        record("www.example.com", "CNAME", values=["edge.example.com."]),
        record("edge.example.com", "CNAME", alias=ENDPOINT),
    ]
    chain = alias_chain("www.example.com", [*recs, route()])
    assert chain.terminal_kind == "front-door" and chain.terminal is not None
    assert [h.target for h in chain.hops] == ["edge.example.com", ENDPOINT]


def test_a_cname_to_the_profile_fqdn_reaches_it_without_an_alias():
    chain = alias_chain(
        "www.example.com", [record("www.example.com", "CNAME", values=["tm.trafficmanager.net"]), tm_profile()]
    )
    assert chain.terminal_kind == "traffic-manager"


def test_an_alias_to_a_resource_not_inventoried_is_unknown_never_guessed():
    chain = alias_chain("www.example.com", [record("www.example.com", "A", alias="/x/trafficManagerProfiles/gone")])
    assert chain.terminal is None
    assert chain.unknown == [
        "www.example.com is an alias of /x/trafficManagerProfiles/gone, which is not in the inventory (or has no route)"
    ]


def test_a_zone_whose_records_were_not_read_makes_the_chain_unknown():
    zone = res(
        "azure",
        "azure-prod",
        "global",
        Kind.DNS_ZONE,
        "/zones/example.com",
        name="example.com",
        attrs={"notes": ["its record sets could not be read (HTTP 403)"]},
    )
    chain = alias_chain("www.example.com", [zone])
    assert chain.hops == [] and chain.unknown == ["zone example.com: its record sets could not be read (HTTP 403)"]


def test_a_cname_loop_ends_the_chain_with_a_reason():
    recs = [
        record("a.example.com", "CNAME", values=["b.example.com"]),
        record("b.example.com", "CNAME", values=["a.example.com"]),
    ]
    chain = alias_chain("a.example.com", recs)
    assert chain.terminal is None and len(chain.hops) == 2
    assert chain.unknown == ["the chain from a.example.com loops or exceeds 10 hops"]
