"""Cloud DNS managed zones and record sets, with their routing policies, as ``dns.zone``,
``dns.record`` and ``routing`` resources.

Read through the Cloud DNS API v1 (``managedZones.list``, then ``resourceRecordSets.list`` per zone)
with google-api-python-client's bundled ``dns v1`` discovery document: google-cloud-dns's
``ResourceRecordSet`` has no routing policy. A zone's ``nameServers`` (``ns-cloud-a1.googledomains.com``)
are what ``dns.delegation`` recognises as GCP.

A record set with a ``routingPolicy`` is also a ``routing`` resource (same ``self_link``):
``primaryBackup`` is ``cloud-dns-failover``, ``wrr`` ``cloud-dns-weighted`` and ``geo``
``cloud-dns-geo``. Each policy item becomes up to two targets: its health-checked targets (internal
load balancers, whose own backend health check decides; external endpoints, probed by the Compute
health check the policy names, read with ``healthChecks.get`` for its interval and threshold) and its
plain ``rrdatas``, which Cloud DNS answers whatever their health.
"""

from __future__ import annotations

from typing import Any

from failover.equivalence import normalize_name
from failover.errors import ProviderError
from failover.model import Kind, Resource, ScopeError
from providers.base import each, error_kind, one_line
from providers.gcp.clients import GcpSession
from providers.gcp.common import Target, path_of

NATIVE_ZONE = "dns.googleapis.com/ManagedZone"
NATIVE_RRSET = "dns.googleapis.com/ResourceRecordSet"
NATIVE_POLICY = "dns.googleapis.com/RRSetRoutingPolicy"
MECHANISMS = {"primaryBackup": "cloud-dns-failover", "wrr": "cloud-dns-weighted", "geo": "cloud-dns-geo"}
ILB_NOTE = (
    "internal load balancer target: Cloud DNS follows the load balancer's own backend health check, "
    "whose interval and threshold are not read here"
)


def fqdn_of(name: str) -> str:
    """``WWW.Example.com.`` -> ``www.example.com`` (how every reader names DNS resources)."""
    return normalize_name(name)


def _ilb(t: dict[str, Any]) -> dict[str, Any]:
    return {
        "ip_address": t.get("ipAddress"),
        "port": t.get("port"),
        "protocol": t.get("ipProtocol"),
        "lb_type": t.get("loadBalancerType"),
        "region": t.get("region"),
        "project": t.get("project"),
        "network": path_of(str(t.get("networkUrl") or "")) or None,
    }


def _item(role: str, raw: dict[str, Any], **extra: Any) -> dict[str, Any]:
    checked = raw.get("healthCheckedTargets") or {}
    return {
        "role": role,
        **extra,
        "rrdatas": list(raw.get("rrdatas") or []),
        "external_endpoints": list(checked.get("externalEndpoints") or []),
        "internal_load_balancers": [_ilb(t) for t in checked.get("internalLoadBalancers") or []],
    }


