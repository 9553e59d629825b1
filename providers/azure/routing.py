"""Front Door Standard/Premium routes and Azure DNS record sets (ARM wire JSON) → normalized ``Resource``s.

Pure functions over what azure-mgmt-cdn and azure-mgmt-dns return (camelCase wire keys); the reads are in
``providers.azure.routingtier``.

Front Door: one ``routing`` resource per route. Its targets are the origins of the route's origin group,
in Front Door's order (lowest ``priority`` first). How fast an origin is taken out: Front Door looks at
the last ``sampleSize`` health-probe results and counts an origin healthy while at least
``successfulSamplesRequired`` of them succeeded (learn.microsoft.com/azure/frontdoor/health-probes), so a
dead origin is out after ``sampleSize - successfulSamplesRequired + 1`` failed probes, one every
``probeIntervalInSeconds``. An origin group without ``healthProbeSettings`` is not probed: every enabled
origin counts as healthy and nothing fails over. When every origin is unhealthy Front Door sends traffic
to all enabled origins (it fails open).
"""

from __future__ import annotations

from typing import Any

from failover.attrs import RoutingTarget
from failover.model import Kind, Provider, Resource
from providers.azure.kinds import kind_for

__all__ = [
    "FRONT_DOOR_FALLBACK",
    "FRONT_DOOR_ROUTE_TYPE",
    "detection_seconds",
    "is_front_door_profile",
    "normalize_record_set",
    "normalize_routes",
]

FRONT_DOOR_ROUTE_TYPE = "Microsoft.Cdn/profiles/afdEndpoints/routes"
FRONT_DOOR_FALLBACK = "every enabled origin: Front Door fails open when no origin of the group is healthy"
_FRONT_DOOR_SKUS = ("standard_azurefrontdoor", "premium_azurefrontdoor")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _enabled(value: Any) -> bool | None:
    return None if value is None else str(value).lower() == "enabled"


def _key(resource_id: Any) -> str:
    return str(resource_id or "").lower()


def is_front_door_profile(resource: Resource) -> bool:
    """A Microsoft.Cdn profile on a Front Door Standard/Premium SKU (classic CDN SKUs are not routing)."""
    sku = str(_dict(resource.attrs.get("sku")).get("name") or "").lower()
    return resource.native_type.lower() == "microsoft.cdn/profiles" and sku in _FRONT_DOOR_SKUS


def detection_seconds(interval_s: Any, sample_size: Any, successful_required: Any) -> tuple[int | None, float | None]:
    """(failed probes before an origin is out, seconds that takes): ``sampleSize - successfulSamplesRequired
    + 1`` probes, one per interval; (None, None) when a setting is missing or inconsistent."""
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (interval_s, sample_size)):
        return None, None
    if not isinstance(successful_required, int) or isinstance(successful_required, bool):
        return None, None
    if successful_required < 1 or sample_size < successful_required or interval_s <= 0:
        return None, None
    failures = int(sample_size) - successful_required + 1
    return failures, float(interval_s) * failures


def _target(origin: dict[str, Any], probe: dict[str, Any] | None, lb: dict[str, Any]) -> RoutingTarget:
    p = _dict(origin.get("properties"))
    interval = probe.get("probeIntervalInSeconds") if probe else None
    threshold, detect = detection_seconds(interval, lb.get("sampleSize"), lb.get("successfulSamplesRequired"))
    host = p.get("hostName")
    return RoutingTarget(
        name=origin.get("name"),
        addresses=[str(host)] if host else [],
        priority=p.get("priority"),
        weight=p.get("weight"),
        enabled=_enabled(p.get("enabledState")),
        healthy=None,  # ARM reports no origin health; Front Door's probes are not exposed here
        health_checked=probe is not None,
        interval_s=float(interval) if probe and isinstance(interval, int | float) else None,
        threshold=threshold if probe else None,
        detection_s=detect if probe else None,
        region=None,
    )


def _ordered(targets: list[RoutingTarget]) -> list[RoutingTarget]:
    """Front Door's order: lowest priority first (ARM's default priority is 1), then heaviest weight."""
    return sorted(targets, key=lambda t: (t.get("priority") or 1, -(t.get("weight") or 0), t.get("name") or ""))


