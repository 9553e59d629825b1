"""``front-door``: an Azure Front Door Standard/Premium route serving the public name, whose origin group's
health probes take a dead primary origin out so the edge sends requests to an enabled lower-priority
origin at the secondary.

Front Door is a proxy: clients resolve the public name (a CNAME to the endpoint's ``*.azurefd.net`` host,
or an Azure DNS alias record to the endpoint) to Front Door's anycast edge, and the origin switch happens
there, with no DNS change. So the TTL ``dns.ttl`` measures on the public name bounds only how fast users
could be moved *off* Front Door; it plays no part in this failover. The facts (which route, which
origins, how fast a probe takes one out) come from ``failover.checks.frontdoor_path``.
"""

from __future__ import annotations

from typing import Any

from failover.attrs import RoutingTarget, attrs_of
from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.frontdoor_path import FrontDoorPath, alias_chain, front_door_path
from failover.checks.governance import Governor, Mode, Who, failover_status
from failover.checks.mechanisms.base import (
    Answer,
    Mechanism,
    Plane,
    Problem,
    RoutingPath,
    chain_names,
    dns_scope,
    points_at,
    secondary_wanted,
)
from failover.checks.mechanisms.registry import register
from failover.equivalence import normalize_name
from failover.model import FindingStatus, Kind, Resource
from failover.schema import format_duration

FAIL, UNKNOWN, WARN = FindingStatus.FAIL, FindingStatus.UNKNOWN, FindingStatus.WARN
# Front Door's configuration changes go through Azure Resource Manager; its edge serves globally.
CONTROL_PLANE = Plane("azure", "global", {"api": "Azure Resource Manager"})
DATA_PLANE = Plane("azure", "global", {"service": "Front Door edge (anycast proxy)"})
TTL_NOTE = (
    "Front Door proxies: the origin switch happens at its edge, not in DNS, so the public name's TTL "
    "(dns.ttl, its CNAME to the endpoint) does not delay this failover; it bounds only a move off Front Door"
)
# What the inventory may hold about a Front Door path: routes, the profiles and classic Front Doors (their
# notes say what could not be read), Azure DNS zones and record sets (the alias chain).
_KINDS = (Kind.ROUTING, Kind.LB, Kind.DNS_ZONE, Kind.DNS_RECORD, Kind.DNS_HEALTH_CHECK)


def azure_pool(ev: Evidence) -> tuple[list[Resource], list[str]]:
    """Every routing-relevant resource of the workload's Azure DNS accounts, and their inventory gaps."""
    scope = dns_scope(ev, *_KINDS)
    return scope.resources, scope.gaps


def _origin_label(o: RoutingTarget) -> str:
    return str(o.get("name") or ", ".join(o.get("addresses") or []) or "?")


def _prio(o: RoutingTarget) -> int:
    return int(o.get("priority") or 1)  # ARM's default priority is 1


def _governor(fd: FrontDoorPath, route: Resource, serving: list[RoutingTarget]) -> Governor:
    """The origin group's health probe, as it governs the serving origin(s)."""
    ra = attrs_of(route, Kind.ROUTING)
    group = str(fd.origin_group or "")
    who = Who(subject=group, name=group.rsplit("/", 1)[-1] or route.name, kind="front-door")
    names = ", ".join(_origin_label(o) for o in serving)
    probe = ra["probe"]
    if fd.primary_probed is False or probe is None:
        why = (
            f"origin group {who['name']} has no health probe: Front Door keeps sending requests to origin {names} "
            "when it fails, so it never fails over"
        )
        return Governor(**who, mode=Mode.NEVER, reason=why)
    if fd.detection_s is None:
        why = (
            f"origin group {who['name']}: probe interval {probe.get('interval_s')}, sampleSize "
            f"{ra['sample_size']}, successfulSamplesRequired {ra['successful_samples_required']}: "
            "detection time unknown"
        )
        return Governor(**who, mode=Mode.UNKNOWN, reason=why)
    failed = (fd.primary or {}).get("threshold")
    why = (
        f"origin group {who['name']} probes {probe.get('path') or '/'} every {format_duration(probe.get('interval_s'))}"
        f" and takes origin {names} out after {failed} failed probe(s): detects in {format_duration(fd.detection_s)}"
    )
    evidence = {
        "probe": probe,
        "sample_size": ra["sample_size"],
        "successful_samples_required": ra["successful_samples_required"],
    }
    return Governor(**who, mode=Mode.AUTOMATIC, reason=why, detection_s=fd.detection_s, evidence=evidence)


