"""AWS Global Accelerator (global, read once per account from the us-west-2 API, the only region serving
it): standard accelerators with their static IPs and DNS names, listeners, endpoint groups per region
(traffic dial, health-check settings) and endpoints (weight, health, client IP preservation), one
``routing`` resource per accelerator. Elastic IP endpoints are resolved to their address (and the
instance they are associated with) with ``ec2:DescribeAddresses`` in the group's region, so the checks
can tell whose site each endpoint is.
"""

from __future__ import annotations

import re
from typing import Any

from failover.errors import ProviderError
from failover.model import Kind, Resource
from providers.aws.context import GLOBAL, Ctx, iso, tag_dict
from providers.aws.session import guarded, paginate

SCOPE = "global/globalaccelerator"
API_REGION = "us-west-2"
MECHANISM = "global-accelerator"
FAILS_OPEN = "every endpoint, whatever its health (Global Accelerator fails open when none is healthy)"
_LB = re.compile(r"^arn:aws[\w-]*:elasticloadbalancing:[^:]*:\d*:loadbalancer/(app|net)/")
_HEALTH = {"HEALTHY": True, "UNHEALTHY": False}
MAX_RESULTS = 100  # every Global Accelerator List call's MaxResults limit

Listener = tuple[dict[str, Any], list[dict[str, Any]] | ProviderError]  # a listener and its endpoint groups


def read_accelerators(ctx: Ctx) -> list[Resource]:
    client = ctx.clients("globalaccelerator", API_REGION)
    size = min(ctx.page_size, MAX_RESULTS) if ctx.page_size else None
    accelerators = list(paginate(client, "list_accelerators", "Accelerators[]", page_size=size))

    def listeners(acc: dict[str, Any]) -> list[Listener]:
        found = paginate(client, "list_listeners", "Listeners[]", page_size=size, AcceleratorArn=acc["AcceleratorArn"])
        out: list[Listener] = []
        for lst in found:  # one listener's groups failing leaves the others read
            try:
                out.append((lst, guarded(lambda lst=lst: groups(lst))))  # type: ignore[misc]
            except ProviderError as err:
                out.append((lst, err))
        return out

    def groups(lst: dict[str, Any]) -> list[dict[str, Any]]:
        return list(
            paginate(
                client,
                "list_endpoint_groups",
                "EndpointGroups[]",
                page_size=size,
                ListenerArn=lst["ListenerArn"],
            )
        )

    def tags(acc: dict[str, Any]) -> dict[str, str]:
        return tag_dict(client.list_tags_for_resource(ResourceArn=acc["AcceleratorArn"]).get("Tags"))

    read = ctx.each(listeners, accelerators)
    tagged = {a["AcceleratorArn"]: t for a, t in ctx.each(tags, accelerators)}
    addresses = read_addresses(ctx, [lst for _, found in read if not isinstance(found, ProviderError) for lst in found])
    out = []
    for acc, found in read:
        arn = acc["AcceleratorArn"]
        if isinstance(found, ProviderError):
            ctx.incomplete(f"{SCOPE}/{arn}", found, "listeners not read")
        for _, g in found if not isinstance(found, ProviderError) else []:
            if isinstance(g, ProviderError):
                ctx.incomplete(f"{SCOPE}/{arn}", g, "endpoint groups not read")
        acc_tags = tagged[arn]
        if isinstance(acc_tags, ProviderError):
            ctx.incomplete(f"{SCOPE}/tags", acc_tags, f"tags unknown for {acc.get('Name')}")
        out.append(normalize_accelerator(ctx, acc, found, acc_tags, addresses))
    return out


def endpoint_kind(endpoint_id: str) -> str:
    """What an endpoint id names: ``ec2-instance``, ``elastic-ip``, ``alb``, ``nlb`` (or ``unknown``)."""
    if endpoint_id.startswith("i-"):
        return "ec2-instance"
    if endpoint_id.startswith("eipalloc-"):
        return "elastic-ip"
    m = _LB.match(endpoint_id)
    if m:
        return "alb" if m.group(1) == "app" else "nlb"
    return "unknown"


def read_addresses(ctx: Ctx, listeners: list[Listener]) -> dict[str, dict[str, Any] | ProviderError]:
    """The Elastic IP allocations the endpoint groups name, by allocation id, read in each group's region."""
    by_region: dict[str, set[str]] = {}
    for _, groups in listeners:
        for g in groups if not isinstance(groups, ProviderError) else []:
            for e in g.get("EndpointDescriptions", []):
                if endpoint_kind(str(e.get("EndpointId", ""))) == "elastic-ip":
                    by_region.setdefault(g["EndpointGroupRegion"], set()).add(e["EndpointId"])

    def one(item: tuple[str, list[str]]) -> list[dict[str, Any]]:
        region, ids = item
        ec2 = ctx.clients("ec2", region)
        return list(ec2.describe_addresses(Filters=[{"Name": "allocation-id", "Values": ids}]).get("Addresses", []))

    out: dict[str, dict[str, Any] | ProviderError] = {}
    for (region, ids), found in ctx.each(one, [(r, sorted(i)) for r, i in sorted(by_region.items())]):
        if isinstance(found, ProviderError):
            ctx.incomplete(f"{region}/ec2/addresses", found, "Elastic IP endpoints of Global Accelerator")
            out.update({i: found for i in ids})
            continue
        out.update({a["AllocationId"]: a for a in found if a.get("AllocationId")})
    return out


