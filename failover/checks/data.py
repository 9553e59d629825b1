"""Is the primary's data somewhere the outage cannot reach, and fresh enough for the RPO."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from failover.attrs import DataCopy as ReportedCopy
from failover.attrs import attrs_of
from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.registry import Category, RiskInput, Severity, check, info
from failover.equivalence import DB_KINDS, STORE_KINDS, BucketCopy, bucket_copies, store_kind_of
from failover.model import Finding, FindingStatus, Kind, Resource
from failover.schema import PROVIDERS, DataStore, Selector, Site, format_duration

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
    # how far behind a copy that is replicating is (measured, or the documented bound of an estimate);
    # None: not known, or not replicating. The what-if reads it as the data a failover would lose.
    lag_s: float | None = None


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
            FindingStatus.FAIL,
            f"replica {where} is {format_duration(lag)} behind (RPO {format_duration(rpo)})",
            lag_s=float(lag),
        )
    return DataCopy(FindingStatus.PASS, f"replica {where} {format_duration(lag)} behind", lag_s=float(lag))


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
            lag_s=age,
        )
    return DataCopy(FindingStatus.PASS, f"backup copy in {where} restorable to {format_duration(age)} ago", lag_s=age)


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
        return DataCopy(FindingStatus.FAIL, note, estimate, GEO_BACKUP_RPO_S)
    note = f"geo-redundant backup to {where} up to {bound} behind (estimate)"
    return DataCopy(FindingStatus.PASS, note, estimate, GEO_BACKUP_RPO_S)


# Mechanisms whose copy is in another region by construction (the provider may name the copy's location
# with the store's own: a dual-region bucket's "nam4"): outside the failure domain whatever ``where`` says.
_CROSS_REGION_BY_DESIGN = {"dual-region", "multi-region", "geo-redundant"}


@dataclass(frozen=True, slots=True)
class CopyTarget:
    """Where the config says a store's copy lives (``copy_to``): a site, a provider, a region, or
    provider:region. ``found_there`` names the data stores inventoried at a ``copy_to`` site."""

    text: str
    provider: str | None = None
    regions: tuple[str, ...] = ()  # empty: any region of ``provider``
    found_there: tuple[str, ...] = ()

    def matches(self, provider: str, region: str | None) -> bool:
        if self.provider is not None and provider != self.provider:
            return False
        if not self.regions:
            return self.provider is not None
        return bool(region) and any(str(region).startswith(r) for r in self.regions)


def copy_target(ev: Evidence, text: str | None) -> CopyTarget | None:
    """``copy_to`` resolved against the workload's sites and accounts."""
    if text is None:
        return None
    site = next((s for s in ev.workload.sites if s.name == text), None)
    if site is not None:
        account = ev.account(site)
        regions = tuple(site.regions or (account.regions if account.provider == "aws" else []))
        there = tuple(sorted(r.name for r in ev.resources(site) if r.kind in DB_KINDS or r.kind == Kind.STORAGE_BUCKET))
        return CopyTarget(text, account.provider, regions, there)
    if text in PROVIDERS:
        return CopyTarget(text, text)
    provider, sep, region = text.partition(":")
    if sep and provider in PROVIDERS:
        return CopyTarget(text, provider, (region,))
    return CopyTarget(text, None, (text,))


def _split_where(where: str) -> tuple[str, str | None]:
    provider, _, region = where.partition(":")
    return provider, region or None


def _outside(store: Resource, provider: str, region: str | None, mechanism: str = "") -> bool:
    """Outside the store's failure domain: another provider, another region, or a copy that is in another
    region by construction."""
    return provider != store.provider or bool(region and region != store.region) or mechanism in _CROSS_REGION_BY_DESIGN


def _reported_copy(c: ReportedCopy, rpo: float) -> DataCopy:
    """A copy the provider reports on the store (global table replica, failover group partner, dual-region
    bucket, geo-redundant account): not healthy fails, lag unknown is unknown, lag past the RPO fails."""
    ref = str(c.get("ref") or "")
    label = f"{c.get('mechanism') or 'copy'} {c.get('where') or '?'}" + (f" {ref.rsplit(':', 1)[-1]}" if ref else "")
    if c.get("healthy") is False:
        return DataCopy(FindingStatus.FAIL, f"{label} is {c.get('state') or 'not healthy'}, not replicating")
    lag = c.get("lag_s")
    source = c.get("lag_source")
    if not isinstance(lag, int | float) or isinstance(lag, bool):
        why = f"no recent {source} datapoint" if source else "not reported"
        return DataCopy(FindingStatus.UNKNOWN, f"{label} lag unknown ({why})")
    if lag < 0:
        return DataCopy(FindingStatus.FAIL, f"{label}: replication is not running ({source or 'lag'} = {lag:g})")
    estimate = {"copy": label, "lag_s": float(lag), "source": source} if c.get("estimate") else None
    behind = f"up to {format_duration(lag)} behind (estimate)" if estimate else f"{format_duration(lag)} behind"
    if lag > rpo:
        return DataCopy(FindingStatus.FAIL, f"{label} is {behind} (RPO {format_duration(rpo)})", estimate, float(lag))
    return DataCopy(FindingStatus.PASS, f"{label} {behind}", estimate, float(lag))