def _answer(fd: FrontDoorPath, o: RoutingTarget, **kw: Any) -> Answer:
    subject = f"{fd.origin_group}/origins/{o.get('name')}" if fd.origin_group else _origin_label(o)
    targets = frozenset(normalize_name(a) for a in o.get("addresses") or [])
    w = o.get("weight")
    return Answer(subject, _origin_label(o), targets, weight=float(w) if w is not None else None, **kw)


@register
class FrontDoor(Mechanism):
    id = "front-door"
    title = "Azure Front Door Standard/Premium route (origin group priorities and health probes)"
    provider = "azure"
    permissions = (
        "Microsoft.Resources/subscriptions/resources/read",
        "Microsoft.Cdn/profiles/afdEndpoints/read",
        "Microsoft.Cdn/profiles/afdEndpoints/routes/read",
        "Microsoft.Cdn/profiles/originGroups/read",
        "Microsoft.Cdn/profiles/originGroups/origins/read",
        "Microsoft.Cdn/profiles/customDomains/read",
        "Microsoft.Network/dnszones/recordsets/read",
    )
    doc = """The enabled Front Door route (and endpoint) listing the public name as a domain sends it to
    an origin group whose health probe takes the primary origin out (the probe interval x
    `sampleSize - successfulSamplesRequired + 1` failed samples gives the detection time; a group without
    a probe never takes an origin out), and the group has an enabled lower-priority origin that points at
    the secondary. A route or endpoint that is disabled fails; classic Front Door
    (Microsoft.Network/frontDoors) is not read and stays unknown. Front Door proxies, so the public name's
    DNS TTL does not delay the origin switch; a public name that does not resolve through the endpoint
    warns. Front Door fails open (every enabled origin) when no origin is healthy."""

    def read(self, ev: Evidence) -> RoutingPath:
        assert ev.workload.dns is not None
        name = ev.workload.dns.name
        pool, gaps = azure_pool(ev)
        base = self.path_base(CONTROL_PLANE, DATA_PLANE, gaps)
        wanted = secondary_wanted(ev)
        fd = front_door_path(name, wanted, pool)
        route = fd.route
        if route is None:
            unread = [*fd.unknown, *gaps]
            if unread:
                why = f"Front Door route for {name} unknown: " + join(unread, 2)
                status = UNKNOWN
            else:
                where = ", ".join(ev.config.dns_accounts(ev.workload)) or "any configured Azure account"
                why = f"no Front Door route lists {name} as a domain (searched {where})"
                status = FAIL
            if fd.notes:
                why += "; " + join(fd.notes, 2)
            none = Problem(status, f"no Front Door route serves {name}, so no automatic detection")
            found = (Problem(status, why),)
            return RoutingPath(**base, problems=found, no_detection=(none,), evidence={"notes": fd.notes})
        ra = attrs_of(route, Kind.ROUTING)
        enabled = [o for o in fd.origins if o.get("enabled") is True]
        top = _prio(fd.primary) if fd.primary is not None else None
        serving = [o for o in enabled if top is not None and _prio(o) == top and o not in fd.secondary_origins]
        governor = _governor(fd, route, serving) if serving else None
        problems: list[Problem] = []
        if ra["enabled"] is False:
            why = f"route {route.name} (or its endpoint) is disabled: Front Door does not serve {name}"
            problems.append(Problem(FAIL, why))
        elif ra["enabled"] is None:
            problems.append(Problem(UNKNOWN, f"route {route.name}: enabled state of the route or its endpoint unknown"))
        own_notes = [f"{route.name}: {n}" for n in ra["notes"] or []]
        if own_notes:  # its origins (or domains) were not read: nothing to say about primary or standby
            problems.append(Problem(UNKNOWN, f"Front Door route for {name} incomplete: " + join(own_notes, 2)))
            none = Problem(UNKNOWN, f"origins of route {route.name} unknown, so its health probe is unknown")
            facts = {"route": route.native_id, "notes": own_notes}
            return RoutingPath(
                **base, problems=tuple(problems), no_detection=(none,), subject=route.name, evidence=facts
            )
        serving_answers: tuple[Answer, ...] = ()
        if governor is not None:
            serving_answers = (
                Answer(
                    str(fd.origin_group or route.native_id),
                    ", ".join(_origin_label(o) for o in serving),
                    frozenset(normalize_name(a) for o in serving for a in o.get("addresses") or []),
                    governor=governor,
                ),
            )
            status = failover_status(governor.mode)
            if status in (FAIL, UNKNOWN):
                problems.append(Problem(status, governor.reason))
        elif enabled:
            why = f"every enabled origin of route {route.name} points at the secondary: the primary gets no traffic"
            problems.append(Problem(WARN, why))
        else:
            why = f"route {route.name} has no enabled origin: Front Door serves nothing for {name}"
            problems.append(Problem(FAIL, why))
        # Secondary answers: every origin outside the serving tier. One at the secondary reaches it when it is
        # enabled and at the serving priority or below (Front Door uses it once the higher ones are out).
        answers: list[Answer] = []
        unresolved: list[str] = []
        for o in fd.origins:
            if o in serving:
                continue
            usable = o.get("enabled") is True and (top is None or _prio(o) >= top)
            if o in fd.secondary_origins:
                answers.append(_answer(fd, o, reaches=usable))
                continue
            if not usable:
                answers.append(_answer(fd, o, reaches=False))
                continue
            reaches, seen = points_at(ev, o.get("addresses") or [], wanted)
            answers.append(_answer(fd, o, reaches=reaches, resolved=tuple(seen)))
            if reaches is None:
                unresolved += seen
        reaching = [a for a in answers if a.reaches]
        sites = ", ".join(s.name for s in ev.workload.secondaries)
        if not reaching:
            disabled = [o for o in fd.secondary_origins if o.get("enabled") is not True]
            if disabled:
                labels = ", ".join(f"{_origin_label(o)} ({', '.join(o.get('addresses') or [])})" for o in disabled)
                why = (
                    f"origin {labels} of route {route.name} points at secondary {sites} but is disabled: Front Door "
                    "has no enabled origin at the secondary to fail over to"
                )
                problems.append(Problem(FAIL, why))
            elif unresolved:
                why = f"no lower-priority origin of route {route.name} is known to reach secondary {sites}: "
                problems.append(Problem(UNKNOWN, why + join(unresolved, 2)))
            else:
                pointed = ", ".join(sorted({t for o in fd.origins for t in o.get("addresses") or []})) or "nothing"
                why = (
                    f"no enabled lower-priority origin of route {route.name} points at secondary {sites} "
                    f"(they point at {pointed})"
                )
                problems.append(Problem(FAIL, why))
        resolves = self._resolves_through(ev, name, route, pool)
        if resolves:
            problems.append(Problem(WARN, resolves))
        evidence: dict[str, Any] = {
            "route": route.native_id,
            "profile": ra["profile"],
            "endpoint_hostname": ra["endpoint_hostname"],
            "origin_group": fd.origin_group,
            "origins": fd.origins,
            "serving": [_origin_label(o) for o in serving],
            "reach_secondary": [a.name for a in reaching],
            "fallback": ra["fallback"],
            "ttl": TTL_NOTE,
        }
        if fd.notes:
            evidence["notes"] = fd.notes
        if len(fd.routes) > 1:
            evidence["other_routes"] = [r.native_id for r in fd.routes if r is not route]
        to = ", ".join(f"{a.name} ({', '.join(sorted(a.targets))})" for a in reaching)
        summary = (
            f"Front Door route {route.name} fails {name} over to origin {to} once its probes take "
            f"{', '.join(_origin_label(o) for o in serving)} out; the switch is at the edge, so no DNS TTL delays it"
        )
        return RoutingPath(
            **base,
            serving=serving_answers,
            secondary=tuple(answers),
            problems=tuple(problems),
            summary=summary,
            subject=route.name,
            evidence=evidence,
        )

    @staticmethod
    def _resolves_through(ev: Evidence, name: str, route: Resource, pool: list[Resource]) -> str:
        """Why the public name may not reach this route's endpoint: its measured CNAME chain misses the
        endpoint's host name and no Azure DNS alias record points at the endpoint ("" when it does, or
        when the chain has not been measured)."""
        chain = chain_names(ev)
        ra = attrs_of(route, Kind.ROUTING)
        host = normalize_name(str(ra["endpoint_hostname"] or ""))
        if not chain or not host or host in chain:
            return ""
        alias = alias_chain(name, pool)
        endpoint = normalize_name(str(ra["endpoint_id"] or ""))
        aliased = alias.terminal if alias.terminal_kind == "front-door" else None
        via = normalize_name(str(attrs_of(aliased, Kind.ROUTING)["endpoint_id"] or "")) if aliased else None
        if via == endpoint:
            return ""
        return f"{name} does not resolve through Front Door endpoint {host} (its chain: {', '.join(sorted(chain))})"
