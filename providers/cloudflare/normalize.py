"""Cloudflare load balancers → ``routing`` resources (pure).

A load balancer is named by the public hostname it answers for. Its ``default_pools`` are its failover
order: traffic goes to the first healthy pool, then the next; when none is healthy it goes to
``fallback_pool`` whatever that pool's health (Cloudflare fails open). A pool is healthy while at least
``minimum_origins`` of its enabled origins pass its monitor; a pool with no monitor is always
considered healthy, so it never fails over. A monitor marks an origin down after ``consecutive_down``
failed checks ``interval`` seconds apart (``retries`` are immediate re-tries inside one check), so
detection ≈ interval x max(1, consecutive_down).

TTL: a proxied (orange-cloud) load balancer answers with Cloudflare's anycast addresses, which do not
change on failover (the proxy switches origins), so resolvers' caches do not delay it: ``ttl`` is None
and ``proxied`` says why. A DNS-only one answers with origin addresses for its own ``ttl`` seconds.
"""

from __future__ import annotations

from typing import Any

from failover.attrs import RoutingAttrs, RoutingOrigin, RoutingTarget
from failover.model import Kind, Resource

__all__ = ["detection_of", "health_of", "normalize_load_balancer", "pool_ids"]

MECHANISM = "cloudflare-lb"


def pool_ids(lb: dict[str, Any]) -> list[str]:
    """Every pool a load balancer may send to: default order, geo maps, fallback (de-duplicated)."""
    ids: list[str] = list(lb.get("default_pools") or [])
    for key in ("region_pools", "country_pools", "pop_pools"):
        for pools in (lb.get(key) or {}).values():
            ids += list(pools or [])
    if lb.get("fallback_pool"):
        ids.append(lb["fallback_pool"])
    return list(dict.fromkeys(ids))


def detection_of(monitor: dict[str, Any] | None) -> tuple[float | None, int | None, float | None]:
    """(interval_s, threshold, detection_s) of a monitor; all None without one."""
    if not monitor:
        return None, None, None
    interval = monitor.get("interval")
    threshold = max(1, int(monitor.get("consecutive_down") or 0))
    if not isinstance(interval, int | float):
        return None, threshold, None
    return float(interval), threshold, float(interval) * threshold


def health_of(answer: dict[str, Any] | None) -> bool | None:
    """A pool's verdict from ``GET …/pools/{id}/health`` (``pop_health.healthy``); None: not reported."""
    pop = (answer or {}).get("pop_health")
    healthy = pop.get("healthy") if isinstance(pop, dict) else None
    return healthy if isinstance(healthy, bool) else None


def _target(
    pool_id: str,
    priority: int | None,
    pools: dict[str, dict[str, Any]] | None,
    monitors: dict[str, dict[str, Any]] | None,
    health: dict[str, bool | None],
    notes: list[str],
) -> RoutingTarget:
    pool = (pools or {}).get(pool_id)
    if pool is None:
        if pools is not None:
            notes.append(f"pool {pool_id} is not in the account's pool list")
        return RoutingTarget(id=pool_id, name=None, addresses=[], priority=priority, enabled=None, healthy=None)
    monitor_id = pool.get("monitor")
    monitor = (monitors or {}).get(monitor_id) if monitor_id else None
    if monitor_id and monitor is None:
        notes.append(f"pool {pool.get('name')}: its monitor {monitor_id} could not be read")
    interval, threshold, detection = detection_of(monitor)
    if pool.get("monitor_group") and not monitor_id:
        notes.append(f"pool {pool.get('name')}: watched by monitor group {pool['monitor_group']}, not read")
    origins = [
        RoutingOrigin(
            name=o.get("name"),
            address=o.get("address"),
            enabled=o.get("enabled", True),  # the API's default: enabled
            weight=o.get("weight"),
            healthy=None,
        )
        for o in pool.get("origins") or []
    ]
    enabled = pool.get("enabled")
    return RoutingTarget(
        id=pool_id,
        name=pool.get("name"),
        addresses=[a for o in origins if (a := o.get("address"))],
        priority=priority,
        weight=None,
        enabled=enabled if isinstance(enabled, bool) else None,
        healthy=health.get(pool_id),
        # a pool with no monitor is always "healthy" to Cloudflare: nothing takes it out
        health_checked=bool(monitor_id or pool.get("monitor_group")),
        interval_s=interval,
        threshold=threshold,
        detection_s=detection,
        region=None,
        origins=origins,
        minimum_origins=pool.get("minimum_origins"),
        monitor=_monitor_view(monitor) if monitor else None,
    )


