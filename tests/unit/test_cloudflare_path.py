"""cloudflare_path on factory data: routing resources built by the real normalizer from API-shaped
load balancers, pools and monitors, judged against the sites' addresses."""

from __future__ import annotations

import dataclasses
from typing import Any

from failover.checks.cloudflare_path import cloudflare_path
from failover.checks.governance import Mode
from failover.model import Resource
from providers.cloudflare.normalize import normalize_load_balancer

PRIMARY = {"203.0.113.10", "alb-east.example.net"}
SECONDARY = {"198.51.100.20"}
MONITOR = {"id": "m1", "type": "https", "interval": 15, "retries": 2, "consecutive_down": 3, "expected_codes": "2xx"}


def pool(pid: str, *addresses: str, monitor: str | None = "m1", enabled: bool = True, **kw: Any) -> dict[str, Any]:
    origins = [{"name": a, "address": a, "enabled": True, "weight": 1} for a in addresses]
    return {
        "id": pid,
        "name": pid,
        "enabled": enabled,
        "minimum_origins": 1,
        "monitor": monitor,
        "origins": origins,
    } | kw


def lb(
    pools: list[dict[str, Any]] | None = None,
    *,
    default: tuple[str, ...] = ("east", "west"),
    health: dict[str, bool | None] | None = None,
    monitors: dict[str, dict[str, Any]] | None = None,
    **fields: Any,
) -> Resource:
    pools = pools if pools is not None else [pool("east", "203.0.113.10"), pool("west", "198.51.100.20")]
    body = {
        "id": "lb1",
        "name": "Shop.Example.com",
        "enabled": True,
        "proxied": True,
        "ttl": 30,
        "steering_policy": "off",
        "default_pools": list(default),
        "fallback_pool": default[-1],
    } | fields
    return normalize_load_balancer(
        body,
        account="cf",
        zone={"id": "z1", "name": "example.com"},
        cloudflare_account="a1",
        pools={p["id"]: p for p in pools},
        monitors=monitors if monitors is not None else {"m1": MONITOR},
        health=health or {},
    )


def judge(*resources: Resource, name: str = "shop.example.com.") -> Any:
    return cloudflare_path(name, resources, primary=PRIMARY, secondary=SECONDARY)


def test_health_checked_primary_failing_over_to_the_secondary_pool_is_automatic() -> None:
    path = judge(lb())
    assert path.mode == Mode.AUTOMATIC, path.reason
    assert (path.primary_pool.name, path.secondary_pool.name) == ("east", "west")  # type: ignore[union-attr]
    assert [p.name for p in path.pools] == ["east", "west"]
    assert path.health_governed is True
    assert path.detection_s == 45.0  # interval 15 x consecutive_down 3; retries add nothing
    assert path.dns_ttl_s == 0.0  # proxied: the anycast addresses never change
    assert "fallback pool west" in path.fails_open and "(the secondary)" in path.fails_open


def test_dns_only_load_balancer_holds_its_own_ttl() -> None:
    assert judge(lb(proxied=False, ttl=120)).dns_ttl_s == 120.0


def test_primary_pool_without_a_monitor_never_fails_over() -> None:
    pools = [pool("east", "203.0.113.10", monitor=None), pool("west", "198.51.100.20")]
    path = judge(lb(pools))
    assert path.mode == Mode.NEVER
    assert path.health_governed is False
    assert "east has no monitor" in path.reason


def test_disabled_secondary_origin_leaves_no_path_to_the_secondary() -> None:
    west = pool("west", "198.51.100.20")
    west["origins"][0]["enabled"] = False
    path = judge(lb([pool("east", "203.0.113.10"), west]))
    assert path.mode == Mode.NEVER and path.secondary_pool is None
    assert path.pools[1].disabled_addresses == ("198.51.100.20",)


def test_disabled_secondary_pool_is_not_a_failover_target() -> None:
    path = judge(lb([pool("east", "203.0.113.10"), pool("west", "198.51.100.20", enabled=False)]))
    assert path.mode == Mode.NEVER and path.secondary_pool is None


def test_disabled_load_balancer_is_never() -> None:
    path = judge(lb(enabled=False))
    assert path.mode == Mode.NEVER and path.enabled is False and "disabled" in path.reason


def test_missing_and_ambiguous_load_balancers_are_not_guessed() -> None:
    assert judge(lb(), name="other.example.com").load_balancer is None
    twin = dataclasses.replace(lb(), native_id="lb2")
    path = judge(lb(), twin)
    assert path.load_balancer is None and path.candidates == ("lb1", "lb2")


def test_unreadable_pools_make_the_path_unknown() -> None:
    body = {"id": "lb1", "name": "shop.example.com", "enabled": True, "default_pools": ["east", "west"]}
    r = normalize_load_balancer(
        body, account="cf", zone={}, cloudflare_account="a1", pools=None, monitors=None, health={}
    )
    path = judge(r)
    assert path.mode == Mode.UNKNOWN
    assert "could not be read" in path.reason


def test_origin_host_name_matching_no_site_is_left_to_resolution() -> None:
    path = judge(lb([pool("east", "alb-east.example.net"), pool("west", "dr.example.org")]))
    assert path.mode == Mode.UNKNOWN
    assert path.pools[1].unmatched_names == ("dr.example.org",)


def test_spread_steering_needs_every_pool_serving_the_primary_health_checked() -> None:
    pools = [
        pool("east", "203.0.113.10"),
        pool("east2", "alb-east.example.net", monitor=None),
        pool("west", "198.51.100.20"),
    ]
    path = judge(lb(pools, default=("east", "east2", "west"), steering_policy="random"))
    assert [p.name for p in path.active] == ["east", "east2", "west"]
    assert path.mode == Mode.NEVER and "east2 has no monitor" in path.reason


def test_minimum_origins_above_the_enabled_origins_disqualify_the_pool() -> None:
    west = pool("west", "198.51.100.20", minimum_origins=2)
    path = judge(lb([pool("east", "203.0.113.10"), west]))
    assert path.secondary_pool is None
    assert any("needs 2 healthy origins but has 1 enabled" in w for w in path.warnings)


def test_unhealthy_secondary_pool_is_reported() -> None:
    path = judge(lb(health={"east": True, "west": False}))
    assert path.mode == Mode.AUTOMATIC
    assert path.secondary_pool.healthy is False  # type: ignore[union-attr]
    assert "pool west (the secondary) is unhealthy now" in path.warnings


def test_geo_pools_take_traffic_and_fail_over_in_their_own_order() -> None:
    pools = [pool("east", "203.0.113.10"), pool("west", "198.51.100.20"), pool("eu", "192.0.2.5")]
    path = judge(
        lb(pools, default=("east",), fallback_pool="west", steering_policy="geo", region_pools={"WEU": ["eu", "west"]})
    )
    assert [p.name for p in path.active] == ["east", "eu"]
    assert path.secondary_pool is not None and path.secondary_pool.name == "west"
    assert path.fallback is not None and path.fallback.name == "west"


def test_primary_pool_disabled_means_the_secondary_serves_already() -> None:
    path = judge(lb([pool("east", "203.0.113.10", enabled=False), pool("west", "198.51.100.20")]))
    assert path.mode == Mode.FORCED, path.reason
    assert path.secondary_pool is not None and path.secondary_pool.name == "west"
