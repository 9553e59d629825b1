"""What a Cloudflare load balancer does with a workload's public name when the primary fails (pure).

``cloudflare_path`` finds the load balancer for the name among the ``routing`` resources of the
Cloudflare accounts and returns facts, not findings: the mechanism registry turns them into the
``dns.*`` findings and the RTO's detection and DNS parts. Cloudflare's documented behaviour is
modelled:

- ``steering_policy`` ``off`` (or empty without geo maps): all traffic goes to the first healthy pool of
  ``default_pools``, then the next; ``geo`` adds per-region/country/PoP orders; ``random``,
  ``dynamic_latency``, ``proximity``, ``least_outstanding_requests`` and ``least_connections`` spread
  traffic over every healthy pool, so each of them takes traffic in normal operation.
- A pool is unhealthy when fewer than ``minimum_origins`` of its enabled origins pass its monitor; a
  pool with no monitor is never unhealthy, so traffic never leaves it (no failover), and a disabled
  pool or origin takes no traffic at all.
- Detection ≈ monitor ``interval`` x ``consecutive_down`` (at least one check); ``retries`` are
  immediate re-tries inside one check, so they add no interval.
- When every pool is unhealthy Cloudflare sends traffic to ``fallback_pool`` whatever its health:
  it fails open.
- Proxied: resolvers hold Cloudflare's anycast addresses, which failover does not change (the proxy
  switches origins), so the TTL that delays failover is 0. DNS-only: the load balancer's own ``ttl``.
- A disabled load balancer answers nothing itself: the zone's ordinary DNS record for the name, if
  any, is served instead.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal

from failover.attrs import RoutingTarget, attrs_of
from failover.checks.governance import Mode
from failover.equivalence import is_ip, normalize_name
from failover.model import Kind, Resource
from failover.schema import format_duration

__all__ = ["MECHANISM", "CloudflarePath", "PoolFacts", "cloudflare_path"]

MECHANISM = "cloudflare-lb"
SPREAD = frozenset({"random", "dynamic_latency", "proximity", "least_outstanding_requests", "least_connections"})
Serves = Literal["primary", "secondary", "both", "neither", "unknown"]


@dataclass(frozen=True, slots=True)
class PoolFacts:
    """One pool of the load balancer, as failover sees it."""

    id: str | None
    name: str | None
    priority: int | None  # position in default_pools (0 first); None: only a fallback or geo pool
    enabled: bool | None
    healthy: bool | None  # Cloudflare's verdict now (pool health endpoint); None: not reported
    health_checked: bool | None  # a monitor can take it out of rotation
    detection_s: float | None
    addresses: tuple[str, ...]  # its enabled origins' addresses (normalized)
    disabled_addresses: tuple[str, ...]
    minimum_origins: int | None
    can_serve: bool | None  # enabled, with at least minimum_origins enabled origins; None: unknown
    serves: Serves  # which site its enabled origins point at (literally: addresses and names)
    unmatched_names: tuple[str, ...]  # origin host names matching no site literally (resolve to know)
    expected_codes: str | None  # the monitor's expected HTTP codes


@dataclass(frozen=True, slots=True)
class CloudflarePath:
    """The facts about the name's Cloudflare failover path. ``load_balancer`` None: not found (``reason``)."""

    name: str
    load_balancer: Resource | None
    reason: str  # one line: what was found, or why nothing was
    candidates: tuple[str, ...] = ()  # several load balancers claim the name (their native ids)
    enabled: bool | None = None
    policy: str | None = None
    proxied: bool | None = None
    dns_ttl_s: float | None = None  # what resolvers' caches add to failover: 0 proxied, ttl DNS-only
    pools: tuple[PoolFacts, ...] = ()  # default_pools order, then fallback/geo-only pools
    active: tuple[PoolFacts, ...] = ()  # pools taking traffic in normal operation
    primary_pool: PoolFacts | None = None
    secondary_pool: PoolFacts | None = None  # a pool Cloudflare would fail over to that serves the secondary
    fallback: PoolFacts | None = None
    health_governed: bool | None = None  # every active pool serving the primary has a monitor
    detection_s: float | None = None  # slowest such pool's detection
    fails_open: str = ""  # what happens when every pool is unhealthy
    mode: Mode = Mode.UNKNOWN  # automatic | never | forced (secondary serves now) | unknown
    warnings: tuple[str, ...] = ()


