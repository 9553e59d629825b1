"""Will DNS move users to the secondary: provider-diverse delegation, consistent authoritative answers,
TTLs short enough, failover records in place, and a health check fast enough to trigger them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.registry import check, info
from failover.equivalence import addresses, normalize_name
from failover.model import Finding, FindingStatus, Kind, ObsStatus, Resource
from failover.schema import format_duration
from probes.dnspath import compare_ttl


def _no_dns(ev: Evidence, check_id: str) -> list[Finding]:
    return [
        info(check_id).finding(
            ev, FindingStatus.UNKNOWN, "workload has no dns: section, so its DNS failover path is not verified"
        )
    ]


@check(
    "dns.delegation",
    title="Authoritative DNS is not on a single provider",
    category="dns",
    severity="critical",
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
    category="dns",
    severity="high",
    doc="""Asks every authoritative server of the zone (or the workload's `dns.nameservers`) for the public
    name and compares the answers. A server that does not answer, or answers differently, means some
    resolvers see the old address after a failover, or none. Fix: repair zone transfers / the sync
    between DNS providers, or remove the dead server from the NS set.""",
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
    category="dns",
    severity="high",
    doc="""Measures the effective TTL users' resolvers may cache for the public name: the smallest TTL
    along its CNAME chain at the authoritative servers, and, when `dns.resolver` is set, the TTL that
    recursive resolver actually hands out. Until it expires, clients keep going to the failed primary.
    It must be at most `targets.max_dns_ttl`. Fix: lower the TTL of every record in the chain (60 s is
    usual for failover records).""",
)
def dns_ttl(ev: Evidence) -> list[Finding]:
    me = info("dns.ttl")
    if not ev.workload.dns:
        return _no_dns(ev, me.id)
    limit = ev.workload.targets.max_dns_ttl
    obs = ev.observation(probe="dns", label="chain")
    ttl = obs.data.get("effective_ttl") if obs else None
    if obs is None or ttl is None:
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


def failover_records(ev: Evidence) -> tuple[list[Resource], list[Resource], list[str]]:
    """Route 53 records for the public name with failover PRIMARY/SECONDARY, and inventory gaps."""
    assert ev.workload.dns
    name = normalize_name(ev.workload.dns.name)
    primary: list[Resource] = []
    secondary: list[Resource] = []
    gaps: list[str] = []
    accounts = {s.account for s in ev.workload.sites if ev.config.account(s.account).provider == "aws"}
    for account in sorted(accounts):
        inv = ev.inventories.get(account)
        if inv is None:
            gaps.append(f"account {account} has not been inventoried")
            continue
        gaps += [f"{account} {e.scope}: {e.reason}" for e in inv.incomplete if _global_scope(e.scope)]
    for r in ev.index.records_named(name):
        if r.account not in accounts:
            continue
        role = str(r.attrs.get("failover") or "").upper()
        if role == "PRIMARY":
            primary.append(r)
        elif role == "SECONDARY":
            secondary.append(r)
    return primary, secondary, gaps


def _global_scope(scope: str) -> bool:
    s = scope.lower()
    return "route53" in s or s in ("*", "global") or s.startswith("global")


def health_check_for(ev: Evidence, record: Resource) -> Resource | None:
    hc_id = record.attrs.get("health_check_id")
    if not hc_id:
        return None
    return next((r for r in ev.index.by_ref(record.account, str(hc_id)) if r.kind == Kind.DNS_HEALTH_CHECK), None)


def _record_targets(record: Resource) -> set[str]:
    targets = {normalize_name(str(v)) for v in record.attrs.get("values") or []}
    alias = record.attrs.get("alias") or record.attrs.get("alias_target")
    if isinstance(alias, dict):
        alias = alias.get("dns_name") or alias.get("DNSName")
    if alias:
        targets.add(normalize_name(str(alias)).removeprefix("dualstack."))
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


@check(
    "dns.failover_records",
    title="Failover records exist and point at the secondary",
    category="dns",
    severity="critical",
    doc="""For `mechanism: route53-failover`: a PRIMARY and a SECONDARY failover record exist for the
    public name, the primary record is governed by a health check (otherwise Route 53 never fails
    over), and the secondary record's answer (alias target or values) points at the secondary site:
    its load balancer's DNS name, one of its addresses, or an endpoint host. For
    `mechanism: traffic-manager`: the Traffic Manager profile the public name resolves through is
    enabled, routes by Priority, monitors its endpoints, and has a lower-priority enabled endpoint that
    points at the secondary site. Other mechanisms are reported unknown until their provider's records
    can be read. Fix: create the missing record or
    health check, or point the secondary record at the secondary site's load balancer.""",
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
    primary, secondary, gaps = failover_records(ev)
    problems: list[str] = []
    if not primary:
        problems.append(f"no PRIMARY failover record for {dns.name}")
    if not secondary:
        problems.append(f"no SECONDARY failover record for {dns.name}")
    if problems and gaps:
        return [me.finding(ev, FindingStatus.UNKNOWN, join(problems) + "; inventory incomplete: " + join(gaps, 1))]
    if not primary and not secondary:
        return [me.finding(ev, FindingStatus.FAIL, join(problems) + " in the inventoried hosted zones")]
    for rec in primary:
        if not rec.attrs.get("health_check_id"):
            problems.append(f"PRIMARY record {rec.attrs.get('set_identifier') or rec.name} has no health check")
    sec_sites = [s.name for s in ev.workload.secondaries]
    wanted: set[str] = set()
    for s in sec_sites:
        wanted |= site_addresses(ev, s)
    for rec in secondary:
        targets = _record_targets(rec)
        if not targets & wanted:
            problems.append(
                f"SECONDARY record points at {', '.join(sorted(targets)) or 'nothing'}, "
                f"not at secondary {', '.join(sec_sites)}"
            )
    evidence: dict[str, Any] = {
        "primary": [r.native_id for r in primary],
        "secondary": [r.native_id for r in secondary],
        "secondary_targets": sorted({t for r in secondary for t in _record_targets(r)}),
    }
    if problems:
        return [me.finding(ev, FindingStatus.FAIL, join(problems), **evidence)]
    return [
        me.finding(
            ev,
            FindingStatus.PASS,
            f"PRIMARY (health-checked) and SECONDARY records for {dns.name} in place",
            **evidence,
        )
    ]


def detection_seconds(hc: Resource) -> float | None:
    # Route 53: request_interval_s; Traffic Manager: interval_s.
    interval = next((hc.attrs[k] for k in ("request_interval_s", "interval_s", "interval") if hc.attrs.get(k)), None)
    threshold = hc.attrs.get("failure_threshold")
    if interval is None or threshold is None:
        return None
    return float(interval) * float(threshold)


@check(
    "dns.health_check",
    title="Health check detects an outage inside the RTO",
    category="dns",
    severity="high",
    doc="""Reads the health check governing failover (the Route 53 health check on the PRIMARY failover
    record, or the Traffic Manager profile's endpoint monitor): detection time is its request
    interval x failure threshold. If detection alone exceeds the RTO, DNS fails over too late. Also
    reports a health check currently failing. Fix: use a 10 s interval and a threshold of 3 or less, and
    make sure the check probes the path that really tells the primary is serving.""",
)
def dns_health_check(ev: Evidence) -> list[Finding]:
    me = info("dns.health_check")
    dns = ev.workload.dns
    if not dns:
        return _no_dns(ev, me.id)
    governing, missing = governing_health_checks(ev)
    if not governing and not missing:
        return [me.finding(ev, FindingStatus.UNKNOWN, f"health checks for {dns.mechanism} are not verified yet")]
    rto = ev.workload.targets.rto
    findings = [me.finding(ev, status, reason, subject=subject) for status, reason, subject in missing]
    for hc in governing:
        detect = detection_seconds(hc)
        if detect is None:
            findings.append(me.finding(ev, FindingStatus.UNKNOWN, f"health check {hc.native_id}: interval unknown"))
            continue
        hc_status = str(hc.attrs.get("status") or hc.attrs.get("monitor_status") or "unknown").lower()
        reason = (
            f"health check {hc.name or hc.native_id} detects in {format_duration(detect)} (RTO {format_duration(rto)})"
        )
        if detect > rto:
            status = FindingStatus.FAIL
        elif hc_status in ("unhealthy", "degraded", "inactive", "stopped"):
            status, reason = FindingStatus.WARN, reason + f"; it reports {hc_status} now"
        else:
            status = FindingStatus.PASS
        findings.append(
            me.finding(ev, status, reason, subject=hc.native_id, detection_s=detect, health=hc_status, rto_s=rto)
        )
    return findings


def governing_health_checks(ev: Evidence) -> tuple[list[Resource], list[tuple[FindingStatus, str, str]]]:
    """The health checks that trigger this workload's DNS failover, and (status, reason, subject) for
    each place one is missing. Both empty for a mechanism whose health checks cannot be read yet."""
    dns = ev.workload.dns
    assert dns is not None
    found: list[Resource] = []
    missing: list[tuple[FindingStatus, str, str]] = []
    if dns.mechanism == "traffic-manager":
        profile, gaps = traffic_manager_profile(ev)
        if profile is None:
            status = FindingStatus.UNKNOWN if gaps else FindingStatus.FAIL
            missing.append((status, f"no Traffic Manager profile serves {dns.name}, so no automatic detection", ""))
        else:
            found.append(profile)
        return found, missing
    if dns.mechanism != "route53-failover":
        return found, missing
    primary, _, gaps = failover_records(ev)
    if not primary:
        status = FindingStatus.UNKNOWN if gaps else FindingStatus.FAIL
        missing.append((status, f"no PRIMARY failover record for {dns.name}, so no automatic detection", ""))
    for rec in primary:
        hc = health_check_for(ev, rec)
        if hc is not None:
            found.append(hc)
        elif rec.attrs.get("health_check_id"):
            missing.append(
                (FindingStatus.UNKNOWN, "PRIMARY record names a health check not in inventory", rec.native_id)
            )
        else:
            missing.append((FindingStatus.FAIL, "PRIMARY record has no health check", rec.native_id))
    return found, missing


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
    accounts = [s.account for s in ev.workload.sites if ev.config.account(s.account).provider == "azure"]
    profiles = [
        r
        for account in dict.fromkeys(accounts)
        for r in ev.index.of_kind(account, Kind.DNS_HEALTH_CHECK)
        if "routing_method" in r.attrs
    ]
    gaps = [g for s in ev.workload.sites if s.account in accounts for g in ev.gaps(s)]
    names = _chain_names(ev)
    by_chain = [p for p in profiles if p.attrs.get("fqdn") and normalize_name(str(p.attrs["fqdn"])) in names]
    if by_chain:
        return by_chain[0], gaps
    selected = {id(r): r for s in ev.workload.sites for r in ev.resources(s) if r in profiles}
    return (next(iter(selected.values())) if len(selected) == 1 else None), gaps


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
    if str(profile.attrs.get("profile_status") or "").lower() != "enabled":
        problems.append(f"profile {profile.name} is {profile.attrs.get('profile_status') or 'not enabled'}")
    method = str(profile.attrs.get("routing_method") or "")
    if method.lower() != "priority":
        problems.append(f"profile {profile.name} routes by {method or 'an unknown method'}, not Priority (failover)")
    enabled = sorted(
        (e for e in profile.attrs.get("endpoints") or [] if str(e.get("status") or "").lower() == "enabled"),
        key=lambda e: (e.get("priority") is None, e.get("priority") or 0),
    )
    wanted: set[str] = set()
    for s in ev.workload.secondaries:
        wanted |= site_addresses(ev, s.name) | {r.native_id.lower() for r in ev.resources(s)}
    standby = [
        e
        for e in enabled[1:]
        if normalize_name(str(e.get("target") or "")) in wanted
        or str(e.get("target_resource_id") or "").lower() in wanted
    ]
    # alwaysServe: Traffic Manager keeps answering with the endpoint whatever its probes say.
    if enabled and enabled[0].get("always_serve"):
        problems.append(
            f"primary endpoint {enabled[0].get('name')} has alwaysServe Enabled: Traffic Manager keeps serving it "
            "when its health checks fail, so the profile never fails over"
        )
    always_standby = [str(e.get("name")) for e in standby if e.get("always_serve")]
    if len(enabled) < 2:
        problems.append(f"profile {profile.name} has {len(enabled)} enabled endpoint(s): nothing to fail over to")
    elif not standby:
        targets = ", ".join(str(e.get("target") or e.get("target_resource_id")) for e in enabled[1:])
        problems.append(f"no lower-priority endpoint points at a secondary site (they point at {targets})")
    if profile.attrs.get("interval_s") is None or profile.attrs.get("failure_threshold") is None:
        problems.append(f"profile {profile.name} has no endpoint monitoring configured")
    evidence = {"profile": profile.native_id, "endpoints": profile.attrs.get("endpoints"), "routing_method": method}
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