def reported_copies(store: Resource) -> list[ReportedCopy]:
    a = attrs_of(store, Kind.STORAGE_BUCKET) if store.kind == Kind.STORAGE_BUCKET else attrs_of(store, Kind.DB_INSTANCE)
    return [c for c in a["copies"] or [] if isinstance(c, dict)]


def _missing_target(target: CopyTarget) -> DataCopy:
    there = f" (data stores there: {', '.join(target.found_there)})" if target.found_there else ""
    return DataCopy(
        FindingStatus.UNKNOWN,
        f"no replication link to {target.text} (declared copy_to){there}: a copy made by logical replication "
        "or DMS shows none, so its lag is unknown unless the store names its lag_metric",
    )


@dataclass(frozen=True, slots=True)
class LagReading:
    """A declared store's ``lag_metric`` as the inventory read it: the metric named as the evidence names
    it, its newest value in seconds (None: no recent datapoint), or why it was not read at all."""

    metric: str
    value_s: float | None = None
    unread: str | None = None  # why the metric was not read (None: it was)


def _measured_copy(target: CopyTarget, lag: LagReading, rpo: float) -> DataCopy:
    """The copy at ``copy_to`` that no replication link shows, judged by its declared lag metric like any
    other lag: not read or no recent datapoint is unknown, past the RPO fails."""
    if lag.unread is not None:
        return DataCopy(
            FindingStatus.UNKNOWN,
            f"copy at {target.text} (declared copy_to): lag metric {lag.metric} not read ({lag.unread})",
        )
    copy: ReportedCopy = {"where": target.text, "mechanism": "copy at", "lag_s": lag.value_s, "lag_source": lag.metric}
    judged = _reported_copy(copy, rpo)
    if judged.status == FindingStatus.UNKNOWN:
        return judged
    return DataCopy(judged.status, f"{judged.note} (lag metric {lag.metric})")


def _unlinked_target(target: CopyTarget, lag: LagReading | None, rpo: float) -> DataCopy:
    return _missing_target(target) if lag is None else _measured_copy(target, lag, rpo)


def data_copies(
    db: Resource,
    everything: list[Resource],
    rpo: float,
    now: datetime,
    copy_to: CopyTarget | None = None,
    lag: LagReading | None = None,
) -> list[DataCopy]:
    """Every copy of ``db`` outside its provider or region (or where ``copy_to`` says it is): replicas
    (RDS read replicas, Aurora global secondaries, Cloud SQL and Azure replicas, …), backups replicated
    to another region, geo-redundant backups, and the copies the provider reports on the store itself
    (DynamoDB global table replicas, ElastiCache global datastores, Azure SQL geo-replication, Cosmos DB
    regions). A declared ``copy_to`` with no copy found there is an unknown copy, never a missing one,
    unless the store names the metric measuring that copy's lag (``lag``): then that lag judges it."""
    hit = False  # some copy lands where copy_to says
    copies: list[DataCopy] = []
    reported = reported_copies(db)
    # A copy the store reports itself (with its health and lag) and also links as a replica resource
    # is judged once, from the store's report: that is where the provider puts the lag.
    reported_refs = {
        part for c in reported if c.get("ref") for part in (str(c["ref"]), str(c["ref"]).rsplit(":", 1)[-1])
    }
    for p, region, r in replicas_of(db, everything):
        if r is not None and _ids(r) & reported_refs:
            continue
        at_target = copy_to is not None and copy_to.matches(p, region)
        if p != db.provider or (region and region != db.region) or at_target:
            hit |= at_target
            copies.append(_replica_copy(f"{p}:{region}" + (f" {r.name}" if r else ""), r, rpo))
    for copy in attrs_of(db, Kind.DB_INSTANCE)["backup_copies"] or []:
        if isinstance(copy, dict) and copy.get("region") != db.region:
            hit |= copy_to is not None and copy_to.matches(db.provider, copy.get("region"))
            copies.append(_backup_copy(db, copy, rpo, now))
    geo = _geo_backup_copy(db, rpo)
    if geo is not None:
        hit |= copy_to is not None and copy_to.matches(db.provider, None)
        copies.append(geo)
    for c in reported:
        c_provider, c_region = _split_where(str(c.get("where") or ""))
        at_target = copy_to is not None and copy_to.matches(c_provider, c_region)
        if _outside(db, c_provider, c_region, str(c.get("mechanism") or "")) or at_target:
            hit |= at_target
            copies.append(_reported_copy(c, rpo))
    if copy_to is not None and not hit:
        copies.append(_unlinked_target(copy_to, lag, rpo))
    return copies


