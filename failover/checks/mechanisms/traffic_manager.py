"""``traffic-manager``: an Azure Traffic Manager profile routing by Priority, whose endpoint monitor
moves the public name (CNAME'd to the profile's fqdn) from the highest-priority enabled endpoint to the
next one that points at the secondary."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from failover.attrs import attrs_of
from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.frontdoor_path import AliasChain, alias_chain
from failover.checks.governance import Governor, Mode, Who, detection_seconds
from failover.checks.mechanisms.base import (
    Answer,
    Mechanism,
    Plane,
    Problem,
    RoutingPath,
    chain_names,
    dns_scope,
    is_name,
    points_at,
    secondary_wanted,
)
from failover.checks.mechanisms.registry import register
from failover.equivalence import normalize_name
from failover.model import FindingStatus, Kind, Resource
from failover.schema import format_duration

FAIL, UNKNOWN, WARN = FindingStatus.FAIL, FindingStatus.UNKNOWN, FindingStatus.WARN
# Traffic Manager's control plane is Azure Resource Manager; its DNS name servers answer globally.
CONTROL_PLANE = Plane("azure", "global", {"api": "Azure Resource Manager"})
DATA_PLANE = Plane("azure", "global")
_CHAIN_KINDS = (Kind.DNS_RECORD, Kind.DNS_ZONE, Kind.DNS_HEALTH_CHECK, Kind.ROUTING)


def traffic_manager_profile(ev: Evidence) -> tuple[Resource | None, list[str]]:
    """The Traffic Manager profile the public name resolves through: read from Azure DNS (an alias record
    whose ``targetResource`` is the profile, or CNAMEs to its fqdn, ``alias_chain``), else its fqdn in the
    measured CNAME chain, else the one profile a workload site selects; and the inventory gaps that
    could hide it."""
    return _profile_and_chain(ev)[:2]


def _profile_and_chain(ev: Evidence) -> tuple[Resource | None, list[str], AliasChain | None]:
    assert ev.workload.dns is not None
    scope = dns_scope(ev, *_CHAIN_KINDS)
    profiles = [
        r
        for account in scope.accounts
        for r in ev.index.of_kind(account, Kind.DNS_HEALTH_CHECK)
        if "routing_method" in attrs_of(r, Kind.DNS_HEALTH_CHECK)
    ]
    gaps, pool = scope.gaps, scope.resources
    chain = alias_chain(ev.workload.dns.name, pool)
    if chain.terminal_kind == "traffic-manager" and chain.terminal is not None:
        return chain.terminal, gaps, chain
    names = chain_names(ev)
    fqdns = ((p, attrs_of(p, Kind.DNS_HEALTH_CHECK)["fqdn"]) for p in profiles)
    by_chain = [p for p, fqdn in fqdns if fqdn and normalize_name(str(fqdn)) in names]
    if by_chain:
        return by_chain[0], gaps, chain
    selected = {id(r): r for s in ev.workload.sites for r in ev.resources(s) if r in profiles}
    found = next(iter(selected.values())) if len(selected) == 1 else None
    # A zone holding the name whose record sets could not be read may hide the alias that says which.
    return found, gaps if found is not None else [*gaps, *chain.unknown], chain


def _profiles_by_id(ev: Evidence) -> dict[str, Resource]:
    return {
        r.native_id.lower(): r
        for account in ev.config.dns_accounts(ev.workload)
        for r in ev.index.of_kind(account, Kind.DNS_HEALTH_CHECK)
        if "routing_method" in attrs_of(r, Kind.DNS_HEALTH_CHECK)
    }


def nested_facts(ev: Evidence, profile: Resource) -> list[dict[str, Any]]:
    """Each nested endpoint of ``profile``: its child profile (read or not), ``min_child_endpoints`` (healthy
    child endpoints the child needs to count as available; 1 when unset) and the child's enabled endpoints."""
    by_id = _profiles_by_id(ev)
    out = []
    for e in attrs_of(profile, Kind.DNS_HEALTH_CHECK)["endpoints"] or []:
        if not _is_nested(e):
            continue
        child = by_id.get(str(e.get("target_resource_id") or "").lower())
        fact: dict[str, Any] = {
            "endpoint": e.get("name"),
            "child_profile": e.get("target_resource_id"),
            "min_child_endpoints": e.get("min_child_endpoints") if e.get("min_child_endpoints") is not None else 1,
            "child_read": child is not None,
        }
        if child is not None:
            fact["child_routing_method"] = attrs_of(child, Kind.DNS_HEALTH_CHECK)["routing_method"]
            fact["child_endpoints"] = [
                {"name": c.get("name"), "target": c.get("target") or c.get("target_resource_id")}
                for c in enabled_endpoints(child)
            ]
        out.append(fact)
    return out


