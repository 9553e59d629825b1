"""The check catalogue: every check's public id, category, severity and doc, keyed by id.

Check ids are public (users' CI gates and dashboards key on them): never rename one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from failover.checks.evidence import Evidence
from failover.model import Finding, FindingStatus

CheckFn = Callable[[Evidence], list[Finding]]


@dataclass(frozen=True, slots=True)
class CheckInfo:
    id: str
    title: str
    category: str
    severity: str  # critical | high | medium | low
    doc: str  # what it verifies, why it matters, how to fix
    fn: CheckFn

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
            category=self.category,
            severity=self.severity,
            subject=subject,
            evidence=dict(evidence),
            observed_at=ev.now,
        )


CATALOG: dict[str, CheckInfo] = {}


def check(id: str, *, title: str, category: str, severity: str, doc: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        if id in CATALOG:
            raise ValueError(f"check id {id!r} registered twice")
        CATALOG[id] = CheckInfo(
            id=id, title=title, category=category, severity=severity, doc=" ".join(doc.split()), fn=fn
        )
        return fn

    return register


def info(id: str) -> CheckInfo:
    return CATALOG[id]
