"""Facts about an Azure failover path, read from the inventory: the Front Door route that serves a public
name and its origins, and the Azure DNS alias chain from the name to a Traffic Manager profile or Front
Door endpoint. Pure functions over ``Resource``s; they report what the inventory says (and what it could
not read), the checks decide what that means.

Front Door sends a request to the enabled origins of the route's origin group with the lowest priority
number that are healthy, and takes an origin out once fewer than ``successfulSamplesRequired`` of its
last ``sampleSize`` probes succeed; an origin group without probes never takes an origin out. So the
path fails over when the primary origin is probed and an enabled origin at a lower priority (a higher
number) points at the secondary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from failover.attrs import RoutingTarget, attrs_of
from failover.equivalence import normalize_name
from failover.model import Kind, Provider, Resource

__all__ = ["AliasChain", "AliasHop", "FrontDoorPath", "alias_chain", "front_door_path"]

_CLASSIC = "microsoft.network/frontdoors"
_PROFILE = "microsoft.cdn/profiles"
_MAX_HOPS = 10


@dataclass(frozen=True, slots=True)
class FrontDoorPath:
    """What Front Door does with a public name."""

    name: str
    route: Resource | None = None  # the route serving the name (an enabled one matching every path first)
    routes: list[Resource] = field(default_factory=list)  # every route listing the name
    origin_group: str | None = None
    origins: list[RoutingTarget] = field(default_factory=list)  # Front Door's order: lowest priority number first
    primary: RoutingTarget | None = None  # the first enabled origin that is not the secondary
    standby: list[RoutingTarget] = field(default_factory=list)  # enabled, lower priority, pointing at the secondary
    secondary_origins: list[RoutingTarget] = field(default_factory=list)  # pointing at the secondary, any state
    primary_probed: bool | None = None  # the primary origin is health-probed (None: no primary known)
    detection_s: float | None = None  # how long a dead primary keeps traffic (probe interval x failed samples)
    notes: list[str] = field(default_factory=list)  # facts worth saying (a disabled route, an unmatched alias)
    unknown: list[str] = field(default_factory=list)  # what could not be read, and why


@dataclass(frozen=True, slots=True)
class AliasHop:
    record: str  # the record set's name (www.example.com)
    type: str  # A, AAAA, CNAME
    target: str  # the alias target's ARM id, or the CNAME's value


@dataclass(frozen=True, slots=True)
class AliasChain:
    """The Azure DNS records from a public name to the traffic manager behind it, as read."""

    name: str
    hops: list[AliasHop] = field(default_factory=list)
    terminal: Resource | None = None  # the Traffic Manager profile or Front Door route reached
    terminal_kind: Literal["traffic-manager", "front-door"] | None = None
    unknown: list[str] = field(default_factory=list)


def _points_at(target: RoutingTarget, wanted: set[str]) -> bool:
    return any(normalize_name(a) in wanted for a in target.get("addresses") or [])


def _front_door_routes(resources: list[Resource]) -> list[Resource]:
    return [
        r
        for r in resources
        if r.kind == Kind.ROUTING and str(attrs_of(r, Kind.ROUTING)["mechanism"] or "") == "front-door"
    ]


def _serves_every_path(route: Resource) -> bool:
    return any(p in ("/*", "/") for p in attrs_of(route, Kind.ROUTING)["patterns"] or ["/*"])


def front_door_path(name: str, secondary_addresses: set[str], resources: Iterable[Resource]) -> FrontDoorPath:
    """The route serving ``name`` (one of its ``hostnames``), its origins in priority order, the enabled
    lower-priority origins that point at one of ``secondary_addresses`` (host names or IPs, as
    ``failover.checks.dns.site_addresses`` gives them), and whether the primary origin is probed."""
    pool = list(resources)
    wanted = {normalize_name(a) for a in secondary_addresses}
    public = normalize_name(name)
    routes = [
        r
        for r in _front_door_routes(pool)
        if public in {normalize_name(h) for h in attrs_of(r, Kind.ROUTING)["hostnames"] or []}
    ]
    unknown = _unread(pool, routes)
    if not routes:
        chain = alias_chain(name, pool)
        notes = []
        if chain.terminal_kind == "front-door" and chain.terminal is not None:
            notes.append(
                f"{name} resolves to Front Door endpoint {attrs_of(chain.terminal, Kind.ROUTING)['endpoint_hostname']}"
                f", but no route of it lists {name} as a domain"
            )
        return FrontDoorPath(name=name, notes=notes, unknown=unknown + chain.unknown)
    ranked = sorted(
        routes, key=lambda r: (attrs_of(r, Kind.ROUTING)["enabled"] is not True, not _serves_every_path(r), r.name)
    )
    route = ranked[0]
    ra = attrs_of(route, Kind.ROUTING)
    notes = []
    if ra["enabled"] is not True:
        notes.append(f"route {route.name} (or its endpoint) is {'disabled' if ra['enabled'] is False else 'unknown'}")
    origins = list(ra["targets"] or [])
    enabled = [o for o in origins if o.get("enabled") is True]
    primary = next((o for o in enabled if not _points_at(o, wanted)), None)
    top = (primary.get("priority") or 1) if primary else None
    secondary = [o for o in origins if _points_at(o, wanted)]
    standby = [
        o
        for o in secondary
        if o.get("enabled") is True and top is not None and (o.get("priority") or 1) > top and o is not primary
    ]
    return FrontDoorPath(
        name=name,
        route=route,
        routes=ranked,
        origin_group=ra["origin_group"],
        origins=origins,
        primary=primary,
        standby=standby,
        secondary_origins=secondary,
        primary_probed=None if primary is None else primary.get("health_checked"),
        detection_s=None if primary is None else primary.get("detection_s"),
        notes=notes,
        unknown=unknown,
    )


def _unread(pool: list[Resource], routes: list[Resource]) -> list[str]:
    """Why the routes found may not be all there is: classic Front Doors (not read), Front Door profiles
    whose children could not be read, and what each route itself says it could not read."""
    out: list[str] = []
    for r in pool:
        t = r.native_type.lower()
        if r.kind == Kind.LB and t in (_CLASSIC, _PROFILE):
            out += [f"{r.name}: {n}" for n in attrs_of(r, Kind.LB)["notes"] or []]
    for r in routes:
        out += [f"{r.name}: {n}" for n in attrs_of(r, Kind.ROUTING)["notes"] or []]
    return out


def alias_chain(name: str, resources: Iterable[Resource]) -> AliasChain:
    """Follow ``name`` through Azure DNS record sets: an alias record (``targetResource``) or a CNAME, hop
    by hop, to a Traffic Manager profile or a Front Door endpoint of the inventory. Stops at the first
    name Azure DNS does not hold; a zone whose record sets could not be read makes the rest unknown."""
    pool = list(resources)
    records: dict[str, list[Resource]] = {}
    for r in pool:
        if r.kind == Kind.DNS_RECORD and r.provider == Provider.AZURE:
            records.setdefault(normalize_name(r.name), []).append(r)
    profiles = [
        r for r in pool if r.kind == Kind.DNS_HEALTH_CHECK and attrs_of(r, Kind.DNS_HEALTH_CHECK)["routing_method"]
    ]
    fd_routes = _front_door_routes(pool)
    hops: list[AliasHop] = []
    current = normalize_name(name)
    seen: set[str] = set()
    while current and current not in seen and len(hops) < _MAX_HOPS:
        seen.add(current)
        found = [r for r in records.get(current, []) if attrs_of(r, Kind.DNS_RECORD)["type"] in ("A", "AAAA", "CNAME")]
        if not found:
            return AliasChain(name=name, hops=hops, unknown=_zone_gaps(pool, current))
        alias = next((r for r in found if attrs_of(r, Kind.DNS_RECORD)["alias_target_resource"]), None)
        if alias is not None:
            target = str(attrs_of(alias, Kind.DNS_RECORD)["alias_target_resource"])
            hops.append(AliasHop(alias.name, str(attrs_of(alias, Kind.DNS_RECORD)["type"]), target))
            tm = next((p for p in profiles if p.native_id.lower() == target.lower()), None)
            if tm is not None:
                return AliasChain(name=name, hops=hops, terminal=tm, terminal_kind="traffic-manager")
            fd = _by_endpoint(fd_routes, "endpoint_id", target)
            if fd is not None:
                return AliasChain(name=name, hops=hops, terminal=fd, terminal_kind="front-door")
            why = f"{alias.name} is an alias of {target}, which is not in the inventory (or has no route)"
            return AliasChain(name=name, hops=hops, unknown=[why])
        cname = next((r for r in found if attrs_of(r, Kind.DNS_RECORD)["type"] == "CNAME"), None)
        values = attrs_of(cname, Kind.DNS_RECORD)["values"] if cname else None
        if cname is None or not values:
            return AliasChain(name=name, hops=hops)  # addresses: the chain ends in Azure DNS itself
        value = normalize_name(str(values[0]))
        hops.append(AliasHop(cname.name, "CNAME", value))
        tm = next(
            (p for p in profiles if normalize_name(str(attrs_of(p, Kind.DNS_HEALTH_CHECK)["fqdn"] or "")) == value),
            None,
        )
        if tm is not None:
            return AliasChain(name=name, hops=hops, terminal=tm, terminal_kind="traffic-manager")
        fd = _by_endpoint(fd_routes, "endpoint_hostname", value)
        if fd is not None:
            return AliasChain(name=name, hops=hops, terminal=fd, terminal_kind="front-door")
        current = value
    loop = [f"the chain from {name} loops or exceeds {_MAX_HOPS} hops"] if current in seen else []
    return AliasChain(name=name, hops=hops, unknown=loop)


def _by_endpoint(
    routes: list[Resource], key: Literal["endpoint_id", "endpoint_hostname"], wanted: str
) -> Resource | None:
    """The first route (by name) of the endpoint whose ARM id or host name is ``wanted`` (case-insensitive)."""
    hits = sorted(
        (r for r in routes if normalize_name(str(attrs_of(r, Kind.ROUTING)[key] or "")) == normalize_name(wanted)),
        key=lambda r: r.name,
    )
    return hits[0] if hits else None


def _zone_gaps(pool: list[Resource], name: str) -> list[str]:
    """Azure DNS zones that would hold ``name`` but whose record sets could not be read."""
    out = []
    for z in pool:
        if z.kind != Kind.DNS_ZONE or z.provider != Provider.AZURE:
            continue
        zone = normalize_name(z.name)
        if (name == zone or name.endswith("." + zone)) and attrs_of(z, Kind.DNS_ZONE)["notes"]:
            out += [f"zone {z.name}: {n}" for n in attrs_of(z, Kind.DNS_ZONE)["notes"] or []]
    return out