def _ports(lst: dict[str, Any]) -> list[str]:
    return [
        str(r["FromPort"]) if r.get("FromPort") == r.get("ToPort") else f"{r.get('FromPort')}-{r.get('ToPort')}"
        for r in lst.get("PortRanges", [])
    ]


def normalize_endpoint(e: dict[str, Any], addresses: dict[str, dict[str, Any] | ProviderError]) -> dict[str, Any]:
    eid = str(e.get("EndpointId", ""))
    kind = endpoint_kind(eid)
    state = e.get("HealthState")
    out: dict[str, Any] = {
        "id": eid,
        "name": eid,
        "kind": kind,
        "weight": float(e["Weight"]) if e.get("Weight") is not None else None,
        "health_state": state,
        "healthy": _HEALTH.get(str(state)),
        "client_ip_preservation": e.get("ClientIPPreservationEnabled"),
    }
    if kind == "elastic-ip":
        found = addresses.get(eid)
        if isinstance(found, ProviderError):
            out["note"] = f"Elastic IP {eid} not read: {found}"
        elif found is None:
            out["note"] = f"Elastic IP {eid} not found in its region"
        else:
            out["address"] = found.get("PublicIp")
            out["instance"] = found.get("InstanceId")
    return out


def normalize_group(g: dict[str, Any], listener: str, addresses: dict[str, Any]) -> dict[str, Any]:
    interval, threshold = g.get("HealthCheckIntervalSeconds"), g.get("ThresholdCount")
    endpoints = [normalize_endpoint(e, addresses) for e in g.get("EndpointDescriptions", [])]
    healthy = [e["healthy"] for e in endpoints]
    return {
        "id": g.get("EndpointGroupArn"),
        "name": g.get("EndpointGroupRegion"),
        "region": g.get("EndpointGroupRegion"),
        "listener": listener,
        "traffic_dial": g.get("TrafficDialPercentage"),
        "addresses": [e["address"] for e in endpoints if e.get("address")],
        "health_checked": True,  # Global Accelerator health-checks every endpoint
        "healthy": True if True in healthy else (False if healthy and all(h is False for h in healthy) else None),
        "interval_s": float(interval) if interval is not None else None,
        "threshold": threshold,
        "detection_s": float(interval) * float(threshold) if interval is not None and threshold is not None else None,
        "monitor": {
            "protocol": g.get("HealthCheckProtocol"),
            "port": g.get("HealthCheckPort"),
            "path": g.get("HealthCheckPath"),
        },
        "port_overrides": g.get("PortOverrides") or [],
        "origins": endpoints,
    }


def normalize_accelerator(
    ctx: Ctx,
    acc: dict[str, Any],
    listeners: list[Listener] | ProviderError,
    tags: dict[str, str] | ProviderError,
    addresses: dict[str, dict[str, Any] | ProviderError],
) -> Resource:
    notes: list[str] = []
    targets: list[dict[str, Any]] = []
    read_listeners: list[dict[str, Any]] = []
    if isinstance(listeners, ProviderError):
        notes.append(f"listeners not read: {listeners}")
        listeners = []
    for lst, groups in listeners:
        arn = lst.get("ListenerArn")
        read_listeners.append(
            {
                "arn": arn,
                "protocol": lst.get("Protocol"),
                "ports": _ports(lst),
                "client_affinity": lst.get("ClientAffinity"),
            }
        )
        if isinstance(groups, ProviderError):
            notes.append(f"endpoint groups of listener {arn} not read: {groups}")
            continue
        targets += [normalize_group(g, str(arn), addresses) for g in groups]
    notes += [e["note"] for t in targets for e in t["origins"] if e.get("note")]
    if isinstance(tags, ProviderError):
        notes.append(f"tags unknown: {tags}")
        tags = {}
    hostnames = [h for h in (acc.get("DnsName"), acc.get("DualStackDnsName")) if h]
    attrs: dict[str, Any] = {
        "arn": acc.get("AcceleratorArn"),
        "mechanism": MECHANISM,
        "enabled": acc.get("Enabled"),
        "control_plane": "aws",
        "hostnames": hostnames,
        "ip_address_type": acc.get("IpAddressType"),
        "ip_sets": [
            {"family": s.get("IpAddressFamily") or s.get("IpFamily"), "addresses": s.get("IpAddresses") or []}
            for s in acc.get("IpSets", [])
        ],
        "listeners": read_listeners,
        "targets": targets,
        "fallback": FAILS_OPEN,
        "created": iso(acc.get("CreatedTime")),
    }
    if notes:
        attrs["notes"] = notes
    return ctx.resource(
        region=GLOBAL,
        kind=Kind.ROUTING,
        native_type="globalaccelerator:accelerator",
        native_id=str(acc["AcceleratorArn"]),
        name=str(acc.get("Name") or acc["AcceleratorArn"]),
        state=str(acc.get("Status") or ""),
        tags=tags,
        attrs=attrs,
    )
