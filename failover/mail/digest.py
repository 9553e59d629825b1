"""What one owner's weekly email says, computed from scores. Pure: no store, no SMTP, no templates.

The week is the ISO week of ``now`` in the schedule's time zone; "a week ago" is ``now - 7 days``.
What changed is the difference between the non-pass findings carried in the two scores' reasons,
keyed by (check, subject): a key only in the newer score is new, one only in the older is fixed, and
a warn that became fail/unknown got worse. Without a score from a week ago nothing is claimed to
have changed: the digest says it cannot compare.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from failover.errors import ConfigError
from failover.model import Reason, RtoVerdict, Score, Status
from failover.schema import Workload, format_duration

if TYPE_CHECKING:
    from failover.whatif import WhatIf

__all__ = [
    "STATUS_ORDER",
    "Change",
    "OwnerDigest",
    "ReasonLine",
    "WorkloadDigest",
    "aware",
    "build_owner_digest",
    "build_workload_digest",
    "check_titles",
    "daily_trend",
    "diff_reasons",
    "doc_link",
    "iso_week",
    "owners_of",
    "schedule_zone",
]

# Worst first: the order of workloads in an email and of counts in the subject.
STATUS_ORDER: tuple[Status, ...] = (Status.NOT_READY, Status.UNKNOWN, Status.AT_RISK, Status.READY)
_SEVERE = {"fail", "unknown"}
TOP_REASONS = 5


@dataclass(frozen=True, slots=True)
class ReasonLine:
    check: str
    title: str
    status: str
    message: str
    subject: str
    points: float
    doc_url: str


@dataclass(frozen=True, slots=True)
class Change:
    kind: Literal["new", "worse", "fixed"]
    line: ReasonLine
    was: str = ""  # the older status, for "worse"


@dataclass(frozen=True, slots=True)
class WorkloadDigest:
    name: str
    tier: int
    status: Status
    readiness: float | None
    readiness_week_ago: float | None
    trend: list[float | None]  # one value per day of the last 7, oldest first; None = no score that day
    trend_days: list[date]
    rto_estimate_s: float | None
    rto_target_s: float | None
    computed_at: datetime | None
    stale: bool
    compared: bool  # a score from a week ago existed, so "changes" is meaningful
    changes: list[Change]
    top: list[ReasonLine]
    more_reasons: int  # reasons beyond ``top``
    single_provider_risk: dict[str, float] = field(default_factory=dict)
    rto_lower_bound_s: float | None = None  # what is known of the RTO when the estimate is not
    rto_verdict: RtoVerdict = RtoVerdict.UNKNOWN

    @property
    def delta(self) -> float | None:
        if self.readiness is None or self.readiness_week_ago is None:
            return None
        return self.readiness - self.readiness_week_ago

    @property
    def rto_text(self) -> str:
        """The estimate, or ``> lower bound`` when only the known part of it can be told."""
        if self.rto_estimate_s is None and self.rto_lower_bound_s:
            return f"> {format_duration(self.rto_lower_bound_s)}"
        return format_duration(self.rto_estimate_s)

    @property
    def rto_over_target(self) -> bool | None:
        """True as soon as the known part of the RTO exceeds the target; None when that cannot be told."""
        if self.rto_verdict == RtoVerdict.UNKNOWN:
            return None
        return self.rto_verdict == RtoVerdict.EXCEEDS


@dataclass(frozen=True, slots=True)
class WhatIfCell:
    down: str  # aws, gcp, azure
    survives: str  # yes | no | unknown
    text: str  # "yes, 7m30s on gcp-central", "no"


@dataclass(frozen=True, slots=True)
class WhatIfDigest:
    """The what-if matrix of an owner's workloads: one sentence per failed provider, one row per workload."""

    downs: list[str]
    sentences: list[str]
    rows: list[tuple[str, list[WhatIfCell]]]


