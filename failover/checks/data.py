"""Is the primary's data somewhere the outage cannot reach, and fresh enough for the RPO."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from failover.attrs import attrs_of
from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.registry import check, info
from failover.equivalence import DB_KINDS, BucketCopy, bucket_copies
from failover.model import Finding, FindingStatus, Kind, Resource
from failover.schema import format_duration

# Database states meaning "serving": RDS available, Cloud SQL RUNNABLE, Azure flexible servers Ready.


def _ids(r: Resource) -> set[str]:
    ids = {r.native_id, r.name}
    arn = attrs_of(r, Kind.DB_INSTANCE)["arn"]
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
            source = attrs_of(r, Kind.DB_INSTANCE)["replica_source"]
            if source and (str(source) in ids or str(source).rsplit(":", 1)[-1] in ids):
                found[r.native_id] = (r.provider, r.region, r)
    for ref in attrs_of(primary, Kind.DB_INSTANCE)["replicas"] or []:
        ref = str(ref)
        name = ref.rsplit(":", 1)[-1]
        if not any(name in _ids(f[2]) for f in found.values() if f[2] is not None):
            found[ref] = (primary.provider, _region_of(ref) or primary.region, None)
    return list(found.values())


def _age_seconds(value: object, now: datetime) -> float | None:
    """Seconds since an ISO timestamp (a restore window's newest point), else None."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (now - when).total_seconds()


# A replica whose replication is in one of these states is not copying (RDS StatusInfos "read
# replication" statuses; "replication stop point reached" is a delayed replica that has stopped).
_NOT_REPLICATING = {"error", "stopped", "terminated", "replication stop point reached"}
_SERVING = ("available", "running", "runnable", "succeeded", "ready", "")
# Azure documents geo-restore from geo-redundant backups of PostgreSQL and MySQL flexible servers at
# "RPO < 1 h"; the API reports no age, so this bound is the copy's lag, labelled an estimate.
GEO_BACKUP_RPO_S = 3600.0
GEO_BACKUP_SOURCE = (
    "Azure documents RPO < 1 h for geo-restore from geo-redundant backups "
    "(learn.microsoft.com/azure/postgresql/flexible-server/concepts-business-continuity, "
    "learn.microsoft.com/azure/mysql/flexible-server/concepts-business-continuity)"
)
# One good copy is enough: the best copy decides, and an unknown copy might be that good one.
_BEST_FIRST = (FindingStatus.PASS, FindingStatus.WARN, FindingStatus.UNKNOWN, FindingStatus.FAIL)


@dataclass(frozen=True, slots=True)
class DataCopy:
    """One copy of a database outside its failure domain, judged against the RPO."""

    status: FindingStatus
    note: str
    estimate: dict[str, object] | None = None  # lag taken from documentation, not measured


def _replica_copy(where: str, r: Resource | None, rpo: float) -> DataCopy:
    if r is None:
        return DataCopy(FindingStatus.UNKNOWN, f"replica {where} is not in the inventory (lag unknown)")
    if str(r.state).lower() not in _SERVING:
        return DataCopy(FindingStatus.FAIL, f"replica {where} is {r.state}")
    status = attrs_of(r, Kind.DB_INSTANCE)["replication_status"]
    if attrs_of(r, Kind.DB_INSTANCE)["replication_healthy"] is False or str(status or "").lower() in _NOT_REPLICATING:
        message = attrs_of(r, Kind.DB_INSTANCE)["replication_message"]
        detail = f"replication {status or 'in an error state'}" + (f": {message}" if message else "")
        return DataCopy(FindingStatus.FAIL, f"replica {where} {detail}")
    replication = str(attrs_of(r, Kind.DB_INSTANCE)["replication_state"] or "")
    if replication and replication.lower() != "active":
        # Azure flexible servers: Catchup, Provisioning, Updating, Reconfiguring or Broken is not replicating
        return DataCopy(FindingStatus.FAIL, f"replica {where} replication is {replication}, not Active")
    metric = attrs_of(r, Kind.DB_INSTANCE)["replica_lag_metric"]
    lag = attrs_of(r, Kind.DB_INSTANCE)["replica_lag_s"]
    if not isinstance(lag, int | float):
        why = f"no recent {metric} datapoint" if metric else "not reported"
        return DataCopy(FindingStatus.UNKNOWN, f"replica {where} lag unknown ({why})")
    if lag < 0:  # RDS reports ReplicaLag = -1 when replication is not running
        return DataCopy(
            FindingStatus.FAIL, f"replica {where}: replication is not running ({metric or 'lag'} = {lag:g})"
        )
    if lag > rpo:
        return DataCopy(
            FindingStatus.FAIL, f"replica {where} is {format_duration(lag)} behind (RPO {format_duration(rpo)})"
        )
    return DataCopy(FindingStatus.PASS, f"replica {where} {format_duration(lag)} behind")


def _backup_copy(db: Resource, copy: dict[str, object], rpo: float, now: datetime) -> DataCopy:
    """Automated backups replicated to another region: their newest restorable time is the copy's age."""
    where = f"{db.provider}:{copy.get('region') or '?'}"
    status = copy.get("status")
    if status is None:
        return DataCopy(
            FindingStatus.UNKNOWN,
            f"backup copy in {where}: status unknown (that region's backups not read or not listing it)",
        )
    if status == "retained":
        return DataCopy(FindingStatus.FAIL, f"backup copy in {where}: replication stopped (only retained backups)")
    age = _age_seconds(copy.get("latest_restorable_time"), now)
    if age is None:
        return DataCopy(FindingStatus.FAIL, f"backup copy in {where} is {status}: nothing restorable yet")
    if age > rpo:
        return DataCopy(
            FindingStatus.FAIL,
            f"backup copy in {where} restorable to {format_duration(age)} ago (RPO {format_duration(rpo)})",
        )
    return DataCopy(FindingStatus.PASS, f"backup copy in {where} restorable to {format_duration(age)} ago")


def _geo_backup_copy(db: Resource, rpo: float) -> DataCopy | None:
    """An Azure flexible server's geo-redundant backup, in the region paired with the server's."""
    if db.provider != "azure" or "geo_redundant_backup" not in attrs_of(db, Kind.DB_INSTANCE):
        return None
    geo = attrs_of(db, Kind.DB_INSTANCE)["geo_redundant_backup"]
    where = f"azure:paired region of {db.region}"
    if geo is None:
        return DataCopy(FindingStatus.UNKNOWN, f"geo-redundant backup to {where}: setting unknown")
    if not geo:
        return None
    estimate = {"copy": f"geo-redundant backup ({where})", "lag_s": GEO_BACKUP_RPO_S, "source": GEO_BACKUP_SOURCE}
    bound = format_duration(GEO_BACKUP_RPO_S)
    if rpo < GEO_BACKUP_RPO_S:
        note = f"geo-redundant backup to {where} up to {bound} behind (estimate; RPO {format_duration(rpo)})"
        return DataCopy(FindingStatus.FAIL, note, estimate)
    return DataCopy(FindingStatus.PASS, f"geo-redundant backup to {where} up to {bound} behind (estimate)", estimate)


def data_copies(db: Resource, everything: list[Resource], rpo: float, now: datetime) -> list[DataCopy]:
    """Every copy of ``db`` outside its provider or region: replicas (RDS read replicas, Aurora global
    secondaries, Azure replicas, …), backups replicated to another region, geo-redundant backups."""
    copies = [
        _replica_copy(f"{p}:{region}" + (f" {r.name}" if r else ""), r, rpo)
        for p, region, r in replicas_of(db, everything)
        if p != db.provider or (region and region != db.region)
    ]
    for copy in attrs_of(db, Kind.DB_INSTANCE)["backup_copies"] or []:
        if isinstance(copy, dict) and copy.get("region") != db.region:
            copies.append(_backup_copy(db, copy, rpo, now))
    geo = _geo_backup_copy(db, rpo)
    if geo is not None:
        copies.append(geo)
    return copies


def _is_primary_db(r: Resource) -> bool:
    """Neither a replica nor a cluster member (the cluster itself is judged)."""
    a = attrs_of(r, Kind.DB_INSTANCE)
    return not (a["replica_source"] or a["cluster"])


@check(
    "data.replica",
    title="Primary data is replicated outside the failure domain",
    category="data",
    severity="critical",
    doc="""For each database in the primary site: a copy exists outside the primary's provider or region
    and is fresh enough for the RPO. Copies are read replicas (lag from the provider's metric: RDS
    ReplicaLag, where -1 means replication is not running; Aurora global databases' AuroraGlobalDBRPOLag
    or AuroraGlobalDBReplicationLag), automated backups replicated to another region (age of the newest
    restorable time), and Azure flexible servers' geo-redundant backups (Azure's documented bound,
    labelled an estimate). A replica whose replication stopped or errored, or whose lag is not reported,
    is not a copy you can count on. A secondary with no data, or with data older than the RPO, turns a
    failover into data loss. Fix: create a cross-region or cross-cloud read replica (or continuous backup
    copy) and alert on its lag and replication status.""",
)
def data_replica(ev: Evidence) -> list[Finding]:
    me = info("data.replica")
    primary_site = ev.workload.primary
    dbs = [r for r in ev.resources(primary_site) if r.kind in DB_KINDS and _is_primary_db(r)]
    gaps = ev.gaps(primary_site)
    if not dbs:
        if gaps:
            return [me.finding(ev, FindingStatus.UNKNOWN, "inventory incomplete: " + join(gaps, 2))]
        return []  # nothing stateful in the primary: not applicable
    everything = ev.index.databases
    rpo = ev.workload.targets.rpo
    findings = []
    for db in dbs:
        copies = data_copies(db, everything, rpo, ev.now)
        notes = [c.note for c in copies]
        estimates = [c.estimate for c in copies if c.estimate]
        unread = attrs_of(db, Kind.DB_INSTANCE)["replicas_unknown_reason"]
        if not copies and unread:
            status, reason = FindingStatus.UNKNOWN, f"database {db.name}: replicas unknown ({unread})"
        elif not copies:
            status = FindingStatus.UNKNOWN if gaps else FindingStatus.FAIL
            reason = f"database {db.name} has no replica outside {db.provider}:{db.region}"
        else:
            status = min((c.status for c in copies), key=_BEST_FIRST.index)
            reason = f"database {db.name}: " + join(notes)
        findings.append(me.finding(ev, status, reason, subject=db.name, replicas=notes, estimates=estimates))
    return findings


@check(
    "data.bucket_replication",
    title="Primary buckets are copied outside their region",
    category="data",
    severity="high",
    doc="""For each storage bucket in the primary site: S3 replication to a bucket in another region
    (or account), or an Azure storage account with a geo-redundant SKU (GRS, RA-GRS, GZRS). A rule with
    a filter (prefix or tags) copies only the objects it selects: that warns, naming what is copied and
    that the rest stays in one region. A destination bucket whose region the inventory cannot tell (not
    inventoried, e.g. another account) is unknown. Objects that exist in one region only are lost or
    unreachable with it, whatever the compute secondary does. Fix: enable cross-region replication (S3
    CRR, with versioning) of the whole bucket or a geo-redundant SKU, and point the secondary at the
    copy.""",
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
        if "copies" in attrs_of(b, Kind.STORAGE_BUCKET):  # the provider reports the copies itself (GCS)
            findings.append(_reported_bucket_copies(ev, b))
            continue
        copies = bucket_copies(b)
        status, reason = _bucket_verdict(b, copies)
        listed = [{"where": c.where, "region": c.region, "objects": c.scope or "all"} for c in copies or []]
        findings.append(me.finding(ev, status, reason, subject=b.name, copies=listed))
    return findings


def _reported_bucket_copies(ev: Evidence, b: Resource) -> Finding:
    """A bucket whose copies the provider reports (GCS dual-/multi-region placement): each copy outside
    the bucket's region is judged as a replica is (unhealthy fails, unknown lag is unknown, lag past the
    RPO fails); a documented bound stands in for a measured lag, labelled in ``estimates``."""
    me = info("data.bucket_replication")
    rpo = ev.workload.targets.rpo
    home = f"{b.provider}:{b.region}" if b.region else ""
    judged: list[DataCopy] = []
    for c in attrs_of(b, Kind.STORAGE_BUCKET)["copies"] or []:
        where = str(c.get("where") or "?")
        if where == home:
            continue
        label = f"{c.get('mechanism') or 'copy'} copy in {where}"
        lag = c.get("lag_s")
        estimate = (
            {"copy": f"bucket {b.name} {label}", "lag_s": lag, "source": c.get("lag_source")}
            if c.get("estimate") and isinstance(lag, int | float)
            else None
        )
        bound = " (estimate)" if estimate else ""
        if c.get("healthy") is False:
            judged.append(DataCopy(FindingStatus.FAIL, f"{label} is {c.get('state') or 'not healthy'}"))
        elif not isinstance(lag, int | float):
            judged.append(
                DataCopy(FindingStatus.UNKNOWN, f"{label}: lag unknown ({c.get('lag_source') or 'not reported'})")
            )
        elif lag > rpo:
            note = f"{label} up to {format_duration(lag)} behind{bound} (RPO {format_duration(rpo)})"
            judged.append(DataCopy(FindingStatus.FAIL, note, estimate))
        else:
            judged.append(DataCopy(FindingStatus.PASS, f"{label} up to {format_duration(lag)} behind{bound}", estimate))
    notes = [c.note for c in judged]
    estimates = [c.estimate for c in judged if c.estimate]
    if not judged:
        status, reason = FindingStatus.FAIL, f"bucket {b.name} exists only in {home or b.provider}"
    else:
        status = min((c.status for c in judged), key=_BEST_FIRST.index)
        reason = f"bucket {b.name}: " + join(notes)
    return me.finding(ev, status, reason, subject=b.name, copies=notes, estimates=estimates)


def _bucket_verdict(b: Resource, copies: list[BucketCopy] | None) -> tuple[FindingStatus, str]:
    """A full copy in a known other region passes; a copy of only some objects warns with what is left
    out; a copy whose region the inventory cannot tell is unknown; no copy fails."""
    home = f"{b.provider}:{b.region or '?'}"
    if copies is None:
        return FindingStatus.UNKNOWN, f"bucket {b.name}: replication unknown (could not be read)"
    full = [c for c in copies if c.region and c.scope is None]
    partial = [c for c in copies if c.region and c.scope is not None]
    unknown = [c for c in copies if not c.region]
    if full:
        return FindingStatus.PASS, f"bucket {b.name} is copied to {', '.join(sorted({c.where for c in full}))}"
    unknown_text = [f"{c.where} (region unknown: not in the inventory)" for c in unknown]
    if partial:
        only = "; ".join(f"{c.scope} to {c.where}" for c in partial)
        reason = f"bucket {b.name}: only objects with {only} are copied; the rest exist only in {home}"
        if unknown:
            return FindingStatus.UNKNOWN, reason + "; also replicated to " + join(unknown_text)
        return FindingStatus.WARN, reason
    if unknown:
        return FindingStatus.UNKNOWN, f"bucket {b.name} is replicated to " + join(unknown_text)
    return FindingStatus.FAIL, f"bucket {b.name} exists only in {home}"
