"""Traffic steering's own reads, after the resource listing: Front Door routes and Azure DNS record sets.

- Front Door Standard/Premium (a Microsoft.Cdn profile on a ``*_AzureFrontDoor`` SKU): per profile its
  ``afdEndpoints``, ``originGroups`` and ``customDomains``; then each endpoint's ``routes`` and each origin
  group's ``origins``. ARM has no subscription-wide list of either.
- Azure DNS: per zone its ``recordsets`` (alias records carry ``targetResource``).

All reads run concurrently, bounded by the account's ``max_concurrency`` and its inventory deadline. A
read that fails is a ``ScopeError`` (collapsed per subscription, collection and error) and leaves a note
on the profile, route or zone it was for: what could not be read is unknown, never "no route".
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from failover.model import Resource, ScopeError
from providers.azure.datatier import collapse_reads
from providers.azure.resources import resource_group_of
from providers.azure.routing import is_front_door_profile, normalize_record_set, normalize_routes
from providers.base import NO_DEADLINE, Deadline, fan_out

if TYPE_CHECKING:
    from failover.schema import Account
    from providers.azure.clients import ArmReader

__all__ = ["PROFILE_COLLECTIONS", "read_routing_tier"]

PROFILE_COLLECTIONS = ("afdEndpoints", "originGroups", "customDomains")
_ZONE = "microsoft.network/dnszones"


def _parts(scope: str) -> tuple[str, str, list[str]]:
    """(subscription, resource group, names after ``providers/<namespace>/<type>``) of an ARM-shaped scope."""
    parts = scope.strip("/").split("/")
    at = [p.lower() for p in parts].index("providers")
    return parts[1], resource_group_of("/" + scope) or "", parts[at + 3 :: 2]


def read_routing_tier(
    account: Account, reader: ArmReader, resources: list[Resource], deadline: Deadline = NO_DEADLINE
) -> tuple[list[Resource], list[ScopeError]]:
    """``resources`` plus each Front Door profile's routes and each Azure DNS zone's record sets."""
    profiles = [r for r in resources if is_front_door_profile(r)]
    zones = [r for r in resources if r.native_type.lower() == _ZONE]
    answers: dict[str, list[dict[str, Any]]] = {}

    def read(scope: str) -> list[Resource]:
        """``scope``: ``<profile id>/afdEndpoints``, ``<endpoint id>/routes``, ``<group id>/origins``,
        ``<zone id>/recordsets`` (without the leading slash)."""
        sub, rg, names = _parts(scope)
        what = scope.rsplit("/", 1)[1]
        if what == "afdEndpoints":
            answers[scope] = reader.afd_endpoints(sub, rg, names[0])
        elif what == "originGroups":
            answers[scope] = reader.afd_origin_groups(sub, rg, names[0])
        elif what == "customDomains":
            answers[scope] = reader.afd_custom_domains(sub, rg, names[0])
        elif what == "routes":
            answers[scope] = reader.afd_routes(sub, rg, names[0], names[1])
        elif what == "origins":
            answers[scope] = reader.afd_origins(sub, rg, names[0], names[1])
        else:
            answers[scope] = reader.dns_record_sets(sub, rg, names[0])
        return []

    first = [f"{p.native_id.lstrip('/')}/{what}" for p in profiles for what in PROFILE_COLLECTIONS]
    first += [f"{z.native_id.lstrip('/')}/recordsets" for z in zones]
    _, errors = fan_out(first, read, max_workers=account.max_concurrency, deadline=deadline)
    second = [
        f"{str(item.get('id') or '').lstrip('/')}/{child}"
        for p in profiles
        for what, child in (("afdEndpoints", "routes"), ("originGroups", "origins"))
        for item in answers.get(f"{p.native_id.lstrip('/')}/{what}") or []
    ]
    _, more = fan_out(second, read, max_workers=account.max_concurrency, deadline=deadline)
    errors += more
    failed = {e.scope.lower(): e for e in errors}

    out: list[Resource] = []
    for r in resources:
        if is_front_door_profile(r):
            routes, r = _front_door(r, answers, failed)
            out += [r, *routes]
        elif r.native_type.lower() == _ZONE:
            out += _zone(r, answers, failed)
        else:
            out.append(r)
    return out, collapse_reads(errors)


def _front_door(
    profile: Resource, answers: dict[str, list[dict[str, Any]]], failed: dict[str, ScopeError]
) -> tuple[list[Resource], Resource]:
    base = profile.native_id.lstrip("/")
    got = {what: answers.get(f"{base}/{what}") for what in PROFILE_COLLECTIONS}
    notes = [f"its {what} could not be read ({_why(failed, f'{base}/{what}')})" for what, v in got.items() if v is None]
    routes: dict[str, list[dict[str, Any]]] = {}
    for ep in got["afdEndpoints"] or []:
        scope = f"{str(ep.get('id') or '').lstrip('/')}/routes"
        if scope in answers:
            routes[str(ep.get("id") or "").lower()] = answers[scope]
        else:
            notes.append(f"the routes of endpoint {ep.get('name')} could not be read ({_why(failed, scope)})")
    origins = {
        str(g.get("id") or "").lower(): answers[f"{str(g.get('id') or '').lstrip('/')}/origins"]
        for g in got["originGroups"] or []
        if f"{str(g.get('id') or '').lstrip('/')}/origins" in answers
    }
    read = normalize_routes(
        profile, got["afdEndpoints"] or [], routes, got["originGroups"] or [], origins, got["customDomains"] or []
    )
    profile_notes = [*(profile.attrs.get("notes") or []), *(f"Front Door routes unknown: {n}" for n in notes)]
    return read, dataclasses.replace(profile, attrs={**profile.attrs, "notes": profile_notes})


def _zone(zone: Resource, answers: dict[str, list[dict[str, Any]]], failed: dict[str, ScopeError]) -> list[Resource]:
    scope = f"{zone.native_id.lstrip('/')}/recordsets"
    listing = answers.get(scope)
    if listing is None:
        note = f"its record sets could not be read ({_why(failed, scope)})"
        return [dataclasses.replace(zone, attrs={**zone.attrs, "notes": [*(zone.attrs.get("notes") or []), note]})]
    return [zone, *(normalize_record_set(zone.account, zone, rs) for rs in listing)]


def _why(failed: dict[str, ScopeError], scope: str) -> str:
    e = failed.get(scope.lower())
    return e.reason if e else "not read"
