"""Is the primary's data somewhere the outage cannot reach, and fresh enough for the RPO."""

from __future__ import annotations

from datetime import datetime

from failover.checks.common import join, worst
from failover.checks.evidence import Evidence
from failover.checks.registry import check, info
from failover.equivalence import DB_KINDS, bucket_copies
from failover.model import Finding, FindingStatus, Kind, Resource
from failover.schema import format_duration

# Database states meaning "serving": RDS available, Cloud SQL RUNNABLE, Azure flexible servers Ready.
_HEALTHY_DB_STATES = ("available", "running", "runnable", "succeeded", "ready", "")


def _ids(r: Resource) -> set[str]:
    ids = {r.native_id, r.name}
    arn = r.attrs.get("arn")
    if arn:
        ids.add(str(arn))
    return {i for i in ids if i}


def _region_of(ref: str) -> str | None:
    """Region from an ARN (arn:aws:rds:REGION:...), else None."""
    parts = ref.split(":")
    return parts[3] if ref.startswith("arn:") and len(parts) > 4 else None


def replicas_of(primary: Resource, everything: list[Resource]) -> list[tuple[str, str, Resource | None]]:
    """(provider, region, resource-if-inventoried) of each replica of ``primary``."""
    found: dict[str, tuple[str, str, Resource | None]] = {}
    ids = _ids(primary)
    for r in everything:
        if r.kind in DB_KINDS and r is not primary:
            source = r.attrs.get("replica_source")
            if source and (str(source) in ids or str(source).rsplit(":", 1)[-1] in ids):
                found[r.native_id] = (r.provider, r.region, r)
    for ref in primary.attrs.get("replicas") or []:
        ref = str(ref)
        name = ref.rsplit(":", 1)[-1]
        if not any(name in _ids(f[2]) for f in found.values() if f[2] is not None):
            found[ref] = (primary.provider, _region_of(ref) or primary.region, None)
    return list(found.values())


def _age_seconds(value: object, now: datetime) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (now - when).total_seconds()
    return None


@check(
    "data.replica",
    title="Primary data is replicated outside the failure domain",
    category="data",
    severity="critical",
    doc="""For each database in the primary site: a replica (or a recent cross-region backup copy) exists
    outside the primary's provider or region, and its lag (or the backup's age) is within the RPO. A
    secondary with no data, or with data older than the RPO, turns a failover into data loss. Fix:
    create a cross-region or cross-cloud read replica (or continuous backup copy) and alert on lag.""",
)
def data_replica(ev: Evidence) -> list[Finding]:
    me = info("data.replica")
    primary_site = ev.workload.primary
    dbs = [
        r
        for r in ev.resources(primary_site)
        if r.kind in DB_KINDS and not r.attrs.get("replica_source") and not r.attrs.get("cluster")
    ]
    gaps = ev.gaps(primary_site)
    if not dbs:
        if gaps:
            return [me.finding(ev, FindingStatus.UNKNOWN, "inventory incomplete: " + join(gaps, 2))]
        return []  # nothing stateful in the primary: not applicable
    everything = ev.index.databases
    rpo = ev.workload.targets.rpo
    findings = []
    for db in dbs:
        outside = [
            (p, region, r)
            for p, region, r in replicas_of(db, everything)
            if p != db.provider or (region and region != db.region)
        ]
        statuses: list[FindingStatus] = []
        notes: list[str] = []
        for p, region, r in outside:
            where = f"{p}:{region}" + (f" {r.name}" if r else "")
            lag = _age_seconds(r.attrs.get("replica_lag_s"), ev.now) if r else None
            if lag is None and r is not None:
                restorable = r.attrs.get("latest_restorable_time")
                lag = _age_seconds(restorable, ev.now) if restorable else None
            replication = str(r.attrs.get("replication_state") or "") if r else ""
            if r is not None and str(r.state).lower() not in _HEALTHY_DB_STATES:
                statuses.append(FindingStatus.FAIL)
                notes.append(f"replica {where} is {r.state}")
            elif replication and replication.lower() != "active":
                # Azure flexible servers: Catchup, Provisioning, Updating, Reconfiguring or Broken is not replicating
                statuses.append(FindingStatus.FAIL)
                notes.append(f"replica {where} replication is {replication}, not Active")
            elif lag is None:
                statuses.append(FindingStatus.UNKNOWN)
                notes.append(f"replica {where} lag unknown")
            elif lag > rpo:
                statuses.append(FindingStatus.FAIL)
                notes.append(f"replica {where} is {format_duration(lag)} behind (RPO {format_duration(rpo)})")
            else:
                statuses.append(FindingStatus.PASS)
                notes.append(f"replica {where} {format_duration(lag)} behind")
        unread = db.attrs.get("replicas_unknown_reason")
        if not outside and unread:
            status, reason = FindingStatus.UNKNOWN, f"database {db.name}: replicas unknown ({unread})"
        elif not outside:
            status = FindingStatus.UNKNOWN if gaps else FindingStatus.FAIL
            reason = f"database {db.name} has no replica outside {db.provider}:{db.region}"
        else:
            # One good replica is enough; otherwise report the best we have.
            status = FindingStatus.PASS if FindingStatus.PASS in statuses else worst(statuses)
            reason = f"database {db.name}: " + join(notes)
        findings.append(me.finding(ev, status, reason, subject=db.name, replicas=notes))
    return findings


@check(
    "data.bucket_replication",
    title="Primary buckets are copied outside their region",
    category="data",
    severity="high",
    doc="""For each storage bucket in the primary site: S3 replication to a bucket in another region
    (or account), or an Azure storage account with a geo-redundant SKU (GRS, RA-GRS, GZRS). Objects
    that exist in one region only are lost or unreachable with it, whatever the compute secondary
    does. Fix: enable cross-region replication (S3 CRR, with versioning) or a geo-redundant SKU, and
    point the secondary at the copy.""",
)
def bucket_replication(ev: Evidence) -> list[Finding]:
    me = info("data.bucket_replication")
    site = ev.workload.primary
    buckets = [r for r in ev.resources(site) if r.kind == Kind.STORAGE_BUCKET]
    gaps = ev.gaps(site)
    if not buckets:
        return [me.finding(ev, FindingStatus.UNKNOWN, "inventory incomplete: " + join(gaps, 2))] if gaps else []
    findings = []
    for b in buckets:
        copies = bucket_copies(b)
        if copies is None:
            status, reason = FindingStatus.UNKNOWN, f"bucket {b.name}: replication unknown (could not be read)"
        elif not copies:
            status, reason = FindingStatus.FAIL, f"bucket {b.name} exists only in {b.provider}:{b.region or '?'}"
        else:
            status, reason = FindingStatus.PASS, f"bucket {b.name} is copied to {', '.join(copies)}"
        findings.append(me.finding(ev, status, reason, subject=b.name, copies=copies))
    return findings