def _monitor_view(monitor: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "type", "path", "expected_codes", "interval", "timeout", "retries", "consecutive_down")
    return {k: monitor.get(k) for k in (*keys, "consecutive_up", "method", "port") if k in monitor}


def normalize_load_balancer(
    lb: dict[str, Any],
    *,
    account: str,
    zone: dict[str, Any],
    cloudflare_account: str | None,
    pools: dict[str, dict[str, Any]] | None,
    monitors: dict[str, dict[str, Any]] | None,
    health: dict[str, bool | None],
) -> Resource:
    """One load balancer as a ``routing`` resource. ``pools``/``monitors`` by id (None: the account's
    list could not be read, so its pools are unknown, not absent); ``health`` by pool id."""
    notes: list[str] = []
    if pools is None:
        notes.append(f"the pools of Cloudflare account {cloudflare_account} could not be read")
    elif monitors is None:
        notes.append(f"the monitors of Cloudflare account {cloudflare_account} could not be read")
    targets = [_target(pid, i, pools, monitors, health, notes) for i, pid in enumerate(lb.get("default_pools") or [])]
    names = {t["id"]: t.get("name") or t["id"] for t in targets}

    def name_of(pid: str) -> str:
        if pid not in names:
            pool = (pools or {}).get(pid)
            names[pid] = str(pool.get("name") or pid) if pool else pid
        return names[pid] or pid

    geo: dict[str, list[str]] = {}
    for key, prefix in (("region_pools", "region"), ("country_pools", "country"), ("pop_pools", "pop")):
        for where, ids in (lb.get(key) or {}).items():
            geo[f"{prefix}:{where}"] = [name_of(p) for p in ids or []]
    fallback_id = lb.get("fallback_pool")
    fallback = name_of(fallback_id) if fallback_id else None
    # the fallback and geo-only pools are targets too (after the default order), so checks see their origins
    extra = [p for p in pool_ids(lb) if p not in {t["id"] for t in targets}]
    targets += [_target(pid, None, pools, monitors, health, notes) for pid in extra]
    proxied = lb.get("proxied")
    ttl = lb.get("ttl")
    enabled = lb.get("enabled")
    attrs = RoutingAttrs(
        mechanism=MECHANISM,
        fqdn=str(lb.get("name") or "").lower().rstrip(".") or None,
        enabled=enabled if isinstance(enabled, bool) else None,
        proxied=proxied if isinstance(proxied, bool) else None,
        ttl=None if proxied is True else (int(ttl) if isinstance(ttl, int | float) else None),
        policy=lb.get("steering_policy") or ("geo" if geo else "off"),
        control_plane="cloudflare",
        targets=targets,
        fallback=fallback,
        dns_zone=zone.get("name") or lb.get("zone_name"),
        zone_id=zone.get("id"),
        cloudflare_account=cloudflare_account,
        geo_targets=geo or None,
        session_affinity=lb.get("session_affinity"),
    )
    if notes:
        attrs["notes"] = list(dict.fromkeys(notes))
    state = "enabled" if enabled is True else "disabled" if enabled is False else ""
    return Resource(
        provider="cloudflare",
        account=account,
        region="global",
        kind=Kind.ROUTING,
        native_type="cloudflare.load_balancer",
        native_id=str(lb.get("id") or lb.get("name")),
        name=str(lb.get("name") or lb.get("id")),
        state=state,
        attrs=dict(attrs),
    )
