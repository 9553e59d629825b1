"""Declared dependencies no API can see (identity, registry, secrets, CDN, registrar) that would still
take the workload down with its primary's provider."""

from __future__ import annotations

from failover.checks.evidence import Evidence
from failover.checks.mechanisms import routing_path
from failover.checks.registry import Category, Severity, check, info
from failover.model import Finding, FindingStatus


@check(
    "dependencies.single_provider",
    title="No declared dependency lives only on the primary's provider",
    category=Category.DEPENDENCIES,
    severity=Severity.HIGH,
    doc="""Reads the workload's `dependencies:` (what no cloud API shows: identity provider, container
    registry, secrets manager, CDN, registrar) and flags each that lives only on the primary's
    provider. A secondary on another cloud that pulls images from, or authenticates against, the
    primary's provider fails with it. Also fails when the routing mechanism (`dns.mechanism`) has no
    health-governed answer, so failing over needs a configuration change through a control plane on
    the primary's provider (Route 53's in us-east-1, unless the zone has accelerated recovery). Fix:
    replicate the dependency to the secondary's provider (and list it under `providers:`), or move
    it to a third party; health-check the mechanism's serving answers.""",
)
def single_provider(ev: Evidence) -> list[Finding]:
    me = info("dependencies.single_provider")
    primary = ev.provider(ev.workload.primary)
    findings = []
    path = routing_path(ev)
    if path is not None and path.needs_control_plane and path.control_plane.provider == primary:
        plane = path.control_plane
        reason = (
            f"{path.mechanism}: no answer is health-governed, so failover needs a configuration change through "
            f"its control plane ({plane.provider} {plane.region}), on {primary}, the primary's provider"
        )
        findings.append(
            me.finding(ev, FindingStatus.FAIL, reason, subject=path.mechanism, control_plane=plane.to_dict())
        )
    for dep in ev.workload.dependencies:
        where = sorted({dep.provider, *dep.providers})
        if where == [primary]:
            status = FindingStatus.FAIL
            reason = f"{dep.kind} {dep.name} lives only on {primary}, the primary's provider"
        else:
            status = FindingStatus.PASS
            reason = f"{dep.kind} {dep.name} is on {', '.join(where)}"
        findings.append(me.finding(ev, status, reason, subject=dep.name, providers=where))
    return findings