def build_whatif_digest(results: Sequence[WhatIf], workloads: Iterable[str]) -> WhatIfDigest | None:
    """The matrix for these workloads (None when it was not computed for any of them)."""
    from failover.whatif import summary

    names = set(workloads)
    mine = [r for r in results if r.workload in names]
    if not mine:
        return None
    downs = list(dict.fromkeys(r.down for r in mine))
    rows: dict[str, list[WhatIfCell]] = {}
    for r in mine:
        rows.setdefault(r.workload, []).append(WhatIfCell(str(r.down), str(r.survives), _whatif_text(r)))
    return WhatIfDigest([str(d) for d in downs], [summary(mine, d) for d in downs], list(rows.items()))


def _whatif_text(r: WhatIf) -> str:
    if str(r.survives) == "no":
        return "no"
    if not r.primary_down:
        return f"{r.survives} (unaffected)"
    rto = format_duration(r.rto_estimate_s) if r.rto_estimate_s is not None else "RTO unknown"
    late = "" if r.within_target else " (over target)"
    return f"{r.survives}, {rto}{late}" + (f" on {r.serving_site}" if r.serving_site else "")


@dataclass(frozen=True, slots=True)
class OwnerDigest:
    owner: str
    iso_week: str
    now: datetime
    workloads: list[WorkloadDigest]
    whatif: WhatIfDigest | None = None  # if AWS, GCP or Azure went down now

    @property
    def counts(self) -> dict[Status, int]:
        """Status → number of workloads, worst first, zero counts left out."""
        out = {s: sum(1 for w in self.workloads if w.status == s) for s in STATUS_ORDER}
        return {s: n for s, n in out.items() if n}


def schedule_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"mail.schedule.timezone: unknown time zone {name!r} (expected an IANA name like Europe/Berlin)"
        ) from None


def aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def iso_week(now: datetime, tz: tzinfo) -> str:
    """``2026-W48``: the ISO week of ``now`` as seen in the schedule's time zone."""
    year, week, _ = aware(now).astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def owners_of(workloads: Iterable[Workload]) -> dict[str, list[Workload]]:
    """Owner address (lower-cased, so one person listed twice gets one email) → their workloads."""
    out: dict[str, list[Workload]] = {}
    for w in workloads:
        for owner in dict.fromkeys(o.strip().lower() for o in w.owners):
            out.setdefault(owner, []).append(w)
    return out


def doc_link(docs_url: str, check: str) -> str:
    return f"{docs_url.split('#', 1)[0]}#{check.replace('.', '-')}"


def check_titles() -> dict[str, str]:
    """Check id → human title from the checks catalogue; empty when the catalogue is unavailable."""
    try:
        from failover.checks import CATALOG  # type: ignore[attr-defined]
    except ImportError:
        return {}
    out: dict[str, str] = {}
    for check_id, info in dict(CATALOG).items():
        title = getattr(info, "title", "")
        if isinstance(title, str) and title:
            out[str(check_id)] = title
    return out


def _line(r: Reason, docs_url: str, titles: Mapping[str, str]) -> ReasonLine:
    return ReasonLine(
        check=r.check,
        title=titles.get(r.check, r.check),
        status=str(r.status),
        message=r.message,
        subject=r.subject,
        points=float(r.points),
        doc_url=doc_link(docs_url, r.check),
    )


def diff_reasons(
    current: Sequence[Reason], week_ago: Sequence[Reason]
) -> tuple[list[Reason], list[tuple[Reason, str]], list[Reason]]:
    """(new, worse with the older status, fixed) between two scores' reasons, keyed by (check, subject)."""
    before = {(r.check, r.subject): r for r in week_ago}
    now = {(r.check, r.subject): r for r in current}
    new = [r for k, r in now.items() if k not in before]
    worse = [
        (r, str(before[k].status))
        for k, r in now.items()
        if k in before and str(r.status) in _SEVERE and str(before[k].status) not in _SEVERE
    ]
    fixed = [r for k, r in before.items() if k not in now]
    return new, worse, fixed