def _is_nested(e: dict[str, Any]) -> bool:
    return "nestedendpoints" in str(e.get("type") or "").lower()


def _child_reaches(ev: Evidence, e: dict[str, Any], wanted: set[str]) -> bool:
    """A nested endpoint reaches the secondary when an enabled endpoint of its child profile does."""
    child = _profiles_by_id(ev).get(str(e.get("target_resource_id") or "").lower())
    if child is None:
        return False
    for c in enabled_endpoints(child):
        if str(c.get("target_resource_id") or "").lower() in wanted:
            return True
        if normalize_name(str(c.get("target") or "")) in wanted:
            return True
    return False


def enabled_endpoints(profile: Resource) -> list[dict[str, Any]]:
    """A profile's enabled endpoints, highest priority (lowest number) first."""
    return sorted(
        (
            e
            for e in attrs_of(profile, Kind.DNS_HEALTH_CHECK)["endpoints"] or []
            if str(e.get("status") or "").lower() == "enabled"
        ),
        key=lambda e: (e.get("priority") is None, e.get("priority") or 0),
    )


def profile_governor(profile: Resource) -> Governor:
    detect = detection_seconds(profile)
    health = str(attrs_of(profile, Kind.DNS_HEALTH_CHECK)["monitor_status"] or "unknown").lower()
    base = Who(subject=profile.native_id, name=profile.name, kind="traffic-manager")
    if detect is None:
        why = f"health check {profile.native_id}: interval unknown"
        return Governor(**base, mode=Mode.UNKNOWN, reason=why, health=health)
    why = f"health check {profile.name or profile.native_id} detects in {format_duration(detect)}"
    return Governor(**base, mode=Mode.AUTOMATIC, reason=why, detection_s=detect, health=health)


def _endpoint(e: dict[str, Any], **kw: Any) -> Answer:
    target = normalize_name(str(e.get("target") or ""))
    return Answer(str(e.get("id") or e.get("name") or ""), str(e.get("name") or ""), frozenset({target} - {""}), **kw)


