"""From findings to a score a person can act on: readiness 0-100 with a status, the gates that cap it,
single-provider risk per provider, the estimated recovery time against the target, and the ranked
reasons with the points each fix would gain. Pure functions; defaults are documented in the README.

Scoring names no check: the gates a check holds, the RTO part its fix shortens, what it tells
single-provider risk and its category's weight come from its registration (``failover.checks.registry``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from failover.checks import CATALOG
from failover.checks.capacity import capacities, total
from failover.checks.data import data_stores
from failover.checks.dns import governors
from failover.checks.evidence import Evidence
from failover.checks.governance import Governor, Mode
from failover.checks.mechanisms import routing_path
from failover.checks.registry import CAP_AT_RISK, Category, CheckInfo, RiskInput, RtoPart, Severity, Trip
from failover.data_failover import StoreFailover, slowest, store_failover
from failover.equivalence import per_instance_vcpu, store_kind_of
from failover.model import Finding, FindingStatus, Kind, ObsStatus, Reason, RtoVerdict, Score, Status
from failover.schema import ScoringConfig, format_duration

POINTS = {FindingStatus.PASS: 100.0, FindingStatus.WARN: 50.0, FindingStatus.FAIL: 0.0, FindingStatus.UNKNOWN: 0.0}
DEFAULT_WEIGHTS = {str(c): c.weight for c in Category}  # a category not listed (nor configured) weighs 1


@dataclass(frozen=True, slots=True)
class RtoEstimate:
    """Detection + decision + DNS + scale-up + data promotion.

    ``total_s`` is None when a part is unknown; ``lower_bound_s`` sums the parts that are known, so a
    workload whose known part alone exceeds its target is reported as exceeding it. ``unbounded``: a
    part never completes (the secondary can never reach the required capacity)."""

    detection_s: float | None
    decision_s: float
    dns_s: float | None
    scale_s: float | None
    data_s: float
    notes: tuple[str, ...] = ()
    unbounded: bool = False

    @property
    def total_s(self) -> float | None:
        parts = (self.detection_s, self.dns_s, self.scale_s)
        if self.unbounded or any(p is None for p in parts):
            return None
        return self.lower_bound_s

    @property
    def lower_bound_s(self) -> float:
        known = (p for p in (self.detection_s, self.dns_s, self.scale_s) if p is not None)
        return sum(known) + self.decision_s + self.data_s

    def verdict(self, target_s: float | None) -> RtoVerdict:
        return RtoVerdict.of(self.total_s, self.lower_bound_s, target_s, self.unbounded)

    def to_dict(self) -> dict[str, Any]:
        return {
            "detection_s": self.detection_s,
            "decision_s": self.decision_s,
            "dns_s": self.dns_s,
            "scale_s": self.scale_s,
            "data_s": self.data_s,
            "total_s": self.total_s,
            "lower_bound_s": self.lower_bound_s,
            "unbounded": self.unbounded,
            "notes": list(self.notes),
        }


def estimate_rto(ev: Evidence, cfg: ScoringConfig) -> RtoEstimate:
    notes: list[str] = []
    w = ev.workload
    # Detection and decision: automatic only with a health-governed failover record.
    detection, decision, note = _detection(governors(ev)[0] if w.dns else [], cfg)
    if note:
        notes.append(note)
    # DNS: the effective TTL clients may cache.
    dns_s: float | None = None
    chain = ev.observation(probe="dns", label="chain")
    path = routing_path(ev) if w.dns else None
    if path is not None and path.proxy:
        dns_s = 0.0
        notes.append(path.proxy)
    elif chain is not None and chain.ok and chain.data.get("effective_ttl") is not None:
        dns_s = float(chain.data["effective_ttl"])
    elif not w.dns:
        notes.append("no dns: section, DNS switch time unknown")
    elif chain is not None and chain.status == ObsStatus.FAILED:
        notes.append("the public name does not resolve to an address, DNS switch time unknown")
    else:
        notes.append("effective TTL not measured yet")
    # Scale-up: deficit to the required capacity, provisioned in parallel batches.
    primary, by_site, _ = capacities(ev)
    secondaries = list(by_site.values())
    scale_s: float | None = None
    unbounded = False
    sec_vcpu = total(c.vcpu for c in secondaries)
    if primary.vcpu is not None and sec_vcpu is not None:
        deficit = primary.vcpu * w.targets.capacity_ratio - sec_vcpu
        if deficit <= 1e-9:
            scale_s = 0.0
        else:
            per = _per_instance_vcpu(ev)
            reachable = total(c.max_vcpu for c in secondaries)
            needed = primary.vcpu * w.targets.capacity_ratio
            if reachable is not None and reachable < needed - 1e-9:
                unbounded = True
                notes.append(
                    f"secondary can reach only {reachable:g} of {needed:g} vCPU: recovery to the required "
                    "capacity never completes"
                )
            elif per and reachable is not None:
                instances = math.ceil(deficit / per)
                # Warm-pool members join first: starting a prepared instance skips launch and bootstrap.
                warm = min(instances, sum(c.warm_instances for c in secondaries))
                warm_batches = math.ceil(warm / cfg.scale_parallelism)
                batches = math.ceil((instances - warm) / cfg.scale_parallelism)
                scale_s = warm_batches * cfg.warm_start_seconds + batches * cfg.provision_seconds_per_instance
                from_warm = f", {warm} from warm pools" if warm else ""
                notes.append(
                    f"scale-up of {instances} instances ({deficit:g} vCPU{from_warm}) "
                    f"in {warm_batches + batches} batch(es)"
                )
                unknown_pools = [g for c in secondaries for g in c.warm_unknown]
                if unknown_pools:
                    notes.append("warm pool unknown for " + ", ".join(unknown_pools) + ": counted as cold launches")
            else:
                notes.append("group max sizes or instance sizes unknown, scale-up time unknown")
    else:
        notes.append("capacity unknown, scale-up time unknown")
    # Data: each store's own failover mechanics (failover.data_failover); they run side by side.
    stores, missing = data_stores(ev)
    failovers = [store_failover(st.resource, store_kind_of(st.resource), cfg, st.name) for st in stores]
    failovers += [
        StoreFailover(m.declared.name, cfg.data_promotion, "not found in the inventory: scoring.data_promotion")
        for m in missing
    ]
    worst = slowest(failovers)
    data_s = worst.seconds if worst is not None else 0.0
    if worst is not None and worst.seconds > 0:
        notes.append(f"data failover: {worst.note}")
    return RtoEstimate(detection, decision, dns_s, scale_s, data_s, tuple(notes), unbounded)


def _detection(govs: list[Governor], cfg: ScoringConfig) -> tuple[float | None, float, str]:
    """(detection, decision, note): what the governing health signals say about the first two parts."""
    modes = {g.mode for g in govs}
    manual = format_duration(cfg.manual_decision)
    if not govs or Mode.NEVER in modes:
        return (
            0.0,
            cfg.manual_decision,
            f"no automatic health-checked failover: manual detection and decision assumed {manual}",
        )
    if Mode.UNKNOWN in modes:
        why = next(g.reason for g in govs if g.mode == Mode.UNKNOWN)
        return None, 0.0, f"detection time unknown: {why}"
    if Mode.MANUAL in modes:
        return 0.0, cfg.manual_decision, f"failover is a manual decision (ARC routing control): {manual} assumed"
    times = [float(g.detection_s) for g in govs if g.mode == Mode.AUTOMATIC and g.detection_s is not None]
    if times:
        return max(times), 0.0, ""
    return 0.0, 0.0, "failover forced: the secondary already serves"


def _per_instance_vcpu(ev: Evidence) -> float | None:
    """Size of the instances a scale-up adds: a secondary group's member size, else a primary instance's."""
    for site in ev.workload.secondaries:
        for r in ev.resources(site):
            if r.kind == Kind.COMPUTE_GROUP and (per := per_instance_vcpu(r)):
                return per
    for r in ev.resources(ev.workload.primary):
        if r.kind == Kind.COMPUTE_INSTANCE and r.capacity.vcpu:
            return r.capacity.vcpu
    return None


@dataclass
class _Weights:
    per_finding: dict[int, float] = field(default_factory=dict)
    total: float = 0.0


def _weights(findings: list[Finding], cfg: ScoringConfig) -> _Weights:
    weights = {**DEFAULT_WEIGHTS, **cfg.weights}
    by_cat: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(findings):
        if f.status != FindingStatus.SKIP:  # not applicable: carries no weight
            by_cat[f.category or "other"].append(i)
    out = _Weights()
    for cat, idx in by_cat.items():
        w = weights.get(cat, 1.0)
        if w <= 0:
            continue
        out.total += w
        for i in idx:
            out.per_finding[i] = w / len(idx)
    return out


def _meta(f: Finding) -> CheckInfo | None:
    """The registration of the check that produced ``f`` (None for a check id no longer registered)."""
    return CATALOG.get(f.check)


def _by_risk(findings: Iterable[Finding]) -> dict[RiskInput, list[Finding]]:
    out: dict[RiskInput, list[Finding]] = defaultdict(list)
    for f in findings:
        if (meta := _meta(f)) is not None and meta.risk is not None:
            out[meta.risk].append(f)
    return out


def single_provider_risk(ev: Evidence, findings: Iterable[Finding]) -> dict[str, float]:
    """For each provider involved: how much of the workload goes down with it (0 none .. 1 all).

    Unknown evidence counts as risk: a path we could not verify is not assumed to survive.
    """
    w = ev.workload
    primary_p = ev.provider(w.primary)
    by_risk = _by_risk(findings)
    providers = {ev.provider(s) for s in w.sites}
    for dep in w.dependencies:
        providers |= {dep.provider, *dep.providers}
    nameservers = by_risk.get(RiskInput.NAMESERVERS, [])
    ns_providers: set[str] | None = None
    if nameservers and nameservers[0].evidence.get("providers"):
        ns_providers = set(nameservers[0].evidence["providers"])
    providers |= ns_providers or set()
    # The routing mechanism: its data plane answers users (an outage of a provider other than the
    # primary's then takes the name down while the primary serves); a failover that needs a
    # configuration change cannot happen while its control plane's provider is down.
    path = routing_path(ev) if w.dns else None
    routing: dict[str, float] = {}
    if path is not None:
        if path.data_plane.provider != primary_p:
            routing[path.data_plane.provider] = 1.0
        if path.needs_control_plane:
            routing[path.control_plane.provider] = 1.0
    providers |= set(routing)
    health = {f.subject: f.status for f in by_risk.get(RiskInput.SECONDARY_UP, [])}
    capacity = by_risk.get(RiskInput.SECONDARY_CAPACITY, [])
    ratio_ok = all(f.status == FindingStatus.PASS for f in capacity) and bool(capacity)
    data_status = [f.status for f in by_risk.get(RiskInput.DATA_COPY, [])]
    risk: dict[str, float] = {}
    for p in sorted(providers):
        parts: list[float] = [0.0]
        if p == primary_p:
            survivors = [
                s.name
                for s in w.secondaries
                if ev.provider(s) != p and health.get(s.name) in (FindingStatus.PASS, FindingStatus.WARN)
            ]
            parts.append(0.0 if survivors and ratio_ok else (0.5 if survivors else 1.0))
            if FindingStatus.FAIL in data_status:
                parts.append(1.0)
            elif FindingStatus.UNKNOWN in data_status:
                parts.append(0.5)
        if w.dns:
            if ns_providers is None:
                parts.append(0.5 if p == primary_p else 0.0)
            elif ns_providers == {p}:
                parts.append(1.0)
        parts.append(routing.get(p, 0.0))
        for dep in w.dependencies:
            if {dep.provider, *dep.providers} == {p}:
                parts.append(1.0 if dep.kind in ("identity", "dns", "registrar", "secrets", "registry") else 0.5)
        risk[p] = max(parts)
    return risk


@dataclass(frozen=True, slots=True)
class _Basis:
    """What every step of one workload's scoring reads."""

    ev: Evidence
    findings: list[Finding]
    cfg: ScoringConfig
    rto: RtoEstimate
    weights: _Weights

    @property
    def statuses(self) -> list[FindingStatus]:
        return [f.status for f in self.findings]


