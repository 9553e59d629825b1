"""Has the failover actually been exercised: the newest recorded drill, its outcome and recovery time."""

from __future__ import annotations

from failover.checks.evidence import Evidence
from failover.checks.registry import Category, Severity, check, info
from failover.model import DRILL_CLOCK_SKEW, Finding, FindingStatus
from failover.schema import format_duration


@check(
    "evidence.drill",
    title="A recent failover drill met the RTO",
    category=Category.EVIDENCE,
    severity=Severity.MEDIUM,
    doc="""Reads the newest failover drill recorded for the workload (`failover drill record`): it must
    be more recent than `targets.drill_within` (default 90 days), have succeeded, and have recovered
    within the RTO. A drill dated more than 5 minutes in the future is not evidence (it is ignored
    when the newest drill is chosen). Every other check reads configuration and probes; only a drill shows the runbook,
    the people and the automation working together. No drill, or an old one, is a warning; a failed
    drill or one slower than the RTO fails. Fix: run a game day, fail the primary over for real, and
    record the outcome.""",
)
def drill(ev: Evidence) -> list[Finding]:
    me = info("evidence.drill")
    d = ev.drill
    targets = ev.workload.targets
    if d is None:
        return [me.finding(ev, FindingStatus.WARN, "no failover drill recorded (failover drill record)")]
    if d.performed_at > ev.now + DRILL_CLOCK_SKEW:
        reason = f"the newest drill is dated in the future ({d.performed_at:%Y-%m-%d %H:%M} UTC): not evidence"
        return [me.finding(ev, FindingStatus.WARN, reason, **d.to_dict())]
    age = (ev.now - d.performed_at).total_seconds()
    when = f"drill of {d.performed_at:%Y-%m-%d} ({format_duration(age)} ago)"
    evidence = d.to_dict()
    if not d.succeeded:
        return [me.finding(ev, FindingStatus.FAIL, f"{when} failed: {d.notes or 'no notes'}", **evidence)]
    if d.recovery_s is not None and d.recovery_s > targets.rto:
        reason = f"{when} recovered in {format_duration(d.recovery_s)}, over the RTO {format_duration(targets.rto)}"
        return [me.finding(ev, FindingStatus.FAIL, reason, **evidence)]
    if age > targets.drill_within:
        reason = f"last {when}: older than {format_duration(targets.drill_within)}"
        return [me.finding(ev, FindingStatus.WARN, reason, **evidence)]
    recovered = f" recovered in {format_duration(d.recovery_s)}" if d.recovery_s is not None else " succeeded"
    return [me.finding(ev, FindingStatus.PASS, f"{when}{recovered} (RTO {format_duration(targets.rto)})", **evidence)]
