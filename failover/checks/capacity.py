"""Can the secondaries carry the primary's load: running vCPU now, and room to scale up to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from failover.attrs import attrs_of
from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.registry import (
    CAP_CANNOT_SCALE,
    CAP_NO_SECONDARY,
    Category,
    Gate,
    RiskInput,
    RtoPart,
    Severity,
    check,
    info,
)
from failover.equivalence import SiteCapacity, group_max_size, per_instance_vcpu, site_capacity
from failover.model import Finding, FindingStatus, Kind, Resource

PROJECT_CPU_QUOTA = "CPUS_ALL_REGIONS"  # GCP: every machine series in every region of the project


def capacities(ev: Evidence) -> tuple[SiteCapacity, dict[str, SiteCapacity], list[str]]:
    """Primary capacity, each secondary's, and the inventory gaps that make them uncertain; derived once
    per evidence (``capacity.ratio``, ``capacity.headroom`` and the RTO estimate all read them)."""
    if "capacities" not in ev.memo:
        primary = site_capacity(ev.resources(ev.workload.primary))
        secondaries = {s.name: site_capacity(ev.resources(s)) for s in ev.workload.secondaries}
        gaps = [g for s in ev.workload.sites for g in ev.gaps(s)]
        ev.memo["capacities"] = (primary, secondaries, gaps)
    primary, secondaries, gaps = ev.memo["capacities"]
    return primary, dict(secondaries), list(gaps)


def total(values: Iterable[float | None]) -> float | None:
    """The sum, or None when any part is unknown (never a partial sum)."""
    values = list(values)
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


@check(
    "capacity.ratio",
    title="Secondary runs enough capacity",
    category=Category.CAPACITY,
    severity=Severity.CRITICAL,
    # Under a quarter of the capacity needed, a secondary is overwhelmed on arrival: no secondary at all.
    gates=(
        Gate(
            cap=CAP_NO_SECONDARY,
            text="secondary runs under {limit:.0%} of the required capacity",
            below=("ratio", 0.25),
        ),
    ),
    rto_part=RtoPart.SCALE,
    risk=RiskInput.SECONDARY_CAPACITY,
    doc="""Compares the vCPU the secondary sites run now (instances and group members in a running state)
    with the primary's, against the workload's `targets.capacity_ratio`. A secondary scaled to zero
    or to a fraction of the primary has to provision instances during the outage (45-60 s each, more
    under a regional rush), or falls over under the primary's load. Fix: keep the secondary's running
    size at the ratio, or lower the ratio deliberately and let capacity.headroom prove it can scale.""",
)
def capacity_ratio(ev: Evidence) -> list[Finding]:
    me = info("capacity.ratio")
    primary, secondaries, gaps = capacities(ev)
    target = ev.workload.targets.capacity_ratio
    sec_vcpu = total([c.vcpu for c in secondaries.values()])
    per_site = {n: c.vcpu for n, c in secondaries.items()}
    if gaps:
        return [me.finding(ev, FindingStatus.UNKNOWN, "inventory incomplete: " + join(gaps, 2), gaps=gaps)]
    if primary.vcpu is None or sec_vcpu is None:
        unknown = list(primary.unknown) + [u for c in secondaries.values() for u in c.unknown]
        return [me.finding(ev, FindingStatus.UNKNOWN, "vCPU unknown for " + join(unknown), unknown=unknown)]
    if primary.vcpu == 0:
        return [
            me.finding(
                ev,
                FindingStatus.UNKNOWN,
                f"primary {ev.workload.primary.name} runs no compute in the inventory (check its select:)",
                primary_vcpu=0,
            )
        ]
    ratio = sec_vcpu / primary.vcpu
    detail = f"secondary {sec_vcpu:g} vCPU / primary {primary.vcpu:g} vCPU = {ratio:.2f} (target {target:g})"
    shortfalls = [s for c in secondaries.values() for s in c.shortfalls]
    if shortfalls:
        detail += "; " + join(shortfalls)
    status = FindingStatus.PASS if ratio >= target - 1e-9 else FindingStatus.FAIL
    return [
        me.finding(
            ev,
            status,
            detail,
            primary_vcpu=primary.vcpu,
            secondary_vcpu=per_site,
            ratio=ratio,
            target=target,
            shortfalls=shortfalls,
        )
    ]


@dataclass
class QuotaRoom:
    """How much of the scale-up the secondaries' CPU quotas allow, where the provider reports quotas."""

    growth: float = 0.0  # vCPU the groups may add within their max sizes and their quotas
    problems: list[str] = field(default_factory=list)  # quotas smaller than the scale-up they must cover
    unknown: list[str] = field(default_factory=list)  # why a quota that applies could not be read


