"""Will DNS move users to the secondary: provider-diverse delegation, consistent authoritative answers,
TTLs short enough, failover records in place, and a health check fast enough to trigger them."""

from __future__ import annotations

from typing import Any

from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.governance import Governor, Mode
from failover.checks.mechanisms import RoutingPath, mechanism_of, routing_path
from failover.checks.mechanisms.base import SECONDARY_TARGET, points_at, site_addresses
from failover.checks.mechanisms.route53 import Route53Records, route53_records
from failover.checks.registry import CAP_AT_RISK, Category, Gate, RiskInput, RtoPart, Severity, check, info
from failover.checks.ttl import compare_ttl
from failover.model import Finding, FindingStatus, ObsStatus
from failover.schema import format_duration

__all__ = ["SECONDARY_TARGET", "failover_records", "governors", "names_to_resolve", "points_at", "site_addresses"]


def _no_dns(ev: Evidence, check_id: str) -> list[Finding]:
    return [
        info(check_id).finding(
            ev, FindingStatus.UNKNOWN, "workload has no dns: section, so its DNS failover path is not verified"
        )
    ]


@check(
    "dns.delegation",
    title="Authoritative DNS is not on a single provider",
    category=Category.DNS,
    severity=Severity.CRITICAL,
    gates=(Gate(cap=CAP_AT_RISK, text="authoritative DNS only on {primary_provider}"),),
    risk=RiskInput.NAMESERVERS,
    doc="""Finds the zone of the workload's public name and the providers hosting its NS set (from the
    nameserver names: awsdns, Google Cloud DNS, Azure DNS, Cloudflare, others). If every authoritative server is on
    the primary's provider, an outage of that provider takes the name down with it, and no secondary
    can be reached. Fix: add a second DNS provider (multi-provider NS set kept in sync, e.g. with
    octoDNS or DNSControl) at the registrar.""",
)
def dns_delegation(ev: Evidence) -> list[Finding]:
    me = info("dns.delegation")
    if not ev.workload.dns:
        return _no_dns(ev, me.id)
    obs = ev.observation(probe="dns", label="delegation")
    if obs is None or not obs.ok:
        why = "not probed yet" if obs is None else obs.reason
        return [me.finding(ev, FindingStatus.UNKNOWN, f"NS set of {ev.workload.dns.name} unknown: {why}")]
    servers = obs.data.get("nameservers") or []
    providers = sorted({str(ns.get("provider")) for ns in servers})
    zone = obs.data.get("zone", "?")
    primary = ev.provider(ev.workload.primary)
    names = [ns.get("name") for ns in servers]
    if not providers:
        return [me.finding(ev, FindingStatus.UNKNOWN, f"zone {zone}: no NS records found", zone=zone)]
    if len(providers) > 1:
        status, reason = FindingStatus.PASS, f"zone {zone} is served by {', '.join(providers)}"
    elif providers[0] == primary:
        status = FindingStatus.FAIL
        reason = f"zone {zone} is served only by {primary}, the primary's provider: one outage takes DNS down too"
    else:
        status, reason = FindingStatus.WARN, f"zone {zone} is served only by {providers[0]}"
    return [me.finding(ev, status, reason, zone=zone, providers=providers, nameservers=names)]


