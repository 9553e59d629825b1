"""Route 53 (global, read once per account): hosted zones with their NS set, record sets, health checks."""

from __future__ import annotations

import re
from typing import Any

from failover.errors import ProviderError
from failover.model import Kind, Resource
from providers.aws.context import GLOBAL, Ctx, tag_dict
from providers.aws.session import guarded, paginate

SCOPE = "global/route53"
TAG_IDS_PER_CALL = 10  # ListTagsForResources limit
ALARM_NAMES_PER_CALL = 100  # DescribeAlarms limit
HEALTHY_FRACTION = 0.18  # Route 53 counts a check healthy when more than 18% of its checkers say so
_ESCAPE = re.compile(r"\\(\d{3})")


def dns_name(name: str) -> str:
    """Route 53's escaped, dot-terminated name (``\\052.example.com.``) as plain lowercase ``*.example.com``."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name).rstrip(".").lower()


def zone_id(raw: str) -> str:
    return raw.rsplit("/", 1)[-1]


def read_route53(ctx: Ctx) -> list[Resource]:
    """Health checks, then zones with their records; a failed half is reported and the other half kept."""
    client = ctx.clients("route53", ctx.account.regions[0])
    try:
        checks = read_health_checks(ctx, client)
    except ProviderError as err:
        ctx.incomplete(f"{SCOPE}/health-checks", err, "health checks not read")
        checks = []
    return read_zones(ctx, client) + checks


def read_zones(ctx: Ctx, client: Any) -> list[Resource]:
    zones = list(paginate(client, "list_hosted_zones", "HostedZones[]", page_size=ctx.page_size))
    zone_tags = read_tags(ctx, client, "hostedzone", [zone_id(z["Id"]) for z in zones])
    details = ctx.each(lambda z: client.get_hosted_zone(Id=z["Id"]), zones)
    failed = [d for _, d in details if isinstance(d, ProviderError)]
    if failed:
        ctx.incomplete(f"{SCOPE}/zones", failed[0], f"name servers unknown for {len(failed)} of {len(zones)} zones")

    def records(z: dict[str, Any]) -> list[dict[str, Any]]:
        pages = paginate(
            client, "list_resource_record_sets", "ResourceRecordSets[]", page_size=ctx.page_size, HostedZoneId=z["Id"]
        )
        # (name, type, set id) is unique in a zone; an emulator that drops NextRecordIdentifier at a
        # page boundary would repeat a record, so keep the first of each.
        unique: dict[tuple[str, str, str], dict[str, Any]] = {}
        for r in pages:
            unique.setdefault((r["Name"], r["Type"], r.get("SetIdentifier", "")), r)
        return list(unique.values())

    out: list[Resource] = []
    for (z, detail), (_, recs) in zip(details, ctx.each(records, zones), strict=True):
        zid = zone_id(z["Id"])
        out.append(normalize_zone(ctx, z, detail, zone_tags.get(zid)))
        if isinstance(recs, ProviderError):
            ctx.incomplete(f"{SCOPE}/{zid}", recs, "record sets not read")
            continue
        out.extend(normalize_record(ctx, z, r) for r in recs)
    return out


def read_health_checks(ctx: Ctx, client: Any) -> list[Resource]:
    checks = list(paginate(client, "list_health_checks", "HealthChecks[]", page_size=ctx.page_size))
    tags = read_tags(ctx, client, "healthcheck", [h["Id"] for h in checks])

    def status(h: dict[str, Any]) -> list[dict[str, Any]]:
        if h.get("HealthCheckConfig", {}).get("Type") == "CALCULATED":
            return []  # GetHealthCheckStatus does not serve calculated checks
        return list(client.get_health_check_status(HealthCheckId=h["Id"]).get("HealthCheckObservations", []))

    statuses = ctx.each(status, checks)
    failed = [s for _, s in statuses if isinstance(s, ProviderError)]
    if failed:
        why = f"status unknown for {len(failed)} of {len(checks)} health checks"
        ctx.incomplete(f"{SCOPE}/health-check-status", failed[0], why)
    alarms = read_alarms(ctx, [h for h in checks if h.get("HealthCheckConfig", {}).get("Type") == "CLOUDWATCH_METRIC"])
    return [normalize_health_check(ctx, h, obs, tags.get(h["Id"]), alarms) for h, obs in statuses]


def _alarm_key(h: dict[str, Any]) -> tuple[str, str] | None:
    ident = h.get("HealthCheckConfig", {}).get("AlarmIdentifier") or {}
    return (str(ident["Region"]), str(ident["Name"])) if ident.get("Region") and ident.get("Name") else None


def read_alarms(ctx: Ctx, checks: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any] | ProviderError | None]:
    """The CloudWatch alarm behind each alarm health check, read in the alarm's own region
    (``DescribeAlarms``, 100 names a call); ``None`` for an alarm that no longer exists."""
    by_region: dict[str, set[str]] = {}
    for h in checks:
        key = _alarm_key(h)
        if key:
            by_region.setdefault(key[0], set()).add(key[1])

    def one(item: tuple[str, list[str]]) -> list[dict[str, Any]]:
        region, names = item
        cw = ctx.clients("cloudwatch", region)
        found: list[dict[str, Any]] = []
        for i in range(0, len(names), ALARM_NAMES_PER_CALL):
            found += paginate(cw, "describe_alarms", "MetricAlarms[]", AlarmNames=names[i : i + ALARM_NAMES_PER_CALL])
        return found

    out: dict[tuple[str, str], dict[str, Any] | ProviderError | None] = {}
    for (region, names), found in ctx.each(one, [(r, sorted(n)) for r, n in sorted(by_region.items())]):
        if isinstance(found, ProviderError):
            ctx.incomplete(f"{SCOPE}/alarms/{region}", found, "alarms behind Route 53 health checks")
            out.update({(region, n): found for n in names})
            continue
        by_name = {a.get("AlarmName"): a for a in found}
        out.update({(region, n): by_name.get(n) for n in names})
    return out


def read_tags(ctx: Ctx, client: Any, kind: str, ids: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for i in range(0, len(ids), TAG_IDS_PER_CALL):
        batch = ids[i : i + TAG_IDS_PER_CALL]
        try:
            answer = guarded(lambda b=batch: client.list_tags_for_resources(ResourceType=kind, ResourceIds=b))  # type: ignore[misc]
        except ProviderError as err:
            ctx.incomplete(f"{SCOPE}/tags", err, f"tags unknown for {len(batch)} {kind} resources")
            continue
        for s in answer.get("ResourceTagSets", []):
            out[s["ResourceId"]] = tag_dict(s.get("Tags"))
    return out


def normalize_zone(
    ctx: Ctx, z: dict[str, Any], detail: dict[str, Any] | ProviderError, tags: dict[str, str] | None
) -> Resource:
    private = bool(z.get("Config", {}).get("PrivateZone"))
    attrs: dict[str, Any] = {
        "private": private,
        "record_count": z.get("ResourceRecordSetCount"),
        "comment": z.get("Config", {}).get("Comment"),
        "fqdn": z.get("Name"),
    }
    notes = []
    if isinstance(detail, ProviderError):
        attrs["nameservers"] = None
        notes.append(f"name servers unknown: {detail}")
    else:
        attrs["nameservers"] = [n.lower().rstrip(".") for n in detail.get("DelegationSet", {}).get("NameServers", [])]
        attrs["vpcs"] = [{"id": v.get("VPCId"), "region": v.get("VPCRegion")} for v in detail.get("VPCs", [])]
        # Older botocore models and emulators omit Features: then the status is not reported (None).
        features = (detail.get("HostedZone") or {}).get("Features") or {}
        attrs["accelerated_recovery"] = features.get("AcceleratedRecoveryStatus")
    if tags is None:
        notes.append("tags unknown")
    if notes:
        attrs["notes"] = notes
    return ctx.resource(
        region=GLOBAL,
        kind=Kind.DNS_ZONE,
        native_type="route53:hosted-zone",
        native_id=zone_id(z["Id"]),
        name=dns_name(z["Name"]),
        tags=tags or {},
        attrs=attrs,
    )


def normalize_record(ctx: Ctx, z: dict[str, Any], r: dict[str, Any]) -> Resource:
    zid = zone_id(z["Id"])
    name = dns_name(r["Name"])
    set_id = r.get("SetIdentifier")
    alias = r.get("AliasTarget")
    attrs: dict[str, Any] = {
        "zone_id": zid,
        "zone": dns_name(z["Name"]),
        "type": r["Type"],
        "ttl": r.get("TTL"),
        "values": [v["Value"] for v in r.get("ResourceRecords", [])],
        "alias": (
            {
                "dns_name": dns_name(alias["DNSName"]),
                "hosted_zone_id": alias.get("HostedZoneId"),
                "evaluate_target_health": bool(alias.get("EvaluateTargetHealth")),
            }
            if alias
            else None
        ),
        "failover": r.get("Failover"),
        "set_identifier": set_id,
        "health_check_id": r.get("HealthCheckId"),
        "weight": r.get("Weight"),
        "latency_region": r.get("Region"),
        "geo": r.get("GeoLocation"),
        "geoproximity": r.get("GeoProximityLocation"),
        "multivalue": r.get("MultiValueAnswer"),
    }
    native_id = "/".join([zid, name, r["Type"], *([set_id] if set_id else [])])
    return ctx.resource(
        region=GLOBAL,
        kind=Kind.DNS_RECORD,
        native_type=f"route53:{r['Type']}",
        native_id=native_id,
        name=name,
        attrs=attrs,
    )


def check_status(observations: list[dict[str, Any]] | ProviderError | None) -> str:
    """healthy / unhealthy as Route 53 decides it (> 18% of checkers report success), else unknown."""
    if not observations or isinstance(observations, ProviderError):
        return "unknown"
    ok = sum(1 for o in observations if str(o.get("StatusReport", {}).get("Status", "")).startswith("Success"))
    return "healthy" if ok / len(observations) > HEALTHY_FRACTION else "unhealthy"


def alarm_attrs(h: dict[str, Any], alarm: dict[str, Any] | ProviderError | None) -> dict[str, Any] | None:
    """The alarm an alarm health check watches, as CloudWatch describes it now (Route 53's own copy,
    ``CloudWatchAlarmConfiguration``, is a snapshot from when the check was saved)."""
    key = _alarm_key(h)
    if key is None:
        return None
    out: dict[str, Any] = {"region": key[0], "name": key[1]}
    if isinstance(alarm, ProviderError):
        return out | {"found": None, "error": str(alarm)}
    if alarm is None:
        return out | {"found": False}
    metrics = [m.get("MetricStat", {}).get("Period") or m.get("Period") for m in alarm.get("Metrics") or []]
    period = alarm.get("Period") or max((p for p in metrics if p), default=None)
    return out | {
        "found": True,
        "period_s": period,
        "evaluation_periods": alarm.get("EvaluationPeriods"),
        "datapoints_to_alarm": alarm.get("DatapointsToAlarm"),
        "treat_missing_data": alarm.get("TreatMissingData"),
        "state": alarm.get("StateValue"),
    }


def normalize_health_check(
    ctx: Ctx,
    h: dict[str, Any],
    obs: list[dict[str, Any]] | ProviderError,
    tags: dict[str, str] | None,
    alarms: dict[tuple[str, str], dict[str, Any] | ProviderError | None] | None = None,
) -> Resource:
    cfg = h.get("HealthCheckConfig", {})
    status = check_status(obs)
    key = _alarm_key(h)
    attrs: dict[str, Any] = {
        "type": cfg.get("Type"),
        "ip": cfg.get("IPAddress"),
        "fqdn": cfg.get("FullyQualifiedDomainName"),
        "port": cfg.get("Port"),
        "path": cfg.get("ResourcePath"),
        "search_string": cfg.get("SearchString"),
        "interval_s": cfg.get("RequestInterval"),
        "failure_threshold": cfg.get("FailureThreshold"),
        "inverted": bool(cfg.get("Inverted")),
        "disabled": bool(cfg.get("Disabled")),
        "measure_latency": bool(cfg.get("MeasureLatency")),
        "regions": cfg.get("Regions", []),
        "children": cfg.get("ChildHealthChecks") or [],
        "health_threshold": cfg.get("HealthThreshold"),
        "alarm": alarm_attrs(h, (alarms or {}).get(key) if key else None),
        "insufficient_data_status": cfg.get("InsufficientDataHealthStatus"),
        "routing_control_arn": cfg.get("RoutingControlArn"),
        "status": status,
        "checkers": (
            [{"region": o.get("Region"), "status": o.get("StatusReport", {}).get("Status")} for o in obs]
            if not isinstance(obs, ProviderError)
            else None
        ),
    }
    if isinstance(obs, ProviderError):
        attrs["status_reason"] = f"status could not be read: {obs}"
    elif cfg.get("Type") == "CALCULATED":
        attrs["status_reason"] = "calculated health check: Route 53 does not report its status"
    elif not obs:
        attrs["status_reason"] = "no checker observations"
    tags = tags if tags is not None else {}
    return ctx.resource(
        region=GLOBAL,
        kind=Kind.DNS_HEALTH_CHECK,
        native_type=f"route53:health-check:{cfg.get('Type', '')}",
        native_id=h["Id"],
        name=tags.get("Name") or h["Id"],
        state=status,
        tags=tags,
        attrs=attrs,
    )
