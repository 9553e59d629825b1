"""The check catalogue: every check's public id, category, severity and doc, keyed by id, plus what
scoring reads from it (the gate it holds, the RTO part its fix shortens, what it tells single-provider
risk). A new check declares all of it in its ``@check(...)``: scoring never names a check id.

Check ids are public (users' CI gates and dashboards key on them): never rename one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from failover.checks.evidence import Evidence
from failover.model import Finding, FindingStatus

CheckFn = Callable[[Evidence], list[Finding]]


class Severity(StrEnum):
    """How bad a failure is; a ``critical`` failure keeps a workload from READY whatever its score."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Category(StrEnum):
    """What a check looks at; each category's findings share the category's weight in the readiness
    score (``weight``: the built-in default, which ``scoring.weights`` in the config overrides)."""

    SECONDARY = "secondary"
    CAPACITY = "capacity"
    DNS = "dns"
    DATA = "data"
    GUARDRAILS = "guardrails"
    DEPENDENCIES = "dependencies"
    DRIFT = "drift"
    EVIDENCE = "evidence"

    @property
    def weight(self) -> float:
        return _DEFAULT_WEIGHTS[self]


_DEFAULT_WEIGHTS = {
    Category.SECONDARY: 3.0,
    Category.CAPACITY: 2.0,
    Category.DNS: 3.0,
    Category.DATA: 2.0,
    Category.GUARDRAILS: 1.5,
    Category.DEPENDENCIES: 1.5,
    Category.DRIFT: 1.0,
    Category.EVIDENCE: 1.0,
}

# Readiness caps a gate may set: no usable secondary at all; a secondary that cannot take the load;
# at risk (a single provider still decides, or the RTO is over target).
CAP_NO_SECONDARY = 40.0
CAP_CANNOT_SCALE = 60.0
CAP_AT_RISK = 79.0


class Trip(StrEnum):
    """When a gate holds."""

    FAILS = "fails"  # for each finding of the check that fails (and whose evidence is under ``below``)
    NONE_OK = "none_ok"  # no finding of the check passes or warns, counting a check with no finding
    OK_ONLY_ON_PRIMARY_PROVIDER = "ok_only_on_primary_provider"  # the subjects (sites) that pass or warn
    # are all on the primary's provider


@dataclass(frozen=True, slots=True)
class Gate:
    """A cap on readiness that holds whatever the weighted findings say, with the words shown for it.

    ``text`` may name ``{primary_provider}`` and ``{limit}`` (the number in ``below``); ``below``
    ``(key, limit)`` narrows a ``FAILS`` gate to findings whose ``evidence[key]`` (missing: 0) is under
    ``limit``."""

    cap: float
    text: str
    when: Trip = Trip.FAILS
    below: tuple[str, float] | None = None

    def says(self, primary_provider: str) -> str:
        return self.text.format(primary_provider=primary_provider, limit=self.below[1] if self.below else None)

    def holds_for(self, finding: Finding, status: FindingStatus) -> bool:
        """Whether a ``FAILS`` gate holds for one finding judged ``status``."""
        if self.when != Trip.FAILS or status != FindingStatus.FAIL:
            return False
        if self.below is None:
            return True
        key, limit = self.below
        return bool((finding.evidence.get(key) or 0.0) < limit)

    def describe(self) -> str:
        """One line for the catalogue: when the gate holds and the cap it sets."""
        when = {
            Trip.FAILS: "a finding fails",
            Trip.NONE_OK: "no finding passes or warns",
            Trip.OK_ONLY_ON_PRIMARY_PROVIDER: "every site that passes or warns is on the primary's provider",
        }[self.when]
        if self.below is not None:
            when += f" with `{self.below[0]}` under {self.below[1]:g}"
        return f"caps readiness at {self.cap:g} when {when}: “{self.says('{primary_provider}')}”"


class RtoPart(StrEnum):
    """The part of the recovery-time estimate a fix of the check shortens, credited in its points."""

    DETECTION = "detection"  # automatic, health-checked failover: detection at most 30 s, no manual decision
    DNS = "dns"  # clients cache the public name no longer than targets.max_dns_ttl
    SCALE = "scale"  # the secondary already runs the required capacity: nothing to scale up
    SCALE_BOUND = "scale_bound"  # the secondary can grow to the required capacity: the scale-up completes


class RiskInput(StrEnum):
    """What a check's findings tell single-provider risk (how much of a workload one provider takes down)."""

    SECONDARY_UP = "secondary_up"  # subjects are secondary sites; pass or warn: the site would take traffic
    SECONDARY_CAPACITY = "secondary_capacity"  # every finding passes: the secondaries run the capacity needed
    DATA_COPY = "data_copy"  # fail: the primary's data goes down with it; unknown: it may
    NAMESERVERS = "nameservers"  # the first finding's ``evidence["providers"]``: where authoritative DNS is


@dataclass(frozen=True, slots=True)
class CheckInfo:
    id: str
    title: str
    category: Category
    severity: Severity
    doc: str  # what it verifies, why it matters, how to fix
    fn: CheckFn
    gates: tuple[Gate, ...] = ()
    rto_part: RtoPart | None = None
    risk: RiskInput | None = None

    @property
    def anchor(self) -> str:
        return self.id.replace(".", "-")

    def finding(
        self, ev: Evidence, status: FindingStatus, reason: str, subject: str = "", **evidence: object
    ) -> Finding:
        return Finding(
            check=self.id,
            workload=ev.workload.name,
            status=status,
            reason=reason,
            category=self.category.value,
            severity=self.severity.value,
            subject=subject,
            evidence=dict(evidence),
            observed_at=ev.now,
        )


CATALOG: dict[str, CheckInfo] = {}


def check(
    id: str,
    *,
    title: str,
    category: Category,
    severity: Severity,
    doc: str,
    gates: tuple[Gate, ...] = (),
    rto_part: RtoPart | None = None,
    risk: RiskInput | None = None,
) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        if id in CATALOG:
            raise ValueError(f"check id {id!r} registered twice")
        CATALOG[id] = CheckInfo(
            id=id,
            title=title,
            category=Category(category),
            severity=Severity(severity),
            doc=" ".join(doc.split()),
            fn=fn,
            gates=tuple(gates),
            rto_part=rto_part,
            risk=risk,
        )
        return fn

    return register


def info(id: str) -> CheckInfo:
    return CATALOG[id]
