"""Route 53's other routing policies as failover mechanisms: ``route53-latency``, ``route53-weighted``,
``route53-geo`` (geolocation and geoproximity) and ``route53-multivalue``.

Route 53 answers each of these from the records it considers healthy; a record without a health check
(and not an alias evaluating its target's health) is always healthy, so a dead primary behind it
keeps its share of answers. So every record that takes traffic in normal operation (each latency,
geo or multivalue record, each record with a non-zero weight) must be health-governed, and at least
one record must reach the secondary. Route 53 answers zero-weight records only when every non-zero
record of the set is unhealthy: a weight-0 standby behind health-governed records is active-passive
failover, and its own missing health check is only a warning.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from failover.attrs import attrs_of
from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.governance import Governor, Mode, failover_status, record_governor
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
from failover.model import FindingStatus, Kind, Resource

FAIL, UNKNOWN, WARN = FindingStatus.FAIL, FindingStatus.UNKNOWN, FindingStatus.WARN


def _label(r: Resource) -> str:
    return str(attrs_of(r, Kind.DNS_RECORD)["set_identifier"] or r.name)


class Route53Policy(Mechanism):
    """One Route 53 routing policy: which records belong to it, and which of them serve normally."""

    provider = "aws"
    permissions = PERMISSIONS
    policy: ClassVar[str]  # the word used in reasons: latency, weighted, geo, multivalue

    def selects(self, r: Resource) -> bool:
        raise NotImplementedError

    def serves(self, r: Resource, records: list[Resource]) -> bool:
        """Takes traffic in normal operation (every record, unless the policy says otherwise)."""
        return True

    def extra_problems(self, records: list[Resource]) -> list[Problem]:
        return []

    def governor(self, ev: Evidence, r: Resource) -> Governor:
        """``record_governor``, in this policy's words (its reasons speak of failover records)."""
        label = _label(r)
        g = record_governor(ev, r)
        reason = (
            g.reason.replace("PRIMARY record", f"{self.policy} record")
            .replace("so the PRIMARY never fails over", f"so record {label} keeps its share when it fails")
            .replace("the PRIMARY never fails over", f"record {label} keeps its share when it fails")
            .replace("and the SECONDARY serves", f"and record {label} is never answered")
        )
        if g.mode == Mode.NEVER and "keeps its share" not in reason:
            reason += ": Route 53 keeps answering with it when what it points at fails"
        return replace(g, reason=reason)

    def read(self, ev: Evidence) -> RoutingPath:
        assert ev.workload.dns is not None
        name = ev.workload.dns.name
        recs = route53_records(ev)
        records = [r for r in recs.records if self.selects(r)]
        plane = control_plane(records, recs.zones)
        base = self.path_base(plane, DATA_PLANE, recs.gaps)
        if not records:
            if not recs.zones:
                where = ", ".join(recs.searched) or "any configured AWS account"
                why, status = f"no Route 53 hosted zone for {name} in {where}", UNKNOWN
            else:
                zones = ", ".join(z.name for z in recs.zones)
                why, status = f"no {self.policy} records for {name} in hosted zone {zones}", FAIL
                others = sorted({str(attrs_of(r, Kind.DNS_RECORD)["type"]) for r in recs.records})
                if others:
                    why += f" (it has {', '.join(others)} records of another routing policy)"
            if recs.gaps:
                why, status = why + "; inventory incomplete: " + join(recs.gaps, 1), UNKNOWN
            none = Problem(status, f"no {self.policy} records for {name}, so no automatic detection")
            return RoutingPath(
                **base, problems=(Problem(status, why),), no_detection=(none,), evidence={"searched": recs.searched}
            )
        serving_recs = [r for r in records if self.serves(r, records)]
        standby_recs = [r for r in records if r not in serving_recs]
        problems: list[Problem] = []
        unknown: list[Problem] = []
        warnings: list[Problem] = []
        serving: list[Answer] = []
        for r in serving_recs:
            g = self.governor(ev, r)
            serving.append(Answer(r.native_id, _label(r), frozenset(record_targets(r)), governor=g, weight=_weight(r)))
            status = failover_status(g.mode)
            if status in (FAIL, UNKNOWN):
                (problems if status == FAIL else unknown).append(Problem(status, g.reason))
        wanted = secondary_wanted(ev)
        answers: list[Answer] = []
        seen_all: list[str] = []
        for r in records:
            answer = reaching_answer(ev, r.native_id, _label(r), record_targets(r), wanted, weight=_weight(r))
            seen_all += answer.resolved
            answers.append(answer)
            if answer.reaches and r in standby_recs and self.governor(ev, r).mode == Mode.NEVER:
                warnings.append(
                    Problem(
                        WARN,
                        f"standby record {_label(r)} (weight 0) has no health check: Route 53 answers it when every "
                        "non-zero record is unhealthy, whether or not it serves",
                    )
                )
        sites = ", ".join(s.name for s in ev.workload.secondaries)
        reaching = [a for a in answers if a.reaches]
        if not reaching:
            pointed = ", ".join(sorted({t for a in answers for t in a.targets})) or "nothing"
            if any(a.reaches is None for a in answers):
                unknown.append(Problem(UNKNOWN, f"{self.policy} record targets unresolved ({join(seen_all, 2)})"))
            else:
                via = f" (resolves {join(seen_all, 2)})" if seen_all else ""
                problems.append(
                    Problem(
                        FAIL,
                        f"no {self.policy} record for {name} points at secondary {sites}: they point at {pointed}{via}",
                    )
                )
        warnings += self.extra_problems(records)
        evidence: dict[str, Any] = {
            "policy": self.policy,
            "serving": [a.subject for a in serving],
            "standby": [r.native_id for r in standby_recs],
            "reach_secondary": [a.subject for a in reaching],
            "secondary_targets": sorted({t for a in reaching for t in a.targets}),
            "governed_by": {
                a.subject: {"kind": a.governor.kind, "mode": str(a.governor.mode)} for a in serving if a.governor
            },
        }
        if seen_all:
            evidence["resolved"] = seen_all
        to = ", ".join(a.name for a in reaching)
        summary = (
            f"{len(serving)} {self.policy} record(s) for {name} that take traffic are health-governed; "
            f"{to} reach{'es' if len(reaching) == 1 else ''} secondary {sites}"
        )
        path = RoutingPath(
            **base,
            serving=tuple(serving),
            secondary=tuple(answers),
            problems=(*problems, *unknown, *warnings),
            summary=summary,
            evidence=evidence,
        )
        if path.needs_control_plane:
            evidence["control_plane"] = {**plane.to_dict(), "note": control_plane_note(plane)}
        return path