@check(
    "dns.authoritative",
    title="Every authoritative server answers and agrees",
    category=Category.DNS,
    severity=Severity.HIGH,
    doc="""Asks every authoritative server of the zone (or the workload's `dns.nameservers`) for the public
    name and compares the answers. A server that does not answer, or answers differently, means some
    resolvers see the old address after a failover, or none; servers that agree on an answer without an
    address (a CNAME loop, NXDOMAIN, NODATA) serve a name that resolves nowhere, which fails too (with
    the loop or the answer in the reason). Fix: repair zone
    transfers / the sync between DNS providers, remove the dead server from the NS set, or break the
    loop.""",
)
def dns_authoritative(ev: Evidence) -> list[Finding]:
    me = info("dns.authoritative")
    if not ev.workload.dns:
        return _no_dns(ev, me.id)
    obs = ev.observation(probe="dns", label="authoritative")
    if obs is None or obs.status == ObsStatus.ERROR:
        why = "not probed yet" if obs is None else obs.reason
        return [me.finding(ev, FindingStatus.UNKNOWN, f"authoritative answers unknown: {why}")]
    servers = obs.data.get("servers") or []
    silent = [s.get("server") for s in servers if not s.get("answered")]
    agree = obs.data.get("agree")
    if not servers:
        return [me.finding(ev, FindingStatus.UNKNOWN, "no authoritative servers were queried")]
    if len(silent) == len(servers):
        status, reason = FindingStatus.FAIL, f"no authoritative server answered for {ev.workload.dns.name}"
    elif agree is False:
        status, reason = (
            FindingStatus.FAIL,
            "authoritative servers disagree: "
            + join([f"{s.get('server')}={','.join(map(str, s.get('answers') or [])) or '-'}" for s in servers]),
        )
    elif looping := [s for s in servers if s.get("loop")]:
        status, reason = (
            FindingStatus.FAIL,
            f"{ev.workload.dns.name} does not resolve: {len(looping)} of {len(servers)} servers answer with a "
            f"CNAME loop " + " -> ".join(str(n).rstrip(".") for n in looping[0].get("chain") or []),
        )
    elif dead := [s for s in servers if s.get("dead_end")]:
        status, reason = (
            FindingStatus.FAIL,
            f"{ev.workload.dns.name} does not resolve: {len(dead)} of {len(servers)} servers answer without "
            f"an address ({dead[0].get('server')}: {dead[0].get('dead_end')})",
        )
    elif silent:
        status, reason = (
            FindingStatus.WARN,
            f"{len(silent)} of {len(servers)} servers did not answer: " + join([str(s) for s in silent]),
        )
    else:
        status, reason = FindingStatus.PASS, f"all {len(servers)} authoritative servers answer and agree"
    return [me.finding(ev, status, reason, servers=servers)]


@check(
    "dns.ttl",
    title="DNS TTL fits the failover target",
    category=Category.DNS,
    severity=Severity.HIGH,
    rto_part=RtoPart.DNS,
    doc="""Measures the effective TTL users' resolvers may cache for the public name: the smallest TTL
    along its CNAME chain at the authoritative servers, and, when `dns.resolver` is set, the TTL that
    recursive resolver actually hands out. Until it expires, clients keep going to the failed primary.
    It must be at most `targets.max_dns_ttl`. Behind a proxy that switches origins itself (a proxied
    Cloudflare load balancer), resolvers keep the proxy's addresses, so the TTL does not delay failover
    and the check passes saying so. A chain that loops or ends without an address (NXDOMAIN,
    NODATA, an error code) fails with the chain in the reason: there is nothing for clients to reach.
    Fix: lower the TTL of every record in the chain (60 s is usual for failover records), and point
    the chain at a name with an address.""",
)
def dns_ttl(ev: Evidence) -> list[Finding]:
    me = info("dns.ttl")
    if not ev.workload.dns:
        return _no_dns(ev, me.id)
    limit = ev.workload.targets.max_dns_ttl
    obs = ev.observation(probe="dns", label="chain")
    ttl = obs.data.get("effective_ttl") if obs else None
    if obs is not None and obs.status == ObsStatus.FAILED:  # a loop or a dead end: nothing to fail over to
        chain = obs.data.get("chain")
        return [me.finding(ev, FindingStatus.FAIL, f"{ev.workload.dns.name}: {obs.reason}", chain=chain)]
    if obs is None or ttl is None or not obs.ok:
        why = "not probed yet" if obs is None else obs.reason
        return [me.finding(ev, FindingStatus.UNKNOWN, f"TTL of {ev.workload.dns.name} unknown: {why}")]
    findings_ev: dict[str, Any] = {"effective_ttl": ttl, "max_dns_ttl": limit, "chain": obs.data.get("chain")}
    path = routing_path(ev)
    if path is not None and path.proxy:  # failover happens behind addresses resolvers keep
        reason = f"{path.proxy} (resolvers cache {ev.workload.dns.name} for {ttl}s)"
        return [me.finding(ev, FindingStatus.PASS, reason, proxy=path.proxy, **findings_ev)]
    verdict = compare_ttl(int(ttl), limit, "effective TTL")
    status, reason = verdict.status, verdict.reason
    resolver = ev.observation(probe="dns", label="resolver")
    if resolver is not None and resolver.ok and resolver.data.get("ttl") is not None:
        cached = resolver.data["ttl"]
        findings_ev["resolver_ttl"] = cached
        if status == FindingStatus.PASS and compare_ttl(cached, limit).status == FindingStatus.FAIL:
            status = FindingStatus.WARN
            reason += f"; resolver {resolver.data.get('resolver', '')} hands out TTL {cached}s"
    return [me.finding(ev, status, reason, **findings_ev)]


