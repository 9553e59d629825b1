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

An internal load balancer target names only the load balancer's frontend (IP address, port, protocol,
region, project, network, type). For an internal passthrough Network Load Balancer (``regionalL4ilb``)
the chain to its health check is read: the project's forwarding rules (aggregated list) give the
internal rule with that address in that region, its ``backendService`` the backend service
(aggregated list), whose health check (``healthChecks.get`` / ``regionHealthChecks.get``) gives the
interval and unhealthy threshold: detection = interval x threshold. Internal Application Load
Balancers (``regionalL7ilb``, ``globalL7ilb``) reach their backend service through a target proxy and
a URL map, which are not read: their detection stays unknown, and the target's note says why.
"""

from __future__ import annotations

from typing import Any

from failover.equivalence import normalize_name
from failover.errors import ProviderError
from failover.model import Kind, Resource, ScopeError
from providers.base import each, error_kind, one_line
from providers.gcp.clients import GcpSession
from providers.gcp.common import Target, location_of, path_of

NATIVE_ZONE = "dns.googleapis.com/ManagedZone"
NATIVE_RRSET = "dns.googleapis.com/ResourceRecordSet"
NATIVE_POLICY = "dns.googleapis.com/RRSetRoutingPolicy"
MECHANISMS = {"primaryBackup": "cloud-dns-failover", "wrr": "cloud-dns-weighted", "geo": "cloud-dns-geo"}
ILB_NOTE = "internal load balancer target: Cloud DNS follows the load balancer's own backend health check"
INTERNAL_SCHEMES = ("INTERNAL", "INTERNAL_MANAGED")


def fqdn_of(name: str) -> str:
    """``WWW.Example.com.`` -> ``www.example.com`` (how every reader names DNS resources)."""
    return normalize_name(name)


def normalize_ilb(t: dict[str, Any]) -> dict[str, Any]:
    """An internal load balancer target (``RRSetRoutingPolicyLoadBalancerTarget``) in our words."""
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
        "internal_load_balancers": [normalize_ilb(t) for t in checked.get("internalLoadBalancers") or []],
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


def ilb_key(t: dict[str, Any], project: str) -> tuple[str, str, str, str]:
    """An internal load balancer target's identity: (project, region, IP address, port)."""
    return (str(t.get("project") or project), str(t.get("region") or ""), str(t.get("ip_address")), str(t.get("port")))


# What one internal load balancer target resolves to: the forwarding rule, backend service and health
# check URL of its chain, or why the chain cannot be read.
IlbChain = dict[str, str] | str


def _detection(hc: HealthCheck | None) -> tuple[float, int] | str:
    if not isinstance(hc, dict):
        return hc or "not read"
    if hc.get("interval_s") is None or hc.get("threshold") is None:
        return "interval or unhealthy threshold not reported"
    return float(hc["interval_s"]), int(hc["threshold"])


def _checked_target(
    item: dict[str, Any],
    label: str,
    hc_url: str | None,
    checks: dict[str, HealthCheck],
    notes: list[str],
    chains: dict[tuple[str, str, str, str], IlbChain] | None = None,
    project: str = "",
) -> dict[str, Any]:
    """The item's health-checked targets as one ``RoutingTarget``, with the detection that governs them:
    the slowest of its parts (the policy's health check for external endpoints, each internal load
    balancer's own backend health check), unknown when any part's is."""
    ilbs = item["internal_load_balancers"]
    external = item["external_endpoints"]
    addresses = [*external, *(str(t["ip_address"]) for t in ilbs if t.get("ip_address"))]
    out: dict[str, Any] = {"name": label, "addresses": addresses, "enabled": True, "healthy": None}
    out |= {"health_checked": True, "interval_s": None, "threshold": None, "detection_s": None}
    regions = {t.get("region") for t in ilbs if t.get("region")}
    out["region"] = item.get("location") or (regions.pop() if len(regions) == 1 else None)
    parts: list[tuple[float, int]] = []
    read: list[str] = []  # the chains read, noted after any unknown one (the path facts quote the first)
    unknown = False
    for t in ilbs:
        chain = (chains or {}).get(ilb_key(t, project), "not read")
        where = f"{label}: internal load balancer {t.get('ip_address')}"
        if isinstance(chain, str):
            notes.append(f"{where}: {ILB_NOTE}, whose settings are unknown ({chain})")
            unknown = True
            continue
        found = _detection(checks.get(chain["health_check"]))
        if isinstance(found, str):
            notes.append(f"{where}: health check {chain['health_check']} unknown: {found}")
            unknown = True
            continue
        via = f"{chain['forwarding_rule']} -> {chain['backend_service']}"
        read.append(f"{where}: {ILB_NOTE} ({chain['health_check']}, via {via})")
        parts.append(found)
    if external:
        if not hc_url:
            notes.append(f"{label}: external endpoints without a health check (routingPolicy.healthCheck unset)")
            notes += read
            out["health_checked"] = False
            return out
        found = _detection(checks.get(hc_url))
        if isinstance(found, str):
            notes.append(f"{label}: health check {hc_url} unknown: {found}")
            unknown = True
        else:
            parts.append(found)
    notes += read
    if parts and not unknown:
        interval, threshold = max(parts, key=lambda p: p[0] * p[1])
        out |= {"interval_s": interval, "threshold": threshold, "detection_s": interval * threshold}
    return out


