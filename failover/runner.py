"""One cycle: inventory -> probes -> checks -> store -> score. The CLI, the demo and the daemon all
run this, so there is one code path from evidence to score."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from failover.assign import ResourceIndex
from failover.checks import Evidence, run_checks
from failover.checks.dns import names_to_resolve
from failover.errors import ConfigError
from failover.model import Drill, Finding, Inventory, Observation, Score, utcnow
from failover.probing import probe_workloads
from failover.schema import Config, Workload
from failover.scoring import score
from failover.store import Store

Progress = Callable[[str], None]


@dataclass
class CycleResult:
    run_id: int
    inventories: list[Inventory] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    # workload -> why the inventory under its sites is incomplete or stale (empty: complete)
    gaps: dict[str, list[str]] = field(default_factory=dict)


def vantage_of(config: Config) -> str:
    return config.vantage or config.daemon.vantage or socket.gethostname()


def select_workloads(config: Config, names: list[str] | None) -> list[Workload]:
    if not names:
        return list(config.workloads)
    known = {w.name: w for w in config.workloads}
    missing = [n for n in names if n not in known]
    if missing:
        raise ConfigError(f"unknown workload {', '.join(missing)} (known: {', '.join(sorted(known)) or 'none'})")
    return [known[n] for n in names]


def config_digest(config: Config) -> str:
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


def run_inventory(config: Config, store: Store, run_id: int, workloads: list[Workload]) -> list[Inventory]:
    """Inventory the accounts the workloads use (sites and DNS path), and save the snapshot under ``run_id``."""
    from failover.inventory import inventory_config

    used = {a for w in workloads for a in config.workload_accounts(w)}
    names = [a.name for a in config.accounts if a.name in used]
    inventories = inventory_config(config, names) if names else []
    store.save_inventory(run_id, inventories)
    return inventories


def secondary_targets(
    config: Config, workloads: list[Workload], inventories: list[Inventory]
) -> dict[str, dict[str, list[str]]]:
    """Per workload, the secondary target names the DNS probes resolve (``names_to_resolve``); a
    workload whose plan cannot be made gets none, and its checks report the names unresolved."""
    by_account = {inv.account: inv for inv in inventories}
    index = ResourceIndex.of(by_account)
    plans: dict[str, dict[str, list[str]]] = {}
    for w in workloads:
        if not w.dns:
            continue
        try:
            plan = names_to_resolve(Evidence(config=config, workload=w, inventories=by_account, index=index))
        except Exception:  # a bug here must not stop the cycle: the check reads "not resolved yet"
            continue
        if plan:
            plans[w.name] = plan
    return plans


def evaluate(
    config: Config,
    workloads: list[Workload],
    inventories: list[Inventory],
    observations: list[Observation],
    now: datetime,
    drills: Mapping[str, Drill] | None = None,
) -> tuple[list[Finding], list[Score]]:
    """Pure: findings and scores for each workload from the evidence at hand."""
    by_account = {inv.account: inv for inv in inventories}
    index = ResourceIndex.of(by_account)  # one index for every workload: the checks' lookups stay cheap
    by_workload: dict[str, list[Observation]] = {}
    for o in observations:
        by_workload.setdefault(o.workload or "", []).append(o)
    findings: list[Finding] = []
    scores: list[Score] = []
    for w in workloads:
        ev = Evidence(
            config=config,
            workload=w,
            inventories=by_account,
            observations=by_workload.get(w.name, []),
            now=now,
            index=index,
            drill=(drills or {}).get(w.name),
        )
        wf = run_checks(ev)
        findings += wf
        scores.append(score(ev, wf))
    return findings, scores


def inventory_gaps(
    config: Config, workloads: list[Workload], inventories: list[Inventory], now: datetime
) -> dict[str, list[str]]:
    """Pure: for each workload whose sites rest on an incomplete or stale inventory, the gaps (the
    same ones its checks report as unknown). A gate must not pass on such partial evidence."""
    by_account = {inv.account: inv for inv in inventories}
    index = ResourceIndex.of(by_account)
    out: dict[str, list[str]] = {}
    for w in workloads:
        ev = Evidence(config=config, workload=w, inventories=by_account, now=now, index=index)
        gaps = list(dict.fromkeys(gap for site in w.sites for gap in ev.gaps(site)))
        if gaps:
            out[w.name] = gaps
    return out


def run_cycle(
    config: Config,
    store: Store,
    *,
    workloads: list[str] | None = None,
    inventory: bool = True,
    kind: str = "check",
    progress: Progress | None = None,
    now: datetime | None = None,
) -> CycleResult:
    """Run one full cycle and store everything it learned. With ``inventory=False`` the newest stored
    inventory is used (the daemon inventories less often than it probes)."""
    say = progress or (lambda _msg: None)
    selected = select_workloads(config, workloads)
    vantage = vantage_of(config)
    run_id = store.start_run(kind, vantage=vantage, config_digest=config_digest(config))
    result = CycleResult(run_id=run_id)
    try:
        if inventory:
            say("inventory")
            result.inventories = run_inventory(config, store, run_id, selected)
        else:
            accounts = {a for w in selected for a in config.workload_accounts(w)}
            result.inventories = store.latest_inventory(accounts)
        say("probes")
        targets = secondary_targets(config, selected, result.inventories)
        result.observations = asyncio.run(probe_workloads(config, selected, vantage, targets))
        store.save_observations(run_id, result.observations)
        say("checks")
        now = now or utcnow()
        drills = store.latest_drills((w.name for w in selected), now)
        result.findings, result.scores = evaluate(
            config, selected, result.inventories, result.observations, now, drills
        )
        result.gaps = inventory_gaps(config, selected, result.inventories, now)
        store.save_findings(run_id, result.findings)
        store.save_scores(run_id, result.scores)
    except BaseException as err:
        store.finish_run(run_id, "error", error=f"{type(err).__name__}: {err}")
        raise
    stats = {
        "workloads": len(selected),
        "resources": sum(len(i.resources) for i in result.inventories),
        "incomplete_scopes": sum(len(i.incomplete) for i in result.inventories),
        "observations": len(result.observations),
        "findings": len(result.findings),
    }
    store.finish_run(run_id, "ok", stats=stats)
    return result