def score(
    ev: Evidence,
    findings: list[Finding],
    cfg: ScoringConfig | None = None,
    rto: RtoEstimate | None = None,
) -> Score:
    cfg = cfg or ev.config.scoring
    rto = rto or estimate_rto(ev, cfg)
    b = _Basis(ev, findings, cfg, rto, _weights(findings, cfg))
    w = ev.workload
    raw, unknown_w = _raw(b.statuses, b.weights)
    readiness, gates = _readiness(b, raw)
    verdict = rto.verdict(w.targets.rto)
    return Score(
        workload=w.name,
        status=_status(b, readiness, unknown_w, verdict),
        readiness=readiness,
        single_provider_risk=single_provider_risk(ev, findings),
        rto_estimate_s=rto.total_s,
        rto_target_s=w.targets.rto,
        reasons=_reasons(b, readiness, raw),
        computed_at=ev.now,
        details={
            "rto": rto.to_dict(),
            "gates": gates,
            "counts": _counts(findings),
            "unknown_weight": round(unknown_w, 3),
        },
        rto_lower_bound_s=rto.lower_bound_s,
        rto_verdict=verdict,
    )


def _readiness(b: _Basis, raw: float) -> tuple[float, list[str]]:
    """The weighted readiness held under every gate, the RTO's included, with the gates' words."""
    target = b.ev.workload.targets.rto
    cap, gates = _gates(b.ev, b.findings, b.statuses)
    rto_cap = _rto_cap(b.rto, target)
    if rto_cap < 100.0:
        gates.append(f"estimated RTO {rto_text(b.rto)} exceeds target {format_duration(target)}")
    return round(min(raw, cap, rto_cap), 1), gates