def failover_records(ev: Evidence) -> Route53Records:
    """Route 53 records for the public name in the workload's DNS accounts (``.primary`` and
    ``.secondary`` are its failover records)."""
    return route53_records(ev)


def names_to_resolve(ev: Evidence) -> dict[str, list[str]]:
    """The names the probes resolve at the workload's authoritative servers (``secondary-target``
    observations) so the checks can follow a secondary answer that is a name, not a literal address
    of the secondary: each mechanism says which (``Mechanism.names_to_resolve``), keyed by the name
    whose CNAME chain must pass through them (``""``: always resolved)."""
    mech = mechanism_of(ev)
    return mech.names_to_resolve(ev) if mech is not None else {}


@check(
    "dns.failover_records",
    title="Failover records exist and point at the secondary",
    category=Category.DNS,
    severity=Severity.CRITICAL,
    rto_part=RtoPart.DETECTION,
    doc="""Reads the workload's routing path through its `dns.mechanism` (see "Failover mechanisms" below)
    and fails on its problems. For `route53-failover`: a PRIMARY and a SECONDARY failover record exist
    for the public name (searched in `dns.account`, else in every configured AWS account), the primary
    record is governed by a health signal (a Route 53 health check that is neither disabled nor
    inverted, or an alias to an ALB/NLB or to health-checked records with `EvaluateTargetHealth`;
    otherwise Route 53 never fails over), and the secondary record's answer (alias target or values,
    followed through CNAMEs at the workload's authoritative servers) points at the secondary site: its
    load balancer's DNS name, one of its addresses, or an endpoint host. For `route53-latency`,
    `route53-weighted`, `route53-geo` and `route53-multivalue`: every record that takes traffic in
    normal operation (each latency, geo or multivalue record, each non-zero weight) is health-governed,
    or a dead primary keeps its share, and at least one record reaches the secondary; a weight-0
    standby behind health-governed records is active-passive failover (its own missing health check
    warns). A hosted zone found in no searched account is unknown, with the accounts searched. When
    no answer is health-governed, the evidence says which control plane the record change needs
    (Route 53's in us-east-1, or us-west-2 with the zone's accelerated recovery). For
    `traffic-manager`: the Traffic Manager profile the public name resolves through is enabled,
    routes by Priority, monitors its endpoints, and has a lower-priority enabled endpoint that points
    at the secondary site. For `global-accelerator`, `front-door`, `cloudflare-lb`, `cloud-dns-failover`,
        `cloud-dns-weighted` and `cloud-dns-geo`, see their entries below. Mechanisms without a reader are
    reported unknown. Fix: create the missing
    record or health check, or point the secondary record at the secondary site's load balancer.""",
)
def dns_failover_records(ev: Evidence) -> list[Finding]:
    me = info("dns.failover_records")
    dns = ev.workload.dns
    if not dns:
        return _no_dns(ev, me.id)
    path = routing_path(ev)
    if path is None:
        return [
            me.finding(
                ev,
                FindingStatus.UNKNOWN,
                f"failover records for mechanism {dns.mechanism} are not verified yet",
                mechanism=dns.mechanism,
            )
        ]
    status, reason = path_verdict(path)
    return [me.finding(ev, status, reason, subject=path.subject, **path.evidence)]


def path_verdict(path: RoutingPath) -> tuple[FindingStatus, str]:
    """A routing path's verdict: its failures, else what is unknown, else its warnings, else its summary."""
    for status in (FindingStatus.FAIL, FindingStatus.UNKNOWN, FindingStatus.WARN):
        reasons = [p.reason for p in path.problems if p.status == status]
        if reasons:
            return status, join(reasons)
    return FindingStatus.PASS, path.summary


