"""``route53-failover``: a PRIMARY and a SECONDARY failover record for the public name. Route 53 answers
the PRIMARY while its health signal (``failover.checks.governance.record_governor``) says healthy,
else the SECONDARY."""

from __future__ import annotations

from typing import Any

from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.governance import Mode, failover_status, record_governor
from failover.checks.mechanisms.base import Answer, Mechanism, Problem, RoutingPath, reaching_answer, secondary_wanted
from failover.checks.mechanisms.registry import register
from failover.checks.mechanisms.route53 import (
    DATA_PLANE,
    PERMISSIONS,
    control_plane,
    control_plane_note,
    record_targets,
    route53_records,
)
from failover.model import FindingStatus

FAIL, UNKNOWN = FindingStatus.FAIL, FindingStatus.UNKNOWN


@register
class Route53Failover(Mechanism):
    id = "route53-failover"
    title = "Route 53 failover records (PRIMARY / SECONDARY)"
    provider = "aws"
    permissions = PERMISSIONS
    doc = """A PRIMARY and a SECONDARY failover record exist for the public name, the PRIMARY is governed by
    a health signal (a health check that is neither disabled nor inverted, or an alias evaluating an
    ALB/NLB's or health-checked records' health), and the SECONDARY's answer reaches the secondary."""

    def read(self, ev: Evidence) -> RoutingPath:
        assert ev.workload.dns is not None
        name = ev.workload.dns.name
        recs = route53_records(ev)
        primary, secondary, gaps = recs.primary, recs.secondary, recs.gaps
        plane = control_plane(recs.records, recs.zones)
        base = self.path_base(plane, DATA_PLANE, gaps)
        # dns.health_check when nothing governs: no PRIMARY record at all.
        if not primary:
            status = UNKNOWN if gaps or not recs.zones else FAIL
            base["no_detection"] = (
                Problem(status, f"no PRIMARY failover record for {name}, so no automatic detection"),
            )
        if not primary and not secondary and not recs.zones:
            why = f"no Route 53 hosted zone for {name} in {', '.join(recs.searched) or 'any configured AWS account'}"
            if gaps:
                why += "; inventory incomplete: " + join(gaps, 1)
            return RoutingPath(**base, problems=(Problem(UNKNOWN, why),), evidence={"searched": recs.searched})
        missing: list[str] = []
        if not primary:
            missing.append(f"no PRIMARY failover record for {name}")
        if not secondary:
            missing.append(f"no SECONDARY failover record for {name}")
        if missing and gaps:
            why = join(missing) + "; inventory incomplete: " + join(gaps, 1)
            return RoutingPath(**base, problems=(Problem(UNKNOWN, why),))
        if not primary and not secondary:
            zones = ", ".join(z.name for z in recs.zones)
            problem = Problem(FAIL, join(missing) + f" in hosted zone {zones}")
            return RoutingPath(**base, problems=(problem,), evidence={"searched": recs.searched})
        problems = [Problem(FAIL, m) for m in missing]
        unknown: list[Problem] = []
        governed = [record_governor(ev, rec) for rec in primary]
        serving = tuple(
            Answer(rec.native_id, rec.name, frozenset(record_targets(rec)), governor=g)
            for rec, g in zip(primary, governed, strict=True)
        )
        for g in governed:
            status = failover_status(g.mode)
            if status in (FAIL, UNKNOWN):
                (problems if status == FAIL else unknown).append(Problem(status, g.reason))
        sec_sites = [s.name for s in ev.workload.secondaries]
        wanted = secondary_wanted(ev)
        resolved: list[str] = []
        answers: list[Answer] = []
        for rec in secondary:
            answer = reaching_answer(ev, rec.native_id, rec.name, record_targets(rec), wanted)
            seen = list(answer.resolved)
            resolved += seen
            answers.append(answer)
            if answer.reaches is None:
                unknown.append(Problem(UNKNOWN, f"SECONDARY record target unresolved ({join(seen, 2)})"))
            elif not answer.reaches:
                via = f" (resolves {join(seen, 2)})" if seen else ""
                problems.append(
                    Problem(
                        FAIL,
                        f"SECONDARY record points at {', '.join(sorted(answer.targets)) or 'nothing'}{via}, "
                        f"not at secondary {', '.join(sec_sites)}",
                    )
                )
        evidence: dict[str, Any] = {
            "primary": [r.native_id for r in primary],
            "secondary": [r.native_id for r in secondary],
            "secondary_targets": sorted({t for r in secondary for t in record_targets(r)}),
            "governed_by": {g.subject: {"kind": g.kind, "mode": str(g.mode)} for g in governed},
        }
        if resolved:
            evidence["resolved"] = resolved
        how = {"alias-target": "alias evaluating target health", "routing-control": "ARC routing control"}
        kinds = sorted({how.get(g.kind, "health-checked") for g in governed})
        summary = f"PRIMARY ({', '.join(kinds)}) and SECONDARY records for {name} in place"
        forced = [g for g in governed if g.mode == Mode.FORCED]
        if forced:
            summary += f"; {forced[0].reason}"
        path = RoutingPath(
            **base,
            serving=serving,
            secondary=tuple(answers),
            problems=(*problems, *unknown),
            summary=summary,
            evidence=evidence,
        )
        if path.needs_control_plane:
            evidence["control_plane"] = {**plane.to_dict(), "note": control_plane_note(plane)}
        return path
