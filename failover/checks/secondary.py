"""Is each secondary healthy right now: endpoints answer (directly and as the public name), TLS is
valid for the public name, and the provider's own health signals (LB targets, groups) agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from failover.attrs import attrs_of
from failover.checks.common import from_observation, join, worst
from failover.checks.dns import failover_records
from failover.checks.evidence import Evidence
from failover.checks.governance import alias_load_balancers
from failover.checks.mechanisms import routing_path
from failover.checks.registry import (
    CAP_AT_RISK,
    CAP_NO_SECONDARY,
    Category,
    Gate,
    RiskInput,
    Severity,
    Trip,
    check,
    info,
)
from failover.equivalence import group_desired, group_running_units, group_unit
from failover.model import Finding, FindingStatus, Kind, ObsStatus, Resource
from failover.schema import Site

TLS_FAIL_DAYS = 14
TLS_WARN_DAYS = 30


@check(
    "secondary.health",
    title="Secondary answers health checks",
    category=Category.SECONDARY,
    severity=Severity.CRITICAL,
    gates=(
        Gate(cap=CAP_NO_SECONDARY, text="no secondary is verified healthy", when=Trip.NONE_OK),
        Gate(
            cap=CAP_AT_RISK,
            text="every healthy secondary is on {primary_provider}, the primary's provider",
            when=Trip.OK_ONLY_ON_PRIMARY_PROVIDER,
        ),
    ),
    risk=RiskInput.SECONDARY_UP,
    doc="""Probes every endpoint of every secondary site, by its own URL and as the workload's public
    name (the site's address with the public hostname as SNI and Host, which is what users get after
    a DNS failover), and reads the provider's own health signals: load-balancer target health,
    managed-instance-group stability, Auto Scaling group InService count (and a MIG's running members).
    Backends the provider reports no health for (GCP serverless and internet NEGs) are left to the
    endpoint probes; backend health that could not be read is unknown. A target group with no
    registered targets or none healthy fails when a SECONDARY alias record evaluates its load balancer's
    target health (Route 53 then treats the secondary as unhealthy); reached any other way, an empty
    target group of a site whose probes pass is idle (blue/green, pilot light) and only warns. A
    secondary that does not
    answer now will not answer during an outage. Fix: bring the secondary's instances and load balancer
    up, or correct the endpoint URL and expected status in the config.""",
)
def secondary_health(ev: Evidence) -> list[Finding]:
    public = ev.workload.dns.name if ev.workload.dns else None
    alias_lbs = {lb.native_id: lb for lb in alias_load_balancers(ev, _secondary_records(ev))}
    return [_site_health(ev, site, public, alias_lbs) for site in ev.workload.secondaries]


@dataclass
class _Signals:
    """What one secondary site's health rests on, in the order it was read: each signal's status, the
    problems among them, and what was looked at."""

    statuses: list[FindingStatus] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def add(self, status: FindingStatus, problem: str | None = None) -> None:
        self.statuses.append(status)
        if problem:
            self.problems.append(problem)


def _site_health(ev: Evidence, site: Site, public: str | None, alias_lbs: dict[str, Resource]) -> Finding:
    """One secondary site: its endpoint probes, then the provider's health signals, then inventory gaps."""
    me = info("secondary.health")
    signals = _Signals()
    _probe_signals(ev, site, public, signals)
    probes_pass = bool(signals.statuses) and all(
        s in (FindingStatus.PASS, FindingStatus.WARN) for s in signals.statuses
    )
    _provider_signals(ev, site, probes_pass, alias_lbs, signals)
    gaps = ev.gaps(site)
    if gaps:
        signals.add(FindingStatus.UNKNOWN, "inventory incomplete: " + join(gaps, 2))
    if not signals.checked:
        return me.finding(
            ev,
            FindingStatus.UNKNOWN,
            f"secondary {site.name}: no endpoints configured and no load balancer or group in inventory",
            subject=site.name,
        )
    problems = signals.problems
    reason = (
        f"secondary {site.name}: " + join(problems)
        if problems
        else f"secondary {site.name}: {len(signals.checked)} health signals good"
    )
    return me.finding(
        ev, worst(signals.statuses), reason, subject=site.name, checked=signals.checked, problems=problems
    )


def _probe_signals(ev: Evidence, site: Site, public: str | None, signals: _Signals) -> None:
    """Each endpoint's HTTP probe, directly and (when asked) as the public name."""
    for ep in site.endpoints:
        labels = ["direct"] + (["as-public-name"] if public and ep.as_public_name else [])
        for label in labels:
            obs = ev.observation(probe="http", site=site.name, label=label, target=ep.url)
            where = f"{ep.url} ({label})"
            signals.checked.append(where)
            if obs is None:
                problem: str | None = f"{where}: not probed yet"
            elif obs.status in (ObsStatus.FAILED, ObsStatus.ERROR):
                problem = f"{where}: {obs.reason}"
            else:
                problem = None
            signals.add(from_observation(obs), problem)


def _provider_signals(
    ev: Evidence, site: Site, probes_pass: bool, alias_lbs: dict[str, Resource], signals: _Signals
) -> None:
    """The provider's own health signals for the site's resources and the target groups Route 53 judges."""
    resources = ev.resources(site)
    evaluated = _alias_evaluated_groups(ev, resources, alias_lbs)
    for r in [*resources, *(g for g in evaluated.values() if g not in resources)]:
        if r.kind == Kind.LB_TARGET_GROUP and "healthy" in attrs_of(r, Kind.LB_TARGET_GROUP):
            status, problem = _target_group(r, evaluated.get(r.native_id) is not None, probes_pass, alias_lbs)
            signals.checked.append(f"target group {r.name}")
            signals.add(status, problem)
        elif r.kind == Kind.LB_BACKEND and "healthy" in attrs_of(r, Kind.LB_BACKEND):
            _backend_signal(r, signals)
        elif r.kind == Kind.COMPUTE_GROUP:
            _group_signal(r, signals)


def _backend_signal(r: Resource, signals: _Signals) -> None:
    """A GCP backend service's backend health; none reported at all leaves the site to its probes."""
    backend = attrs_of(r, Kind.LB_BACKEND)
    healthy = int(backend["healthy"] or 0)
    unhealthy = int(backend["unhealthy"] or 0)
    unread = backend["health_unknown_groups"] or []
    if not (healthy or unhealthy or unread) and backend["unmonitored_backends"]:
        return  # serverless/internet NEGs only: the API reports no health; the probes decide
    signals.checked.append(f"backend service {r.name}")
    if unread and healthy == 0:
        signals.add(
            FindingStatus.UNKNOWN, f"backend service {r.name}: health of {len(unread)} backends could not be read"
        )
    elif healthy == 0:
        signals.add(FindingStatus.FAIL, f"backend service {r.name}: no healthy backends")
    elif unhealthy:
        signals.add(FindingStatus.WARN, f"backend service {r.name}: {unhealthy} unhealthy backends")


def _group_signal(r: Resource, signals: _Signals) -> None:
    """A group's stability and how much of its desired size is in service."""
    signals.checked.append(f"group {r.name}")
    if attrs_of(r, Kind.COMPUTE_GROUP)["stable"] is False:
        signals.add(FindingStatus.WARN, f"group {r.name} is not stable (instances changing)")
    # Weighted groups want units, not instances: compare what runs in the group's own unit.
    unit = group_unit(r)
    in_service: float | None = attrs_of(r, Kind.COMPUTE_GROUP)["in_service"]
    if in_service is not None and unit != "instances":
        in_service = group_running_units(r)
    desired = group_desired(r)
    if in_service is not None and desired is not None:
        if int(desired) > 0 and in_service == 0:
            signals.add(FindingStatus.FAIL, f"group {r.name}: 0 of {desired} {unit} in service")
        elif in_service < int(desired):
            signals.add(FindingStatus.WARN, f"group {r.name}: {in_service:g} of {desired} {unit} in service")


def _secondary_records(ev: Evidence) -> list[Resource]:
    dns = ev.workload.dns
    if dns is None or not dns.mechanism.startswith("route53-"):
        return []
    if dns.mechanism == "route53-failover":
        return failover_records(ev).secondary
    path = routing_path(ev)  # other Route 53 policies: the records that reach the secondary
    reaching = {a.subject for a in path.to_secondary} if path else set()
    return [r for r in failover_records(ev).records if r.native_id in reaching]


def _alias_evaluated_groups(
    ev: Evidence, resources: list[Resource], alias_lbs: dict[str, Resource]
) -> dict[str, Resource]:
    """Target groups of this site's load balancers that Route 53 judges (a SECONDARY alias evaluates
    their target health), by ARN: the site's own and those the load balancer names."""
    found: dict[str, Resource] = {}
    for r in resources:
        if r.kind != Kind.LB_TARGET_GROUP:
            continue
        if set(attrs_of(r, Kind.LB_TARGET_GROUP)["load_balancers"] or []) & set(alias_lbs):
            found[r.native_id] = r
    for lb in alias_lbs.values():
        if lb not in resources:
            continue
        for arn in attrs_of(lb, Kind.LB)["target_groups"] or []:
            for g in ev.index.by_ref(lb.account, arn):
                if g.kind == Kind.LB_TARGET_GROUP:
                    found.setdefault(g.native_id, g)
    return found


def _target_group(
    r: Resource, evaluated: bool, probes_pass: bool, alias_lbs: dict[str, Resource]
) -> tuple[FindingStatus, str]:
    """A target group judged the way failover reads it. Route 53 counts an ALB/NLB unhealthy when a
    target group has no registered targets or only unhealthy ones: behind a SECONDARY alias that
    evaluates target health that is a real failure. Reached any other way, an empty group whose site
    answers its probes is idle (blue/green, pilot light): a warning, not a gate."""
    a = attrs_of(r, Kind.LB_TARGET_GROUP)
    known_healthy = a["healthy"]
    if known_healthy is None:
        return FindingStatus.UNKNOWN, f"target group {r.name}: target health unknown"
    healthy, total = int(known_healthy), len(a["targets"] or [])
    state = "no registered targets" if total == 0 else f"0 of {total} targets healthy"
    if healthy == 0 and evaluated:
        lbs = [alias_lbs[arn].name for arn in a["load_balancers"] or [] if arn in alias_lbs]
        return FindingStatus.FAIL, (
            f"target group {r.name}: {state}, so Route 53 (SECONDARY alias evaluating target health) treats "
            f"load balancer {', '.join(lbs) or '?'} as unhealthy and the SECONDARY record does not answer"
        )
    if healthy == 0 and total == 0 and probes_pass:
        return FindingStatus.WARN, f"target group {r.name}: no registered targets (idle; the site's probes pass)"
    if healthy == 0:
        return FindingStatus.FAIL, f"target group {r.name}: {state}"
    if healthy < total:
        return FindingStatus.WARN, f"target group {r.name}: {healthy} of {total} targets healthy"
    return FindingStatus.PASS, ""


@check(
    "secondary.tls",
    title="Secondary's certificate is valid for the public name",
    category=Category.SECONDARY,
    severity=Severity.HIGH,
    doc=f"""Connects to each HTTPS endpoint of every secondary with the workload's public name as SNI and
    checks that the certificate chain verifies, covers the public name, and that the earliest expiry in
    the chain is more than {TLS_FAIL_DAYS} days away (warning under {TLS_WARN_DAYS}). Names are matched
    against the subjectAltName only, as browsers and Go clients do: a certificate with the name only in
    its CN and no subjectAltName fails. After a DNS failover
    browsers and clients reach the secondary under the public name: a certificate issued only for the
    secondary's own hostname breaks every client at the worst moment. Fix: install a certificate whose
    SANs include the public name on the secondary's load balancer, and automate its renewal.""",
)
def secondary_tls(ev: Evidence) -> list[Finding]:
    me = info("secondary.tls")
    findings = []
    public = ev.workload.dns.name if ev.workload.dns else None
    for site in ev.workload.secondaries:
        for ep in site.endpoints:
            if urlparse(ep.url).scheme != "https":
                continue
            name = public or (urlparse(ep.url).hostname or "")
            label = "as-public-name" if public and ep.as_public_name else "direct"
            obs = ev.observation(probe="http", site=site.name, label=label, target=ep.url)
            tls = (obs.data.get("tls") if obs else None) or None
            subject = f"{site.name} {ep.url}"
            if not tls or (tls.get("days_left") is None and tls.get("covers_name") is None):
                why = "not probed yet" if obs is None else (obs.reason or "no TLS handshake data")
                findings.append(me.finding(ev, FindingStatus.UNKNOWN, f"{subject}: TLS unknown ({why})", subject))
                continue
            days = tls.get("days_left")
            which = tls.get("earliest_expiry_subject") or "leaf"
            if tls.get("covers_name") is False and not tls.get("names") and tls.get("subject"):
                status = FindingStatus.FAIL
                reason = f"certificate has no subjectAltName (only CN={tls['subject']}): clients refuse it for {name}"
            elif tls.get("covers_name") is False:
                names = ", ".join(tls.get("names") or []) or "none"
                status, reason = FindingStatus.FAIL, f"certificate does not cover {name} (names: {names})"
            elif days is not None and days < 0:
                status, reason = FindingStatus.FAIL, f"certificate {which} expired {-int(days)} days ago"
            elif tls.get("verified") is False:
                status, reason = FindingStatus.FAIL, f"certificate chain does not verify: {tls.get('error') or '?'}"
            elif days is None:
                status, reason = FindingStatus.UNKNOWN, "certificate expiry unknown"
            elif days < TLS_FAIL_DAYS:
                status, reason = FindingStatus.FAIL, f"certificate {which} expires in {int(days)} days"
            elif days < TLS_WARN_DAYS:
                status, reason = FindingStatus.WARN, f"certificate {which} expires in {int(days)} days"
            else:
                status, reason = FindingStatus.PASS, f"certificate valid for {name}, {int(days)} days left"
            findings.append(me.finding(ev, status, f"{subject}: {reason}", subject, tls=tls))
    return findings