def _is_primary_db(r: Resource) -> bool:
    """Neither a replica nor a cluster member (the cluster itself is judged)."""
    a = attrs_of(r, Kind.DB_INSTANCE)
    return not (a["replica_source"] or a["cluster"])


@dataclass(frozen=True)
class Store:
    """A data store the checks judge: found in the inventory, declared in the config or not."""

    resource: Resource
    rpo: float
    declared: DataStore | None = None
    copy_to: CopyTarget | None = None
    lag: LagReading | None = None  # the declared lag_metric's reading

    @property
    def name(self) -> str:
        return self.declared.name if self.declared is not None else self.resource.name


@dataclass(frozen=True)
class MissingStore:
    """A declared store the inventory does not show, and where it was looked for."""

    declared: DataStore
    site: Site
    looked_in: str
    gaps: list[str] = field(default_factory=list)


def _selected(r: Resource, sel: Selector, regions: list[str]) -> bool:
    """Named by id (its name, ARN, self link or resource id: wherever it is in the account, since a
    bucket's location may be a multi-region like US or NAM4), or tagged and in the site's regions."""
    a = attrs_of(r)
    refs = {r.native_id, r.name, str(a["arn"] or ""), str(a["self_link"] or ""), str(a["id"] or "")}
    refs = {x.lower() for x in refs if x}
    if sel.ids and any(i.lower() in refs for i in sel.ids):
        return True
    return bool(sel.tags) and all(r.tags.get(k) == v for k, v in sel.tags.items()) and _in_regions(r, regions)


def _in_regions(r: Resource, regions: list[str]) -> bool:
    return not regions or not r.region or any(r.region.startswith(x) or r.zone.startswith(x) for x in regions)


def _selector_text(sel: Selector) -> str:
    parts = [f"ids {', '.join(sel.ids)}"] if sel.ids else []
    parts += [f"tags {', '.join(f'{k}={v}' for k, v in sorted(sel.tags.items()))}"] if sel.tags else []
    return " or ".join(parts)


def _is_store(r: Resource) -> bool:
    return r.kind == Kind.STORAGE_BUCKET or (r.kind in DB_KINDS and _is_primary_db(r))


def data_stores(ev: Evidence) -> tuple[list[Store], list[MissingStore]]:
    """The workload's data stores: each declared one (found by its kind, site and selector, or missing),
    then every other store the primary site's selector finds (undeclared stores are still judged)."""
    w = ev.workload
    stores: list[Store] = []
    missing: list[MissingStore] = []
    claimed: set[int] = set()
    for d in w.data:
        site = w.site_named(d.site)
        account = ev.account(site)
        kind = STORE_KINDS[d.kind]
        regions = site.regions or (account.regions if account.provider == "aws" else [])
        found = [
            r
            for r in ev.of_kind(site.account, kind)
            if _is_store(r) and store_kind_of(r) == d.kind and _selected(r, d.selector, regions)
        ]
        target = copy_target(ev, d.copy_to)
        lag = lag_reading(ev, d)
        for r in found:
            claimed.add(id(r))
            stores.append(Store(r, w.store_rpo(d), d, target, lag))
        if not found:
            where = f"account {site.account} ({account.provider}) {', '.join(regions) or 'every region'}"
            looked_in = f"{where}, {kind} of kind {d.kind}, {_selector_text(d.selector)}"
            missing.append(MissingStore(d, site, looked_in, ev.gaps(site)))
    for r in ev.resources(w.primary):
        if id(r) not in claimed and _is_store(r):
            stores.append(Store(r, w.targets.rpo))
    return stores, missing


