"""Will DNS move users to the secondary: provider-diverse delegation, consistent authoritative answers,
TTLs short enough, failover records in place, and a health check fast enough to trigger them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from failover.attrs import attrs_of
from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.governance import (
    Governor,
    Mode,
    Who,
    detection_seconds,
    failover_status,
    record_governor,
)
from failover.checks.registry import CAP_AT_RISK, Category, Gate, RiskInput, RtoPart, Severity, check, info
from failover.checks.ttl import compare_ttl
from failover.equivalence import addresses, normalize_name
from failover.model import Finding, FindingStatus, Kind, ObsStatus, Resource
from failover.schema import format_duration

SECONDARY_TARGET = "secondary-target"  # dns observation: a SECONDARY record's target, resolved


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
    nameserver names: awsdns, Google Cloud DNS, Azure DNS, others). If every authoritative server is on
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
    It must be at most `targets.max_dns_ttl`. A chain that loops or ends without an address (NXDOMAIN,
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


@dataclass(frozen=True)
class Route53Records:
    """The public name's Route 53 failover records, where they were looked for, and what could hide them."""

    primary: list[Resource]
    secondary: list[Resource]
    gaps: list[str]  # why the searched accounts' Route 53 inventory may be incomplete
    searched: list[str]  # accounts searched (``dns.account``, else every AWS account)
    zones: list[Resource]  # hosted zones that could hold the name


def failover_records(ev: Evidence) -> Route53Records:
    """Route 53 records for the public name with failover PRIMARY/SECONDARY, in the workload's DNS accounts."""
    assert ev.workload.dns
    dns = ev.workload.dns
    name = normalize_name(dns.name)
    accounts = ev.config.dns_accounts(ev.workload)
    gaps = [g for account in accounts for g in ev.account_gaps(account, _global_scope)]
    primary: list[Resource] = []
    secondary: list[Resource] = []
    for r in ev.index.records_named(name):
        if r.account not in accounts or r.kind != Kind.DNS_RECORD:
            continue
        role = str(attrs_of(r, Kind.DNS_RECORD)["failover"] or "").upper()
        if role == "PRIMARY":
            primary.append(r)
        elif role == "SECONDARY":
            secondary.append(r)
    zones = [
        z
        for account in accounts
        for z in ev.index.of_kind(account, Kind.DNS_ZONE)
        if _in_zone(name, normalize_name(z.name))
        and (not dns.zone or normalize_name(dns.zone) == normalize_name(z.name))
    ]
    return Route53Records(primary, secondary, gaps, accounts, zones)


def _in_zone(name: str, zone: str) -> bool:
    return bool(zone) and (name == zone or name.endswith("." + zone))


def _global_scope(scope: str) -> bool:
    s = scope.lower()
    return "route53" in s or s in ("*", "global") or s.startswith(("global", "sts"))


def _record_targets(record: Resource) -> set[str]:
    targets = {normalize_name(str(v)) for v in attrs_of(record, Kind.DNS_RECORD)["values"] or []}
    alias = attrs_of(record, Kind.DNS_RECORD)["alias"]
    if isinstance(alias, dict) and alias.get("dns_name"):
        targets.add(normalize_name(str(alias["dns_name"])).removeprefix("dualstack."))
    return targets


def site_addresses(ev: Evidence, site_name: str) -> set[str]:
    site = next(s for s in ev.workload.sites if s.name == site_name)
    found = {normalize_name(t) for t in site.failover_targets}
    for ep in site.endpoints:
        host = urlparse(ep.url).hostname
        if host:
            found.add(normalize_name(host))
    for r in ev.resources(site):
        found |= addresses(r)
    return found


