"""If a provider (or one region) went down now, which workloads keep serving, how soon, and what breaks.

Pure: the stored evidence (inventories, observations, drills) with the failed domain taken out, run
through the same checks and the same RTO estimate as a cycle (``failover.checks.run_checks``,
``failover.scoring.estimate_rto``). What "taken out" means:

- every inventoried resource in the domain is removed, except the primary site's own resources and
  the workload's data stores: they describe what failed (the load the secondary must carry, the health
  checks and records that react to the outage, the copies of the data) and stay; their copies in the
  domain (replicas, backup copies, copies the provider reports) are removed from them;
- a site in the domain is gone: its probes read ``failed``;
- the zone's name servers on a provider that is down are gone (authoritative DNS is global anycast:
  only a whole provider's outage removes them);
- a routing mechanism whose data plane is down answers nothing, health checks included; one whose
  control plane is down cannot make a configuration change (``failover.whatif.facts``);
- a declared dependency that lives only on the failed provider is gone (on a failed region of it:
  unknown, since a dependency declares no region).

A workload whose primary is outside the domain keeps serving from it, unless its routing, name servers
or dependencies go down. A workload whose primary is in the domain survives (``yes``) only on evidence:
a secondary outside the domain whose health, capacity and DNS-path checks pass on the evidence that is
left; ``unknown`` when that evidence is missing, never ``yes``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import datetime

from failover.assign import ResourceIndex
from failover.checks import CATALOG, Evidence, run_checks
from failover.checks.data import MissingStore, data_stores
from failover.checks.data import Store as DataStore
from failover.checks.mechanisms import routing_path
from failover.equivalence import DB_KINDS
from failover.model import (
    Drill,
    Finding,
    FindingStatus,
    Inventory,
    Kind,
    Observation,
    ObsStatus,
    Resource,
    RtoVerdict,
    utcnow,
)
from failover.schema import Config, Site, Workload, format_duration
from failover.scoring import RtoEstimate, estimate_rto
from failover.whatif.domain import Domain
from failover.whatif.facts import facts_of
from failover.whatif.result import Survival, WhatIf, WhatIfReason

_OK = (FindingStatus.PASS, FindingStatus.WARN)


@dataclass(frozen=True)
class StoredEvidence:
    """What the what-if reads: the newest stored inventory of each account, the newest observations of
    the workloads (every vantage), their newest drills, and the time it is judged at."""

    inventories: list[Inventory]
    observations: list[Observation] = field(default_factory=list)
    drills: Mapping[str, Drill] = field(default_factory=dict)
    now: datetime = field(default_factory=utcnow)


def what_if(
    config: Config,
    evidence: StoredEvidence,
    downs: Sequence[Domain],
    workloads: Sequence[Workload] | None = None,
) -> list[WhatIf]:
    """Each workload (all configured by default) under each failed domain, workload by workload in
    config order, domains in the order given."""
    return _evaluate(config, evidence, downs, workloads, exhaustive=False)


def exhaustive_what_if(
    config: Config,
    evidence: StoredEvidence,
    downs: Sequence[Domain],
    workloads: Sequence[Workload] | None = None,
) -> list[WhatIf]:
    """``what_if`` the straightforward way (every check of every workload under every domain, over an
    inventory and index built for each domain): the reference the fast evaluation must equal."""
    return _evaluate(config, evidence, downs, workloads, exhaustive=True)


def _evaluate(
    config: Config,
    evidence: StoredEvidence,
    downs: Sequence[Domain],
    workloads: Sequence[Workload] | None,
    *,
    exhaustive: bool,
) -> list[WhatIf]:
    by_account = {inv.account: inv for inv in evidence.inventories}
    return _judge(
        config,
        by_account,
        ResourceIndex.of(by_account),
        evidence,
        downs,
        list(workloads) if workloads is not None else list(config.workloads),
        exhaustive=exhaustive,
    )


def what_if_indexed(
    config: Config,
    worlds: Worlds,
    evidence: StoredEvidence,
    downs: Sequence[Domain],
    workloads: Sequence[Workload],
) -> list[WhatIf]:
    """``what_if`` over an inventory already indexed (``evidence.inventories`` is not read): the
    inventory without each domain comes from ``worlds``, built once per inventory snapshot, so a
    scoring job of a few workloads costs what those workloads cost, not the whole inventory."""
    return _judge(config, worlds.by_account, worlds.index, evidence, downs, list(workloads), worlds=worlds)


def _judge(
    config: Config,
    by_account: dict[str, Inventory],
    index: ResourceIndex,
    evidence: StoredEvidence,
    downs: Sequence[Domain],
    selected: list[Workload],
    *,
    exhaustive: bool = False,
    worlds: Worlds | None = None,
) -> list[WhatIf]:
    """The fast evaluation (not ``exhaustive``) runs only the checks the verdict reads, only for a
    workload whose verdict reads a finding, and builds a domain's inventory and index only when one
    does and the domain changed the inventory: at 1,000 workloads the matrix is part of every
    ``failover score``."""
    by_workload: dict[str, list[Observation]] = {}
    for o in evidence.observations:
        by_workload.setdefault(o.workload or "", []).append(o)
    before = [
        Evidence(
            config=config,
            workload=w,
            inventories=by_account,
            observations=by_workload.get(w.name, []),
            now=evidence.now,
            index=index,
            drill=evidence.drills.get(w.name),
        )
        for w in selected
    ]
    stores = [data_stores(ev) for ev in before]  # the same under every domain
    results: dict[tuple[str, Domain], WhatIf] = {}
    for domain in downs:
        scenes = [_Scene.of(ev, domain, *found) for ev, found in zip(before, stores, strict=True)]
        world = (
            worlds.world(domain, scenes)
            if worlds is not None
            else _World(by_account, index, domain, scenes, exhaustive)
        )
        for scene in scenes:
            results[(scene.ev.workload.name, domain)] = _one(scene, world, exhaustive)
    return [results[(w.name, d)] for w in selected for d in downs]


class Worlds:
    """Per failed domain, the inventory without it (``_World``) for one config and one inventory
    snapshot, kept with every configured workload's failure described (their union of ``keep``): it
    depends on neither observations nor time, so a daemon builds it once per inventory run and each
    scoring job reuses it. Thread-safe (the daemon's jobs run in threads)."""

    def __init__(self, config: Config, by_account: dict[str, Inventory], index: ResourceIndex) -> None:
        self.config, self.by_account, self.index = config, by_account, index
        self._worlds: dict[Domain, _World] = {}
        self._lock = threading.Lock()

    def world(self, domain: Domain, scenes: Sequence[_Scene] = ()) -> _World:
        """``scenes``: the caller's, reused when they are every configured workload's (``failover
        check``); a slot's are not enough, the world keeps what every workload describes."""
        with self._lock:
            found = self._worlds.get(domain)
            if found is None:
                every = len(scenes) == len(self.config.workloads) and all(
                    s.ev.workload is w for s, w in zip(scenes, self.config.workloads, strict=True)
                )
                found = _World(self.by_account, self.index, domain, scenes if every else self._scenes(domain), False)
                self._worlds[domain] = found
            return found

    def _scenes(self, domain: Domain) -> list[_Scene]:
        scenes = []
        for w in self.config.workloads:
            ev = Evidence(config=self.config, workload=w, inventories=self.by_account, index=self.index)
            scenes.append(_Scene.of(ev, domain, *data_stores(ev)))
        return scenes


class _World:
    """The inventory without the domain (and one index over it), shared by every workload: what each
    keeps is the union of what they describe the failure with. Built on first use; a domain that
    removes and changes nothing keeps the stored inventory and its index."""

    def __init__(
        self,
        by_account: dict[str, Inventory],
        index: ResourceIndex,
        domain: Domain,
        scenes: Sequence[_Scene],
        exhaustive: bool,
    ) -> None:
        self._by_account, self._index, self._domain, self._scenes = by_account, index, domain, scenes
        self._exhaustive = exhaustive
        self._built: tuple[dict[str, Inventory], ResourceIndex] | None = None
        self._lock = threading.Lock()  # shared by the daemon's jobs through ``Worlds``

    def get(self) -> tuple[dict[str, Inventory], ResourceIndex]:
        with self._lock:
            if self._built is None:
                self._built = self._build()
            return self._built

    def _build(self) -> tuple[dict[str, Inventory], ResourceIndex]:
        domain = self._domain
        keep = {i for scene in self._scenes for i in scene.keep}
        inventories: dict[str, Inventory] = {}
        for name, inv in self._by_account.items():
            resources = [
                _copies_outside(r, domain) for r in inv.resources if id(r) in keep or not domain.holds_resource(r)
            ]
            unchanged = len(resources) == len(inv.resources) and all(
                a is b for a, b in zip(resources, inv.resources, strict=True)
            )
            inventories[name] = inv if unchanged and not self._exhaustive else replace(inv, resources=resources)
        if not self._exhaustive and all(inventories[n] is inv for n, inv in self._by_account.items()):
            return self._by_account, self._index
        return inventories, ResourceIndex.of(inventories)


@dataclass(frozen=True)
class _Scene:
    """One workload under one failed domain, before the checks run again: which of its sites are in
    the domain, its data stores there, whether its primary goes down, and the resources it keeps."""

    ev: Evidence
    domain: Domain
    hit: frozenset[str]
    gone_stores: frozenset[str]
    primary_down: bool
    keep: frozenset[int]

    @classmethod
    def of(cls, ev: Evidence, domain: Domain, stores: list[DataStore], missing: list[MissingStore]) -> _Scene:
        """``stores`` and ``missing``: the workload's ``data_stores``."""
        w = ev.workload
        hit = frozenset(s.name for s in w.sites if site_in(ev, s, domain))
        gone = {st.name for st in stores if domain.holds_resource(st.resource)}
        gone |= {m.declared.name for m in missing if m.site.name in hit}
        on_primary = {st.name for st in stores if st.declared is None or st.declared.site in (None, w.primary.name)}
        primary_down = w.primary.name in hit or bool(gone & on_primary)
        keep = {id(r) for r in ev.resources(w.primary)} if primary_down else set()
        keep |= {id(st.resource) for st in stores}
        return cls(ev, domain, hit, frozenset(gone), primary_down, frozenset(keep))


# ----------------------------------------------------------------------------- one workload, one domain
@dataclass
class _Verdict:
    """The requirements met so far: the worst survival and the reasons behind it."""

    survives: Survival = Survival.YES
    reasons: list[WhatIfReason] = field(default_factory=list)

    def needs(self, outcome: Survival, reasons: Iterable[WhatIfReason] = ()) -> None:
        if outcome == Survival.NO or (outcome == Survival.UNKNOWN and self.survives == Survival.YES):
            self.survives = outcome
        if outcome != Survival.YES:
            self.note(reasons)

    def note(self, reasons: Iterable[WhatIfReason]) -> None:
        for r in reasons:
            if r not in self.reasons:
                self.reasons.append(r)


# The checks whose findings a failover's verdict reads (``_failover``'s requirements and ``_slow``);
# ``_path`` and ``_nameservers`` ask for theirs only when they need them. The others cannot change an
# answer, so they do not run.
_DATA_CHECKS = ("data.replica", "data.bucket_replication")
_READ = frozenset(
    {
        "dns.failover_records",
        "secondary.health",
        "capacity.ratio",
        "capacity.headroom",
        *_DATA_CHECKS,
        *(check for check, meta in CATALOG.items() if meta.rto_part is not None),
    }
)


class _Checked:
    """One workload's evidence without the domain, and the findings of the checks asked for so far:
    each check runs once, when a requirement first reads it (a workload whose primary stays up and
    whose routing and delegation were read needs none). Checks are pure and independent, so the
    findings of a set of them are those a full run yields for them, in the same (catalogue) order."""

    def __init__(self, scene: _Scene, world: _World) -> None:
        self._scene, self._world = scene, world
        self._after: Evidence | None = None
        self._by_check: dict[str, list[Finding]] = {}

    @property
    def after(self) -> Evidence:
        if self._after is None:
            ev, scene = self._scene.ev, self._scene
            inventories, index = self._world.get()
            self._after = Evidence(
                config=ev.config,
                workload=ev.workload,
                inventories=inventories,
                observations=[_observed_without(o, scene.domain, scene.hit) for o in ev.observations],
                now=ev.now,
                index=index,
                drill=ev.drill,
            )
        return self._after

    def findings(self, checks: AbstractSet[str] | None = None) -> list[Finding]:
        """The findings of ``checks`` (every check: None)."""
        wanted = [c for c in CATALOG if checks is None or c in checks]
        for c in wanted:
            if c not in self._by_check:
                self._by_check[c] = run_checks(self.after, {c})
        return [f for c in wanted for f in self._by_check[c]]


def _one(scene: _Scene, world: _World, exhaustive: bool) -> WhatIf:
    ev, domain = scene.ev, scene.domain
    checked = _Checked(scene, world)
    if exhaustive:
        checked.findings()
    verdict = _Verdict()  # what every workload needs: users still reach it
    _path(ev, domain, lambda: checked.findings({"dns.failover_records"}), verdict)
    _nameservers(ev, domain, lambda: checked.findings({"dns.delegation"}), verdict)
    _dependencies(ev, domain, verdict)
    if scene.primary_down:
        return _failover(scene, checked.after, checked.findings(None if exhaustive else _READ), verdict)
    w, target = ev.workload, ev.workload.targets.rto
    if verdict.survives == Survival.NO:
        return WhatIf(w.name, domain, Survival.NO, None, None, RtoVerdict.EXCEEDS, 0.0, tuple(verdict.reasons), target)
    # the primary keeps serving: no failover, nothing to recover, no data lost
    return WhatIf(
        w.name, domain, verdict.survives, w.primary.name, 0.0, RtoVerdict.WITHIN, 0.0, tuple(verdict.reasons), target
    )


def _failover(scene: _Scene, after: Evidence, findings: list[Finding], verdict: _Verdict) -> WhatIf:
    """The primary is down: a secondary outside the domain must take over, through a routing path and
    control plane that are up, with the data that survives."""
    ev, domain, w = scene.ev, scene.domain, scene.ev.workload
    wait = _control_plane(ev, domain, verdict)
    serving = _secondary(w, scene.hit, findings, verdict)
    _capacity(findings, verdict)
    _records(after, findings, verdict)
    exposure = _exposure(findings, scene.gone_stores, domain, verdict)
    rto = estimate_rto(after, ev.config.scoring)
    total = None if rto.total_s is None else rto.total_s + wait
    rto_verdict = RtoVerdict.of(total, rto.lower_bound_s + wait, w.targets.rto, rto.unbounded)
    if verdict.survives == Survival.NO:
        serving, total, rto_verdict = None, None, RtoVerdict.EXCEEDS  # it does not come back by itself
    elif rto_verdict != RtoVerdict.WITHIN:
        verdict.note(_slow(findings, rto))
    return WhatIf(
        w.name, domain, verdict.survives, serving, total, rto_verdict, exposure, tuple(verdict.reasons),
        w.targets.rto, primary_down=True,
    )  # fmt: skip


def site_in(ev: Evidence, site: Site, domain: Domain) -> bool:
    """A site goes down with the domain when it is on its provider and (for a region) in that region:
    any of its configured regions, else any of its resources' (a site with neither counts as in it)."""
    account = ev.account(site)
    if account.provider != domain.provider:
        return False
    if domain.region is None:
        return True
    regions = site.regions or (account.regions if account.provider == "aws" else [])
    if regions:
        return any(domain.holds(account.provider, r) for r in regions)
    resources = ev.resources(site)
    return not resources or any(domain.holds_resource(r) for r in resources)


# ----------------------------------------------------------------------------- the evidence without the domain
def _copies_outside(r: Resource, domain: Domain) -> Resource:
    """A data store without its copies in the domain (they are gone with it)."""
    if r.kind not in (*DB_KINDS, Kind.STORAGE_BUCKET, Kind.CACHE) or r.provider != domain.provider:
        return r
    attrs = dict(r.attrs)
    if isinstance(attrs.get("copies"), list):
        attrs["copies"] = [
            c for c in attrs["copies"] if not (isinstance(c, dict) and domain.holds_where(str(c.get("where") or "")))
        ]
    if isinstance(attrs.get("replicas"), list):
        attrs["replicas"] = [
            ref for ref in attrs["replicas"] if not domain.holds(r.provider, _arn_region(str(ref)) or r.region)
        ]
    if isinstance(attrs.get("backup_copies"), list):
        attrs["backup_copies"] = [
            c for c in attrs["backup_copies"] if not (isinstance(c, dict) and domain.holds(r.provider, c.get("region")))
        ]
    if domain.region is None:  # the paired region's geo-redundant copy is on the same provider
        for key in ("geo_redundant_backup", "geo_redundant"):
            if attrs.get(key):
                attrs[key] = False
    replication = attrs.get("replication")
    if isinstance(replication, dict) and isinstance(replication.get("rules"), list):
        rules = [
            rule
            for rule in replication["rules"]
            if not (isinstance(rule, dict) and domain.holds(r.provider, rule.get("destination_region")))
        ]
        attrs["replication"] = {**replication, "rules": rules}
    return replace(r, attrs=attrs)


def _arn_region(ref: str) -> str | None:
    parts = ref.split(":")
    return parts[3] if ref.startswith("arn:") and len(parts) > 4 else None


def _observed_without(o: Observation, domain: Domain, hit: AbstractSet[str]) -> Observation:
    if o.site is not None and o.site in hit:
        return o.tagged(status=ObsStatus.FAILED, reason=f"site {o.site} is in the failed domain {domain}")
    if o.probe == "dns" and o.label == "delegation" and o.ok and domain.region is None:
        servers = [ns for ns in o.data.get("nameservers") or [] if not _on(str(ns.get("provider")), domain)]
        providers = sorted({str(ns.get("provider")) for ns in servers})
        data = {**o.data, "nameservers": servers, "providers": providers}
        if not servers:
            return o.tagged(
                status=ObsStatus.FAILED, reason=f"every name server is on {domain}, which is down", data=data
            )
        return o.tagged(data=data)
    return o


def _on(ns_provider: str, domain: Domain) -> bool:
    """A name server's provider (``aws``, or another DNS host by its registered domain:
    ``other:cloudflare.com``) is the domain's provider."""
    name = ns_provider.removeprefix("other:")
    return name == domain.provider or name.split(".")[0] == domain.provider


# ----------------------------------------------------------------------------- requirements
def _finding_reasons(findings: Iterable[Finding], check: str, bad: Iterable[FindingStatus]) -> list[WhatIfReason]:
    bad = set(bad)
    return [WhatIfReason(f.check, f.reason) for f in findings if f.check == check and f.status in bad]


def _of(findings: Iterable[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def _path(ev: Evidence, domain: Domain, findings: Callable[[], list[Finding]], verdict: _Verdict) -> None:
    """The routing mechanism must be read, and its data plane (answers, health checks) outside the domain."""
    w = ev.workload
    path = routing_path(ev) if w.dns else None
    if path is None:
        why = _finding_reasons(findings(), "dns.failover_records", FindingStatus)
        verdict.needs(Survival.UNKNOWN, why or [WhatIfReason("dns.failover_records", "no failover mechanism read")])
        return
    plane = path.data_plane
    if domain.holds(plane.provider, plane.region):
        where = plane.provider if plane.region in ("", "global") else f"{plane.provider} {plane.region}"
        message = (
            f"{path.mechanism} answers users and runs its health checks from {where}, which is down with "
            f"{domain}: {w.dns.name if w.dns else 'the public name'} stops answering"
        )
        verdict.needs(Survival.NO, [WhatIfReason("dns.failover_records", message)])


def _nameservers(ev: Evidence, domain: Domain, findings: Callable[[], list[Finding]], verdict: _Verdict) -> None:
    """Some authoritative name server of the zone must stay up."""
    if ev.workload.dns is None:
        return
    obs = ev.observation(probe="dns", label="delegation")
    if obs is None or not obs.ok:
        verdict.needs(Survival.UNKNOWN, _finding_reasons(findings(), "dns.delegation", FindingStatus))
        return
    servers = obs.data.get("nameservers") or []
    if domain.region is None and servers and all(_on(str(ns.get("provider")), domain) for ns in servers):
        zone = obs.data.get("zone", "?")
        message = f"every authoritative name server of {zone} is on {domain.provider}, which is down"
        verdict.needs(Survival.NO, [WhatIfReason("dns.delegation", message)])


def _dependencies(ev: Evidence, domain: Domain, verdict: _Verdict) -> None:
    for dep in ev.workload.dependencies:
        where = {dep.provider, *dep.providers}
        if where != {domain.provider}:
            continue
        if domain.region is None:
            message = f"dependency {dep.name} ({dep.kind}) lives only on {domain.provider}, which is down"
            verdict.needs(Survival.NO, [WhatIfReason("dependencies.single_provider", message)])
        else:
            message = (
                f"dependency {dep.name} ({dep.kind}) lives only on {domain.provider} and declares no region: "
                f"it may be in {domain.region}"
            )
            verdict.needs(Survival.UNKNOWN, [WhatIfReason("dependencies.single_provider", message)])


def _control_plane(ev: Evidence, domain: Domain, verdict: _Verdict) -> float:
    """A failover that needs a configuration change waits for the control plane: seconds added to the
    RTO while it moves to its recovery region, or NO when the change cannot be made."""
    path = routing_path(ev) if ev.workload.dns else None
    if path is None or not path.needs_control_plane:
        return 0.0
    plane = path.control_plane
    if not domain.holds(plane.provider, plane.region):
        return 0.0
    facts = facts_of(path.mechanism)
    where = plane.provider if plane.region in ("", "global") else f"{plane.provider} {plane.region}"
    change = f"failover needs a configuration change (no serving answer is health-governed) through {where}"
    recovers = (
        facts is not None
        and facts.recovery_region is not None
        and facts.recovery_s is not None
        and facts.recovery_region in str(plane.detail.get("changes_through") or "")
        and not domain.holds(plane.provider, facts.recovery_region)
    )
    if recovers:
        assert facts is not None and facts.recovery_s is not None
        message = (
            f"{change}, which is down; with {facts.recovery_when}, {facts.service} resumes changes through "
            f"{facts.recovery_region} after about {format_duration(facts.recovery_s)} (added to the RTO)"
        )
        verdict.note([WhatIfReason("dns.failover_records", message)])
        return facts.recovery_s
    message = f"{change}, which is down: the change waits until {where} recovers"
    verdict.needs(Survival.NO, [WhatIfReason("dns.failover_records", message)])
    return 0.0


def _secondary(w: Workload, hit: AbstractSet[str], findings: list[Finding], verdict: _Verdict) -> str | None:
    """A secondary outside the domain that answers its health checks; the site that would serve."""
    candidates = [s.name for s in w.secondaries if s.name not in hit]
    if not candidates:
        gone = ", ".join(s.name for s in w.secondaries)
        message = f"every secondary ({gone}) is in the failed domain too"
        verdict.needs(Survival.NO, [WhatIfReason("secondary.health", message)])
        return None
    health = {f.subject: f for f in _of(findings, "secondary.health") if f.subject in candidates}
    for wanted in (FindingStatus.PASS, FindingStatus.WARN):
        ok = [n for n in candidates if n in health and health[n].status == wanted]
        if ok:
            return ok[0]
    statuses = {health[n].status if n in health else FindingStatus.UNKNOWN for n in candidates}
    reasons = [WhatIfReason(f.check, f.reason) for f in health.values()] or [
        WhatIfReason("secondary.health", f"no health finding for {', '.join(candidates)}")
    ]
    verdict.needs(Survival.UNKNOWN if FindingStatus.UNKNOWN in statuses else Survival.NO, reasons)
    return None


def _capacity(findings: list[Finding], verdict: _Verdict) -> None:
    """The secondaries run the capacity needed, or can scale to it (the scale-up is in the RTO)."""
    ratio = _of(findings, "capacity.ratio")
    headroom = _of(findings, "capacity.headroom")
    if ratio and all(f.status == FindingStatus.PASS for f in ratio):
        return
    if headroom and all(f.status in _OK for f in headroom):
        return
    both = [WhatIfReason(f.check, f.reason) for f in [*ratio, *headroom] if f.status not in _OK]
    statuses = {f.status for f in [*ratio, *headroom]}
    decided = ratio and headroom and statuses <= {FindingStatus.FAIL, *_OK}
    verdict.needs(Survival.NO if decided else Survival.UNKNOWN, both or [WhatIfReason("capacity.ratio", "not judged")])


def _records(after: Evidence, findings: list[Finding], verdict: _Verdict) -> None:
    """The routing path has an answer that reaches a secondary (``dns.failover_records``). A path that
    fails over by a configuration change (no serving answer is health-governed, which that check fails)
    needs only such an answer: the change is the failover, its control plane is ``_control_plane``'s."""
    path = routing_path(after) if after.workload.dns else None
    if path is not None and path.needs_control_plane and path.to_secondary:
        return
    records = _of(findings, "dns.failover_records")
    if records and all(f.status in _OK for f in records):
        return
    outcome = Survival.NO if any(f.status == FindingStatus.FAIL for f in records) else Survival.UNKNOWN
    reasons = [WhatIfReason(f.check, f.reason) for f in records if f.status not in _OK]
    verdict.needs(outcome, reasons or [WhatIfReason("dns.failover_records", "not judged")])


def _exposure(findings: list[Finding], gone: AbstractSet[str], domain: Domain, verdict: _Verdict) -> float | None:
    """The data a failover would lose: per store in the domain, the lag of its freshest surviving copy;
    the worst store decides. A store with no copy outside the domain loses everything (NO)."""
    worst: float | None = 0.0
    for f in (f for f in findings if f.check in _DATA_CHECKS and f.subject in gone):
        lags = f.evidence.get("copy_lags_s")
        known = [float(x) for x in lags or [] if isinstance(x, int | float)]
        if f.status == FindingStatus.FAIL and not lags:
            message = f"{f.reason}: no copy outside {domain}, its data goes down with it"
            verdict.needs(Survival.NO, [WhatIfReason(f.check, message)])
            worst = None
        elif not known:
            verdict.note([WhatIfReason(f.check, f"{f.reason} (the surviving copy's lag is not reported)")])
            worst = None
        elif worst is not None:
            worst = max(worst, min(known))
            if f.status not in _OK:
                verdict.note([WhatIfReason(f.check, f.reason)])
    return worst


def _slow(findings: list[Finding], rto: RtoEstimate) -> list[WhatIfReason]:
    """Why the recovery would take longer than the target (or is not known): the findings whose fix
    shortens the RTO, and the data stores whose failover takes time."""
    slow = [
        WhatIfReason(f.check, f.reason)
        for f in findings
        if f.status not in (FindingStatus.PASS, FindingStatus.SKIP)
        and (meta := CATALOG.get(f.check)) is not None
        and meta.rto_part is not None
    ]
    if rto.data_s > 0:
        promotion = format_duration(rto.data_s)
        slow += [
            WhatIfReason(f.check, f"{f.reason}; its failover takes {promotion}")
            for f in findings
            if f.check in _DATA_CHECKS and f.status != FindingStatus.SKIP
        ]
    return slow