def _weight(r: Resource) -> float | None:
    w = attrs_of(r, Kind.DNS_RECORD)["weight"]
    return float(w) if w is not None else None


@register
class Route53Latency(Route53Policy):
    id = "route53-latency"
    policy = "latency"
    title = "Route 53 latency records"
    doc = """Every latency record for the public name (one per region) is health-governed, so the primary
    region's record stops being answered when it fails, and one of them reaches the secondary."""

    def selects(self, r: Resource) -> bool:
        return bool(attrs_of(r, Kind.DNS_RECORD)["latency_region"])


@register
class Route53Weighted(Route53Policy):
    id = "route53-weighted"
    policy = "weighted"
    title = "Route 53 weighted records"
    doc = """Every record with a non-zero weight is health-governed (else a dead primary keeps its share),
    and one record reaches the secondary; a weight-0 standby behind health-governed records is
    active-passive failover (its own missing health check warns)."""

    def selects(self, r: Resource) -> bool:
        return attrs_of(r, Kind.DNS_RECORD)["weight"] is not None

    def serves(self, r: Resource, records: list[Resource]) -> bool:
        # Route 53 answers zero-weight records normally only when every record has weight 0.
        if all(not _weight(x) for x in records):
            return True
        return bool(_weight(r))


@register
class Route53Geo(Route53Policy):
    id = "route53-geo"
    policy = "geo"
    title = "Route 53 geolocation / geoproximity records"
    doc = """Every geolocation or geoproximity record is health-governed (Route 53 then answers the next
    larger location, or the nearest other region), and one of them reaches the secondary. Geolocation
    records without a default (`*`) location warn: users outside the listed locations get no answer."""

    def selects(self, r: Resource) -> bool:
        a = attrs_of(r, Kind.DNS_RECORD)
        return bool(a["geo"]) or bool(a["geoproximity"])

    def extra_problems(self, records: list[Resource]) -> list[Problem]:
        geo = [attrs_of(r, Kind.DNS_RECORD)["geo"] or {} for r in records]
        if any(geo) and not any(g.get("CountryCode") == "*" for g in geo):
            return [
                Problem(WARN, "no default (*) geolocation record: users outside the listed locations get no answer")
            ]
        return []


@register
class Route53Multivalue(Route53Policy):
    id = "route53-multivalue"
    policy = "multivalue"
    title = "Route 53 multivalue answer records"
    doc = """Every multivalue answer record is health-governed (Route 53 returns up to eight healthy
    ones; one without a health check is always returned), and one of them reaches the secondary."""

    def selects(self, r: Resource) -> bool:
        return bool(attrs_of(r, Kind.DNS_RECORD)["multivalue"])