def routing_policy(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The API's ``routingPolicy`` in our words (``RecordAttrs.routing_policy``); ``None`` without one."""
    if not raw:
        return None
    out: dict[str, Any] = {"health_check": raw.get("healthCheck") or None, "trickle_ratio": None, "fencing": None}
    if "primaryBackup" in raw:
        pb = raw["primaryBackup"] or {}
        backup = pb.get("backupGeoTargets") or {}
        primary = _item("primary", {"healthCheckedTargets": pb.get("primaryTargets") or {}})
        backups = [_item("backup", i, location=i.get("location")) for i in backup.get("items") or []]
        out |= {"policy": "primaryBackup", "trickle_ratio": float(pb.get("trickleTraffic") or 0.0)}
        out |= {"fencing": backup.get("enableFencing"), "items": [primary, *backups]}
    elif "wrr" in raw:
        items = (raw["wrr"] or {}).get("items") or []
        out |= {"policy": "wrr", "items": [_item("weighted", i, weight=float(i.get("weight") or 0.0)) for i in items]}
    elif "geo" in raw:
        geo = raw["geo"] or {}
        out |= {"policy": "geo", "fencing": geo.get("enableFencing")}
        out["items"] = [_item("geo", i, location=i.get("location")) for i in geo.get("items") or []]
    else:
        out |= {"policy": None, "items": []}
    return out


def normalize_zone(target: Target, zone: dict[str, Any], record_count: int | None, notes: list[str]) -> Resource:
    private = zone.get("visibility") == "private"
    networks = ((zone.get("privateVisibilityConfig") or {}).get("networks")) or []
    attrs: dict[str, Any] = {
        "project": target.project,
        "id": zone.get("id"),
        "self_link": f"projects/{target.project}/managedZones/{zone['name']}",
        "fqdn": fqdn_of(str(zone.get("dnsName") or "")),
        "nameservers": [fqdn_of(str(n)) for n in zone.get("nameServers") or []],
        "private": private,
        "record_count": record_count,
        "comment": zone.get("description") or None,
        "created": zone.get("creationTime"),
    }
    if private:
        attrs["vpcs"] = [{"id": path_of(str(n.get("networkUrl") or ""))} for n in networks]
    return _dns_resource(
        target,
        Kind.DNS_ZONE,
        NATIVE_ZONE,
        f"{target.project}/{zone['name']}",
        fqdn_of(str(zone.get("dnsName") or "")),
        attrs,
        notes,
        tags=dict(zone.get("labels") or {}),
    )


def _dns_resource(
    target: Target,
    kind: Kind,
    native_type: str,
    native_id: str,
    name: str,
    attrs: dict[str, Any],
    notes: list[str],
    tags: dict[str, str] | None = None,
) -> Resource:
    """A Cloud DNS resource: global (no region or zone), its notes, when any, last among its attrs."""
    if notes:
        attrs["notes"] = notes
    return Resource(
        provider="gcp",
        account=target.account,
        region="",
        zone="",
        kind=kind,
        native_type=native_type,
        native_id=native_id,
        name=name,
        tags=tags or {},
        attrs=attrs,
    )


def _rrset_ids(target: Target, zone: dict[str, Any], rr: dict[str, Any]) -> tuple[str, str]:
    name = fqdn_of(str(rr["name"]))
    native_id = f"{target.project}/{zone['name']}/{name}/{rr['type']}"
    return native_id, f"projects/{target.project}/managedZones/{zone['name']}/rrsets/{name}./{rr['type']}"


def normalize_rrset(target: Target, zone: dict[str, Any], rr: dict[str, Any]) -> Resource:
    native_id, self_link = _rrset_ids(target, zone, rr)
    attrs: dict[str, Any] = {
        "project": target.project,
        "self_link": self_link,
        "zone_id": str(zone["name"]),
        "zone": fqdn_of(str(zone.get("dnsName") or "")),
        "private": zone.get("visibility") == "private",
        "type": rr["type"],
        "ttl": rr.get("ttl"),
        "values": list(rr.get("rrdatas") or []),
        "routing_policy": routing_policy(rr.get("routingPolicy") or {}),
    }
    return _dns_resource(target, Kind.DNS_RECORD, NATIVE_RRSET, native_id, fqdn_of(str(rr["name"])), attrs, [])


# What one health check read gives: its settings, or why they are unknown.
HealthCheck = dict[str, Any] | str


def _label(item: dict[str, Any], index: int) -> str:
    """``primary``, ``backup us-east1``, ``us-east1`` (geo) or ``weight 0.5 #1`` (the item's index)."""
    role, location = item["role"], str(item.get("location") or "?")
    if role == "weighted":
        return f"weight {item['weight']:g} #{index}"
    return {"backup": f"backup {location}", "geo": location}.get(role, role)


def _checked_target(
    item: dict[str, Any], label: str, hc_url: str | None, checks: dict[str, HealthCheck], notes: list[str]
) -> dict[str, Any]:
    """The item's health-checked targets as one ``RoutingTarget``, with the detection that governs them."""
    ilbs = item["internal_load_balancers"]
    external = item["external_endpoints"]
    addresses = [*external, *(str(t["ip_address"]) for t in ilbs if t.get("ip_address"))]
    out: dict[str, Any] = {"name": label, "addresses": addresses, "enabled": True, "healthy": None}
    out |= {"health_checked": True, "interval_s": None, "threshold": None, "detection_s": None}
    regions = {t.get("region") for t in ilbs if t.get("region")}
    out["region"] = item.get("location") or (regions.pop() if len(regions) == 1 else None)
    if ilbs:
        notes.append(f"{label}: {ILB_NOTE}")
    if not external:
        return out
    if not hc_url:
        notes.append(f"{label}: external endpoints without a health check (routingPolicy.healthCheck unset)")
        out["health_checked"] = False
        return out
    hc = checks.get(hc_url)
    if not isinstance(hc, dict):
        notes.append(f"{label}: health check {hc_url} unknown: {hc or 'not read'}")
        return out
    if not ilbs:
        out |= {"interval_s": hc.get("interval_s"), "threshold": hc.get("threshold")}
        if hc.get("interval_s") is not None and hc.get("threshold") is not None:
            out["detection_s"] = float(hc["interval_s"]) * int(hc["threshold"])
    return out


def routing_targets(policy: dict[str, Any], checks: dict[str, HealthCheck], notes: list[str]) -> list[dict[str, Any]]:
    """Every answer the policy can give, health-checked targets apart from plain rrdatas (always answered)."""
    out: list[dict[str, Any]] = []
    trickle = policy.get("trickle_ratio") or 0.0
    for index, item in enumerate(policy.get("items") or []):
        label = _label(item, index)
        if item["role"] == "primary":
            share: dict[str, Any] = {"priority": 0, "weight": 1.0 - trickle}
        elif item["role"] == "backup":
            share = {"priority": 1, "weight": trickle}
        else:
            share = {"priority": None, "weight": item.get("weight")}
        if item["external_endpoints"] or item["internal_load_balancers"]:
            out.append(_checked_target(item, label, policy.get("health_check"), checks, notes) | share)
        if item["rrdatas"]:
            out.append(
                {
                    "name": f"{label} rrdatas",
                    "addresses": list(item["rrdatas"]),
                    "enabled": True,
                    "healthy": None,
                    "health_checked": False,
                    "region": item.get("location"),
                }
                | share
            )
    return out


def _fallback(policy: dict[str, Any]) -> str | None:
    kind, fenced = policy.get("policy"), policy.get("fencing")
    if kind == "primaryBackup":
        where = "only the querying region's backup item (fencing)" if fenced else "the nearest healthy region first"
        return f"backup geo targets, {where}"
    if kind == "wrr":
        return "another weighted item, chosen by weight, when every target of one is unhealthy"
    if kind == "geo":
        if fenced:
            return "the querying region's items even when all are unhealthy (fencing: no cross-region failover)"
        return "the next nearest region's items when every target of one region is unhealthy"
    return None


def routing_view(target: Target, record: Resource, checks: dict[str, HealthCheck]) -> Resource | None:
    """The ``routing`` resource of a record set with a routing policy (``None`` for a plain one)."""
    policy = record.attrs.get("routing_policy")
    if not policy:
        return None
    notes: list[str] = []
    attrs: dict[str, Any] = {
        "project": target.project,
        "self_link": record.attrs["self_link"],
        "mechanism": MECHANISMS.get(str(policy.get("policy"))),
        "fqdn": record.name,
        "enabled": True,
        "ttl": record.attrs.get("ttl"),
        "proxied": False,
        "policy": policy.get("policy"),
        "control_plane": "gcp",
        "targets": routing_targets(policy, checks, notes),
        "fallback": _fallback(policy),
        "trickle_ratio": policy.get("trickle_ratio"),
    }
    if record.attrs.get("private"):
        notes.append("in a private zone: answers only inside its VPC networks")
    return _dns_resource(
        target, Kind.ROUTING, NATIVE_POLICY, f"{record.native_id}/routingPolicy", record.name, attrs, notes
    )


def _pages(session: GcpSession, scope: str, collection: Any, key: str, **params: Any) -> list[dict[str, Any]]:
    request = collection.list(**params)
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    while request is not None:
        page = session.execute(scope, request)
        items.extend(page.get(key) or [])
        token = page.get("nextPageToken")
        if token in seen:
            raise ProviderError(f"error reading {scope}: the API repeated page token {token!r}", scope)
        if token:
            seen.add(token)
        request = collection.list_next(request, page)
    return items


def _read_rrsets(session: GcpSession, project: str, zone: str) -> list[dict[str, Any]]:
    api = session.api("dns", "v1")
    scope = f"{project}/managedZones/{zone}/rrsets"
    return _pages(session, scope, api.resourceRecordSets(), "rrsets", project=project, managedZone=zone)


def read_health_check(session: GcpSession, url: str) -> HealthCheck:
    """A global Compute health check's interval, threshold, timeout and source regions (``healthChecks.get``)."""
    parts = path_of(url).split("/")
    if len(parts) != 5 or parts[0] != "projects" or parts[2:4] != ["global", "healthChecks"]:
        return f"not a global health check URL: {url}"
    project, name = parts[1], parts[4]
    hc = session.call(
        f"{project}/healthChecks/{name}",
        session.client("HealthChecksClient").get,
        project=project,
        health_check=name,
    )
    return {
        "interval_s": hc.check_interval_sec or None,
        "timeout_s": hc.timeout_sec or None,
        "threshold": hc.unhealthy_threshold or None,
        "type": hc.type_ or None,
        "source_regions": list(hc.source_regions),
    }


def read_clouddns(session: GcpSession, target: Target) -> tuple[list[Resource], list[ScopeError]]:
    """The project's managed zones, every record set in them, and a routing view of each routing policy.

    A zone whose record sets cannot be listed is still inventoried (``record_count`` None, with a note)
    and its scope is reported incomplete; so is a health check that cannot be read (its targets'
    detection stays unknown)."""
    project = target.project
    api = session.api("dns", "v1")
    zones = _pages(session, f"{project}/managedZones", api.managedZones(), "managedZones", project=project)
    errors: list[ScopeError] = []
    resources: list[Resource] = []
    records: list[Resource] = []
    for zone, found in each(
        lambda z: _read_rrsets(session, project, z["name"]), zones, max_workers=session.max_workers
    ):
        if isinstance(found, ProviderError):
            scope = f"{project}/managedZones/{zone['name']}/rrsets"
            errors.append(ScopeError(scope=scope, error=error_kind(found), reason=one_line(found)))
            resources.append(normalize_zone(target, zone, None, [f"record sets unknown: {one_line(found)}"]))
            continue
        resources.append(normalize_zone(target, zone, len(found), []))
        records += [normalize_rrset(target, zone, rr) for rr in found]
    urls = sorted(
        {
            str(r.attrs["routing_policy"]["health_check"])
            for r in records
            if r.attrs.get("routing_policy") and r.attrs["routing_policy"].get("health_check")
        }
    )
    checks: dict[str, HealthCheck] = {}
    for url, hc in each(lambda u: read_health_check(session, u), urls, max_workers=session.max_workers):
        if isinstance(hc, ProviderError):
            parts = path_of(url).split("/")
            scope = f"{parts[1] if len(parts) > 1 else project}/healthChecks/{parts[-1]}"
            errors.append(
                ScopeError(scope=scope, error=error_kind(hc), reason=f"Cloud DNS health check: {one_line(hc)}")
            )
            checks[url] = one_line(hc)
        else:
            checks[url] = hc
    views = [v for r in records if (v := routing_view(target, r, checks)) is not None]
    return [*resources, *records, *views], errors