def _reasons(b: _Basis, readiness: float, raw: float) -> list[Reason]:
    """Every finding that is not a pass, ranked by the points its fix would gain."""
    reasons = [
        Reason(f.check, str(f.status), f.reason, round(_gain(b, i, readiness, raw), 1), f.subject)
        for i, f in enumerate(b.findings)
        if f.status not in (FindingStatus.PASS, FindingStatus.SKIP)  # a skip is not applicable, not a reason
    ]
    reasons.sort(key=lambda r: (-r.points, r.check, r.subject))
    return reasons


def _gain(b: _Basis, i: int, readiness: float, raw: float) -> float:
    """Points a fix of finding ``i`` would gain: the score re-computed with it passing, gates and RTO
    included; where other gates still hold the score down, at least the finding's own weight (so every
    fix ranks)."""
    targets = b.ev.workload.targets
    statuses = b.statuses
    fixed = [*statuses[:i], FindingStatus.PASS, *statuses[i + 1 :]]
    meta = _meta(b.findings[i])
    fixed_rto = _rto_after_fix(b.rto, meta.rto_part if meta else None, targets.max_dns_ttl, b.cfg)
    raw_after = _raw(fixed, b.weights)[0]
    after = min(raw_after, _gates(b.ev, b.findings, fixed)[0], _rto_cap(fixed_rto, targets.rto))
    return max(after - readiness, raw_after - raw, 0.0)