def _is_name(value: str) -> bool:
    """A DNS name to resolve (not an IP address)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return bool(value)
    return False


def points_at(ev: Evidence, targets: set[str], wanted: set[str]) -> tuple[bool | None, list[str]]:
    """Do these answers reach the secondary: literally, or through the ``secondary-target``
    observations that resolved each name at the workload's authoritative servers? ``None`` when a
    name that could reach it has not been resolved; the second item says what each name resolved to."""
    if targets & wanted:
        return True, []
    seen: list[str] = []
    unresolved = False
    for name in sorted(t for t in targets if _is_name(t)):
        obs = ev.observation(probe="dns", label=SECONDARY_TARGET, target=name)
        if obs is None:
            unresolved = True
            seen.append(f"{name}: not resolved yet")
            continue
        # Names the CNAMEs pass through count even when the chain then leaves the authoritative
        # servers' reach (an ELB name): reaching the secondary's load balancer name is enough.
        reached = {normalize_name(str(n)) for n in obs.data.get("names") or []}
        reached |= {normalize_name(str(a)) for a in obs.data.get("answers") or []}
        answers = ", ".join(sorted(obs.data.get("answers") or []))
        seen.append(f"{name} -> {answers or obs.reason}")
        if reached & wanted:
            return True, seen
        unresolved = unresolved or obs.status == ObsStatus.ERROR
    return (None if unresolved else False), seen


def names_to_resolve(ev: Evidence) -> dict[str, list[str]]:
    """The names the probes resolve at the workload's authoritative servers (``secondary-target``
    observations) so the checks can follow a SECONDARY answer that is a name, not a literal address of
    the secondary: Route 53 SECONDARY record targets under key ``""`` (always resolved), and each
    Traffic Manager profile's endpoint targets under the profile's fqdn (resolved when the public
    name's CNAME chain passes through it) or ``""`` for the profile a site selects."""
    dns = ev.workload.dns
    if dns is None:
        return {}
    wanted = _secondary_wanted(ev)
    plan: dict[str, set[str]] = {}

    def add(key: str, names: Iterable[str]) -> None:
        found = {n for n in names if _is_name(n) and n not in wanted}
        if found:
            plan.setdefault(key, set()).update(found)

    if dns.mechanism == "route53-failover":
        for rec in failover_records(ev).secondary:
            add("", _record_targets(rec))
    elif dns.mechanism == "traffic-manager":
        selected = {r.native_id for s in ev.workload.sites for r in ev.resources(s)}
        for account in ev.config.dns_accounts(ev.workload):
            for p in ev.index.of_kind(account, Kind.DNS_HEALTH_CHECK):
                if "routing_method" not in attrs_of(p, Kind.DNS_HEALTH_CHECK):
                    continue
                fqdn = attrs_of(p, Kind.DNS_HEALTH_CHECK)["fqdn"]
                key = "" if p.native_id in selected else normalize_name(str(fqdn or ""))
                if not key and p.native_id not in selected:
                    continue
                add(key, (normalize_name(str(e.get("target") or "")) for e in _enabled_endpoints(p)[1:]))
    return {k: sorted(v) for k, v in sorted(plan.items())}


def _secondary_wanted(ev: Evidence) -> set[str]:
    wanted: set[str] = set()
    for s in ev.workload.secondaries:
        wanted |= site_addresses(ev, s.name)
    return wanted


@check(
    "dns.failover_records",
    title="Failover records exist and point at the secondary",
    category=Category.DNS,
    severity=Severity.CRITICAL,
    rto_part=RtoPart.DETECTION,
    doc="""For `mechanism: route53-failover`: a PRIMARY and a SECONDARY failover record exist for the
    public name (searched in `dns.account`, else in every configured AWS account), the primary record is
    governed by a health signal (a Route 53 health check that is neither disabled nor inverted, or an
    alias to an ALB/NLB or to health-checked records with `EvaluateTargetHealth`; otherwise Route 53
    never fails over), and the secondary record's answer (alias target or values, followed through
    CNAMEs at the workload's authoritative servers) points at the secondary site: its load balancer's
    DNS name, one of its addresses, or an endpoint host. A hosted zone found in no searched account is
    unknown, with the accounts searched. For `mechanism: traffic-manager`: the Traffic Manager profile
    the public name resolves through is enabled, routes by Priority, monitors its endpoints, and has a
    lower-priority enabled endpoint that points at the secondary site. Other mechanisms are reported
    unknown until their provider's records can be read. Fix: create the missing record or health
    check, or point the secondary record at the secondary site's load balancer.""",
)
def dns_failover_records(ev: Evidence) -> list[Finding]:
    me = info("dns.failover_records")
    dns = ev.workload.dns
    if not dns:
        return _no_dns(ev, me.id)
    if dns.mechanism == "traffic-manager":
        return _traffic_manager_records(ev)
    if dns.mechanism != "route53-failover":
        return [
            me.finding(
                ev,
                FindingStatus.UNKNOWN,
                f"failover records for mechanism {dns.mechanism} are not verified yet",
                mechanism=dns.mechanism,
            )
        ]
    recs = failover_records(ev)
    primary, secondary, gaps = recs.primary, recs.secondary, recs.gaps
    if not primary and not secondary and not recs.zones:
        why = f"no Route 53 hosted zone for {dns.name} in {', '.join(recs.searched) or 'any configured AWS account'}"
        if gaps:
            why += "; inventory incomplete: " + join(gaps, 1)
        return [me.finding(ev, FindingStatus.UNKNOWN, why, searched=recs.searched)]
    problems: list[str] = []
    unknown: list[str] = []
    if not primary:
        problems.append(f"no PRIMARY failover record for {dns.name}")
    if not secondary:
        problems.append(f"no SECONDARY failover record for {dns.name}")
    if problems and gaps:
        return [me.finding(ev, FindingStatus.UNKNOWN, join(problems) + "; inventory incomplete: " + join(gaps, 1))]
    if not primary and not secondary:
        zones = ", ".join(z.name for z in recs.zones)
        return [me.finding(ev, FindingStatus.FAIL, join(problems) + f" in hosted zone {zones}", searched=recs.searched)]
    governed = [record_governor(ev, rec) for rec in primary]
    for g in governed:
        status = failover_status(g.mode)
        if status == FindingStatus.FAIL:
            problems.append(g.reason)
        elif status == FindingStatus.UNKNOWN:
            unknown.append(g.reason)
    sec_sites = [s.name for s in ev.workload.secondaries]
    wanted = _secondary_wanted(ev)
    resolved: list[str] = []
    for rec in secondary:
        targets = _record_targets(rec)
        reaches, seen = points_at(ev, targets, wanted)
        resolved += seen
        if reaches is None:
            unknown.append(f"SECONDARY record target unresolved ({join(seen, 2)})")
        elif not reaches:
            via = f" (resolves {join(seen, 2)})" if seen else ""
            problems.append(
                f"SECONDARY record points at {', '.join(sorted(targets)) or 'nothing'}{via}, "
                f"not at secondary {', '.join(sec_sites)}"
            )
    evidence: dict[str, Any] = {
        "primary": [r.native_id for r in primary],
        "secondary": [r.native_id for r in secondary],
        "secondary_targets": sorted({t for r in secondary for t in _record_targets(r)}),
        "governed_by": {g.subject: {"kind": g.kind, "mode": str(g.mode)} for g in governed},
    }
    if resolved:
        evidence["resolved"] = resolved
    if problems:
        return [me.finding(ev, FindingStatus.FAIL, join(problems), **evidence)]
    if unknown:
        return [me.finding(ev, FindingStatus.UNKNOWN, join(unknown), **evidence)]
    how = {
        "alias-target": "alias evaluating target health",
        "routing-control": "ARC routing control",
    }
    kinds = sorted({how.get(g.kind, "health-checked") for g in governed})
    reason = f"PRIMARY ({', '.join(kinds)}) and SECONDARY records for {dns.name} in place"
    forced = [g for g in governed if g.mode == Mode.FORCED]
    if forced:
        reason += f"; {forced[0].reason}"
    return [me.finding(ev, FindingStatus.PASS, reason, **evidence)]


@check(
    "dns.health_check",
    title="Health check detects an outage inside the RTO",
    category=Category.DNS,
    severity=Severity.HIGH,
    rto_part=RtoPart.DETECTION,
    doc="""Reads the health signal governing failover and its detection time: a Route 53 health check on
    the PRIMARY failover record (request interval x failure threshold), a calculated check (from its
    children and `HealthThreshold`), a CloudWatch-alarm check (the alarm's period x datapoints to
    alarm, read with `DescribeAlarms`), an alias evaluating an ALB/NLB's target health (the target
    groups' interval x unhealthy threshold, plus 30 s for Route 53), or the Traffic Manager profile's
    endpoint monitor. If detection alone exceeds the RTO, DNS fails over too late. A disabled check
    (Route 53 treats it as always healthy) or an inverted one (the signal is flipped) fails; disabled
    and inverted together force failover (the secondary serves) and warn. An ARC routing control is a
    manual decision: its decision time counts in the RTO instead. Also reports a health check
    currently failing, and an alarm check that stays healthy when its metric stops arriving. Fix: use
    a 10 s interval and a threshold of 3 or less, and make sure the check probes the path that really
    tells the primary is serving.""",
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
    """The health signals that trigger this workload's DNS failover (one per PRIMARY record, or the
    Traffic Manager profile), and (status, reason, subject) where the records themselves are missing.
    Both empty for a mechanism whose health checks cannot be read yet."""
    dns = ev.workload.dns
    assert dns is not None
    missing: list[tuple[FindingStatus, str, str]] = []
    if dns.mechanism == "traffic-manager":
        profile, gaps = traffic_manager_profile(ev)
        if profile is None:
            status = FindingStatus.UNKNOWN if gaps else FindingStatus.FAIL
            missing.append((status, f"no Traffic Manager profile serves {dns.name}, so no automatic detection", ""))
            return [], missing
        return [_profile_governor(profile)], missing
    if dns.mechanism != "route53-failover":
        return [], missing
    recs = failover_records(ev)
    if not recs.primary:
        status = FindingStatus.UNKNOWN if recs.gaps or not recs.zones else FindingStatus.FAIL
        missing.append((status, f"no PRIMARY failover record for {dns.name}, so no automatic detection", ""))
    return [record_governor(ev, rec) for rec in recs.primary], missing


def _profile_governor(profile: Resource) -> Governor:
    detect = detection_seconds(profile)
    health = str(attrs_of(profile, Kind.DNS_HEALTH_CHECK)["monitor_status"] or "unknown").lower()
    base = Who(subject=profile.native_id, name=profile.name, kind="traffic-manager")
    if detect is None:
        why = f"health check {profile.native_id}: interval unknown"
        return Governor(**base, mode=Mode.UNKNOWN, reason=why, health=health)
    why = f"health check {profile.name or profile.native_id} detects in {format_duration(detect)}"
    return Governor(**base, mode=Mode.AUTOMATIC, reason=why, detection_s=detect, health=health)


def _chain_names(ev: Evidence) -> set[str]:
    """Every name the public name's CNAME chain passes through, as measured at the authoritative servers."""
    chain = ev.observation(probe="dns", label="chain")
    names: set[str] = set()
    for hop in (chain.data.get("chain") or []) if chain else []:
        names.add(normalize_name(str(hop.get("name", ""))))
        names |= {normalize_name(str(v)) for v in hop.get("values") or []}
    return names


def traffic_manager_profile(ev: Evidence) -> tuple[Resource | None, list[str]]:
    """The Traffic Manager profile the public name resolves through (its fqdn in the CNAME chain), or
    the one profile a workload site selects; and the inventory gaps that could hide it."""
    accounts = ev.config.dns_accounts(ev.workload)
    profiles = [
        r
        for account in accounts
        for r in ev.index.of_kind(account, Kind.DNS_HEALTH_CHECK)
        if "routing_method" in attrs_of(r, Kind.DNS_HEALTH_CHECK)
    ]
    gaps = [g for account in accounts for g in ev.account_gaps(account)]
    names = _chain_names(ev)
    fqdns = ((p, attrs_of(p, Kind.DNS_HEALTH_CHECK)["fqdn"]) for p in profiles)
    by_chain = [p for p, fqdn in fqdns if fqdn and normalize_name(str(fqdn)) in names]
    if by_chain:
        return by_chain[0], gaps
    selected = {id(r): r for s in ev.workload.sites for r in ev.resources(s) if r in profiles}
    return (next(iter(selected.values())) if len(selected) == 1 else None), gaps


def _enabled_endpoints(profile: Resource) -> list[dict[str, Any]]:
    """A profile's enabled endpoints, highest priority (lowest number) first."""
    return sorted(
        (
            e
            for e in attrs_of(profile, Kind.DNS_HEALTH_CHECK)["endpoints"] or []
            if str(e.get("status") or "").lower() == "enabled"
        ),
        key=lambda e: (e.get("priority") is None, e.get("priority") or 0),
    )


def _traffic_manager_records(ev: Evidence) -> list[Finding]:
    me = info("dns.failover_records")
    assert ev.workload.dns is not None
    name = ev.workload.dns.name
    profile, gaps = traffic_manager_profile(ev)
    if profile is None:
        if gaps:
            return [
                me.finding(ev, FindingStatus.UNKNOWN, f"Traffic Manager profile for {name} unknown: " + join(gaps, 1))
            ]
        return [
            me.finding(ev, FindingStatus.FAIL, f"no Traffic Manager profile serves {name} (none in its CNAME chain)")
        ]
    problems: list[str] = []
    pa = attrs_of(profile, Kind.DNS_HEALTH_CHECK)
    if str(pa["profile_status"] or "").lower() != "enabled":
        problems.append(f"profile {profile.name} is {pa['profile_status'] or 'not enabled'}")
    method = str(pa["routing_method"] or "")
    if method.lower() != "priority":
        problems.append(f"profile {profile.name} routes by {method or 'an unknown method'}, not Priority (failover)")
    enabled = _enabled_endpoints(profile)
    wanted = _secondary_wanted(ev)
    for s in ev.workload.secondaries:
        wanted |= {r.native_id.lower() for r in ev.resources(s)}
    standby: list[dict[str, Any]] = []
    unresolved: list[str] = []
    for e in enabled[1:]:
        if str(e.get("target_resource_id") or "").lower() in wanted:
            standby.append(e)
            continue
        reaches, seen = points_at(ev, {normalize_name(str(e.get("target") or ""))} - {""}, wanted)
        if reaches:
            standby.append(e)
        elif reaches is None:
            unresolved += seen
    # alwaysServe: Traffic Manager keeps answering with the endpoint whatever its probes say.
    if enabled and enabled[0].get("always_serve"):
        problems.append(
            f"primary endpoint {enabled[0].get('name')} has alwaysServe Enabled: Traffic Manager keeps serving it "
            "when its health checks fail, so the profile never fails over"
        )
    always_standby = [str(e.get("name")) for e in standby if e.get("always_serve")]
    if len(enabled) < 2:
        problems.append(f"profile {profile.name} has {len(enabled)} enabled endpoint(s): nothing to fail over to")
    elif not standby and unresolved and not problems:
        why = f"no lower-priority endpoint of {profile.name} is known to reach a secondary: {join(unresolved, 2)}"
        return [me.finding(ev, FindingStatus.UNKNOWN, why, subject=profile.name)]
    elif not standby:
        targets = ", ".join(str(e.get("target") or e.get("target_resource_id")) for e in enabled[1:])
        problems.append(f"no lower-priority endpoint points at a secondary site (they point at {targets})")
    if pa["interval_s"] is None or pa["failure_threshold"] is None:
        problems.append(f"profile {profile.name} has no endpoint monitoring configured")
    evidence = {"profile": profile.native_id, "endpoints": pa["endpoints"], "routing_method": method}
    if problems:
        return [me.finding(ev, FindingStatus.FAIL, join(problems), subject=profile.name, **evidence)]
    if always_standby and len(always_standby) == len(standby):
        return [
            me.finding(
                ev,
                FindingStatus.WARN,
                f"Traffic Manager profile {profile.name} fails {name} over to {standby[0].get('target')}, but "
                f"standby endpoint(s) {', '.join(always_standby)} have alwaysServe Enabled: traffic goes there "
                "even when their probes fail",
                subject=profile.name,
                **evidence,
            )
        ]
    return [
        me.finding(
            ev,
            FindingStatus.PASS,
            f"Traffic Manager profile {profile.name} fails {name} over to {standby[0].get('target')}",
            subject=profile.name,
            **evidence,
        )
    ]
