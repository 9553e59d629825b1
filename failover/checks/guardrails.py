"""Could one mistake (a person, a script, an AI agent with broad permissions) delete both sites?"""

from __future__ import annotations

from datetime import datetime

from failover.attrs import attrs_of
from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.registry import Category, Severity, check, info
from failover.model import Finding, FindingStatus, Kind, Resource
from failover.schema import Account, format_duration

# Tables and caches are data stores too, but their protection is not read yet (a cache has none to read).
_PROTECTABLE = {Kind.COMPUTE_INSTANCE, Kind.DB_INSTANCE, Kind.DB_CLUSTER}


@check(
    "guardrails.deletion_protection",
    title="Primary and secondary resources are protected from deletion",
    category=Category.GUARDRAILS,
    severity=Severity.HIGH,
    doc="""Checks termination/deletion protection on compute instances, scaling groups and databases of
    every site: EC2 DisableApiTermination, Auto Scaling group DeletionProtection (prevent-force-deletion
    or prevent-all-deletion), RDS DeletionProtection, GCE deletionProtection, Azure CanNotDelete/ReadOnly
    locks. A protection reading carried over from an earlier inventory (EC2 termination protection is
    read again every few hours, not every cycle) that is older than `scoring.stale_after` counts as
    unknown. Self-inflicted outages are common: an automated agent deciding to "delete and recreate" an
    environment took one service down for 13 hours. Protection turns that into a refused API call.
    Fix: enable protection on stateful and long-lived resources (and locks on Azure resource groups).""",
)
def deletion_protection(ev: Evidence) -> list[Finding]:
    me = info("guardrails.deletion_protection")
    findings = []
    for site in ev.workload.sites:
        # Groups count where the provider can protect them (ASG DeletionProtection, Azure locks on a
        # scale set); a MIG has no such setting and is left out rather than reported unprotected.
        resources = [
            r
            for r in ev.resources(site)
            if r.kind in _PROTECTABLE or (r.kind == Kind.COMPUTE_GROUP and "deletion_protection" in attrs_of(r))
        ]
        gaps = ev.gaps(site)
        stale = {r.native_id: age for r in resources if (age := _stale_for(ev, r)) is not None}
        protection = [(r, None if r.native_id in stale else attrs_of(r)["deletion_protection"]) for r in resources]
        unprotected = [r.name or r.native_id for r, protected in protection if protected is False]
        unknown = [
            (r.name or r.native_id) + (f" (read {stale[r.native_id]} ago)" if r.native_id in stale else "")
            for r, protected in protection
            if protected is None
        ]
        protected = len(resources) - len(unprotected) - len(unknown)
        # Protected, with the gap the provider documents: an ASG on prevent-force-deletion refuses to be
        # deleted with its instances, but can be deleted once scaled to zero (two deliberate steps).
        caveats = [
            f"{r.name or r.native_id}: prevent-force-deletion (deletable once scaled to zero)"
            for r, protected in protection
            if r.kind == Kind.COMPUTE_GROUP
            and protected
            and attrs_of(r, Kind.COMPUTE_GROUP)["deletion_protection_level"] == "prevent-force-deletion"
        ]
        evidence = {"protected": protected, "unprotected": unprotected, "unknown": unknown, "caveats": caveats}
        if unprotected:
            status = FindingStatus.FAIL
            reason = f"{site.role} {site.name}: {len(unprotected)} unprotected: " + join(unprotected)
        elif unknown or gaps:
            status = FindingStatus.UNKNOWN
            reason = f"{site.role} {site.name}: protection unknown for " + join(unknown or gaps, 2)
        elif not resources:
            status = FindingStatus.UNKNOWN
            reason = f"{site.role} {site.name}: no instances, groups or databases in the inventory"
        else:
            status = FindingStatus.PASS
            reason = f"{site.role} {site.name}: all {protected} instances, groups and databases protected"
            if caveats:
                reason += " (" + join(caveats, 2) + ")"
        findings.append(me.finding(ev, status, reason, subject=site.name, **evidence))
    return findings


def _stale_for(ev: Evidence, r: Resource) -> str | None:
    """How old a protection reading carried over from an earlier inventory is, once past
    ``scoring.stale_after`` (then it is no evidence); None while it is fresh or has no read time."""
    read_at = attrs_of(r).get("deletion_protection_read_at")
    if not read_at:
        return None
    try:
        age = (ev.now - datetime.fromisoformat(read_at)).total_seconds()
    except (TypeError, ValueError):
        return None
    return format_duration(age) if age > ev.config.scoring.stale_after else None


def _identity(account: Account) -> tuple[str, ...]:
    """What one credential scope can delete: AWS account (profile/role), GCP projects, Azure subscriptions."""
    if account.provider == "aws":
        return ("aws", account.role_arn.split(":")[4] if account.role_arn else f"config:{account.name}")
    return (account.provider, *sorted(account.scopes))


@check(
    "guardrails.blast_radius",
    title="Primary and secondary do not share one credential scope",
    category=Category.GUARDRAILS,
    severity=Severity.CRITICAL,
    doc="""Checks that the primary and each secondary live in different accounts, projects or
    subscriptions (or different providers). When both sites share one, a single credential, policy
    mistake or compromised key can delete or break both at once. Fix: put the secondary in its own
    account/project/subscription with separate deploy credentials.""",
)
def blast_radius(ev: Evidence) -> list[Finding]:
    me = info("guardrails.blast_radius")
    primary = ev.account(ev.workload.primary)
    findings = []
    for site in ev.workload.secondaries:
        acct = ev.account(site)
        if acct.provider != primary.provider:
            status = FindingStatus.PASS
            reason = f"{site.name} is on {acct.provider}, primary on {primary.provider}"
        elif acct.name == primary.name or set(_identity(acct)) & set(_identity(primary)) - {acct.provider}:
            status = FindingStatus.FAIL
            reason = f"{site.name} shares {acct.provider} scope with the primary ({', '.join(_identity(acct)[1:])})"
        else:
            status = FindingStatus.PASS
            reason = f"{site.name} is in a separate {acct.provider} scope ({acct.name})"
        findings.append(me.finding(ev, status, reason, subject=site.name, primary=primary.name, secondary=acct.name))
    return findings
