"""The normalized, typed data every part of failover exchanges. Pure data: no I/O here.

Providers produce ``Resource``s (inside an ``Inventory`` that says which scopes could not be read),
probes produce ``Observation``s, checks turn both into ``Finding``s, and scoring turns findings into a
``Score``. ``Workload`` and ``Site`` are the validated config objects (see ``failover.schema``).

Enums: a member's value is its public spelling (stored in the database, written to JSON, matched by
users' CI gates), never changed; its Python name is that value upper-cased, dots as underscores
(``Kind.LB_TARGET_GROUP = "lb.target_group"``). The status words are lower case, ``FindingStatus``
(a check's verdict: ``pass``/``fail``) and ``ObsStatus`` (what a probe saw: ``ok``/``failed``), except
``Status``, the workload's verdict, which reports have always shouted (``READY``, ``AT_RISK``). Code
compares members, never string literals. A test holds every enum here to the naming rule.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from failover.schema import Site, Workload

__all__ = [
    "Capacity",
    "Drill",
    "Finding",
    "FindingStatus",
    "Inventory",
    "Kind",
    "ObsStatus",
    "Observation",
    "Provider",
    "Reason",
    "Resource",
    "RtoVerdict",
    "ScopeError",
    "Score",
    "Site",
    "Status",
    "Workload",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Provider(StrEnum):
    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"
    CLOUDFLARE = "cloudflare"  # routing only: load balancers in front of the clouds


class Kind(StrEnum):
    """Normalized resource kinds; DESIGN.md's table maps each provider's native types onto them."""

    COMPUTE_INSTANCE = "compute.instance"
    COMPUTE_GROUP = "compute.group"
    LB = "lb"
    LB_TARGET_GROUP = "lb.target_group"
    LB_BACKEND = "lb.backend"
    DNS_ZONE = "dns.zone"
    DNS_RECORD = "dns.record"
    DNS_HEALTH_CHECK = "dns.health_check"
    DB_INSTANCE = "db.instance"
    DB_CLUSTER = "db.cluster"
    DB_TABLE = "db.table"  # DynamoDB tables, Cosmos DB accounts
    ROUTING = "routing"  # a traffic-steering config for a name: Cloudflare LB, Front Door, Cloud DNS policy, …
    CACHE = "cache"  # ElastiCache replication groups (global datastores), Memorystore, Azure Cache for Redis
    STORAGE_BUCKET = "storage.bucket"
    REGION = "region"
    RESOURCE_GROUP = "resource_group"
    LOCK = "lock"
    METRIC = "metric"  # a metric the config names (a declared store's lag_metric), with its newest value
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Capacity:
    """Capacity in common units; ``None`` means the provider did not say (never zero by default)."""

    vcpu: float | None = None
    memory_mib: int | None = None
    instances: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"vcpu": self.vcpu, "memory_mib": self.memory_mib, "instances": self.instances}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Capacity:
        d = d or {}
        return cls(vcpu=d.get("vcpu"), memory_mib=d.get("memory_mib"), instances=d.get("instances"))


@dataclass(frozen=True, slots=True)
class Resource:
    provider: str
    account: str
    region: str
    kind: Kind
    native_type: str
    native_id: str
    name: str
    state: str = ""
    zone: str = ""
    capacity: Capacity = field(default_factory=Capacity)
    tags: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "account": self.account,
            "region": self.region,
            "zone": self.zone,
            "kind": self.kind,
            "native_type": self.native_type,
            "native_id": self.native_id,
            "name": self.name,
            "state": self.state,
            "capacity": self.capacity.to_dict(),
            "tags": dict(self.tags),
            "attrs": dict(self.attrs),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Resource:
        return cls(
            provider=d["provider"],
            account=d["account"],
            region=d.get("region", ""),
            zone=d.get("zone", ""),
            kind=Kind(d["kind"]),
            native_type=d.get("native_type", ""),
            native_id=d["native_id"],
            name=d.get("name", ""),
            state=d.get("state", ""),
            capacity=Capacity.from_dict(d.get("capacity")),
            tags=dict(d.get("tags") or {}),
            attrs=dict(d.get("attrs") or {}),
        )


@dataclass(frozen=True, slots=True)
class ScopeError:
    """A part of an account that could not be read: the inventory is incomplete there.

    ``scope`` is provider-shaped (``us-east-1``, ``us-east-1/rds``, ``projects/acme/zones/us-c1-a``,
    ``subscriptions/…/locks``); ``error`` is one of access_denied, throttled, unreachable, deadline, error.
    """

    scope: str
    error: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"scope": self.scope, "error": self.error, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Inventory:
    """One account's inventory: resources plus where it is incomplete (never silently partial)."""

    account: str
    provider: str
    resources: list[Resource] = field(default_factory=list)
    incomplete: list[ScopeError] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime = field(default_factory=utcnow)

    @property
    def complete(self) -> bool:
        return not self.incomplete


class ObsStatus(StrEnum):
    OK = "ok"  # the probe ran and the target behaved as expected
    WARN = "warn"  # ran, works, but something needs attention soon (e.g. a cert expiring in 20 days)
    FAILED = "failed"  # ran, and the target did not behave as expected
    ERROR = "error"  # the probe could not produce an answer (timeout before connect, bad target, bug)


