"""What the status pages show, as plain data: built from scores, findings and what-if rows, never
from the store directly (``failover.statuspage.source`` reads it). Pure: no I/O, no markup."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote

from failover.mail.digest import doc_link
from failover.model import Finding, Score, Status
from failover.whatif.evaluate import WhatIf

__all__ = [
    "TREND_DAYS",
    "FindingRow",
    "IndexPage",
    "Links",
    "WhatIfMatrix",
    "WorkloadPage",
    "WorkloadSummary",
    "daily_series",
    "file_stems",
    "served_links",
    "static_links",
]

TREND_DAYS = 30
# Worst first: the order of workloads on the index and of findings on a workload's page.
STATUS_ORDER: tuple[Status, ...] = (Status.NOT_READY, Status.UNKNOWN, Status.AT_RISK, Status.READY)
FINDING_ORDER = ("fail", "unknown", "warn", "pass", "skip")


@dataclass(frozen=True, slots=True)
class WhatIfMatrix:
    """Workload x failed domain; a missing cell is a pair the rows did not cover."""

    domains: list[str]
    workloads: list[str]
    cells: dict[tuple[str, str], WhatIf]

    @classmethod
    def of(cls, rows: Iterable[WhatIf]) -> WhatIfMatrix:
        rows = list(rows)
        return cls(
            domains=list(dict.fromkeys(str(r.down) for r in rows)),
            workloads=list(dict.fromkeys(r.workload for r in rows)),
            cells={(r.workload, str(r.down)): r for r in rows},
        )

    def cell(self, workload: str, domain: str) -> WhatIf | None:
        return self.cells.get((workload, domain))

    def surviving(self, domain: str) -> tuple[int, int]:
        """(workloads serving within their RTO target, workloads evaluated) with ``domain`` down."""
        rows = [r for r in self.cells.values() if str(r.down) == domain]
        return sum(1 for r in rows if r.within_target), len(rows)

    def __bool__(self) -> bool:
        return bool(self.cells)


@dataclass(frozen=True, slots=True)
class Links:
    """Relative hrefs between the pages, so the same pages work served and as static files."""

    index_from_workload: str
    workload_from_index: Mapping[str, str]

    def workload(self, name: str) -> str:
        return self.workload_from_index[name]


def served_links(names: Iterable[str]) -> Links:
    """The daemon's URLs: ``/`` and ``/workloads/<name>`` (the name percent-encoded as one segment; a
    name a browser would resolve as a dot segment goes in the query instead)."""
    hrefs = {}
    for n in names:
        segment = quote(n, safe="")
        hrefs[n] = f"workloads/?name={segment}" if segment in ("", ".", "..") else f"workloads/{segment}"
    return Links(index_from_workload="../", workload_from_index=hrefs)


_UNSAFE_FILE = re.compile(r"[^A-Za-z0-9._-]")


def file_stems(names: Iterable[str]) -> dict[str, str]:
    """Workload name → a file name stem that is safe on every file system and unique even where
    names differ only in case: the name itself when it is already safe (letters, digits, ``._-``, not
    starting with a dot), else its safe form, ``~`` and a short hash of the name. No safe name holds a
    ``~``, so the two kinds never meet."""
    names = list(dict.fromkeys(names))
    plain = {n: _UNSAFE_FILE.sub("_", n)[:80].lstrip(".") for n in names}
    kept = [n for n in names if plain[n] == n and n]
    folded: dict[str, int] = {}
    for n in kept:
        folded[n.lower()] = folded.get(n.lower(), 0) + 1
    out = {}
    for n in names:
        if n in kept and folded[n.lower()] == 1:
            out[n] = n
        else:
            digest = hashlib.sha256(n.encode("utf-8", "surrogatepass")).hexdigest()[:10]
            out[n] = f"{plain[n] or 'workload'}~{digest}"
    return out


def static_links(stems: Mapping[str, str]) -> Links:
    """``index.html`` and ``workloads/<stem>.html``."""
    return Links(
        index_from_workload="../index.html",
        workload_from_index={n: f"workloads/{quote(s)}.html" for n, s in stems.items()},
    )


def daily_series(points: Iterable[tuple[date, float]], today: date, days: int = TREND_DAYS) -> list[float | None]:
    """One value per day for the ``days`` days ending ``today``, oldest first; None for a day with
    no score (the daemon was down, or the workload is new): a gap, never a made-up value."""
    by_day = dict(points)
    return [by_day.get(today - timedelta(days=days - 1 - i)) for i in range(days)]


@dataclass(frozen=True, slots=True)
class WorkloadSummary:
    """One workload's line on the index (and the head of its own page)."""

    name: str
    score: Score | None
    trend: list[float | None]
    stale: bool
    href: str = ""

    @property
    def status(self) -> Status:
        return Status(self.score.status) if self.score else Status.UNKNOWN

    @property
    def risks(self) -> list[tuple[str, float]]:
        """Providers whose failure takes down part of the workload, biggest share first."""
        if self.score is None:
            return []
        return sorted(
            ((p, r) for p, r in self.score.single_provider_risk.items() if r > 0), key=lambda x: (-x[1], x[0])
        )


@dataclass(frozen=True, slots=True)
class FindingRow:
    finding: Finding
    title: str
    doc_url: str
    evidence_json: str


@dataclass(frozen=True, slots=True)
class IndexPage:
    generated_at: datetime
    workloads: list[WorkloadSummary]
    whatif: WhatIfMatrix
    docs_url: str
    ready_threshold: float

    @property
    def counts(self) -> list[tuple[Status, int]]:
        return [(s, n) for s in STATUS_ORDER if (n := sum(1 for w in self.workloads if w.status == s))]


@dataclass(frozen=True, slots=True)
class WorkloadPage:
    generated_at: datetime
    summary: WorkloadSummary
    findings: list[FindingRow]
    whatif: list[WhatIf]
    index_href: str
    docs_url: str
    ready_threshold: float = 80.0

    def doc_url(self, check: str) -> str:
        return doc_link(self.docs_url, check)


def rank_workloads(items: Sequence[WorkloadSummary]) -> list[WorkloadSummary]:
    def key(w: WorkloadSummary) -> tuple[int, float, str]:
        return (STATUS_ORDER.index(w.status), w.score.readiness if w.score else -1.0, w.name)

    return sorted(items, key=key)


def rank_findings(rows: Iterable[FindingRow]) -> list[FindingRow]:
    def key(r: FindingRow) -> tuple[int, str, str]:
        status = str(r.finding.status)
        return (FINDING_ORDER.index(status) if status in FINDING_ORDER else 0, r.finding.check, r.finding.subject)

    return sorted(rows, key=key)
