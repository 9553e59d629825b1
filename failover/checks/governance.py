"""What moves the public name off the primary, and how fast: for each Route 53 PRIMARY failover record,
the health signal that governs it (a health check of any type, or the health of an alias target
evaluated by Route 53), and for Traffic Manager the profile's endpoint monitor.

Pure. ``dns.failover_records``, ``dns.health_check`` and the RTO estimate all read ``governors`` so
they agree on whether, and how fast, DNS fails over. Route 53's documented behaviour is modelled:
a disabled check is always healthy, an inverted one flips, both together are always unhealthy; a
calculated check is unhealthy when fewer than ``HealthThreshold`` children are healthy; an alarm
check follows its CloudWatch alarm (``InsufficientDataHealthStatus`` when the alarm has no data); an
ARC routing control changes only when a person flips it; an alias that evaluates target health
inherits an ALB/NLB's target-group health or its target records' health, and gives no signal for
CloudFront, S3 websites, API Gateway or VPC endpoints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict

from failover.attrs import attrs_of
from failover.checks.evidence import Evidence
from failover.equivalence import normalize_name
from failover.model import FindingStatus, Kind, Resource
from failover.schema import format_duration

# Route 53 does not publish how long it takes to notice that an alias target's ELB target groups
# went unhealthy. Allow one standard Route 53 health-check interval (30 s, the RequestInterval
# default) on top of the target groups' own detection: erring long keeps the RTO from looking better
# than it is.
ALIAS_EVALUATION_S = 30.0
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"  # the hosted zone id every CloudFront alias names
# Alias targets Route 53 gets no health signal from (EvaluateTargetHealth cannot be true for
# CloudFront; S3 website endpoints, API Gateway and VPC interface endpoints report nothing).
_NO_SIGNAL = (
    (".cloudfront.net", "a CloudFront distribution, whose health Route 53 cannot evaluate"),
    (".execute-api.", "an API Gateway API, which gives Route 53 no health signal"),
    (".vpce.amazonaws.com", "a VPC endpoint, which gives Route 53 no health signal"),
    ("s3-website", "an S3 website endpoint, which gives Route 53 no health signal"),
)


class Mode(StrEnum):
    AUTOMATIC = "automatic"  # detects an outage and fails over by itself, in ``detection_s``
    MANUAL = "manual"  # a person decides (ARC routing control): decision time in the RTO
    FORCED = "forced"  # always unhealthy: failover already forced, the secondary serves now
    NEVER = "never"  # never fails over by itself (no, disabled, inverted or signal-less health check)
    UNKNOWN = "unknown"  # could not tell from the evidence at hand


class Who(TypedDict):
    """Which health signal a ``Governor`` describes."""

    subject: str  # native id of what governs: a health check, a record, a load balancer, a profile
    name: str
    kind: str  # health-check | calculated | cloudwatch-alarm | routing-control | alias-target | traffic-manager


@dataclass(frozen=True)
class Governor:
    """The health signal governing one PRIMARY record (or a Traffic Manager profile)."""

    subject: str  # native id of what governs: a health check, a record, a load balancer, a profile
    name: str
    kind: str  # health-check | calculated | cloudwatch-alarm | routing-control | alias-target | traffic-manager
    mode: Mode
    reason: str  # one line: what it is and why it has this mode
    detection_s: float | None = None  # AUTOMATIC: how long from outage to "unhealthy"
    health: str = "unknown"  # what it reports now: healthy | unhealthy | …
    warnings: tuple[str, ...] = ()  # configuration that may stop it failing over in some outages
    evidence: dict[str, Any] = field(default_factory=dict)


def detection_seconds(hc: Resource) -> float | None:
    """An endpoint health check's (or Traffic Manager monitor's) detection: interval x failure threshold."""
    a = attrs_of(hc, Kind.DNS_HEALTH_CHECK)
    interval, threshold = a["interval_s"], a["failure_threshold"]
    if interval is None or threshold is None:
        return None
    return float(interval) * float(threshold)


def _health(hc: Resource) -> str:
    a = attrs_of(hc, Kind.DNS_HEALTH_CHECK)
    return str(a["status"] or a["monitor_status"] or "unknown").lower()


# ------------------------------------------------------------------------------------ health checks
def health_check_governor(ev: Evidence, hc: Resource, seen: frozenset[str] = frozenset()) -> Governor:
    """A Route 53 health check of any type, as Route 53 evaluates it."""
    label = hc.name or hc.native_id
    who = f"health check {label}"
    kind = {"CALCULATED": "calculated", "CLOUDWATCH_METRIC": "cloudwatch-alarm", "RECOVERY_CONTROL": "routing-control"}
    a = attrs_of(hc, Kind.DNS_HEALTH_CHECK)
    base = Who(subject=hc.native_id, name=label, kind=kind.get(str(a["type"]), "health-check"))
    disabled, inverted = bool(a["disabled"]), bool(a["inverted"])
    if disabled and inverted:
        why = (
            f"failover forced: {who} is disabled and inverted, so Route 53 treats it as always unhealthy "
            "and the SECONDARY serves"
        )
        return Governor(**base, mode=Mode.FORCED, reason=why, health="unhealthy")
    if disabled:
        why = f"{who} is disabled: Route 53 treats it as always healthy, so the PRIMARY never fails over"
        return Governor(**base, mode=Mode.NEVER, reason=why, health="healthy")
    if inverted:
        why = f"{who} is inverted: it reports the primary unhealthy while it serves and healthy when it fails"
        return Governor(**base, mode=Mode.NEVER, reason=why, health=_health(hc))
    if base["kind"] == "calculated":
        return _calculated(ev, hc, base, seen | {hc.native_id})
    if base["kind"] == "cloudwatch-alarm":
        return _alarm(hc, base)
    if base["kind"] == "routing-control":
        arn = attrs_of(hc, Kind.DNS_HEALTH_CHECK)["routing_control_arn"] or "?"
        why = f"{who} follows ARC routing control {arn}: failover is a manual decision"
        return Governor(**base, mode=Mode.MANUAL, reason=why, health=_health(hc), evidence={"routing_control": arn})
    detect = detection_seconds(hc)
    if detect is None:
        return Governor(**base, mode=Mode.UNKNOWN, reason=f"{who}: interval unknown", health=_health(hc))
    why = f"{who} detects in {format_duration(detect)}"
    return Governor(**base, mode=Mode.AUTOMATIC, reason=why, detection_s=detect, health=_health(hc))


def _calculated(ev: Evidence, hc: Resource, base: Who, seen: frozenset[str]) -> Governor:
    who = f"calculated health check {base['name']}"
    children = [str(c) for c in attrs_of(hc, Kind.DNS_HEALTH_CHECK)["children"] or []]
    threshold = attrs_of(hc, Kind.DNS_HEALTH_CHECK)["health_threshold"]
    if threshold is None:
        return Governor(**base, mode=Mode.UNKNOWN, reason=f"{who}: HealthThreshold unknown")
    n, t = len(children), int(threshold)
    if t <= 0:
        why = f"{who} has HealthThreshold 0: Route 53 always considers it healthy, so the PRIMARY never fails over"
        return Governor(**base, mode=Mode.NEVER, reason=why, health="healthy")
    if t > n:
        why = f"failover forced: {who} needs {t} healthy of {n} children, so it is always unhealthy (SECONDARY serves)"
        return Governor(**base, mode=Mode.FORCED, reason=why, health="unhealthy")
    needed = n - t + 1  # children that must turn unhealthy before fewer than t are healthy
    governed = []
    for child_id in children:
        child = _health_check(ev, hc.account, child_id)
        if child is None or child_id in seen:
            why = f"child {child_id} not in inventory" if child is None else f"child {child_id} repeats"
            governed.append(Governor(child_id, child_id, "health-check", Mode.UNKNOWN, why))
        else:
            governed.append(health_check_governor(ev, child, seen))
    times = sorted(
        0.0 if g.mode == Mode.FORCED else float(g.detection_s or 0.0)
        for g in governed
        if g.mode in (Mode.FORCED, Mode.AUTOMATIC)
    )
    unknown = [g for g in governed if g.mode == Mode.UNKNOWN]
    evidence = {"children": {g.subject: str(g.mode) for g in governed}, "health_threshold": t, "needed": needed}
    forced = sum(1 for g in governed if g.mode == Mode.FORCED)
    if forced >= needed:
        why = f"failover forced: {forced} of {n} children of {who} are always unhealthy (needs {t} healthy)"
        return Governor(**base, mode=Mode.FORCED, reason=why, health="unhealthy", evidence=evidence)
    if len(times) < needed:
        stuck = [g.reason for g in governed if g.mode in (Mode.NEVER, Mode.MANUAL)]
        if len(times) + len(unknown) >= needed:
            why = f"{who}: detection unknown (" + "; ".join(g.reason for g in unknown[:2]) + ")"
            return Governor(**base, mode=Mode.UNKNOWN, reason=why, evidence=evidence)
        why = (
            f"{who} turns unhealthy only when {needed} of its {n} children do, and only {len(times)} can: "
            + "; ".join(stuck[:2])
        )
        return Governor(**base, mode=Mode.NEVER, reason=why, health="healthy", evidence=evidence)
    detect = times[needed - 1]
    why = f"{who} detects in {format_duration(detect)} ({needed} of {n} children unhealthy)"
    return Governor(**base, mode=Mode.AUTOMATIC, reason=why, detection_s=detect, evidence=evidence)


def _alarm(hc: Resource, base: Who) -> Governor:
    who = f"health check {base['name']}"
    alarm = attrs_of(hc, Kind.DNS_HEALTH_CHECK)["alarm"] or {}
    insufficient = attrs_of(hc, Kind.DNS_HEALTH_CHECK)["insufficient_data_status"]
    where = f"alarm {alarm.get('name', '?')} ({alarm.get('region', '?')})"
    evidence = {"alarm": alarm, "insufficient_data_status": insufficient}
    if not alarm:
        return Governor(
            **base, mode=Mode.UNKNOWN, reason=f"{who}: its CloudWatch alarm is not named", evidence=evidence
        )
    if alarm.get("found") is None:
        why = f"{who}: {where} could not be read ({alarm.get('error') or 'unknown error'})"
        return Governor(**base, mode=Mode.UNKNOWN, reason=why, evidence=evidence)
    if alarm.get("found") is False:
        if insufficient == "Unhealthy":
            why = f"failover forced: {who} watches {where}, which does not exist, and reads missing data as Unhealthy"
            return Governor(**base, mode=Mode.FORCED, reason=why, health="unhealthy", evidence=evidence)
        why = (
            f"{who} watches {where}, which does not exist: Route 53 applies InsufficientDataHealthStatus "
            f"{insufficient or 'unset'}, so the PRIMARY never fails over"
        )
        return Governor(**base, mode=Mode.NEVER, reason=why, health="healthy", evidence=evidence)
    period, count = alarm.get("period_s"), alarm.get("datapoints_to_alarm") or alarm.get("evaluation_periods")
    if not period or not count:
        why = f"{who}: period or evaluation periods of {where} unknown"
        return Governor(**base, mode=Mode.UNKNOWN, reason=why, evidence=evidence)
    detect = float(period) * float(count)
    warnings: list[str] = []
    missing = str(alarm.get("treat_missing_data") or "missing")
    if missing != "breaching" and not (missing == "missing" and insufficient == "Unhealthy"):
        then = "stays OK" if missing == "notBreaching" else "keeps its state" if missing == "ignore" else "has no data"
        warnings.append(
            f"if the metric stops arriving (a full outage often stops it), {where} {then} and Route 53 keeps "
            f"the primary healthy (TreatMissingData {missing}, InsufficientDataHealthStatus {insufficient or 'unset'})"
        )
    state = str(alarm.get("state") or "").upper()
    health = {"ALARM": "unhealthy", "OK": "healthy"}.get(state, _health(hc))
    why = f"{who} follows {where}: detects in {format_duration(detect)} ({count} x {period}s periods)"
    return Governor(
        **base,
        mode=Mode.AUTOMATIC,
        reason=why,
        detection_s=detect,
        health=health,
        warnings=tuple(warnings),
        evidence=evidence,
    )


def _health_check(ev: Evidence, account: str, hc_id: str) -> Resource | None:
    return next((r for r in ev.index.by_ref(account, hc_id) if r.kind == Kind.DNS_HEALTH_CHECK), None)


# -------------------------------------------------------------------------------------- records
def record_governor(ev: Evidence, record: Resource, seen: frozenset[str] = frozenset()) -> Governor:
    """What decides whether Route 53 answers with this record (a PRIMARY failover record)."""
    label = str(attrs_of(record, Kind.DNS_RECORD)["set_identifier"] or record.name)
    hc_id = attrs_of(record, Kind.DNS_RECORD)["health_check_id"]
    if hc_id:
        hc = _health_check(ev, record.account, str(hc_id))
        if hc is None:
            why = f"PRIMARY record {label} names health check {hc_id}, which is not in inventory"
            return Governor(record.native_id, label, "health-check", Mode.UNKNOWN, why)
        return health_check_governor(ev, hc)
    alias = attrs_of(record, Kind.DNS_RECORD)["alias"]
    if not isinstance(alias, dict) or not alias.get("dns_name"):
        why = f"PRIMARY record {label} has no health check"
        return Governor(record.native_id, label, "health-check", Mode.NEVER, why)
    target = normalize_name(str(alias["dns_name"])).removeprefix("dualstack.")
    if not alias.get("evaluate_target_health"):
        why = f"PRIMARY record {label} is an alias to {target} without EvaluateTargetHealth, and has no health check"
        return Governor(record.native_id, label, "alias-target", Mode.NEVER, why)
    return _alias_governor(ev, record, label, target, str(alias.get("hosted_zone_id") or ""), seen)


def _alias_governor(
    ev: Evidence, record: Resource, label: str, target: str, zone_id: str, seen: frozenset[str]
) -> Governor:
    head = f"PRIMARY record {label} is an alias to {target}"
    evidence: dict[str, Any] = {"alias_target": target}
    if zone_id == attrs_of(record, Kind.DNS_RECORD)["zone_id"]:
        return _alias_to_records(ev, record, label, target, seen | {record.native_id})
    for marker, what in _NO_SIGNAL:
        if marker in target or (marker == ".cloudfront.net" and zone_id == CLOUDFRONT_ZONE):
            why = f"{head}, {what}: without a health check the PRIMARY never fails over"
            return Governor(record.native_id, label, "alias-target", Mode.NEVER, why, evidence=evidence)
    lb, searched = _load_balancer(ev, target)
    if lb is None:
        if ".elb." in target or target.endswith(".elb.amazonaws.com"):
            why = f"{head}, a load balancer not in the inventory of {', '.join(searched) or 'any AWS account'}"
        else:
            why = f"{head}: the health of that target is not read"
        return Governor(record.native_id, label, "alias-target", Mode.UNKNOWN, why, evidence=evidence)
    return _alias_to_load_balancer(ev, lb, head)


@dataclass(frozen=True)
class LbHealth:
    """An ALB/NLB's own health signal, as services that follow it read it (Route 53 aliases evaluating
    target health, Global Accelerator load balancer endpoints): healthy while every target group has a
    healthy target; a group turns unhealthy after ``UnhealthyThresholdCount`` failed checks
    ``HealthCheckIntervalSeconds`` apart."""

    groups: list[Resource]
    detection_s: float | None  # the slowest target group's interval x unhealthy threshold
    unknown: str  # why detection is unknown ("" when known)
    health: str  # healthy | unhealthy | unknown
    evidence: dict[str, Any]


def load_balancer_health(ev: Evidence, lb: Resource) -> LbHealth:
    groups = [
        g
        for arn in attrs_of(lb, Kind.LB)["target_groups"] or []
        for g in _by_kind(ev, lb.account, arn, Kind.LB_TARGET_GROUP)
    ]
    evidence: dict[str, Any] = {"load_balancer": lb.native_id, "target_groups": [g.name for g in groups]}
    if not groups:
        why = f"load balancer {lb.name}, which has no target group in inventory: its health is undefined"
        return LbHealth(groups, None, why, "unknown", evidence)
    times: list[float] = []
    for g in groups:
        hc = attrs_of(g, Kind.LB_TARGET_GROUP)["health_check"] or {}
        if hc.get("interval_s") is None or hc.get("unhealthy_threshold") is None:
            why = f"load balancer {lb.name}: health check settings of target group {g.name} unknown"
            return LbHealth(groups, None, why, "unknown", evidence)
        times.append(float(hc["interval_s"]) * float(hc["unhealthy_threshold"]))
    empty = [g.name for g in groups if attrs_of(g, Kind.LB_TARGET_GROUP)["healthy"] == 0]
    unread = [g.name for g in groups if attrs_of(g, Kind.LB_TARGET_GROUP)["healthy"] is None]
    if empty:
        evidence["unhealthy_target_groups"] = empty
    health = "unhealthy" if empty else "unknown" if unread else "healthy"
    return LbHealth(groups, max(times), "", health, evidence)


def find_load_balancer(ev: Evidence, arn: str) -> Resource | None:
    """The ELBv2 load balancer with this ARN, in any inventoried AWS account."""
    for account in aws_accounts(ev):
        found = _by_kind(ev, account, arn, Kind.LB)
        if found:
            return found[0]
    return None


def _alias_to_load_balancer(ev: Evidence, lb: Resource, head: str) -> Governor:
    """Route 53 counts an ALB/NLB healthy while every target group has a healthy target (``LbHealth``)."""
    h = load_balancer_health(ev, lb)
    base = Who(subject=lb.native_id, name=lb.name, kind="alias-target")
    if h.detection_s is None:
        return Governor(**base, mode=Mode.UNKNOWN, reason=f"{head}, {h.unknown}", evidence=h.evidence)
    detect = h.detection_s + ALIAS_EVALUATION_S
    why = (
        f"{head}, load balancer {lb.name}, evaluating target health: detects in {format_duration(detect)} "
        f"(target groups {format_duration(h.detection_s)} + Route 53 {format_duration(ALIAS_EVALUATION_S)})"
    )
    return Governor(**base, mode=Mode.AUTOMATIC, reason=why, detection_s=detect, health=h.health, evidence=h.evidence)


def _alias_to_records(ev: Evidence, record: Resource, label: str, target: str, seen: frozenset[str]) -> Governor:
    """An alias to records in its own zone is unhealthy only when every target record is."""
    zone = attrs_of(record, Kind.DNS_RECORD)["zone_id"]
    targets = [
        r
        for r in ev.index.records_named(target)
        if r.account == record.account and attrs_of(r, Kind.DNS_RECORD)["zone_id"] == zone
    ]
    base = Who(subject=record.native_id, name=label, kind="alias-target")
    head = f"PRIMARY record {label} is an alias to records {target}"
    if not targets:
        return Governor(**base, mode=Mode.UNKNOWN, reason=f"{head}, which are not in inventory")
    governed = [
        Governor(r.native_id, r.name, "alias-target", Mode.UNKNOWN, f"alias loop at {r.name}")
        if r.native_id in seen
        else record_governor(ev, r, seen)
        for r in targets
    ]
    modes = {g.mode for g in governed}
    evidence = {"alias_target": target, "targets": {g.subject: str(g.mode) for g in governed}}
    for mode in (Mode.NEVER, Mode.UNKNOWN, Mode.MANUAL):
        if mode in modes:
            first = next(g for g in governed if g.mode == mode)
            why = f"{head}: " + first.reason.replace("PRIMARY record", "target record")
            if mode == Mode.NEVER:
                why += " (Route 53 counts a target without a health check healthy)"
            return Governor(**base, mode=mode, reason=why, evidence=evidence)
    if modes == {Mode.FORCED}:
        return Governor(
            **base, mode=Mode.FORCED, reason=f"failover forced: every target of {head} is", evidence=evidence
        )
    detect = max(float(g.detection_s or 0.0) for g in governed)
    health = "unhealthy" if all(g.health == "unhealthy" for g in governed) else "healthy"
    why = f"{head}, evaluating their health: detects in {format_duration(detect)}"
    return Governor(**base, mode=Mode.AUTOMATIC, reason=why, detection_s=detect, health=health, evidence=evidence)


def _by_kind(ev: Evidence, account: str, ref: str, kind: str) -> list[Resource]:
    return [r for r in ev.index.by_ref(account, ref) if r.kind == kind]


def aws_accounts(ev: Evidence) -> list[str]:
    return [a.name for a in ev.config.accounts if a.provider == "aws"]


def _load_balancer(ev: Evidence, dns_name: str) -> tuple[Resource | None, list[str]]:
    """The ELBv2 load balancer with this DNS name, in any inventoried AWS account (aliases may cross accounts)."""
    searched = [a for a in aws_accounts(ev) if a in ev.inventories]
    for account in searched:
        for lb in ev.index.of_kind(account, Kind.LB):
            if normalize_name(str(attrs_of(lb, Kind.LB)["dns_name"] or "")) == dns_name:
                return lb, searched
    return None, searched


def alias_load_balancers(ev: Evidence, records: Iterable[Resource]) -> list[Resource]:
    """Load balancers that alias records (evaluating target health) point at: Route 53 judges them by
    their target groups, so an empty group there is a real failure."""
    found: dict[str, Resource] = {}
    for r in records:
        alias = attrs_of(r, Kind.DNS_RECORD)["alias"]
        if isinstance(alias, dict) and alias.get("evaluate_target_health") and alias.get("dns_name"):
            lb, _ = _load_balancer(ev, normalize_name(str(alias["dns_name"])).removeprefix("dualstack."))
            if lb is not None:
                found[lb.native_id] = lb
    return list(found.values())


# ------------------------------------------------------------------------------------ the workload
def failover_status(mode: Mode) -> FindingStatus:
    """How ``dns.failover_records`` reads a PRIMARY record's governor."""
    return {Mode.NEVER: FindingStatus.FAIL, Mode.UNKNOWN: FindingStatus.UNKNOWN}.get(mode, FindingStatus.PASS)
