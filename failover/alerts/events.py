"""What to tell each destination after a workload is scored: pure functions over scores.

A destination is told the workload's *state*, not every wobble. ``Heard`` is what it was last told
(from the delivery log); ``decide`` compares that with the new score:

- a status worse than what it heard (a trigger, or an escalation) goes at once;
- a better one (a resolve, or NOT_READY → AT_RISK) waits until the cooldown since the last alert to
  that destination has passed, and is sent then if it still holds: a flapping workload costs at
  most one trigger and one resolve per cooldown, and the destination always ends up told the truth;
- with the status unchanged for the destination, a newly failing critical check (``check_failed``)
  or a readiness drop of at least ``alert_policy.score_drop`` points since the previous score
  (``score_dropped``) is sent, at most once per cooldown.

``min_status`` sets which statuses count as alerting for the destination (default ``AT_RISK``: every
status but READY); with ``min_status`` set, only events of alerting workloads (and their resolve)
are sent. PagerDuty gets only triggers and resolves of alerting states, so every incident it opens
is one a later resolve closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from failover.checks import CATALOG  # the package registers every check (and its severity)
from failover.checks.registry import Severity
from failover.model import FindingStatus, Reason, Score, Status
from failover.schema import AlertDestination, AlertPolicy, Workload

__all__ = [
    "MAX_REASONS",
    "AlertEvent",
    "Event",
    "Heard",
    "decide",
    "new_critical_failures",
    "severity_rank",
    "test_event",
]

MAX_REASONS = 10  # reasons carried by one alert (the highest-gain first)

# How bad each status is; UNKNOWN counts as NOT_READY (unknown is never healthy).
_RANK = {Status.READY: 0, Status.AT_RISK: 1, Status.NOT_READY: 2, Status.UNKNOWN: 2}


class Event(StrEnum):
    STATUS_CHANGED = "status_changed"
    RESOLVED = "resolved"
    CHECK_FAILED = "check_failed"
    SCORE_DROPPED = "score_dropped"
    TEST = "test"


def severity_rank(status: Status | str) -> int:
    return _RANK[Status(status)]


@dataclass(frozen=True)
class Heard:
    """The last alert a destination was sent (or is being sent) for a workload."""

    status: Status
    readiness: float | None
    at: datetime  # when it was claimed: the cooldown runs from here


@dataclass(frozen=True)
class AlertEvent:
    """One alert to one destination, everything its payload needs."""

    event: Event
    workload: str
    status: Status | None
    previous_status: Status | None
    readiness: float | None
    previous_readiness: float | None
    reasons: tuple[Reason, ...] = ()
    at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    owners: tuple[str, ...] = ()
    new_failures: tuple[Reason, ...] = ()  # check_failed: the critical checks that just started failing

    def to_dict(self) -> dict[str, Any]:
        """The generic webhook's body (the public contract)."""
        return {
            "event": str(self.event),
            "workload": self.workload,
            "status": str(self.status) if self.status is not None else None,
            "previous_status": str(self.previous_status) if self.previous_status is not None else None,
            "readiness": self.readiness,
            "previous_readiness": self.previous_readiness,
            "reasons": [{"check": r.check, "status": r.status, "message": r.message} for r in self.reasons],
            "at": self.at.isoformat(),
        }


def test_event(now: datetime) -> AlertEvent:
    """``failover alerts test``: says who sent it, carries no workload's data."""
    return AlertEvent(Event.TEST, "", None, None, None, None, (), now)


def new_critical_failures(previous: Score | None, current: Score) -> list[Reason]:
    """Reasons of ``current`` that are failing critical checks (severity from the check's ``@check``)
    and were not failing in ``previous``; none without a previous score to compare with."""
    if previous is None:
        return []

    def failing(score: Score) -> list[Reason]:
        return [
            r
            for r in score.reasons
            if r.status == FindingStatus.FAIL and r.check in CATALOG and CATALOG[r.check].severity == Severity.CRITICAL
        ]

    before = {(r.check, r.subject) for r in failing(previous)}
    return [r for r in failing(current) if (r.check, r.subject) not in before]


def _matches(dest: AlertDestination, workload: Workload) -> bool:
    if dest.workloads and workload.name not in dest.workloads:
        return False
    if dest.owners:
        wanted = {o.lower() for o in dest.owners}
        return any(o.lower() in wanted for o in workload.owners)
    return True


def decide(
    dest: AlertDestination,
    policy: AlertPolicy,
    workload: Workload,
    previous: Score | None,
    current: Score,
    heard: Heard | None,
    now: datetime,
) -> AlertEvent | None:
    """The alert ``dest`` should get now for ``workload``'s new score ``current`` (``previous``: the
    score before it), given what it last ``heard``; None when nothing is due."""
    if not _matches(dest, workload):
        return None
    threshold = _RANK[Status(dest.min_status)] if dest.min_status else _RANK[Status.AT_RISK]
    cooldown = timedelta(seconds=dest.cooldown if dest.cooldown is not None else policy.cooldown)
    cooled = heard is None or now - heard.at >= cooldown
    alerting = severity_rank(current.status) >= threshold
    heard_alerting = heard is not None and severity_rank(heard.status) >= threshold

    def event(kind: Event, new_failures: list[Reason] | None = None) -> AlertEvent:
        """A status event compares with what the destination heard; news within a status, with the
        previous score."""
        failures = tuple(new_failures or ())
        rest = [r for r in current.reasons if (r.check, r.subject) not in {(f.check, f.subject) for f in failures}]
        since: Heard | Score | None = heard if kind in (Event.STATUS_CHANGED, Event.RESOLVED) and heard else previous
        return AlertEvent(
            kind,
            workload.name,
            current.status,
            since.status if since is not None else None,
            current.readiness,
            since.readiness if since is not None else None,
            tuple([*failures, *rest][:MAX_REASONS]),
            current.computed_at,
            tuple(workload.owners),
            failures,
        )

    if alerting and not heard_alerting:
        return event(Event.STATUS_CHANGED)  # a trigger goes at once
    if heard_alerting and not alerting:
        return event(Event.RESOLVED) if cooled else None
    if alerting and heard is not None and current.status != heard.status:
        if severity_rank(current.status) > severity_rank(heard.status) or cooled:
            return event(Event.STATUS_CHANGED)
        return None
    # the status is what the destination heard: only news within it
    if not cooled or (dest.min_status and not alerting) or (dest.type == "pagerduty" and not alerting):
        return None
    failures = new_critical_failures(previous, current)
    if failures:
        return event(Event.CHECK_FAILED, failures)
    if previous is not None and previous.readiness - current.readiness >= policy.score_drop:
        return event(Event.SCORE_DROPPED)
    return None