# The inventory scopes that read declared lag metrics (AWS ``REGION/lag_metrics``, GCP ``PROJECT/lagMetrics``,
# Azure ``subscriptions/ID/lag_metrics``),
# and those whose failure leaves the whole account unread.
_METRIC_SCOPES = ("lag_metrics", "lagMetrics")


def _metric_scope(scope: str) -> bool:
    return "/" not in scope or scope.rsplit("/", 1)[-1] in _METRIC_SCOPES


def lag_reading(ev: Evidence, d: DataStore) -> LagReading | None:
    """The declared store's ``lag_metric`` as its reading account's inventory holds it (a ``metric``
    resource named ``workload/store``), or why it is not there."""
    if d.lag_metric is None:
        return None
    w = ev.workload
    account, key = w.lag_metric_account(d), w.lag_metric_key(d)
    found = next((r for r in ev.of_kind(account or "", Kind.METRIC) if r.native_id == key), None)
    if found is None:
        gaps = ev.account_gaps(account or "", _metric_scope)
        return LagReading(
            d.lag_metric.label(), unread=join(gaps, 2) if gaps else f"not in account {account}'s inventory"
        )
    a = attrs_of(found, Kind.METRIC)
    value = a["value_s"]
    return LagReading(
        str(a["metric"] or d.lag_metric.label()), float(value) if isinstance(value, int | float) else None
    )


def _missing_finding(ev: Evidence, check_id: str, m: MissingStore) -> Finding:
    d = m.declared
    reason = f"data store {d.name} ({d.kind}) not found in {m.looked_in}"
    if m.gaps:
        reason += "; inventory incomplete: " + join(m.gaps, 2)
    return info(check_id).finding(
        ev, FindingStatus.UNKNOWN, reason, subject=d.name, declared=True, store_kind=d.kind, looked_in=m.looked_in
    )


@check(
    "data.replica",
    title="Primary data is replicated outside the failure domain",
    category=Category.DATA,
    severity=Severity.CRITICAL,
    risk=RiskInput.DATA_COPY,
    doc="""For each data store of the workload (declared in its `data:` list, or a database, table or cache the
    primary site selects): a copy exists outside the store's provider or region (or at its declared
    `copy_to`) and is fresh enough for its RPO. A declared store the inventory does not show is unknown,
    naming where it was looked for; a workload with no data store declared or found is `skip`. Copies are
    read replicas (lag from the provider's metric: RDS ReplicaLag, where -1 means replication is not
    running; Aurora global databases' AuroraGlobalDBRPOLag or AuroraGlobalDBReplicationLag), automated
    backups replicated to another region (age of the newest restorable time), and Azure flexible servers'
    geo-redundant backups (Azure's documented bound, labelled an estimate), and the copies the provider
    reports on the store (DynamoDB global table replicas, ElastiCache global datastores, Azure SQL geo-
    replication, Cosmos DB regions: unhealthy fails, no lag is unknown). A copy at `copy_to` that no
    replication link shows (AWS DMS, hand-built logical replication) is unknown unless the store names
    its `lag_metric` (a CloudWatch, Cloud Monitoring or Azure Monitor metric): then that lag is judged the same way, and
    the reason names the metric. A replica whose replication stopped
    or errored, or whose lag is not reported, is not a copy you can count on. A secondary with no data, or
    with data older than the RPO, turns a failover into data loss. Fix: create a cross-region or cross-cloud
    read replica (or continuous backup copy) and alert on its lag and replication status.""",
)
def data_replica(ev: Evidence) -> list[Finding]:
    me = info("data.replica")
    primary_site = ev.workload.primary
    stores, missing = data_stores(ev)
    gaps = ev.gaps(primary_site)
    if not stores and not missing:
        if gaps:
            return [me.finding(ev, FindingStatus.UNKNOWN, "inventory incomplete: " + join(gaps, 2))]
        return [me.finding(ev, FindingStatus.SKIP, "no data stores declared or found")]
    dbs = [s for s in stores if s.resource.kind in DB_KINDS]
    findings = [_missing_finding(ev, "data.replica", m) for m in missing if STORE_KINDS[m.declared.kind] in DB_KINDS]
    if not dbs and not findings:
        # only buckets (data.bucket_replication judges them)
        return [me.finding(ev, FindingStatus.UNKNOWN, "inventory incomplete: " + join(gaps, 2))] if gaps else []
    everything = ev.index.databases
    for store in dbs:
        db = store.resource
        copies = data_copies(db, everything, store.rpo, ev.now, store.copy_to, store.lag)
        notes = [c.note for c in copies]
        estimates = [c.estimate for c in copies if c.estimate]
        unread = attrs_of(db, Kind.DB_INSTANCE)["replicas_unknown_reason"]
        label = f"{_noun(db)} {db.name}"
        if not copies and unread:
            status, reason = FindingStatus.UNKNOWN, f"{label}: replicas unknown ({unread})"
        elif not copies:
            status = FindingStatus.UNKNOWN if gaps else FindingStatus.FAIL
            reason = f"{label} has no replica outside {db.provider}:{db.region}"
        else:
            status = min((c.status for c in copies), key=_BEST_FIRST.index)
            reason = f"{label}: " + join(notes)
        findings.append(
            me.finding(
                ev,
                status,
                reason,
                subject=store.name,
                replicas=notes,
                copy_lags_s=[c.lag_s for c in copies],
                estimates=estimates,
                store_kind=store_kind_of(db),
                declared=store.declared is not None,
                rpo_s=store.rpo,
                copy_to=store.copy_to.text if store.copy_to else None,
                lag_metric=store.lag.metric if store.lag else None,
            )
        )
    return findings