def _pool(t: RoutingTarget, primary: set[str], secondary: set[str]) -> PoolFacts:
    origins = t.get("origins")
    known = origins is not None and t.get("name") is not None
    on = [normalize_name(o.get("address") or "") for o in origins or [] if o.get("enabled") is not False]
    off = [normalize_name(o.get("address") or "") for o in origins or [] if o.get("enabled") is False]
    on, off = [x for x in on if x], [x for x in off if x]
    at_primary, at_secondary = bool(set(on) & primary), bool(set(on) & secondary)
    unmatched = tuple(a for a in on if a not in primary | secondary and not is_ip(a))
    serves: Serves
    if not known:
        serves = "unknown"
    else:
        serves = {(True, True): "both", (True, False): "primary", (False, True): "secondary"}.get(
            (at_primary, at_secondary), "unknown" if unmatched else "neither"
        )  # type: ignore[assignment]
    minimum = t.get("minimum_origins")
    enabled = t.get("enabled")
    can_serve = None if not known or enabled is None else bool(enabled) and len(on) >= max(1, minimum or 1)
    monitor = t.get("monitor") or {}
    return PoolFacts(
        id=t.get("id"),
        name=t.get("name"),
        priority=t.get("priority"),
        enabled=enabled,
        healthy=t.get("healthy"),
        health_checked=t.get("health_checked") if known else None,
        detection_s=t.get("detection_s"),
        addresses=tuple(on),
        disabled_addresses=tuple(off),
        minimum_origins=minimum,
        can_serve=can_serve,
        serves=serves,
        unmatched_names=unmatched,
        expected_codes=monitor.get("expected_codes"),
    )


def _label(p: PoolFacts) -> str:
    return p.name or p.id or "?"


def _find(name: str, routings: Iterable[Resource]) -> tuple[Resource | None, tuple[str, ...]]:
    wanted = normalize_name(name)
    found = {
        r.native_id: r
        for r in routings
        if r.kind == Kind.ROUTING
        and attrs_of(r, Kind.ROUTING)["mechanism"] == MECHANISM
        and normalize_name(attrs_of(r, Kind.ROUTING)["fqdn"] or r.name) == wanted
    }
    if len(found) == 1:
        return next(iter(found.values())), ()
    return None, tuple(sorted(found))


