"""``cloudflare-lb``: a Cloudflare load balancer for the public name, failing over from the primary's pool
to a pool at the secondary when its monitor takes the primary's pool out (``cloudflare_path`` holds
the facts; this module judges them).

Cloudflare is none of the three clouds: its control plane (the v4 API) and data plane (its anycast
edge and DNS) survive an outage of the primary's provider, so a failover through it never waits for
the primary's provider, and only a Cloudflare outage takes the name down (single-provider risk for
``cloudflare``). Proxied, resolvers hold Cloudflare's own addresses, which do not change when the
proxy moves traffic to another pool: the TTL does not delay failover. DNS-only, resolvers hold the
origin addresses for the load balancer's TTL.
"""

from __future__ import annotations

from typing import Any

from failover.checks.cloudflare_path import CloudflarePath, PoolFacts, cloudflare_path
from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.governance import Governor, Mode
from failover.checks.mechanisms.base import (
    Answer,
    Mechanism,
    Plane,
    Problem,
    RoutingPath,
    dns_scope,
    points_at,
    site_addresses,
    with_resolved_secondary,
)
from failover.checks.mechanisms.registry import register
from failover.model import FindingStatus, Kind, Resource
from failover.schema import format_duration

FAIL, UNKNOWN, WARN = FindingStatus.FAIL, FindingStatus.UNKNOWN, FindingStatus.WARN
PLANE = Plane("cloudflare", "global", {"api": "Cloudflare API v4"})
EDGE = Plane("cloudflare", "global", {"network": "Cloudflare anycast edge"})


def _pool_label(p: PoolFacts | None) -> str:
    return (p.name or p.id or "?") if p is not None else "?"


def _routings(ev: Evidence) -> tuple[list[Resource], list[str], list[str]]:
    """The Cloudflare accounts' routing resources, the inventory gaps that could hide one, the accounts searched."""
    scope = dns_scope(ev, Kind.ROUTING)
    return scope.resources, scope.gaps, scope.accounts


def _facts(ev: Evidence) -> tuple[CloudflarePath, set[str]]:
    """The path facts, with origin host names that resolved (``secondary-target`` observations) to the
    secondary counted as the secondary's; and the secondary's names and addresses."""
    assert ev.workload.dns is not None
    name = ev.workload.dns.name
    routings, _, _ = _routings(ev)
    primary = site_addresses(ev, ev.workload.primary.name)
    return with_resolved_secondary(
        ev,
        lambda wanted: cloudflare_path(name, routings, primary=primary, secondary=wanted),
        lambda facts: (n for p in facts.pools for n in p.unmatched_names),
    )


def _governor(facts: CloudflarePath, lb: Resource) -> Governor:
    pool = facts.primary_pool
    health = {True: "healthy", False: "unhealthy"}.get(pool.healthy if pool else None, "unknown")  # type: ignore[arg-type]
    base: dict[str, Any] = {"subject": lb.native_id, "name": lb.name, "kind": "cloudflare-monitor"}
    evidence = {"pool": _pool_label(pool), "expected_codes": pool.expected_codes if pool else None}
    if facts.mode == Mode.AUTOMATIC and facts.detection_s is None:
        why = f"Cloudflare load balancer {lb.name}: the monitor of pool {_pool_label(pool)} has no known interval"
        return Governor(**base, mode=Mode.UNKNOWN, reason=why, health=health, evidence=evidence)
    if facts.mode == Mode.FORCED:
        health = "unhealthy"
    return Governor(
        **base,
        mode=facts.mode,
        reason=facts.reason,
        detection_s=facts.detection_s if facts.mode == Mode.AUTOMATIC else None,
        health=health,
        evidence=evidence,
    )


def _ttl_note(facts: CloudflarePath) -> str:
    if facts.proxied:
        return (
            "proxied: resolvers hold Cloudflare's anycast addresses, which failover does not change (the proxy "
            "switches pools), so no TTL delays failover"
        )
    if facts.dns_ttl_s is None:
        return "DNS-only: the load balancer's TTL is unknown"
    ttl = format_duration(facts.dns_ttl_s)
    return f"DNS-only: resolvers hold the pool's origin addresses for the load balancer's TTL, {ttl}"


