"""Google Cloud DNS routing policies as failover mechanisms: ``cloud-dns-failover`` (``primaryBackup``),
``cloud-dns-weighted`` (``wrr``) and ``cloud-dns-geo`` (``geo``); ``cloud_dns_path`` holds the facts.

Cloud DNS stops answering a target only when a health check governs it (internal load balancers, or
external endpoints with a Cloud DNS public health check); plain ``rrdatas`` are answered whatever
their health. So every answer that takes traffic in normal operation must be health-checked, and one
answer must reach the secondary. Cloud DNS is Google's: its control and data planes are GCP's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from failover.checks.clouddns_path import CloudDnsPath, PathTarget, cloud_dns_path
from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.governance import Governor, Mode
from failover.checks.mechanisms.base import (
    Answer,
    Mechanism,
    Plane,
    Problem,
    RoutingPath,
    dns_scope,
    points_at,
    site_addresses,
    with_resolved_secondary,
)
from failover.checks.mechanisms.registry import register
from failover.equivalence import normalize_name
from failover.model import FindingStatus, Kind, Resource
from failover.schema import format_duration

FAIL, UNKNOWN, WARN = FindingStatus.FAIL, FindingStatus.UNKNOWN, FindingStatus.WARN
CONTROL_PLANE = Plane("gcp", "global", {"api": "Cloud DNS API"})
DATA_PLANE = Plane("gcp", "global", {"network": "Cloud DNS name servers"})
PERMISSIONS = (
    "dns.managedZones.list",
    "dns.resourceRecordSets.list",
    "compute.healthChecks.get",
    # internal load balancer targets: forwarding rule -> backend service -> its (regional) health check
    "compute.forwardingRules.list",
    "compute.backendServices.list",
    "compute.regionHealthChecks.get",
)


def _scope(ev: Evidence) -> tuple[list[Resource], list[Resource], list[str], list[str]]:
    """Record sets and routing views, zones, inventory gaps and the GCP accounts searched."""
    scope = dns_scope(ev, Kind.DNS_RECORD, Kind.ROUTING)
    zones = [r for a in scope.accounts for r in ev.of_kind(a, Kind.DNS_ZONE)]
    return scope.resources, zones, scope.gaps, scope.accounts


def _facts(ev: Evidence, resources: list[Resource], gaps: list[str]) -> tuple[CloudDnsPath, set[str]]:
    """The facts, with target names that resolved (``secondary-target`` observations) to the secondary
    counted as the secondary's."""
    assert ev.workload.dns is not None
    name = ev.workload.dns.name
    primary = site_addresses(ev, ev.workload.primary.name)
    return with_resolved_secondary(
        ev,
        lambda wanted: cloud_dns_path(name, resources, primary=primary, secondary=wanted, gaps=gaps),
        lambda facts: (n for t in facts.targets for n in t.names),
    )


def _governor(facts: CloudDnsPath, t: PathTarget, policy: str) -> Governor:
    who = f"{policy} target {t.name}"
    base: dict[str, Any] = {"subject": f"{facts.record}#{t.name}", "name": t.name, "kind": "cloud-dns-health-check"}
    if t.health_checked is False:
        why = f"{who} has no health check: Cloud DNS keeps answering it when what it points at fails"
        return Governor(**base, mode=Mode.NEVER, reason=why)
    if t.health_checked is None:
        return Governor(**base, mode=Mode.UNKNOWN, reason=f"{who}: whether a health check governs it is unknown")
    if t.detection_s is None:
        why = next((n for n in facts.detection_unknown if n.startswith(t.name + ":")), f"{t.name}: detection unknown")
        return Governor(**base, mode=Mode.UNKNOWN, reason=f"{who}: {why}")
    why = f"{who} is health-checked: Cloud DNS detects in {format_duration(t.detection_s)}"
    return Governor(**base, mode=Mode.AUTOMATIC, reason=why, detection_s=t.detection_s)


def _has_zone(zones: list[Resource], name: str) -> bool:
    want = normalize_name(name)
    return any(want == normalize_name(z.name) or want.endswith("." + normalize_name(z.name)) for z in zones)


