"""The table format: for people. Rich tables and lines on stdout, notices on stderr; scores and
findings look alike in `check`, `score`, `explain` and `demo`.

Every string shown passes through ``failover.printable`` (here via ``cell``, elsewhere via the
console's ``render_str``): reasons, subjects and names carry remote text."""

from __future__ import annotations

import json
from functools import singledispatch
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table
from rich.text import Text

from failover.cli.options import console
from failover.cli.render.views import (
    ConfigSummary,
    CycleView,
    DemoView,
    DrillsView,
    ExplainView,
    InvalidConfig,
    InventoryView,
    ScoresView,
    WhatIfView,
)
from failover.model import Capacity, Finding, Inventory, Observation, Resource, Score
from failover.printable import printable
from failover.schema import format_duration

if TYPE_CHECKING:
    from failover.whatif import Domain, WhatIf

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


# Worst first: how findings are listed.
_ORDER = {"fail": 0, "unknown": 1, "warn": 2, "pass": 3, "skip": 4}
_PROBE_STYLE = {"ok": "bold green", "warn": "bold yellow", "failed": "bold red", "error": "bold magenta"}


def emit(result: object) -> None:
    render(result)


@singledispatch
def render(result: object) -> None:
    raise TypeError(f"no table rendering for {type(result).__name__}")


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
    for f in sorted(findings, key=lambda f: (f.workload, _ORDER.get(str(f.status), 9), f.check, f.subject)):
        status = Text(str(f.status), style=STATUS_STYLE.get(str(f.status), ""))
        table.add_row(cell(f.workload), f.check, status, cell(f.subject), cell(f.reason))
    return table


def capacity_text(c: Capacity) -> str:
    parts = []
    if c.instances is not None:
        parts.append(f"{c.instances} inst")
    if c.vcpu is not None:
        parts.append(f"{c.vcpu:g} vCPU")
    if c.memory_mib is not None:
        parts.append(f"{c.memory_mib / 1024:g} GiB")
    return " · ".join(parts)


def resources_table(title: str, resources: list[Resource]) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for col in ("kind", "name", "id", "region", "zone", "state", "capacity"):
        table.add_column(col, overflow="fold")
    for r in sorted(resources, key=lambda r: (r.kind, r.region, r.name, r.native_id)):
        table.add_row(
            str(r.kind),
            cell(r.name),
            cell(r.native_id),
            cell(r.region or "global"),
            cell(r.zone),
            cell(r.state),
            capacity_text(r.capacity),
        )
    return table


def summary_line(inv: Inventory) -> str:
    """One account's inventory in a line (also the progress bar's text when it finishes)."""
    head = f"{inv.account} ({inv.provider}): {len(inv.resources)} resources"
    if inv.complete:
        return f"{head}, complete"
    gaps = "; ".join(f"{s.scope} {s.error}" for s in inv.incomplete)
    return f"{head}, {len(inv.incomplete)} scopes incomplete: {gaps}"


def observation_table(obs: Observation) -> Table:
    table = Table(title=f"{obs.probe} probe", title_justify="left", show_header=False, expand=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("target", obs.target)
    table.add_row("status", Text(str(obs.status), style=_PROBE_STYLE.get(str(obs.status), "")))
    table.add_row("reason", obs.reason)
    table.add_row("latency", "-" if obs.latency_ms is None else f"{obs.latency_ms:.1f} ms")
    for key, value in obs.data.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                table.add_row(f"{key}.{sub}", _probe_value(v))
        else:
            table.add_row(key, _probe_value(value))
    return table


def _probe_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value)


@render.register
def _cycle(view: CycleView) -> None:
    out = console()
    out.print(findings_table(view.findings))
    out.print(score_table(view.scores))


@render.register
def _scores(view: ScoresView) -> None:
    if view.scores:
        console().print(score_table(view.scores, view.previous, top=view.top))
        whatif_sentences(view.whatif)


_SURVIVAL_STYLE = {"yes": "bold green", "no": "bold red", "unknown": "bold magenta"}


def _downs(results: list[WhatIf]) -> list[Domain]:
    return list(dict.fromkeys(r.down for r in results))


