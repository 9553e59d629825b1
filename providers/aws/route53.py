"""Route 53 (global, read once per account): hosted zones with their NS set, record sets, health checks.

A health check's status is read only for the checks that govern a record in the account's zones (and
the children of those that are calculated), and in bulk: Route 53 publishes each check's
``HealthCheckStatus`` (1 healthy, 0 unhealthy) to CloudWatch in us-east-1 every minute, so 1,000 checks
are two ``GetMetricData`` calls rather than 1,000 ``GetHealthCheckStatus`` calls.
"""

from __future__ import annotations

import re
from typing import Any

from failover.errors import ProviderError
from failover.model import Kind, Resource
from providers.aws.cloudwatch import Metric, newest
from providers.aws.context import GLOBAL, Ctx, tag_dict
from providers.aws.session import paginate

SCOPE = "global/route53"
TAG_IDS_PER_CALL = 10  # ListTagsForResources limit
ALARM_NAMES_PER_CALL = 100  # DescribeAlarms limit
# Route 53's health-check metrics live in us-east-1 whatever the account's regions (AWS/Route53 docs).
METRICS_REGION = "us-east-1"
_ESCAPE = re.compile(r"\\(\d{3})")


def dns_name(name: str) -> str:
    """Route 53's escaped, dot-terminated name (``\\052.example.com.``) as plain lowercase ``*.example.com``."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name).rstrip(".").lower()


def zone_id(raw: str) -> str:
    return raw.rsplit("/", 1)[-1]


def read_route53(ctx: Ctx) -> list[Resource]:
    """Zones with their records, then health checks (with the status of those the records use); failed
    health checks are reported and the zones kept."""
    client = ctx.clients("route53", ctx.account.regions[0])
    zones, governed = read_zones(ctx, client)
    try:
        checks = read_health_checks(ctx, client, governed)
    except ProviderError as err:
        ctx.incomplete(f"{SCOPE}/health-checks", err, "health checks not read")
        checks = []
    return zones + checks


def read_zones(ctx: Ctx, client: Any) -> tuple[list[Resource], set[str] | None]:
    """The zones and their records, and the health checks those records name (None when some zone's
    records could not be read: then any check may govern one)."""
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
    governed: set[str] | None = set()
    for (z, detail), (_, recs) in zip(details, ctx.each(records, zones), strict=True):
        zid = zone_id(z["Id"])
        out.append(normalize_zone(ctx, z, detail, zone_tags.get(zid)))
        if isinstance(recs, ProviderError):
            ctx.incomplete(f"{SCOPE}/{zid}", recs, "record sets not read")
            governed = None
            continue
        out.extend(normalize_record(ctx, z, r) for r in recs)
        if governed is not None:
            governed.update(r["HealthCheckId"] for r in recs if r.get("HealthCheckId"))
    return out, governed


def governing(checks: list[dict[str, Any]], named: set[str] | None) -> set[str]:
    """The checks whose status matters: those records name (all when unknown) and, through calculated
    checks, their children, transitively."""
    if named is None:
        return {h["Id"] for h in checks}
    children = {h["Id"]: h.get("HealthCheckConfig", {}).get("ChildHealthChecks") or [] for h in checks}
    found: set[str] = set()
    todo = [i for i in named if i in children]
    while todo:
        hc = todo.pop()
        if hc not in found:
            found.add(hc)
            todo.extend(c for c in children.get(hc, []) if c in children)
    return found


def read_health_checks(ctx: Ctx, client: Any, named: set[str] | None = None) -> list[Resource]:
    """Every health check; the status of those that govern a record (``named``; None: all), read in bulk."""
    checks = list(paginate(client, "list_health_checks", "HealthChecks[]", page_size=ctx.page_size))
    tags = read_tags(ctx, client, "healthcheck", [h["Id"] for h in checks])
    wanted = sorted(governing(checks, named))
    readings: dict[str, float] | ProviderError = {}
    if wanted:
        metrics = [
            Metric(key=i, namespace="AWS/Route53", name="HealthCheckStatus", dimensions=(("HealthCheckId", i),))
            for i in wanted
        ]
        try:
            # Minimum: a minute in which any checker report made the check unhealthy reads unhealthy.
            readings = newest(ctx, METRICS_REGION, metrics, stat="Minimum")
        except ProviderError as err:
            why = f"status unknown for {len(wanted)} health checks"
            ctx.incomplete(f"{SCOPE}/health-check-status", err, why)
            readings = err
    alarms = read_alarms(ctx, [h for h in checks if h.get("HealthCheckConfig", {}).get("Type") == "CLOUDWATCH_METRIC"])
    governs = set(wanted)
    return [
        normalize_health_check(ctx, h, reading_of(h["Id"], governs, readings), tags.get(h["Id"]), alarms)
        for h in checks
    ]


def reading_of(hc: str, governs: set[str], readings: dict[str, float] | ProviderError) -> tuple[str, str | None]:
    """(status, why it is unknown) of one health check from the batched metric read."""
    if hc not in governs:
        return "unknown", "not read: the health check governs no record in this account's hosted zones"
    if isinstance(readings, ProviderError):
        return "unknown", f"status could not be read: {readings}"
    return metric_status(readings.get(hc))


def metric_status(value: float | None) -> tuple[str, str | None]:
    """healthy / unhealthy from the newest ``HealthCheckStatus`` minimum (1 / 0), else unknown with why."""
    if value is None:
        return "unknown", "no HealthCheckStatus datapoint in CloudWatch (us-east-1) in the last 10 minutes"
    return ("healthy", None) if value >= 1 else ("unhealthy", None)


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
    """Tags of ``ids`` (10 a call, ``ListTagsForResources``' limit; the batches on the account's bounded
    pool, not one after another); a batch that fails leaves its resources' tags unknown (absent)."""
    batches = [ids[i : i + TAG_IDS_PER_CALL] for i in range(0, len(ids), TAG_IDS_PER_CALL)]
    out: dict[str, dict[str, str]] = {}
    read = ctx.each(lambda b: client.list_tags_for_resources(ResourceType=kind, ResourceIds=b), batches)
    for batch, answer in read:
        if isinstance(answer, ProviderError):
            ctx.incomplete(f"{SCOPE}/tags", answer, f"tags unknown for {len(batch)} {kind} resources")
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
    reading: tuple[str, str | None],
    tags: dict[str, str] | None,
    alarms: dict[tuple[str, str], dict[str, Any] | ProviderError | None] | None = None,
) -> Resource:
    cfg = h.get("HealthCheckConfig", {})
    status, unknown_reason = reading
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
    }
    if unknown_reason:
        attrs["status_reason"] = unknown_reason
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