def quota_room(ev: Evidence, deficit: float) -> QuotaRoom | None:
    """The growth the secondaries' groups may reach under the regional and project CPU quotas.

    Each group's vCPUs count against its ``cpu_quota_metric`` in its region (GCP: ``CPUS`` for N1/E2,
    ``N2_CPUS`` for N2, ...) and, where regions carry ``project_quotas``, against the project's
    ``CPUS_ALL_REGIONS``. A quota that applies but
    was not reported (a series the region lists no quota for, a region answering ``quotaStatusWarning``,
    project quotas unread) is unknown, never unlimited. ``None`` when no secondary's provider reports
    quotas (no ``region`` resources): there is nothing to check.
    """
    room = QuotaRoom()
    checked = False
    by_metric: dict[tuple[str, str, str], float] = {}  # (project, region, metric) -> growth
    by_project: dict[str, float] = {}
    regions: dict[tuple[str, str], Resource] = {}
    for site in ev.workload.secondaries:
        reported = ev.of_kind(site.account, Kind.REGION)
        groups = [r for r in ev.resources(site) if r.kind == Kind.COMPUTE_GROUP]
        if not reported:  # this provider reports no quotas: its groups grow to their max sizes
            room.growth += sum(_growth(g) for g in groups)
            continue
        checked = True
        regions.update({(attrs_of(r, Kind.REGION)["project"] or "", r.region or r.name): r for r in reported})
        for g in groups:
            growth = _growth(g)
            if not growth:
                continue
            group = attrs_of(g, Kind.COMPUTE_GROUP)
            project = group["project"] or ""
            region = regions.get((project, g.region))
            metric = group["cpu_quota_metric"]
            if region is None:
                room.unknown.append(f"no quotas reported for region {g.region} (group {g.name})")
                continue
            warning = attrs_of(region, Kind.REGION)["quota_warning"]
            if warning:
                room.unknown.append(f"region {region.name} quotas could not be loaded ({warning})")
                continue
            if not metric:
                room.unknown.append(f"group {g.name}: CPU quota unknown (machine type unknown)")
                continue
            if metric not in (attrs_of(region, Kind.REGION)["quotas"] or {}):
                mtype = group["machine_type"] or "its machine type"
                room.unknown.append(f"region {region.name} reports no {metric} quota (group {g.name}, {mtype})")
                continue
            by_metric[(project, region.name, metric)] = by_metric.get((project, region.name, metric), 0.0) + growth
            by_project[project] = by_project.get(project, 0.0) + growth
    if not checked:
        return None
    within: dict[str, float] = {}
    for (project, region_name, metric), growth in sorted(by_metric.items()):
        free = _free(attrs_of(regions[(project, region_name)], Kind.REGION)["quotas"][metric])
        needed = min(growth, deficit)
        if free < needed - 1e-9:
            room.problems.append(
                f"region {region_name} {metric} quota has {free:g} vCPU free, scale-up needs {needed:g}"
            )
        within[project] = within.get(project, 0.0) + min(growth, max(free, 0.0))
    for project, growth in sorted(by_project.items()):
        region_attrs = attrs_of(next(r for (p, _n), r in regions.items() if p == project), Kind.REGION)
        if "project_quotas" not in region_attrs:  # this provider has no project-wide CPU quota
            room.growth += within.get(project, 0.0)
            continue
        project_quotas = region_attrs["project_quotas"]
        if project_quotas is None or PROJECT_CPU_QUOTA not in project_quotas:
            room.unknown.append(f"project {project or '?'} {PROJECT_CPU_QUOTA} quota unknown")
            continue
        free = _free(project_quotas[PROJECT_CPU_QUOTA])
        needed = min(growth, deficit)
        if free < needed - 1e-9:
            room.problems.append(
                f"project {project} {PROJECT_CPU_QUOTA} quota has {free:g} vCPU free, scale-up needs {needed:g}"
            )
        room.growth += min(within.get(project, 0.0), max(free, 0.0))
    return room