def whatif_sentences(results: list[WhatIf]) -> None:
    """ "If AWS went down now: 3 of 5 workloads would be serving within target", one line per domain."""
    from failover.whatif import summary

    out = console()
    for domain in _downs(results):
        out.print(summary(results, domain))


def whatif_rto(r: WhatIf) -> str:
    target = format_duration(r.rto_target_s) if r.rto_target_s is not None else "?"
    if r.rto_estimate_s is None:
        return f"- ({r.rto_verdict}, target {target})"
    return f"{format_duration(r.rto_estimate_s)} / {target} ({r.rto_verdict})"


def whatif_matrix(results: list[WhatIf]) -> Table:
    """Workload x failed domain: survives, and the RTO estimate when it does."""
    downs = _downs(results)
    table = Table(title="What if a provider went down now", title_justify="left")
    table.add_column("workload")
    for d in downs:
        table.add_column(f"{d} down")
    by_workload: dict[str, dict[Domain, WhatIf]] = {}
    for r in results:
        by_workload.setdefault(r.workload, {})[r.down] = r
    for workload, row in by_workload.items():
        cells = [cell(workload)]
        for d in downs:
            found = row.get(d)
            cells.append(cell(None) if found is None else _matrix_cell(found))
        table.add_row(*cells)
    return table


def _matrix_cell(r: WhatIf) -> Text:
    """``no``; ``yes on aws-east (unaffected)``; ``yes, 7m30s on gcp-central`` (yellow: after the target)."""
    if r.survives == "no":
        return cell("no", _SURVIVAL_STYLE["no"])
    text = str(r.survives)
    if not r.primary_down:
        text += f" on {r.serving_site} (unaffected)"
    else:
        text += f", {format_duration(r.rto_estimate_s)}" if r.rto_estimate_s is not None else ", RTO unknown"
        text += f" on {r.serving_site}" if r.serving_site else ""
    late = r.survives == "yes" and not r.within_target
    return cell(text, "bold yellow" if late else _SURVIVAL_STYLE.get(str(r.survives), ""))


def whatif_table(results: list[WhatIf], domain: Domain) -> Table:
    """One failed domain: per workload, whether and where it would serve, how soon, the data at risk, why not."""
    table = Table(title=f"If {domain} went down now", title_justify="left")
    for col in ("workload", "survives", "serving site", "RTO est / target", "RPO exposure"):
        table.add_column(col)
    table.add_column("reasons", overflow="fold")
    for r in (r for r in results if r.down == domain):
        exposure = format_duration(r.rpo_exposure_s) if r.rpo_exposure_s is not None else "unknown"
        reasons = "\n".join(printable(f"{x.check}: {x.message}") for x in r.reasons)
        table.add_row(
            cell(r.workload),
            cell(str(r.survives), _SURVIVAL_STYLE.get(str(r.survives), "")),
            cell(r.serving_site),
            cell(whatif_rto(r)),
            cell(exposure),
            Text(reasons),
        )
    return table


@render.register
def _whatif(view: WhatIfView) -> None:
    out = console()
    if len(view.downs) == 1:
        out.print(whatif_table(view.results, view.downs[0]))
    else:
        out.print(whatif_matrix(view.results))
        for domain in view.downs:
            lines = [
                f"  {r.workload}: {r.survives}: "
                + "; ".join(f"{x.check}: {x.message}" for x in r.reasons[:3])
                + (f" (+{len(r.reasons) - 3} more: --down {domain})" if len(r.reasons) > 3 else "")
                for r in view.results
                if r.down == domain and not r.within_target
            ]
            if lines:
                out.print(f"{domain} down, not serving within target:")
                for line in lines:
                    out.print(line)
    whatif_sentences(view.results)