@register
class CloudflareLoadBalancer(Mechanism):
    id = "cloudflare-lb"
    title = "Cloudflare load balancer (pools, monitors, fallback pool)"
    provider = "cloudflare"
    permissions = (
        "Zone: Zone Read (GET /zones/{zone_id})",
        "Zone: Load Balancers Read (GET /zones/{zone_id}/load_balancers)",
        "Account: Load Balancing: Monitors and Pools Read (GET /accounts/{account_id}/load_balancers/pools, "
        "/pools/{pool_id}/health, /monitors)",
    )
    doc = """The Cloudflare load balancer named by the public name (in the zones of the `cloudflare`
    accounts, or `dns.account`) is enabled; the pool that serves the primary has a monitor (detection =
    interval x `consecutive_down`; `retries` are immediate re-tries within one check), and a later
    enabled pool with enough enabled origins points at the secondary (origin host names are followed
    through DNS). Cloudflare fails open: when every pool is unhealthy it sends traffic to the fallback
    pool whatever its health (the evidence says which). Proxied, failover does not wait for any TTL;
    DNS-only, resolvers hold the origin addresses for the load balancer's TTL. Cloudflare runs outside
    the three clouds, so an outage of the primary's provider does not take the failover with it."""

    def read(self, ev: Evidence) -> RoutingPath:
        assert ev.workload.dns is not None
        name = ev.workload.dns.name
        _, gaps, accounts = _routings(ev)
        base = self.path_base(PLANE, EDGE, gaps)
        facts, wanted = _facts(ev)
        lb = facts.load_balancer
        if lb is None:
            where = ", ".join(accounts) or "no configured cloudflare account"
            if facts.candidates:
                status, why = UNKNOWN, f"{facts.reason}: set dns.account to the one that serves it"
            elif gaps or not accounts:
                status, why = (
                    UNKNOWN,
                    f"{facts.reason} in {where}; "
                    + (
                        "inventory incomplete: " + join(gaps, 1) if gaps else "add an account with provider: cloudflare"
                    ),
                )
            else:
                status, why = FAIL, f"{facts.reason} in {where}"
            none = Problem(status, f"no Cloudflare load balancer serves {name}, so no automatic detection")
            problem = Problem(status, why)
            return RoutingPath(**base, problems=(problem,), no_detection=(none,), evidence={"searched": accounts})
        governor = _governor(facts, lb)
        primary = facts.primary_pool
        serving = (
            Answer(
                primary.id or lb.native_id if primary else lb.native_id,
                _pool_label(primary) if primary else lb.name,
                frozenset(primary.addresses) if primary else frozenset(),
                governor=governor,
            ),
        )
        answers: list[Answer] = []
        unresolved: list[str] = []
        for p in facts.pools:
            if p is primary or p.enabled is False:
                continue
            if p.serves in ("secondary", "both"):
                answers.append(Answer(p.id or "", _pool_label(p), frozenset(p.addresses), reaches=True))
                continue
            reaches, seen = points_at(ev, p.unmatched_names, wanted) if p.unmatched_names else (False, [])
            unresolved += seen if reaches is None else []
            answers.append(
                Answer(p.id or "", _pool_label(p), frozenset(p.addresses), reaches=reaches, resolved=tuple(seen))
            )
        ttl_note = _ttl_note(facts)
        evidence: dict[str, Any] = {
            "load_balancer": lb.native_id,
            "policy": facts.policy,
            "proxied": facts.proxied,
            "dns_ttl_s": facts.dns_ttl_s,
            "ttl": ttl_note,
            "pools": [
                {"name": p.name, "priority": p.priority, "serves": p.serves, "healthy": p.healthy, "enabled": p.enabled}
                for p in facts.pools
            ],
            "primary_pool": _pool_label(primary) if primary else None,
            "secondary_pool": _pool_label(facts.secondary_pool) if facts.secondary_pool else None,
            "fallback_pool": _pool_label(facts.fallback) if facts.fallback else None,
            "fails_open": facts.fails_open,
            "detection_s": facts.detection_s,
        }
        base |= {
            "serving": serving,
            "secondary": tuple(answers),
            "subject": lb.name,
            "evidence": evidence,
            "proxy": ttl_note if facts.proxied else "",
        }
        problems: list[Problem] = []
        if governor.mode == Mode.NEVER:
            problems.append(Problem(FAIL, governor.reason))
        elif governor.mode == Mode.UNKNOWN:
            extra = f" ({join(unresolved, 2)})" if unresolved else ""
            problems.append(Problem(UNKNOWN, governor.reason + extra))
        if facts.health_governed is None and governor.mode == Mode.AUTOMATIC:
            problems.append(Problem(UNKNOWN, f"monitors of the pools of {lb.name} could not be read"))
        problems += [Problem(WARN, w) for w in facts.warnings]
        summary = f"{facts.reason}; {ttl_note}; fails open: {facts.fails_open}"
        return RoutingPath(**base, problems=tuple(problems), summary=summary)