@check(
    "dns.health_check",
    title="Health check detects an outage inside the RTO",
    category=Category.DNS,
    severity=Severity.HIGH,
    rto_part=RtoPart.DETECTION,
    doc="""Reads the health signal governing failover and its detection time, one finding per answer that takes
    traffic in normal operation: a Route 53 health check on the PRIMARY failover record (or on each
    latency, weighted, geo or multivalue record that serves; request interval x failure threshold), a
    calculated check (from its children and `HealthThreshold`), a CloudWatch-alarm check (the alarm's
    period x datapoints to alarm, read with `DescribeAlarms`), an alias evaluating an ALB/NLB's target
    health (the target groups' interval x unhealthy threshold, plus 30 s for Route 53), the Traffic
    Manager profile's endpoint monitor, or each Global Accelerator endpoint taking traffic (its endpoint
        group's health-check interval x threshold, or an ALB/NLB endpoint's target groups). If detection alone
    exceeds the RTO, DNS fails over too late. A
    disabled check (Route 53 treats it as always healthy) or an inverted one (the signal is flipped)
    fails; disabled and inverted together force failover (the secondary serves) and warn. An ARC routing
    control is a manual decision: its decision time counts in the RTO instead. Also reports a health
    check currently failing, and an alarm check that stays healthy when its metric stops arriving. Fix:
    use a 10 s interval and a threshold of 3 or less, and make sure the check probes the path that
    really tells the primary is serving.""",
)
def dns_health_check(ev: Evidence) -> list[Finding]:
    me = info("dns.health_check")
    dns = ev.workload.dns
    if not dns:
        return _no_dns(ev, me.id)
    governing, missing = governors(ev)
    if not governing and not missing:
        return [me.finding(ev, FindingStatus.UNKNOWN, f"health checks for {dns.mechanism} are not verified yet")]
    rto = ev.workload.targets.rto
    findings = [me.finding(ev, status, reason, subject=subject) for status, reason, subject in missing]
    for g in governing:
        status, reason = _health_verdict(g, rto, ev.config.scoring.manual_decision)
        findings.append(
            me.finding(
                ev,
                status,
                reason,
                subject=g.subject,
                detection_s=g.detection_s,
                health=g.health,
                rto_s=rto,
                mechanism=g.kind,
                mode=str(g.mode),
                **g.evidence,
            )
        )
    return findings


_BAD_HEALTH = ("unhealthy", "degraded", "inactive", "stopped")


def _health_verdict(g: Governor, rto: float, manual_decision: float) -> tuple[FindingStatus, str]:
    if g.mode == Mode.NEVER:
        return FindingStatus.FAIL, g.reason
    if g.mode == Mode.UNKNOWN:
        return FindingStatus.UNKNOWN, g.reason
    if g.mode == Mode.FORCED:
        # Deliberate (maintenance, a drill) and the secondary serves: worth attention, not a gate.
        return FindingStatus.WARN, g.reason
    if g.mode == Mode.MANUAL:
        decide = f"decision time {format_duration(manual_decision)} counts in the RTO ({format_duration(rto)})"
        if manual_decision > rto:
            return FindingStatus.FAIL, f"{g.reason}; {decide} and exceeds it"
        if g.health in _BAD_HEALTH:
            return FindingStatus.WARN, f"{g.reason}; it reports {g.health} now (traffic is routed away)"
        return FindingStatus.PASS, f"{g.reason}; {decide}"
    detect = float(g.detection_s or 0.0)
    reason = f"{g.reason} (RTO {format_duration(rto)})"
    if detect > rto:
        return FindingStatus.FAIL, reason
    if g.health in _BAD_HEALTH:
        return FindingStatus.WARN, reason + f"; it reports {g.health} now"
    if g.warnings:
        return FindingStatus.WARN, reason + "; " + g.warnings[0]
    return FindingStatus.PASS, reason


def governors(ev: Evidence) -> tuple[list[Governor], list[tuple[FindingStatus, str, str]]]:
    """The health signals that trigger this workload's DNS failover (one per answer that takes traffic
    in normal operation), and (status, reason, subject) where there is nothing to govern. Both empty
    for a mechanism that is not read."""
    path = routing_path(ev)
    if path is None:
        return [], []
    return path.governors, [(p.status, p.reason, "") for p in path.no_detection]