@render.register
def _explain(view: ExplainView) -> None:
    from rich.panel import Panel

    from failover.checks import CATALOG

    out = console()
    if view.scores:
        first = view.scores[0]
        out.print(score_table(view.scores, top=len(first.reasons)))
        for note in first.details.get("rto", {}).get("notes", []):
            out.print(f"  RTO note: {note}")
        for gate in first.details.get("gates", []):
            out.print(f"  gate: {gate}")
    for f in sorted(view.findings, key=lambda f: (_ORDER.get(str(f.status), 9), f.check, f.subject)):
        meta = CATALOG.get(f.check)
        body = Text()
        body.append(printable(f.reason) + "\n")
        if f.evidence:
            body.append("evidence: " + json.dumps(f.evidence, default=str, sort_keys=True)[:1500] + "\n", style="dim")
        if meta:
            body.append(meta.doc, style="italic")
        title = Text.assemble(
            (f"{f.status} ", STATUS_STYLE.get(str(f.status), "")), f"{f.check}  {printable(f.subject)}"
        )
        out.print(Panel(body, title=title, title_align="left"))


@render.register
def _drills(view: DrillsView) -> None:
    table = Table(title="Failover drills", title_justify="left")
    for col in ("workload", "when (UTC)", "outcome", "recovery", "notes"):
        table.add_column(col)
    for d in view.drills:
        recovery = format_duration(d.recovery_s) if d.recovery_s is not None else "-"
        outcome = "ok" if d.succeeded else "failed"
        table.add_row(cell(d.workload), f"{d.performed_at:%Y-%m-%d %H:%M}", outcome, recovery, cell(d.notes))
    console().print(table)


@render.register
def _inventory(view: InventoryView) -> None:
    out = console()
    for s in view.sites:
        title = f"{s.workload} / {s.site} ({s.role}, {s.account}): {len(s.resources)}"
        out.print(resources_table(title, s.resources))
    if view.unassigned:
        out.print(resources_table(f"unassigned: {len(view.unassigned)}", view.unassigned))
    for inv in view.inventories:
        out.print(summary_line(inv))


@render.register
def _config(view: ConfigSummary) -> None:
    summary = view.summary
    counts = summary["counts"]
    click.echo(
        f"{summary['path'] or 'config'}: valid: {_n(counts['accounts'], 'account')}, "
        f"{_n(counts['workloads'], 'workload')}, {_n(counts['sites'], 'site')}"
    )
    for a in summary["accounts"]:
        click.echo(f"  account {a['name']}: {a['provider']} {', '.join(a['scopes'])}")

    def site(s: dict[str, Any]) -> str:
        return f"{s['name']} ({s['provider']} {','.join(s['regions']) or 'all regions'})"

    for w in summary["workloads"]:
        t = w["targets"]
        primary = ", ".join(site(s) for s in w["sites"] if s["role"] == "primary")
        secondaries = ", ".join(site(s) for s in w["sites"] if s["role"] == "secondary")
        dns = f"{w['dns']['name']} via {w['dns']['mechanism']}" if w["dns"] else "no dns path"
        click.echo(
            f"  workload {w['name']} (tier {w['tier']}, RTO {format_duration(t['rto_s'])}, "
            f"RPO {format_duration(t['rpo_s'])}): {primary} -> {secondaries}; {dns}"
        )
    if summary["mail"]:
        m = summary["mail"]
        click.echo(f"  mail: from {m['from']} via {m['smtp']}, {m['schedule']}")
    for w in summary["warnings"]:
        click.echo(f"warning: {w}", err=True)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@render.register
def _invalid(view: InvalidConfig) -> None:
    """A config error reads as every command's error line (``error: …``, exit 2; the traceback with
    ``--debug``): the CLI's error handling shows it."""
    raise view.error


@render.register
def _demo(view: DemoView) -> None:
    out = console()
    out.print(findings_table([f for f in view.findings if str(f.status) != "pass"], "What is wrong"))
    out.print(score_table(view.scores))
    got = {s.workload: str(s.status) for s in view.scores}
    if view.whatif:
        out.print(whatif_matrix(view.whatif))
        whatif_sentences(view.whatif)
    out.print(f"demo estate: expected {view.expected}, got {got}")
    out.print(f"one cycle in {view.elapsed_s:.1f}s; scores stored in {view.database}")
    out.print(f"next: failover score -c {view.config_path} --format json")
    out.print(f"      failover explain payments -c {view.config_path}")


@render.register
def _observation(obs: Observation) -> None:
    console().print(observation_table(obs))
