"""Cloud DNS API (v1) shapes for the GCP emulator (served by ``failover.sandbox.gcp``), and the Compute
health checks its routing policies name.

``GET /dns/v1/projects/{project}/managedZones`` answers a ``ManagedZonesListResponse`` and
``GET /dns/v1/projects/{project}/managedZones/{zone}/rrsets`` a ``ResourceRecordSetsListResponse``;
field names, nesting and enum values follow the ``dns.v1`` discovery document google-api-python-client
ships (tests/integration/test_sandbox_gcp_dns_conformance.py holds every body to it, and each health check to the
``compute.v1`` ``HealthCheck`` schema). What it models as the real API does:

- every zone gets its apex SOA and NS record sets on creation, and a public zone its four delegated
  ``ns-cloud-<letter><1-4>.googledomains.com.`` name servers (private zones report
  ``ns-gcp-private.googledomains.com.`` and carry ``privateVisibilityConfig``);
- a record set holds either ``rrdatas`` or a ``routingPolicy`` (``primaryBackup``, ``wrr`` or ``geo``),
  never both; nested policy objects carry their ``kind`` as the API writes it;
- health-checked targets are ``internalLoadBalancers`` (``RRSetRoutingPolicyLoadBalancerTarget``) or
  ``externalEndpoints`` (public IPs), and the latter need the policy's ``healthCheck`` (a global Compute
  health check with three ``sourceRegions`` and ``checkIntervalSec`` of at least 30);
- ``rrsets.list`` filters by ``name`` (and ``type``, which needs ``name``); an unknown zone is a 404.
"""

from __future__ import annotations

from typing import Any

DNS_BASE = "https://dns.googleapis.com/dns/v1"
COMPUTE_BASE = "https://www.googleapis.com/compute/v1"
LB_TYPES = frozenset({"none", "globalL7ilb", "regionalL4ilb", "regionalL7ilb"})  # LoadBalancerTarget.loadBalancerType
IP_PROTOCOLS = frozenset({"undefined", "tcp", "udp"})
HEALTH_CHECK_TYPES = frozenset({"HTTP", "HTTPS", "TCP"})  # the protocols a sourceRegions health check allows
Target = str | dict[str, Any]  # an external endpoint IP, or an internal load balancer (``ilb(...)``)


def managed_zone(
    project: str,
    name: str,
    dns_name: str,
    *,
    zone_id: str,
    letter: str = "a",
    visibility: str = "public",
    description: str = "",
    labels: dict[str, str] | None = None,
    networks: list[str] | None = None,
) -> dict[str, Any]:
    """One ``ManagedZone``. ``dns_name`` gets its trailing dot as the API writes it."""
    if visibility not in ("public", "private"):
        raise ValueError(f"visibility must be public or private, not {visibility!r}")
    fqdn = dns_name if dns_name.endswith(".") else dns_name + "."
    body: dict[str, Any] = {
        "kind": "dns#managedZone",
        "name": name,
        "dnsName": fqdn,
        "description": description,
        "id": zone_id,
        "creationTime": "2024-05-01T12:00:00.000Z",
        "visibility": visibility,
        "labels": dict(labels or {}),
    }
    if visibility == "public":
        body["nameServers"] = [f"ns-cloud-{letter}{i}.googledomains.com." for i in range(1, 5)]
    else:
        body["nameServers"] = ["ns-gcp-private.googledomains.com."]
        body["privateVisibilityConfig"] = {
            "kind": "dns#managedZonePrivateVisibilityConfig",
            "networks": [
                {"kind": "dns#managedZonePrivateVisibilityConfigNetwork", "networkUrl": n}
                for n in networks or [f"{COMPUTE_BASE}/projects/{project}/global/networks/default"]
            ],
        }
    return body


def apex_records(zone: dict[str, Any]) -> list[dict[str, Any]]:
    """The SOA and NS record sets Cloud DNS creates with every zone."""
    fqdn, servers = zone["dnsName"], zone["nameServers"]
    soa = f"{servers[0]} cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300"
    return [rrset(fqdn, "NS", servers, ttl=21600), rrset(fqdn, "SOA", [soa], ttl=21600)]