_NOUNS = {Kind.DB_TABLE: "table", Kind.CACHE: "cache", Kind.DB_CLUSTER: "database"}


def _noun(r: Resource) -> str:
    return _NOUNS.get(r.kind, "database")


@check(
    "data.bucket_replication",
    title="Primary buckets are copied outside their region",
    category=Category.DATA,
    severity=Severity.HIGH,
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
    stores, missing = data_stores(ev)
    buckets = [s for s in stores if s.resource.kind == Kind.STORAGE_BUCKET]
    findings = [
        _missing_finding(ev, "data.bucket_replication", m)
        for m in missing
        if STORE_KINDS[m.declared.kind] == Kind.STORAGE_BUCKET
    ]
    gaps = ev.gaps(ev.workload.primary)
    if not buckets and not findings:
        return [me.finding(ev, FindingStatus.UNKNOWN, "inventory incomplete: " + join(gaps, 2))] if gaps else []
    for store in buckets:
        findings.append(_bucket_finding(ev, store))
    return findings


def _bucket_finding(ev: Evidence, store: Store) -> Finding:
    """Copies the provider reports on the bucket (GCS location type, Azure geo-replication with its last
    sync) are judged like a database's, lag against the store's RPO; without them, S3 replication rules
    and Azure geo-redundant SKUs as before. A ``copy_to`` no copy reaches adds an unknown copy."""
    b, target = store.resource, store.copy_to
    reported = reported_copies(b)
    rules = bucket_copies(b)
    judged: list[DataCopy] = []
    hit = target is not None and any(target.matches(b.provider, c.region) for c in rules or [] if c.region)
    for c in reported:
        provider, region = _split_where(str(c.get("where") or ""))
        at_target = target is not None and target.matches(provider, region)
        if _outside(b, provider, region, str(c.get("mechanism") or "")) or at_target:
            hit |= at_target
            judged.append(_reported_copy(c, store.rpo))
    if judged:
        listed: list[dict[str, object]] = [dict(c) for c in reported]
        status = min((c.status for c in judged), key=_BEST_FIRST.index)
        reason = f"bucket {b.name}: " + join([c.note for c in judged])
    elif "copies" in attrs_of(b, Kind.STORAGE_BUCKET):  # the provider reports copies, and none is elsewhere
        listed = [dict(c) for c in reported]
        status, reason = FindingStatus.FAIL, f"bucket {b.name} exists only in {b.provider}:{b.region or '?'}"
    else:
        listed = [{"where": c.where, "region": c.region, "objects": c.scope or "all"} for c in rules or []]
        status, reason = _bucket_verdict(b, rules)
    if target is not None and not hit:
        missing = _unlinked_target(target, store.lag, store.rpo)
        status = min((status, missing.status), key=_BEST_FIRST.index)
        reason += "; " + missing.note
    return info("data.bucket_replication").finding(
        ev,
        status,
        reason,
        subject=store.name,
        copies=listed,
        copy_lags_s=[c.lag_s for c in judged] if judged else [None for _ in rules or []],
        estimates=[c.estimate for c in judged if c.estimate],
        store_kind=store_kind_of(b),
        declared=store.declared is not None,
        rpo_s=store.rpo,
        copy_to=target.text if target else None,
        lag_metric=store.lag.metric if store.lag else None,
    )


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
