"""Is each secondary healthy right now: endpoints answer (directly and as the public name), TLS is
valid for the public name, and the provider's own health signals (LB targets, groups) agree."""

from __future__ import annotations

from urllib.parse import urlparse

from failover.attrs import attrs_of
from failover.checks.common import from_observation, join, worst
from failover.checks.evidence import Evidence
from failover.checks.registry import check, info
from failover.equivalence import group_desired
from failover.model import Finding, FindingStatus, Kind, ObsStatus

TLS_FAIL_DAYS = 14
TLS_WARN_DAYS = 30


@check(
    "secondary.health",
    title="Secondary answers health checks",
    category="secondary",
    severity="critical",
    doc="""Probes every endpoint of every secondary site, by its own URL and as the workload's public
    name (the site's address with the public hostname as SNI and Host, which is what users get after
    a DNS failover), and reads the provider's own health signals: load-balancer target health,
    managed-instance-group stability, Auto Scaling group InService count (and a MIG's running members).
    Backends the provider reports no health for (GCP serverless and internet NEGs) are left to the
    endpoint probes; backend health that could not be read is unknown. A secondary that does not
    answer now will not answer during an outage. Fix: bring the secondary's instances and load balancer
    up, or correct the endpoint URL and expected status in the config.""",
)
def secondary_health(ev: Evidence) -> list[Finding]:
    me = info("secondary.health")
    findings = []
    public = ev.workload.dns.name if ev.workload.dns else None
    for site in ev.workload.secondaries:
        statuses: list[FindingStatus] = []
        problems: list[str] = []
        checked: list[str] = []
        for ep in site.endpoints:
            labels = ["direct"] + (["as-public-name"] if public and ep.as_public_name else [])
            for label in labels:
                obs = ev.observation(probe="http", site=site.name, label=label, target=ep.url)
                status = from_observation(obs)
                statuses.append(status)
                where = f"{ep.url} ({label})"
                checked.append(where)
                if obs is None:
                    problems.append(f"{where}: not probed yet")
                elif obs.status in (ObsStatus.FAILED, ObsStatus.ERROR):
                    problems.append(f"{where}: {obs.reason}")
        resources = ev.resources(site)
        gaps = ev.gaps(site)
        for r in resources:
            if r.kind == Kind.LB_TARGET_GROUP and "healthy" in r.attrs:
                healthy, total = int(r.attrs.get("healthy") or 0), len(r.attrs.get("targets") or [])
                checked.append(f"target group {r.name}")
                if healthy == 0:
                    statuses.append(FindingStatus.FAIL)
                    problems.append(f"target group {r.name}: 0 of {total} targets healthy")
                elif healthy < total:
                    statuses.append(FindingStatus.WARN)
                    problems.append(f"target group {r.name}: {healthy} of {total} targets healthy")
            elif r.kind == Kind.LB_BACKEND and "healthy" in r.attrs:
                healthy = int(r.attrs.get("healthy") or 0)
                unhealthy = int(r.attrs.get("unhealthy") or 0)
                backend = attrs_of(r, Kind.LB_BACKEND)
                unread = backend["health_unknown_groups"] or []
                if not (healthy or unhealthy or unread) and backend["unmonitored_backends"]:
                    continue  # serverless/internet NEGs only: the API reports no health; the probes decide
                checked.append(f"backend service {r.name}")
                if unread and healthy == 0:
                    statuses.append(FindingStatus.UNKNOWN)
                    problems.append(f"backend service {r.name}: health of {len(unread)} backends could not be read")
                elif healthy == 0:
                    statuses.append(FindingStatus.FAIL)
                    problems.append(f"backend service {r.name}: no healthy backends")
                elif unhealthy:
                    statuses.append(FindingStatus.WARN)
                    problems.append(f"backend service {r.name}: {unhealthy} unhealthy backends")
            elif r.kind == Kind.COMPUTE_GROUP:
                checked.append(f"group {r.name}")
                if r.attrs.get("stable") is False:
                    statuses.append(FindingStatus.WARN)
                    problems.append(f"group {r.name} is not stable (instances changing)")
                in_service = r.attrs.get("in_service")
                desired = group_desired(r)
                if in_service is not None and desired is not None:
                    if int(desired) > 0 and int(in_service) == 0:
                        statuses.append(FindingStatus.FAIL)
                        problems.append(f"group {r.name}: 0 of {desired} instances in service")
                    elif int(in_service) < int(desired):
                        statuses.append(FindingStatus.WARN)
                        problems.append(f"group {r.name}: {in_service} of {desired} instances in service")
        if gaps:
            statuses.append(FindingStatus.UNKNOWN)
            problems.append("inventory incomplete: " + join(gaps, 2))
        if not checked:
            findings.append(
                me.finding(
                    ev,
                    FindingStatus.UNKNOWN,
                    f"secondary {site.name}: no endpoints configured and no load balancer or group in inventory",
                    subject=site.name,
                )
            )
            continue
        status = worst(statuses)
        reason = (
            f"secondary {site.name}: " + join(problems)
            if problems
            else f"secondary {site.name}: {len(checked)} health signals good"
        )
        findings.append(me.finding(ev, status, reason, subject=site.name, checked=checked, problems=problems))
    return findings


@check(
    "secondary.tls",
    title="Secondary's certificate is valid for the public name",
    category="secondary",
    severity="high",
    doc=f"""Connects to each HTTPS endpoint of every secondary with the workload's public name as SNI and
    checks that the certificate chain verifies, covers the public name, and that the earliest expiry in
    the chain is more than {TLS_FAIL_DAYS} days away (warning under {TLS_WARN_DAYS}). After a DNS failover
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
            if tls.get("covers_name") is False:
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