def daily_trend(
    history: Iterable[Score], now: datetime, tz: tzinfo, days: int = 7
) -> tuple[list[date], list[float | None]]:
    """The last score of each local day in the ``days`` days ending with ``now``'s day, oldest first."""
    today = aware(now).astimezone(tz).date()
    day_list = [today - timedelta(days=days - 1 - i) for i in range(days)]
    last: dict[date, tuple[datetime, float]] = {}
    limit = aware(now)
    for s in history:
        at = aware(s.computed_at)
        if at > limit:
            continue
        d = at.astimezone(tz).date()
        if d in day_list and (d not in last or at >= last[d][0]):
            last[d] = (at, float(s.readiness))
    return day_list, [last[d][1] if d in last else None for d in day_list]


def build_workload_digest(
    workload: Workload,
    current: Score | None,
    week_ago: Score | None,
    history: Iterable[Score],
    *,
    now: datetime,
    tz: tzinfo,
    docs_url: str,
    titles: Mapping[str, str],
    stale_after_s: float,
) -> WorkloadDigest:
    days, trend = daily_trend(history, now, tz)
    target = current.rto_target_s if current and current.rto_target_s is not None else workload.targets.rto
    if current is None:
        return WorkloadDigest(
            name=workload.name,
            tier=workload.tier,
            status=Status.UNKNOWN,
            readiness=None,
            readiness_week_ago=float(week_ago.readiness) if week_ago else None,
            trend=trend,
            trend_days=days,
            rto_estimate_s=None,
            rto_target_s=target,
            computed_at=None,
            stale=True,
            compared=False,
            changes=[],
            top=[],
            more_reasons=0,
        )
    changes: list[Change] = []
    if week_ago is not None:
        new, worse, fixed = diff_reasons(current.reasons, week_ago.reasons)
        changes += [Change("new", _line(r, docs_url, titles)) for r in new]
        changes += [Change("worse", _line(r, docs_url, titles), was) for r, was in worse]
        changes += [Change("fixed", _line(r, docs_url, titles)) for r in fixed]
    ranked = sorted(current.reasons, key=lambda r: (-float(r.points), r.check, r.subject))
    age = (aware(now) - aware(current.computed_at)).total_seconds()
    return WorkloadDigest(
        name=workload.name,
        tier=workload.tier,
        status=Status(current.status),
        readiness=float(current.readiness),
        readiness_week_ago=float(week_ago.readiness) if week_ago else None,
        trend=trend,
        trend_days=days,
        rto_estimate_s=current.rto_estimate_s,
        rto_target_s=target,
        computed_at=aware(current.computed_at),
        stale=age > stale_after_s,
        compared=week_ago is not None,
        changes=changes,
        top=[_line(r, docs_url, titles) for r in ranked[:TOP_REASONS]],
        more_reasons=max(0, len(ranked) - TOP_REASONS),
        single_provider_risk=dict(current.single_provider_risk),
        rto_lower_bound_s=current.rto_lower_bound_s,
        # a score stored without a target is judged against the workload's configured one
        rto_verdict=current.rto_verdict
        if current.rto_target_s is not None
        else RtoVerdict.of(current.rto_estimate_s, current.rto_lower_bound_s, target),
    )


def _rank(w: WorkloadDigest) -> tuple[Any, ...]:
    return (STATUS_ORDER.index(w.status), w.readiness if w.readiness is not None else -1.0, w.name)


def build_owner_digest(
    owner: str,
    workloads: Iterable[WorkloadDigest],
    *,
    now: datetime,
    tz: tzinfo,
    whatif: Sequence[WhatIf] = (),
) -> OwnerDigest:
    ranked = sorted(workloads, key=_rank)
    matrix = build_whatif_digest(whatif, (w.name for w in ranked))
    return OwnerDigest(owner=owner, iso_week=iso_week(now, tz), now=aware(now), workloads=ranked, whatif=matrix)
