"""Can the secondaries carry the primary's load: running vCPU now, and room to scale up to it."""

from __future__ import annotations

from collections.abc import Iterable

from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.registry import check, info
from failover.equivalence import SiteCapacity, site_capacity
from failover.model import Finding, FindingStatus, Kind


def capacities(ev: Evidence) -> tuple[SiteCapacity, dict[str, SiteCapacity], list[str]]:
    """Primary capacity, each secondary's, and the inventory gaps that make them uncertain."""
    primary = site_capacity(ev.resources(ev.workload.primary))
    secondaries = {s.name: site_capacity(ev.resources(s)) for s in ev.workload.secondaries}
    gaps = [g for s in ev.workload.sites for g in ev.gaps(s)]
    return primary, secondaries, gaps


def total(values: Iterable[float | None]) -> float | None:
    """The sum, or None when any part is unknown (never a partial sum)."""
    values = list(values)
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


@check(
    "capacity.ratio",
    title="Secondary runs enough capacity",
    category="capacity",
    severity="critical",
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


@check(
    "capacity.headroom",
    title="Secondary can scale to the primary's size",
    category="capacity",
    severity="high",
    doc="""Checks that the secondary's scaling groups may grow (max size) to the capacity the workload
    needs (primary vCPU x capacity_ratio), and, where the provider reports it, that the region's CPU
    quota leaves room to get there. A max size or quota below the primary's size caps the failover
    whatever the autoscaler wants. Instances an Auto Scaling warm pool holds (stopped, hibernated or
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
    deficit = needed - (current or 0.0)
    quota_problems = []
    for site in ev.workload.secondaries:
        # Region quotas are not tagged like the workload's resources: match them by region name.
        for r in ev.of_kind(site.account, Kind.REGION):
            if site.regions and (r.region or r.name) not in site.regions:
                continue
            cpus = (r.attrs.get("quotas") or {}).get("CPUS")
            if cpus and cpus.get("limit") is not None:
                free = float(cpus["limit"]) - float(cpus.get("usage") or 0)
                if free < deficit:
                    quota_problems.append(f"region {r.name} CPU quota has {free:g} free, needs {deficit:g}")
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
    if quota_problems:
        return [me.finding(ev, FindingStatus.FAIL, join(quota_problems), needed=needed, reachable=reachable)]
    # Warm-pool members are part of the way there, and the fast part: they are started, not launched.
    warm = sum(c.warm_instances for c in secondaries.values())
    ready = f"; {warm} warm-pool instances ready to join" if warm else ""
    return [
        me.finding(
            ev,
            FindingStatus.PASS,
            f"secondary can scale from {current or 0:g} to {reachable:g} vCPU (needs {needed:g}){ready}",
            needed=needed,
            reachable=reachable,
            warm_instances=warm,
        )
    ]