def _growth(group: Resource) -> float:
    """vCPU a group may add up to its max size (0 when it cannot grow or its sizes are unknown)."""
    running, max_size, per = group.capacity.instances, group_max_size(group), per_instance_vcpu(group)
    if running is None or max_size is None or per is None:
        return 0.0  # already makes the reachable capacity unknown upstream
    return max(0, max_size - running) * per


def _free(quota: dict[str, float]) -> float:
    return float(quota.get("limit") or 0) - float(quota.get("usage") or 0)


@check(
    "capacity.headroom",
    title="Secondary can scale to the primary's size",
    category=Category.CAPACITY,
    severity=Severity.HIGH,
    gates=(Gate(cap=CAP_CANNOT_SCALE, text="secondary cannot reach the required capacity"),),
    rto_part=RtoPart.SCALE_BOUND,
    doc="""Checks that the secondary's scaling groups may grow (max size) to the capacity the workload
    needs (primary vCPU x capacity_ratio), and, where the provider reports them, that the CPU quotas
    leave room to get there: on GCP the region's quota for each group's machine series (`CPUS` for
    N1/E2, `N2_CPUS`, `C2_CPUS`, ... for the others) and the project's `CPUS_ALL_REGIONS`. A max size
    or quota below the primary's size caps the failover whatever the autoscaler wants; a quota the
    provider did not report (a series without a listed quota, quotas that failed to load) makes the
    answer unknown, never unlimited. Instances an Auto Scaling warm pool holds (stopped, hibernated or
    running, not yet in service) are not running capacity; they are counted here as ready to join, and
    the RTO estimate starts them faster than new launches. Fix: raise the group's max size and request
    the quota increase now; quota requests can take days.""",
)
def capacity_headroom(ev: Evidence) -> list[Finding]:
    me = info("capacity.headroom")
    primary, secondaries, gaps = capacities(ev)
    if gaps:
        return [me.finding(ev, FindingStatus.UNKNOWN, "inventory incomplete: " + join(gaps, 2), gaps=gaps)]
    if primary.vcpu is None or not primary.vcpu:
        return [me.finding(ev, FindingStatus.UNKNOWN, "primary capacity unknown", primary_vcpu=primary.vcpu)]
    needed = primary.vcpu * ev.workload.targets.capacity_ratio
    current = total([c.vcpu for c in secondaries.values()])
    if current is not None and current >= needed - 1e-9:
        return [me.finding(ev, FindingStatus.PASS, f"secondary already runs {current:g} of {needed:g} vCPU needed")]
    reachable = total([c.max_vcpu for c in secondaries.values()])
    if reachable is None:
        return [
            me.finding(ev, FindingStatus.UNKNOWN, f"needs {needed:g} vCPU; group max sizes or instance sizes unknown")
        ]
    if reachable < needed - 1e-9:
        return [
            me.finding(
                ev,
                FindingStatus.FAIL,
                f"secondary can reach only {reachable:g} of {needed:g} vCPU at max size",
                needed=needed,
                reachable=reachable,
            )
        ]
    now = current or 0.0
    room = quota_room(ev, needed - now)
    if room is not None and room.unknown:
        reason = f"needs {needed:g} vCPU; " + join(room.unknown)
        if room.problems:
            reason += "; " + join(room.problems)
        return [me.finding(ev, FindingStatus.UNKNOWN, reason, needed=needed, quota_unknown=room.unknown)]
    if room is not None and now + room.growth < needed - 1e-9:
        reason = f"quotas let the secondary reach only {now + room.growth:g} of {needed:g} vCPU: " + join(room.problems)
        return [
            me.finding(
                ev,
                FindingStatus.FAIL,
                reason,
                needed=needed,
                reachable=reachable,
                quota_reachable=now + room.growth,
                quota_problems=room.problems,
            )
        ]
    # Warm-pool members are part of the way there, and the fast part: they are started, not launched.
    warm = sum(c.warm_instances for c in secondaries.values())
    ready = f"; {warm} warm-pool instances ready to join" if warm else ""
    return [
        me.finding(
            ev,
            FindingStatus.PASS,
            f"secondary can scale from {now:g} to {reachable:g} vCPU (needs {needed:g}){ready}",
            needed=needed,
            reachable=reachable,
            warm_instances=warm,
        )
    ]