def rrset(
    name: str, rtype: str, rrdatas: list[str] | None = None, *, ttl: int = 300, policy: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One ``ResourceRecordSet``: plain ``rrdatas``, or a ``routingPolicy`` (``primary_backup``, ``wrr``, ``geo``)."""
    if (rrdatas is None) == (policy is None):
        raise ValueError("a record set holds rrdatas or a routing policy, exactly one")
    body: dict[str, Any] = {"kind": "dns#resourceRecordSet", "name": name, "type": rtype, "ttl": ttl}
    if policy is not None:
        body["routingPolicy"] = policy
    else:
        body["rrdatas"] = list(rrdatas or [])
    return body


def ilb(
    project: str,
    region: str,
    ip_address: str,
    *,
    lb_type: str = "regionalL4ilb",
    port: str = "80",
    protocol: str = "tcp",
    network: str = "default",
) -> dict[str, Any]:
    """An internal load balancer target (``RRSetRoutingPolicyLoadBalancerTarget``)."""
    if lb_type not in LB_TYPES or protocol not in IP_PROTOCOLS:
        raise ValueError(f"loadBalancerType in {sorted(LB_TYPES)}, ipProtocol in {sorted(IP_PROTOCOLS)}")
    return {
        "kind": "dns#rRSetRoutingPolicyLoadBalancerTarget",
        "loadBalancerType": lb_type,
        "ipAddress": ip_address,
        "port": port,
        "ipProtocol": protocol,
        "networkUrl": f"{COMPUTE_BASE}/projects/{project}/global/networks/{network}",
        "project": project,
        "region": region,
    }


def health_checked(targets: list[Target]) -> dict[str, Any]:
    """``RRSetRoutingPolicyHealthCheckTargets``: strings are external endpoints, dicts internal load balancers."""
    out: dict[str, Any] = {}
    external = [t for t in targets if isinstance(t, str)]
    internal = [t for t in targets if isinstance(t, dict)]
    if external:
        out["externalEndpoints"] = external
    if internal:
        out["internalLoadBalancers"] = internal
    return out


def _item(kind: str, rrdatas: list[str] | None, targets: list[Target] | None) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": f"dns#rRSetRoutingPolicy{kind}"}
    if rrdatas:
        item["rrdatas"] = list(rrdatas)
    if targets:
        item["healthCheckedTargets"] = health_checked(targets)
    return item


def geo_policy(items: list[dict[str, Any]], *, fencing: bool | None = None) -> dict[str, Any]:
    """``RRSetRoutingPolicyGeoPolicy`` from ``geo_item`` entries."""
    out: dict[str, Any] = {"kind": "dns#rRSetRoutingPolicyGeoPolicy", "items": items}
    if fencing is not None:
        out["enableFencing"] = fencing
    return out


def geo_item(location: str, rrdatas: list[str] | None = None, targets: list[Target] | None = None) -> dict[str, Any]:
    return {**_item("GeoPolicyGeoPolicyItem", rrdatas, targets), "location": location}


def wrr_item(weight: float, rrdatas: list[str] | None = None, targets: list[Target] | None = None) -> dict[str, Any]:
    return {**_item("WrrPolicyWrrPolicyItem", rrdatas, targets), "weight": weight}


def policy(
    *,
    primary_backup: dict[str, Any] | None = None,
    wrr: list[dict[str, Any]] | None = None,
    geo: dict[str, Any] | None = None,
    health_check: str | None = None,
) -> dict[str, Any]:
    """An ``RRSetRoutingPolicy`` holding exactly one of the three policies; ``health_check`` is the
    Compute health check URL external endpoints are probed with."""
    chosen = [p for p in (primary_backup, wrr, geo) if p is not None]
    if len(chosen) != 1:
        raise ValueError("a routing policy is one of primaryBackup, wrr or geo")
    out: dict[str, Any] = {"kind": "dns#rRSetRoutingPolicy"}
    if primary_backup is not None:
        out["primaryBackup"] = primary_backup
    if wrr is not None:
        out["wrr"] = {"kind": "dns#rRSetRoutingPolicyWrrPolicy", "items": wrr}
    if geo is not None:
        out["geo"] = geo
    if health_check:
        out["healthCheck"] = health_check
    return out


def primary_backup(primary: list[Target], backup: dict[str, Any], *, trickle: float | None = None) -> dict[str, Any]:
    """``RRSetRoutingPolicyPrimaryBackupPolicy``: health-checked primary targets, a geo policy as backup
    (its ``enableFencing`` is what gcloud calls ``--enable-geo-fencing`` for backups), and the trickle ratio."""
    out: dict[str, Any] = {
        "kind": "dns#rRSetRoutingPolicyPrimaryBackupPolicy",
        "primaryTargets": health_checked(primary),
        "backupGeoTargets": backup,
    }
    if trickle is not None:
        out["trickleTraffic"] = trickle
    return out


def health_check(
    project: str,
    name: str,
    *,
    hc_id: str,
    type_: str = "HTTPS",
    port: int = 443,
    path: str = "/healthz",
    interval_s: int = 30,
    timeout_s: int = 10,
    unhealthy_threshold: int = 3,
    healthy_threshold: int = 2,
    source_regions: list[str] | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """A Compute ``HealthCheck``: global by default, for Cloud DNS public health checking (three
    ``sourceRegions``; the API refuses such a check with ``checkIntervalSec`` under 30); regional with
    ``region`` (a load balancer's backend health check: no ``sourceRegions``)."""
    default = ["us-east4", "europe-west1", "asia-southeast1"] if region is None else []
    regions = source_regions if source_regions is not None else default
    if region is not None and regions:
        raise ValueError("a regional health check has no sourceRegions")
    if type_ not in HEALTH_CHECK_TYPES:
        raise ValueError(f"type must be one of {sorted(HEALTH_CHECK_TYPES)}")
    if regions and (len(regions) != 3 or interval_s < 30):
        raise ValueError("a health check with sourceRegions names exactly 3 and checks at most every 30 s")
    spec: dict[str, Any] = {"port": port}
    if type_ != "TCP":
        spec["requestPath"] = path
    where = f"regions/{region}" if region else "global"
    located = {"region": f"{COMPUTE_BASE}/projects/{project}/regions/{region}"} if region else {}
    sources = {"sourceRegions": regions} if regions else {}
    return {
        "kind": "compute#healthCheck",
        "id": hc_id,
        "creationTimestamp": "2024-05-01T05:00:00.000-07:00",
        "name": name,
        "checkIntervalSec": interval_s,
        "timeoutSec": timeout_s,
        "unhealthyThreshold": unhealthy_threshold,
        "healthyThreshold": healthy_threshold,
        "type": type_,
        f"{type_.lower()}HealthCheck": spec,
        **sources,
        **located,
        "selfLink": f"{COMPUTE_BASE}/projects/{project}/{where}/healthChecks/{name}",
    }


def zones_list(items: list[dict[str, Any]], token: str) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "dns#managedZonesListResponse", "managedZones": items}
    if token:
        out["nextPageToken"] = token
    return out


def rrsets_list(items: list[dict[str, Any]], token: str) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "dns#resourceRecordSetsListResponse", "rrsets": items}
    if token:
        out["nextPageToken"] = token
    return out


def select(rrsets: list[dict[str, Any]], name: str | None, rtype: str | None) -> list[dict[str, Any]]:
    """``rrsets.list``'s ``name`` / ``type`` filters."""
    out = rrsets
    if name:
        want = name if name.endswith(".") else name + "."
        out = [r for r in out if r["name"] == want]
    if rtype:
        out = [r for r in out if r["type"] == rtype]
    return out