def routing_targets(
    policy: dict[str, Any],
    checks: dict[str, HealthCheck],
    notes: list[str],
    chains: dict[tuple[str, str, str, str], IlbChain] | None = None,
    project: str = "",
) -> list[dict[str, Any]]:
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
            target = _checked_target(item, label, policy.get("health_check"), checks, notes, chains, project)
            out.append(target | share)
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


def routing_view(
    target: Target,
    record: Resource,
    checks: dict[str, HealthCheck],
    chains: dict[tuple[str, str, str, str], IlbChain] | None = None,
) -> Resource | None:
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
        "targets": routing_targets(policy, checks, notes, chains, target.project),
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
    """A Compute health check's interval, threshold, timeout and source regions (``healthChecks.get``, or
    ``regionHealthChecks.get`` for a regional one)."""
    parts = path_of(url).split("/")
    if len(parts) == 5 and parts[0] == "projects" and parts[2:4] == ["global", "healthChecks"]:
        project, name = parts[1], parts[4]
        hc = session.call(
            f"{project}/healthChecks/{name}",
            session.client("HealthChecksClient").get,
            project=project,
            health_check=name,
        )
    elif len(parts) == 6 and parts[0] == "projects" and parts[2] == "regions" and parts[4] == "healthChecks":
        project, region, name = parts[1], parts[3], parts[5]
        hc = session.call(
            f"{project}/healthChecks/{name}",
            session.client("RegionHealthChecksClient").get,
            project=project,
            region=region,
            health_check=name,
        )
    else:
        return f"not a health check URL: {url}"
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
    chains, chain_errors = read_ilb_chains(session, target, records)
    errors += chain_errors
    urls = sorted(
        {
            str(r.attrs["routing_policy"]["health_check"])
            for r in records
            if r.attrs.get("routing_policy") and r.attrs["routing_policy"].get("health_check")
        }
        | {c["health_check"] for c in chains.values() if isinstance(c, dict)}
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
    views = [v for r in records if (v := routing_view(target, r, checks, chains)) is not None]
    return [*resources, *records, *views], errors


def read_ilb_chains(
    session: GcpSession, target: Target, records: list[Resource]
) -> tuple[dict[tuple[str, str, str, str], IlbChain], list[ScopeError]]:
    """For every internal load balancer target of the routing policies: its forwarding rule, backend
    service and health check URL, read from the aggregated forwarding rule and backend service lists of
    its project (only projects with such targets are read), or why that chain cannot be read."""
    targets = [
        t
        for r in records
        for item in (r.attrs.get("routing_policy") or {}).get("items") or []
        for t in item["internal_load_balancers"]
    ]
    chains: dict[tuple[str, str, str, str], IlbChain] = {}
    errors: list[ScopeError] = []
    for project in sorted({str(t.get("project") or target.project) for t in targets}):
        mine = [t for t in targets if str(t.get("project") or target.project) == project]
        try:
            rules = session.project_aggregated_whole(project, "forwardingRules", "forwarding rules")
            services = session.project_aggregated_whole(project, "backendServices", "backend services")
        except ProviderError as err:
            errors.append(
                ScopeError(
                    scope=err.scope or f"{project}/forwardingRules",
                    error=error_kind(err),
                    reason=f"Cloud DNS internal load balancer targets: {one_line(err)}",
                )
            )
            for t in mine:
                chains[ilb_key(t, target.project)] = f"forwarding rules or backend services not read: {one_line(err)}"
            continue
        by_path = {path_of(bs.self_link): bs for _where, bs in services if bs.self_link}
        for t in mine:
            chains[ilb_key(t, target.project)] = ilb_chain(t, rules, by_path)
    return chains, errors


def ilb_chain(t: dict[str, Any], rules: list[tuple[str, Any]], services: dict[str, Any]) -> IlbChain:
    """The chain of one internal load balancer target, from the rule with its address in its region."""
    if t.get("lb_type") in ("regionalL7ilb", "globalL7ilb"):
        return (
            f"{t.get('lb_type')}: an internal Application Load Balancer reaches its backend service through a "
            "target proxy and URL map, which are not read"
        )
    region = str(t.get("region") or "")
    candidates = [
        rule
        for where, rule in rules
        if rule.I_p_address == t.get("ip_address")
        and rule.load_balancing_scheme in INTERNAL_SCHEMES
        and location_of(where)[0] == region
        and (not t.get("network") or not rule.network or path_of(rule.network) == t.get("network"))
    ]
    port = str(t.get("port") or "")
    exact = [r for r in candidates if r.all_ports or not port or port in r.ports or _in_range(port, r.port_range)]
    found = (exact or candidates)[:1]
    if not found:
        return f"no internal forwarding rule with address {t.get('ip_address')} in {region or '?'}"
    rule = found[0]
    service = services.get(path_of(rule.backend_service)) if rule.backend_service else None
    if service is None:
        return f"forwarding rule {rule.name}: backend service {path_of(rule.backend_service) or 'unset'} not found"
    if not service.health_checks:
        return f"backend service {service.name} has no health check"
    return {
        "forwarding_rule": f"{path_of(rule.self_link) or rule.name}",
        "backend_service": path_of(service.self_link),
        "health_check": path_of(service.health_checks[0]),
    }


def _in_range(port: str, port_range: str) -> bool:
    low, _, high = (port_range or "").partition("-")
    try:
        return int(low) <= int(port) <= int(high or low)
    except ValueError:
        return False