def normalize_routes(
    profile: Resource,
    endpoints: list[dict[str, Any]],
    routes: dict[str, list[dict[str, Any]]],
    groups: list[dict[str, Any]],
    origins: dict[str, list[dict[str, Any]]],
    domains: list[dict[str, Any]],
) -> list[Resource]:
    """One ``routing`` resource per route of a Front Door profile.

    ``routes`` and ``origins`` are keyed by the lower-cased id of the endpoint / origin group they were
    listed under. A route whose origin group's origins were not read keeps no targets and says so in
    ``notes``, never an empty group."""
    domain_hosts = {_key(d.get("id")): _dict(d.get("properties")).get("hostName") for d in domains}
    group_by_id = {_key(g.get("id")): g for g in groups}
    out = []
    for ep in endpoints:
        ep_props = _dict(ep.get("properties"))
        ep_host = ep_props.get("hostName")
        for route in routes.get(_key(ep.get("id")), []):
            rp = _dict(route.get("properties"))
            notes: list[str] = []
            hosts = []
            for ref in rp.get("customDomains") or []:
                host = domain_hosts.get(_key(_dict(ref).get("id")))
                if host:
                    hosts.append(str(host))
                else:
                    notes.append(f"custom domain {_dict(ref).get('id')} is not among the profile's domains")
            if _enabled(rp.get("linkToDefaultDomain")) and ep_host:
                hosts.append(str(ep_host))
            group_id = _dict(rp.get("originGroup")).get("id")
            group = group_by_id.get(_key(group_id))
            gp = _dict(group.get("properties")) if group else {}
            probe_raw = gp.get("healthProbeSettings")
            probe = _dict(probe_raw) if isinstance(probe_raw, dict) else None
            lb = _dict(gp.get("loadBalancingSettings"))
            listed = origins.get(_key(group_id))
            if group is None:
                notes.append(f"origin group {group_id} is not among the profile's origin groups")
            elif listed is None:
                notes.append(f"the origins of origin group {group.get('name')} could not be read")
            targets = _ordered([_target(o, probe, lb) for o in listed or []])
            attrs: dict[str, Any] = {
                "resource_group": profile.attrs.get("resource_group"),
                "mechanism": "front-door",
                "fqdn": hosts[0] if hosts else None,
                "hostnames": hosts,
                "enabled": _both(_enabled(rp.get("enabledState")), _enabled(ep_props.get("enabledState"))),
                "ttl": None,  # proxied: clients hold the endpoint's addresses, not the origins'
                "proxied": True,
                "policy": None,
                "control_plane": "azure",
                "targets": targets,
                "fallback": FRONT_DOOR_FALLBACK,
                "profile": profile.native_id,
                "endpoint_id": ep.get("id"),
                "endpoint_hostname": ep_host,
                "origin_group": group_id,
                "patterns": [str(p) for p in rp.get("patternsToMatch") or []],
                "probe": None
                if probe is None
                else {
                    "path": probe.get("probePath"),
                    "protocol": probe.get("probeProtocol"),
                    "request_type": probe.get("probeRequestType"),
                    "interval_s": probe.get("probeIntervalInSeconds"),
                },
                "sample_size": lb.get("sampleSize"),
                "successful_samples_required": lb.get("successfulSamplesRequired"),
                "additional_latency_ms": lb.get("additionalLatencyInMilliseconds"),
                "notes": notes,
            }
            out.append(
                Resource(
                    provider=Provider.AZURE,
                    account=profile.account,
                    region=profile.region,
                    kind=kind_for(FRONT_DOOR_ROUTE_TYPE),
                    native_type=FRONT_DOOR_ROUTE_TYPE,
                    native_id=str(route.get("id") or ""),
                    name=f"{profile.name}/{ep.get('name')}/{route.get('name')}",
                    state=str(rp.get("enabledState") or ""),
                    tags=dict(profile.tags),
                    attrs=attrs,
                )
            )
    return out


def _both(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def normalize_record_set(subscription: str, zone: Resource, rs: dict[str, Any]) -> Resource:
    """One record set of an Azure DNS zone (``GET …/dnsZones/{zone}/recordsets``). ``name`` is the full name
    (``www.example.com``), as Route 53 records are named, so the index finds it by the public name."""
    p = _dict(rs.get("properties"))
    rtype = str(rs.get("type") or "").rpartition("/")[2].upper()
    relative = str(rs.get("name") or "")
    zone_name = zone.name.rstrip(".")
    full = zone_name if relative in ("@", "") else f"{relative}.{zone_name}"
    values: list[str] = []
    for a in p.get("ARecords") or []:
        values.append(str(_dict(a).get("ipv4Address") or ""))
    for a in p.get("AAAARecords") or []:
        values.append(str(_dict(a).get("ipv6Address") or ""))
    cname = _dict(p.get("CNAMERecord")).get("cname")
    if cname:
        values.append(str(cname))
    for ns in p.get("NSRecords") or []:
        values.append(str(_dict(ns).get("nsdname") or ""))
    target = _dict(p.get("targetResource")).get("id") or None
    native_type = f"{zone.native_type}/{rtype}"
    return Resource(
        provider=Provider.AZURE,
        account=subscription,
        region="global",
        kind=Kind.DNS_RECORD,
        native_type=native_type,
        native_id=str(rs.get("id") or ""),
        name=full,
        state=str(p.get("provisioningState") or ""),
        attrs={
            "resource_group": zone.attrs.get("resource_group"),
            "zone_id": zone.native_id,
            "zone": zone_name,
            "type": rtype,
            "ttl": p.get("TTL"),
            "values": [v for v in values if v],
            "alias_target_resource": target,
            "fqdn": p.get("fqdn"),
        },
    )