class CloudDnsPolicy(Mechanism):
    """One Cloud DNS routing policy; the subclasses name it."""

    provider = "gcp"
    permissions = PERMISSIONS
    policy: ClassVar[str]  # primaryBackup | wrr | geo, as Cloud DNS names it

    def read(self, ev: Evidence) -> RoutingPath:
        assert ev.workload.dns is not None
        name = ev.workload.dns.name
        resources, zones, gaps, accounts = _scope(ev)
        base = self.path_base(CONTROL_PLANE, DATA_PLANE, gaps)
        facts, wanted = _facts(ev, resources, gaps)
        searched = {"searched": accounts}
        if not facts.found or facts.policy != self.policy:
            status, why = FAIL, facts.reason
            if not facts.found and (facts.record or gaps):
                status = UNKNOWN
            elif not facts.found and not _has_zone(zones, name):
                where = ", ".join(accounts) or "any configured GCP account"
                status, why = UNKNOWN, f"no Cloud DNS managed zone for {name} in {where}"
            elif facts.policy is not None:
                why = f"{name} uses Cloud DNS {facts.policy} ({facts.mechanism}), not {self.policy} ({self.id})"
            none = Problem(status, f"no Cloud DNS {self.policy} policy for {name}, so no automatic detection")
            return RoutingPath(**base, problems=(Problem(status, why),), no_detection=(none,), evidence=searched)
        serving = [t for t in facts.targets if t.serving]
        answers_serving = tuple(
            Answer(
                f"{facts.record}#{t.name}",
                t.name,
                frozenset(t.addresses),
                governor=_governor(facts, t, self.policy),
                weight=t.weight,
            )
            for t in serving
        )
        problems: list[Problem] = []
        unknown: list[Problem] = []
        for a in answers_serving:
            assert a.governor is not None
            if a.governor.mode == Mode.NEVER:
                problems.append(Problem(FAIL, a.governor.reason))
            elif a.governor.mode == Mode.UNKNOWN:
                unknown.append(Problem(UNKNOWN, a.governor.reason))
        answers: list[Answer] = []
        seen_all: list[str] = []
        for t in facts.targets:
            if t.to_secondary:
                reaches: bool | None = True
                seen: list[str] = []
            else:
                reaches, seen = points_at(ev, t.names, wanted) if t.names else (False, [])
            seen_all += seen
            answers.append(
                Answer(
                    f"{facts.record}#{t.name}",
                    t.name,
                    frozenset(t.addresses),
                    reaches=reaches,
                    weight=t.weight,
                    resolved=tuple(seen),
                )
            )
        sites = ", ".join(s.name for s in ev.workload.secondaries)
        reaching = [a for a in answers if a.reaches]
        if not reaching:
            if any(a.reaches is None for a in answers):
                unknown.append(Problem(UNKNOWN, f"{self.policy} targets unresolved ({join(seen_all, 2)})"))
            else:
                pointed = ", ".join(sorted({x for a in answers for x in a.targets})) or "nothing"
                problems.append(
                    Problem(
                        FAIL, f"no {self.policy} target for {name} points at secondary {sites}: they point at {pointed}"
                    ),
                )
        if self.policy == "geo" and facts.fencing:
            problems.append(
                Problem(
                    FAIL, "geo fencing is on: users of a region whose targets all fail are not sent to another region"
                )
            )
        warnings = [Problem(WARN, n) for n in facts.notes if not n.startswith("geo fencing")]
        evidence: dict[str, Any] = {
            "record": facts.record,
            "policy": facts.policy,
            "ttl": facts.ttl,
            "serving": [t.name for t in serving],
            "unchecked_serving": facts.unchecked_serving,
            "reach_secondary": [a.name for a in reaching],
            "trickle_ratio": facts.trickle_ratio,
            "fencing": facts.fencing,
            "detection_s": facts.detection_s,
        }
        if seen_all:
            evidence["resolved"] = seen_all
        to = ", ".join(a.name for a in reaching)
        summary = (
            f"Cloud DNS {self.policy} for {name}: {len(serving)} answer(s) that take traffic are health-checked "
            f"(detection {format_duration(facts.detection_s)}); {to} reach{'es' if len(reaching) == 1 else ''} "
            f"secondary {sites}"
        )
        if facts.trickle_ratio:
            summary += f" (trickle {facts.trickle_ratio:g} of traffic to the backup)"
        return RoutingPath(
            **base,
            serving=answers_serving,
            secondary=tuple(answers),
            problems=(*problems, *unknown, *warnings),
            summary=summary,
            subject=facts.record or "",
            evidence=evidence,
        )


@register
class CloudDnsFailover(CloudDnsPolicy):
    id = "cloud-dns-failover"
    policy = "primaryBackup"
    title = "Cloud DNS failover routing policy (primaryBackup)"
    doc = """The public name's record set has a `primaryBackup` routing policy whose primary targets are
    health-checked (internal load balancers, whose backend service's health check is read through their
    forwarding rule for internal passthrough Network Load Balancers, or external endpoints with a Cloud
    DNS public health check: interval x unhealthy threshold is the detection time), and a backup target
    reaches the secondary.
    With a trickle ratio, the backup targets take that share in normal operation, so they must be
    health-checked too."""


@register
class CloudDnsWeighted(CloudDnsPolicy):
    id = "cloud-dns-weighted"
    policy = "wrr"
    title = "Cloud DNS weighted round robin routing policy (wrr)"
    doc = """Every `wrr` item with a weight above zero is health-checked (plain `rrdatas` are answered
    whatever their health, so a dead primary keeps its share), and one item reaches the secondary; a
    zero-weight item is a standby Cloud DNS may never answer (warns)."""


@register
class CloudDnsGeo(CloudDnsPolicy):
    id = "cloud-dns-geo"
    policy = "geo"
    title = "Cloud DNS geolocation routing policy (geo)"
    doc = """Every `geo` item is health-checked (Cloud DNS then answers the nearest healthy region), one
    reaches the secondary, and geo fencing is off (with fencing, users of a failed region are not sent
    elsewhere)."""