@dataclass(frozen=True, slots=True)
class Observation:
    """What one probe saw. ``data`` holds the probe-specific evidence (status code, TLS, answers…).

    Probes fill ``probe``, ``target`` and the result; the runner attaches ``workload``, ``site`` and
    ``label`` (e.g. ``direct`` / ``as-public-name``) before storing.
    """

    probe: str  # http | dns | tcp
    target: str
    status: ObsStatus
    reason: str
    latency_ms: float | None = None
    observed_at: datetime = field(default_factory=utcnow)
    data: dict[str, Any] = field(default_factory=dict)
    vantage: str = ""
    workload: str | None = None
    site: str | None = None
    label: str = ""

    @property
    def ok(self) -> bool:
        return self.status in (ObsStatus.OK, ObsStatus.WARN)

    def tagged(self, **changes: Any) -> Observation:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "probe": self.probe,
            "target": self.target,
            "status": str(self.status),
            "reason": self.reason,
            "latency_ms": self.latency_ms,
            "observed_at": self.observed_at.isoformat(),
            "data": self.data,
            "vantage": self.vantage,
            "workload": self.workload,
            "site": self.site,
            "label": self.label,
        }


class FindingStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"
    # Not applicable, said out loud (data.replica with no data store declared or found): shown in
    # explain and JSON, never scored (no weight, not unknown, not a reason).
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's verdict for one workload (and one subject within it, e.g. a site or resource)."""

    check: str
    workload: str
    status: FindingStatus
    reason: str
    category: str = ""
    severity: str = "medium"
    subject: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    observed_at: datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "workload": self.workload,
            "status": str(self.status),
            "reason": self.reason,
            "category": self.category,
            "severity": self.severity,
            "subject": self.subject,
            "evidence": self.evidence,
            "observed_at": self.observed_at.isoformat(),
        }


# How far in the future a drill's time may be and still count: clocks differ by seconds, not by more.
# A later drill is refused when recorded and ignored when read: it would pass evidence.drill for
# ever and hide every real drill recorded after it.
DRILL_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Drill:
    """A failover drill a team ran: when, whether the secondary took over, and how long recovery took."""

    workload: str
    performed_at: datetime
    succeeded: bool
    recovery_s: float | None = None
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "performed_at": self.performed_at.isoformat(),
            "succeeded": self.succeeded,
            "recovery_s": self.recovery_s,
            "notes": self.notes,
        }


class RtoVerdict(StrEnum):
    """The estimated recovery time against the target: ``exceeds`` as soon as the known part alone does."""

    WITHIN = "within"
    EXCEEDS = "exceeds"
    UNKNOWN = "unknown"

    @classmethod
    def of(
        cls, estimate_s: float | None, lower_bound_s: float | None, target_s: float | None, unbounded: bool = False
    ) -> RtoVerdict:
        """``unbounded``: some part never completes (the secondary can never reach the capacity needed)."""
        if target_s is None:
            return cls.UNKNOWN
        if unbounded:
            return cls.EXCEEDS
        if estimate_s is not None:
            return cls.WITHIN if estimate_s <= target_s else cls.EXCEEDS
        if lower_bound_s is not None and lower_bound_s > target_s:
            return cls.EXCEEDS
        return cls.UNKNOWN


class Status(StrEnum):
    READY = "READY"
    AT_RISK = "AT_RISK"
    NOT_READY = "NOT_READY"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class Reason:
    """A finding that is not a pass, with the readiness points its fix would gain."""

    check: str
    status: str
    message: str
    points: float
    subject: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "message": self.message,
            "points": self.points,
            "subject": self.subject,
        }


@dataclass(frozen=True, slots=True)
class Score:
    workload: str
    status: Status
    readiness: float
    single_provider_risk: dict[str, float] = field(default_factory=dict)
    rto_estimate_s: float | None = None  # None unless every part of the estimate is known
    rto_target_s: float | None = None
    reasons: list[Reason] = field(default_factory=list)
    computed_at: datetime = field(default_factory=utcnow)
    details: dict[str, Any] = field(default_factory=dict)  # RTO breakdown, gates applied, counts
    rto_lower_bound_s: float | None = None  # the known parts of the RTO: the recovery takes at least this
    rto_verdict: RtoVerdict = None  # type: ignore[assignment]  # derived from the estimate when not given

    def __post_init__(self) -> None:
        if self.rto_verdict is None:
            verdict = RtoVerdict.of(self.rto_estimate_s, self.rto_lower_bound_s, self.rto_target_s)
            object.__setattr__(self, "rto_verdict", verdict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "status": str(self.status),
            "readiness": self.readiness,
            "single_provider_risk": dict(self.single_provider_risk),
            "rto_estimate_s": self.rto_estimate_s,
            "rto_lower_bound_s": self.rto_lower_bound_s,
            "rto_verdict": str(self.rto_verdict),
            "rto_target_s": self.rto_target_s,
            "reasons": [r.to_dict() for r in self.reasons],
            "computed_at": self.computed_at.isoformat(),
            "details": self.details,
        }
