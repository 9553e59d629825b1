"""The JSON format: for programs. Each view becomes its documented JSON shape (README; keep the keys),
written by ``echo_json``: every value exact, control characters as JSON escapes, never raw."""

from __future__ import annotations

from functools import singledispatch
from typing import TYPE_CHECKING, Any

from failover.cli.options import echo_json
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
from failover.model import Observation, Resource, Score

if TYPE_CHECKING:
    from failover.whatif import WhatIf


def emit(result: object) -> None:
    echo_json(to_json(result))


@singledispatch
def to_json(result: object) -> Any:
    raise TypeError(f"no JSON shape for {type(result).__name__}")


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


def resource_json(r: Resource, where: list[dict[str, str]]) -> dict[str, Any]:
    first = where[0] if where else {}
    return {
        **r.to_dict(),
        "workload": first.get("workload"),
        "site": first.get("site"),
        "assignments": where,
    }


@to_json.register
def _cycle(view: CycleView) -> Any:
    return {
        "run_id": view.run_id,
        "scores": [score_json(s) for s in view.scores],
        "findings": [f.to_dict() for f in view.findings],
    }


def whatif_rows(whatif: list[WhatIf]) -> dict[str, list[dict[str, Any]]]:
    """Each workload's ``whatif`` row (the workload with each of aws, gcp, azure down), grouped once:
    a scan per score would be quadratic in the number of workloads."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for r in whatif:
        rows.setdefault(r.workload, []).append(r.to_dict())
    return rows


def with_whatif(data: dict[str, object], rows: list[dict[str, Any]] | None) -> dict[str, object]:
    """A score's JSON with its ``whatif`` row, when the what-if was computed for it."""
    return {**data, "whatif": rows} if rows else data


@to_json.register
def _scores(view: ScoresView) -> Any:
    rows = whatif_rows(view.whatif)
    return [
        with_whatif(score_json(s, view.previous[s.workload], view.since_s), rows.get(s.workload)) for s in view.scores
    ]


@to_json.register
def _explain(view: ExplainView) -> Any:
    from failover.checks import CATALOG

    return {
        "score": score_json(view.scores[0]) if view.scores else None,
        "findings": [
            {**f.to_dict(), "doc": CATALOG[f.check].doc if f.check in CATALOG else None} for f in view.findings
        ],
    }


@to_json.register
def _drills(view: DrillsView) -> Any:
    return [d.to_dict() for d in view.drills]


@to_json.register
def _inventory(view: InventoryView) -> Any:
    return [resource_json(r, view.assignments.get(id(r), [])) for r in view.resources]


@to_json.register
def _config(view: ConfigSummary) -> Any:
    return view.summary


@to_json.register
def _invalid(view: InvalidConfig) -> Any:
    return {
        "valid": False,
        "path": str(view.path) if view.path else None,
        "problems": view.error.problems or [str(view.error)],
    }


@to_json.register
def _demo(view: DemoView) -> Any:
    rows = whatif_rows(view.whatif)
    return [with_whatif(score_json(s), rows.get(s.workload)) for s in view.scores]


@to_json.register
def _whatif(view: WhatIfView) -> Any:
    return [r.to_dict() for r in view.results]


@to_json.register
def _observation(obs: Observation) -> Any:
    return obs.to_dict()