def _status(b: _Basis, readiness: float, unknown_w: float, verdict: RtoVerdict) -> Status:
    """READY needs the threshold, no unknown or critical failure, and an RTO known to be within target."""
    cfg = b.cfg
    blocking = [
        f
        for f in b.findings
        if f.status == FindingStatus.UNKNOWN or (f.status == FindingStatus.FAIL and f.severity == Severity.CRITICAL)
    ]
    if not b.findings or unknown_w >= cfg.unknown_fraction:
        return Status.UNKNOWN
    if readiness >= cfg.ready_threshold and not blocking and verdict == RtoVerdict.WITHIN:
        return Status.READY
    if readiness >= cfg.not_ready_below:
        return Status.AT_RISK
    return Status.NOT_READY


def _counts(findings: list[Finding]) -> dict[str, int]:
    return {s.value: sum(1 for f in findings if f.status == s) for s in FindingStatus}


def _rto_cap(rto: RtoEstimate, target: float) -> float:
    return CAP_AT_RISK if rto.verdict(target) == RtoVerdict.EXCEEDS else 100.0


def rto_text(rto: RtoEstimate) -> str:
    """``6m30s`` when fully known; ``> 10m`` when only a lower bound is (unbounded or a part unknown)."""
    total = rto.total_s
    return format_duration(total) if total is not None else f"> {format_duration(rto.lower_bound_s)}"