@register
class TrafficManager(Mechanism):
    id = "traffic-manager"
    title = "Azure Traffic Manager profile (Priority routing)"
    provider = "azure"
    permissions = (
        "Microsoft.Network/trafficManagerProfiles/read",
        "Microsoft.Network/dnszones/recordsets/read",
        "Microsoft.Resources/subscriptions/resources/read",
    )
    doc = """The Traffic Manager profile the public name resolves through (read from Azure DNS: an alias
    record whose target resource is the profile, or CNAMEs to its fqdn; else the measured CNAME chain)
    is enabled, routes by Priority,
    monitors its endpoints (interval x tolerated failures gives the detection time), and has a
    lower-priority enabled endpoint that points at the secondary; `alwaysServe` on the primary endpoint
    defeats failover. A nested endpoint reaches the secondary through an enabled endpoint of its child
    profile; nested endpoints and their `min_child_endpoints` are listed in the evidence."""

    def read(self, ev: Evidence) -> RoutingPath:
        assert ev.workload.dns is not None
        name = ev.workload.dns.name
        profile, gaps, chain = _profile_and_chain(ev)
        base = self.path_base(CONTROL_PLANE, DATA_PLANE, gaps)
        if profile is None:
            status = UNKNOWN if gaps else FAIL
            none = Problem(status, f"no Traffic Manager profile serves {name}, so no automatic detection")
            if gaps:
                problem = Problem(UNKNOWN, f"Traffic Manager profile for {name} unknown: " + join(gaps, 1))
            else:
                problem = Problem(FAIL, f"no Traffic Manager profile serves {name} (none in its CNAME chain)")
            return RoutingPath(**base, problems=(problem,), no_detection=(none,))
        governor = profile_governor(profile)
        pa = attrs_of(profile, Kind.DNS_HEALTH_CHECK)
        enabled = enabled_endpoints(profile)
        serving = (_endpoint(enabled[0], governor=governor),) if enabled else ()
        # An empty profile still has its monitor: dns.health_check reads it as before.
        if not enabled:
            serving = (Answer(profile.native_id, profile.name, governor=governor),)
        base |= {"serving": serving, "subject": profile.name}
        problems: list[Problem] = []
        if str(pa["profile_status"] or "").lower() != "enabled":
            problems.append(Problem(FAIL, f"profile {profile.name} is {pa['profile_status'] or 'not enabled'}"))
        method = str(pa["routing_method"] or "")
        if method.lower() != "priority":
            why = f"profile {profile.name} routes by {method or 'an unknown method'}, not Priority (failover)"
            problems.append(Problem(FAIL, why))
        wanted = secondary_wanted(ev)
        for s in ev.workload.secondaries:
            wanted |= {r.native_id.lower() for r in ev.resources(s)}
        standby: list[dict[str, Any]] = []
        unresolved: list[str] = []
        answers: list[Answer] = []
        for e in enabled[1:]:
            if str(e.get("target_resource_id") or "").lower() in wanted or (
                _is_nested(e) and _child_reaches(ev, e, wanted)
            ):
                standby.append(e)
                answers.append(_endpoint(e, reaches=True))
                continue
            reaches, seen = points_at(ev, {normalize_name(str(e.get("target") or ""))} - {""}, wanted)
            answers.append(_endpoint(e, reaches=reaches, resolved=tuple(seen)))
            if reaches:
                standby.append(e)
            elif reaches is None:
                unresolved += seen
        base["secondary"] = tuple(answers)
        # alwaysServe: Traffic Manager keeps answering with the endpoint whatever its probes say.
        if enabled and enabled[0].get("always_serve"):
            problems.append(
                Problem(
                    FAIL,
                    f"primary endpoint {enabled[0].get('name')} has alwaysServe Enabled: Traffic Manager keeps "
                    "serving it when its health checks fail, so the profile never fails over",
                )
            )
        always_standby = [str(e.get("name")) for e in standby if e.get("always_serve")]
        if len(enabled) < 2:
            why = f"profile {profile.name} has {len(enabled)} enabled endpoint(s): nothing to fail over to"
            problems.append(Problem(FAIL, why))
        elif not standby and unresolved and not problems:
            why = f"no lower-priority endpoint of {profile.name} is known to reach a secondary: {join(unresolved, 2)}"
            return RoutingPath(**base, problems=(Problem(UNKNOWN, why),))
        elif not standby:
            targets = ", ".join(str(e.get("target") or e.get("target_resource_id")) for e in enabled[1:])
            problems.append(
                Problem(FAIL, f"no lower-priority endpoint points at a secondary site (they point at {targets})")
            )
        if pa["interval_s"] is None or pa["failure_threshold"] is None:
            problems.append(Problem(FAIL, f"profile {profile.name} has no endpoint monitoring configured"))
        evidence: dict[str, Any] = {
            "profile": profile.native_id,
            "endpoints": pa["endpoints"],
            "routing_method": method,
        }
        if chain is not None and chain.terminal is profile:
            evidence["alias_chain"] = [{"record": h.record, "type": h.type, "target": h.target} for h in chain.hops]
        if nested := nested_facts(ev, profile):
            evidence["nested"] = nested
        if problems:
            return RoutingPath(**base, problems=tuple(problems), evidence=evidence)
        if always_standby and len(always_standby) == len(standby):
            why = (
                f"Traffic Manager profile {profile.name} fails {name} over to {standby[0].get('target')}, but "
                f"standby endpoint(s) {', '.join(always_standby)} have alwaysServe Enabled: traffic goes there "
                "even when their probes fail"
            )
            return RoutingPath(**base, problems=(Problem(WARN, why),), evidence=evidence)
        summary = f"Traffic Manager profile {profile.name} fails {name} over to {standby[0].get('target')}"
        return RoutingPath(**base, summary=summary, evidence=evidence)

    def names_to_resolve(self, ev: Evidence) -> dict[str, list[str]]:
        """Each profile's endpoint targets under the profile's fqdn (resolved when the public name's
        CNAME chain passes through it), or ``""`` for the profile a site selects or an alias record names."""
        wanted = secondary_wanted(ev)
        plan: dict[str, set[str]] = {}

        def add(key: str, names: Iterable[str]) -> None:
            found = {n for n in names if is_name(n) and n not in wanted}
            if found:
                plan.setdefault(key, set()).update(found)

        selected = {r.native_id for s in ev.workload.sites for r in ev.resources(s)}
        aliased = _profile_and_chain(ev)[2]
        if aliased is not None and aliased.terminal_kind == "traffic-manager" and aliased.terminal is not None:
            selected.add(aliased.terminal.native_id)  # an alias record answers with addresses: no CNAME to follow
        for account in ev.config.dns_accounts(ev.workload):
            for p in ev.index.of_kind(account, Kind.DNS_HEALTH_CHECK):
                if "routing_method" not in attrs_of(p, Kind.DNS_HEALTH_CHECK):
                    continue
                fqdn = attrs_of(p, Kind.DNS_HEALTH_CHECK)["fqdn"]
                key = "" if p.native_id in selected else normalize_name(str(fqdn or ""))
                if not key and p.native_id not in selected:
                    continue
                add(key, (normalize_name(str(e.get("target") or "")) for e in enabled_endpoints(p)[1:]))
        return {k: sorted(v) for k, v in sorted(plan.items())}
