"""Tables for scores and findings: one place so `check`, `score`, `explain` and `demo` look alike.

Every string shown passes through ``failover.printable`` (here via ``cell``, elsewhere via the
console's ``render_str``): reasons, subjects and names carry remote text."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from failover.model import Finding, Score
from failover.printable import printable
from failover.schema import format_duration

STATUS_STYLE = {
    "READY": "bold green",
    "AT_RISK": "bold yellow",
    "NOT_READY": "bold red",
    "UNKNOWN": "bold magenta",
    "pass": "green",
    "warn": "yellow",
    "fail": "red",
    "unknown": "magenta",
    "skip": "dim",
}


def cell(value: object, style: str = "") -> Text:
    """A table cell or text piece from a value that may come from a cloud, a peer or the store: one
    line, control characters escaped, never read as markup."""
    return Text("-" if value is None else printable(value), style=style)


def trend_text(now: float, then: float | None) -> str:
    if then is None:
        return "new"
    delta = round(now - then, 1)
    return "=" if delta == 0 else f"{delta:+g}"


def score_table(scores: list[Score], previous: dict[str, Score | None] | None = None, top: int = 3) -> Table:
    table = Table(title="Failover readiness", title_justify="left", expand=False)
    for col, kw in (
        ("workload", {}),
        ("status", {}),
        ("readiness", {"justify": "right"}),
        ("trend", {"justify": "right"}),
        ("RTO est / target", {"justify": "right"}),
        ("single-provider risk", {}),
        ("top reasons (points to gain)", {"overflow": "fold"}),
    ):
        table.add_column(col, **kw)  # type: ignore[arg-type]
    for s in scores:
        prev = (previous or {}).get(s.workload)
        risks = ", ".join(f"{p} {r:.0%}" for p, r in sorted(s.single_provider_risk.items()) if r > 0) or "none"
        reasons = "\n".join(f"+{r.points:g} {r.check}: {printable(r.message)}" for r in s.reasons[:top]) or "-"
        if len(s.reasons) > top:
            reasons += f"\n… {len(s.reasons) - top} more (failover explain {s.workload})"
        table.add_row(
            s.workload,
            Text(str(s.status), style=STATUS_STYLE.get(str(s.status), "")),
            f"{s.readiness:g}",
            trend_text(s.readiness, prev.readiness if prev else None) if previous is not None else "",
            rto_cell(s),
            risks,
            reasons,
        )
    return table


def rto_cell(s: Score) -> str:
    """``6m / 15m`` when the estimate is known, ``> 10m (target 4m)`` when only its lower bound is (a part is
    unknown or never completes), ``? / 15m`` when nothing is."""
    target = format_duration(s.rto_target_s)
    if s.rto_estimate_s is not None:
        return f"{format_duration(s.rto_estimate_s)} / {target}"
    if s.rto_lower_bound_s:
        return f"> {format_duration(s.rto_lower_bound_s)} (target {target})"
    return f"? / {target}"


def findings_table(findings: list[Finding], title: str = "Findings") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("workload")
    table.add_column("check")
    table.add_column("status")
    table.add_column("subject")
    table.add_column("reason", overflow="fold")
    order = {"fail": 0, "unknown": 1, "warn": 2, "pass": 3, "skip": 4}
    for f in sorted(findings, key=lambda f: (f.workload, order.get(str(f.status), 9), f.check, f.subject)):
        status = Text(str(f.status), style=STATUS_STYLE.get(str(f.status), ""))
        table.add_row(cell(f.workload), f.check, status, cell(f.subject), cell(f.reason))
    return table


def score_json(s: Score, previous: Score | None = None, since_s: float | None = None) -> dict[str, object]:
    """The public JSON shape of a score (documented in the README; keep the keys)."""
    data: dict[str, object] = s.to_dict()
    details = s.details
    del data["details"]  # internal; its public parts follow
    data |= {"gates": list(details.get("gates", [])), "rto_breakdown": details.get("rto")}
    if since_s is not None:
        data["trend"] = {
            "since_s": since_s,
            "readiness_then": previous.readiness if previous else None,
            "status_then": str(previous.status) if previous else None,
            "delta": round(s.readiness - previous.readiness, 1) if previous else None,
        }
    return data