# A health check of 10 s x 3 is what dns.health_check asks for; used to credit fixing detection.
_GOOD_DETECTION_S = 30.0


def _rto_after_fix(rto: RtoEstimate, part: RtoPart | None, max_ttl: float, cfg: ScoringConfig) -> RtoEstimate:
    """The RTO estimate if a check whose fix shortens ``part`` passed (so its points include the RTO gate)."""
    if part == RtoPart.DNS:
        return replace(rto, dns_s=min(rto.dns_s if rto.dns_s is not None else max_ttl, max_ttl))
    if part == RtoPart.DETECTION:
        return replace(rto, detection_s=min(rto.detection_s or _GOOD_DETECTION_S, _GOOD_DETECTION_S), decision_s=0.0)
    if part == RtoPart.SCALE:
        return replace(rto, scale_s=0.0, unbounded=False)
    if part == RtoPart.SCALE_BOUND and (rto.scale_s is None or rto.unbounded):
        return replace(rto, scale_s=cfg.provision_seconds_per_instance, unbounded=False)
    return rto


def _raw(statuses: list[FindingStatus], weights: _Weights) -> tuple[float, float]:
    """Weighted readiness before gates, and the weight share of unknown findings."""
    if not weights.total:
        return 0.0, 0.0
    raw = unknown = 0.0
    for i, status in enumerate(statuses):
        share = weights.per_finding.get(i, 0.0) / weights.total
        raw += share * POINTS.get(status, 0.0)  # a skip has no weight (see _weights)
        if status == FindingStatus.UNKNOWN:
            unknown += share
    return raw, unknown


def _gates(ev: Evidence, findings: list[Finding], statuses: list[FindingStatus]) -> tuple[float, list[str]]:
    """Caps that hold whatever the rest says (a workload without a usable secondary is not ready), as the
    checks declare them: first those over all of a check's findings, in catalogue order, then those of
    each failing finding, in the findings' order."""
    primary_p = ev.provider(ev.workload.primary)
    cap, gates = 100.0, []
    for check in CATALOG.values():
        for gate in check.gates:
            if gate.when != Trip.FAILS and _holds_over_check(ev, gate.when, check.id, findings, statuses):
                cap = min(cap, gate.cap)
                gates.append(gate.says(primary_p))
    for f, s in zip(findings, statuses, strict=True):
        for gate in meta.gates if (meta := _meta(f)) else ():
            if gate.holds_for(f, s):
                cap = min(cap, gate.cap)
                gates.append(gate.says(primary_p))
    return cap, gates


def _holds_over_check(
    ev: Evidence, when: Trip, check_id: str, findings: list[Finding], statuses: list[FindingStatus]
) -> bool:
    """Whether a gate over all of one check's findings (judged ``statuses``) holds."""
    ok = {f.subject for f, s in zip(findings, statuses, strict=True) if f.check == check_id and s in _OK}
    if when == Trip.NONE_OK:
        return not ok
    if when == Trip.OK_ONLY_ON_PRIMARY_PROVIDER:
        primary_p = ev.provider(ev.workload.primary)
        return bool(ok) and all(ev.provider(s) == primary_p for s in ev.workload.secondaries if s.name in ok)
    return False


_OK = (FindingStatus.PASS, FindingStatus.WARN)