def cloudflare_path(
    name: str,
    routings: Iterable[Resource],
    *,
    primary: Collection[str],
    secondary: Collection[str],
) -> CloudflarePath:
    """The Cloudflare load balancer serving ``name`` and how it fails over from the primary's addresses
    to the secondary's (``primary``/``secondary``: each site's IPs and host names, as
    ``dns.site_addresses`` collects them). ``routings``: the Cloudflare accounts' ``routing`` resources."""
    lb, candidates = _find(name, routings)
    if lb is None:
        if candidates:
            why = f"{len(candidates)} Cloudflare load balancers are named {name}: {', '.join(candidates)}"
            return CloudflarePath(name, None, why, candidates=candidates)
        return CloudflarePath(name, None, f"no Cloudflare load balancer is named {name}")
    a = attrs_of(lb, Kind.ROUTING)
    prim = {normalize_name(x) for x in primary}
    sec = {normalize_name(x) for x in secondary}
    pools = tuple(_pool(t, prim, sec) for t in a["targets"] or [])
    ordered = [p for p in pools if p.priority is not None]
    by_name = {p.name: p for p in pools if p.name}
    policy = a["policy"] or "off"
    geo = a["geo_targets"] or {}
    proxied = a["proxied"]
    ttl = 0.0 if proxied is True else (float(a["ttl"]) if a["ttl"] is not None else None)
    fallback = by_name.get(a["fallback"]) if a["fallback"] else None
    warnings: list[str] = list(a["notes"] or [])

    def first_serving(candidates: Iterable[PoolFacts]) -> PoolFacts | None:
        return next((p for p in candidates if p.can_serve is not False and p.enabled is not False), None)

    if policy in SPREAD:
        active = [p for p in ordered if p.can_serve is not False and p.enabled is not False]
    else:
        heads = [first_serving(ordered)] + [
            first_serving(by_name[n] for n in names if n in by_name) for names in geo.values()
        ]
        active = list(dict.fromkeys(p for p in heads if p is not None))
    at_primary = [p for p in active if p.serves in ("primary", "both")]
    primary_pool = at_primary[0] if at_primary else (active[0] if active else None)
    governing = at_primary or active

    # A pool Cloudflare would send the secondary's users to once the primary's pools are out.
    if policy in SPREAD:
        later = [p for p in ordered if p not in at_primary]
    else:
        start = ordered.index(primary_pool) + 1 if primary_pool in ordered else 0
        later = ordered[start:] + [by_name[n] for names in geo.values() for n in names if n in by_name]
    secondary_pool = next((p for p in later if p.serves in ("secondary", "both") and p.can_serve), None)

    fails_open = "no fallback pool is named"
    if fallback is not None:
        fails_open = (
            f"when every pool is unhealthy Cloudflare sends all traffic to the fallback pool {_label(fallback)}, "
            f"whatever its health ({'' if fallback.serves in ('secondary', 'both') else 'not '}the secondary)"
        )
    unknown_pools = [p for p in pools if p.serves == "unknown" and p.name is None]
    health_governed = (
        None
        if not governing or any(p.health_checked is None for p in governing)
        else all(p.health_checked for p in governing)
    )
    detections = [p.detection_s for p in governing if p.health_checked]
    detection = max(detections) if detections and None not in detections else None  # type: ignore[type-var]

    if secondary_pool is not None and secondary_pool.healthy is False:
        warnings.append(f"pool {_label(secondary_pool)} (the secondary) is unhealthy now")
    if secondary_pool is not None and not secondary_pool.health_checked:
        warnings.append(f"pool {_label(secondary_pool)} has no monitor: traffic would go to it even while it is down")
    for p in pools:
        if p.enabled and p.can_serve is False and p.minimum_origins:
            warnings.append(
                f"pool {_label(p)} needs {p.minimum_origins} healthy origins but has {len(p.addresses)} enabled"
            )

    mode, reason = Mode.AUTOMATIC, ""
    label = f"Cloudflare load balancer {lb.name}"
    forced = not at_primary and primary_pool is not None and primary_pool.serves == "secondary"
    if forced:  # no pool at the primary can take traffic: the secondary's pool serves everyone now
        secondary_pool = primary_pool
    if a["enabled"] is False:
        mode, reason = Mode.NEVER, f"{label} is disabled: the zone's own DNS record for the name, if any, is served"
    elif unknown_pools and (not active or primary_pool in unknown_pools or secondary_pool is None):
        mode, reason = Mode.UNKNOWN, f"{label}: pools {', '.join(p.id or '?' for p in unknown_pools)} could not be read"
    elif not active:
        mode, reason = Mode.NEVER, f"{label} has no enabled pool with enough enabled origins"
    elif forced:
        mode = Mode.FORCED
        reason = (
            f"{label}: no pool at the primary can take traffic, so {_label(primary_pool)} (the secondary) serves now"  # type: ignore[arg-type]
        )
    elif health_governed is False:
        bare = ", ".join(_label(p) for p in governing if not p.health_checked)
        mode, reason = Mode.NEVER, f"{label}: pool {bare} has no monitor, so Cloudflare never takes it out of rotation"
    elif secondary_pool is None:
        pending = [n for p in later for n in p.unmatched_names]
        if pending:
            mode = Mode.UNKNOWN
            reason = f"{label}: no pool points at the secondary literally; origins {', '.join(pending)} not resolved"
        else:
            mode, reason = (
                Mode.NEVER,
                f"{label}: no enabled pool after {_label(primary_pool) if primary_pool else '?'} "
                "has enabled origins at the secondary",
            )
    else:
        reason = (
            f"{label} ({policy}, {'proxied' if proxied else f'DNS-only, TTL {format_duration(ttl)}'}): "
            f"{_label(primary_pool) if primary_pool else '?'} fails over to {_label(secondary_pool)} "
            f"after {format_duration(detection)}"
        )
    return CloudflarePath(
        name=name,
        load_balancer=lb,
        reason=reason,
        enabled=a["enabled"],
        policy=policy,
        proxied=proxied,
        dns_ttl_s=ttl,
        pools=pools,
        active=tuple(active),
        primary_pool=primary_pool,
        secondary_pool=secondary_pool,
        fallback=fallback,
        health_governed=health_governed,
        detection_s=detection,
        fails_open=fails_open,
        mode=mode,
        warnings=tuple(dict.fromkeys(warnings)),
    )
