"""One cycle: inventory (while the endpoints are probed) -> DNS probes -> checks -> store -> score.
The CLI, the demo and the daemon's check job all run ``run_cycle``, so there is one code path from
evidence to score; ``CycleSteps`` says how a caller runs the steps (the daemon's cancellable probes,
its metrics, its merge of every vantage's observations on the scoring leader), never what they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from failover.assign import ResourceIndex
from failover.checks import Evidence, run_checks
from failover.checks.dns import names_to_resolve
from failover.errors import ConfigError
from failover.model import Drill, Finding, Inventory, Observation, Score, utcnow
from failover.probing import probe_dns_paths, probe_endpoints
from failover.schema import Config, Workload
from failover.scoring import score
from failover.store import Store
from failover.store.runs import RecordedRun, Unrecorded
from probes.loop import run as run_loop

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
CheckError = Callable[[Workload, Exception], None]


def _nothing() -> None:
    pass


def _ignore(_observations: list[Observation]) -> None:
    pass


@dataclass(frozen=True)
class CycleSteps:
    """How a caller runs the cycle's steps. The defaults are the CLI's: one process, probes on a
    fresh event loop (uvloop where installed), the first error ends the run."""

    # runs the probe coroutine to completion (the daemon's cancels it when the daemon stops)
    run_async: Callable[[Coroutine[Any, Any, list[Observation]]], list[Observation]] = run_loop
    # called before each write; raises ``RunCancelled`` (or a subclass) to stop the run there
    checkpoint: Callable[[], None] = _nothing
    # sees this vantage's observations as soon as the probes return
    on_observations: Callable[[list[Observation]], None] = _ignore
    # also judge on every other vantage's newest stored observations (the daemons' scoring leader)
    other_vantages: bool = False
    # one workload's checks raising: None ends the run with the error; a callback hears of it and the
    # other workloads are still scored (the workload's name lands in ``CycleResult.broken``)
    on_check_error: CheckError | None = None
    on_unrecorded: Unrecorded | None = None  # see ``Store.recorded_run``
    # where a cycle with ``inventory=False`` gets the newest stored inventory of these accounts; None
    # reads it from the store (the CLI). The daemon passes its cache, loaded once per inventory run.
    stored_inventory: Callable[[list[str]], Inventories] | None = None


@dataclass(frozen=True)
class Inventories:
    """Inventories with their by-account map and one ``ResourceIndex`` over them, built once and shared
    by every step of a cycle (and by the daemon's cycles until a newer inventory run is stored)."""

    inventories: list[Inventory]
    by_account: dict[str, Inventory]
    index: ResourceIndex
    whole: dict[str, Inventory] = field(default_factory=dict)  # what ``index`` was built over
    # the what-if's inventories without each domain (``failover.whatif.stored.worlds_for``), shared
    # with every ``only`` of these inventories: built once per snapshot, not once per job
    worlds: dict[int, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, inventories: list[Inventory]) -> Inventories:
        by_account = {inv.account: inv for inv in inventories}
        return cls(list(inventories), by_account, ResourceIndex.of(by_account), by_account)

    def only(self, accounts: list[str]) -> Inventories:
        """The inventories of these accounts, sharing this index (built over a superset of them:
        lookups key on the account, so extra accounts answer nothing the workloads do not use)."""
        wanted = set(accounts)
        kept = [inv for inv in self.inventories if inv.account in wanted]
        return Inventories(kept, {inv.account: inv for inv in kept}, self.index, self.whole, self.worlds)


def _indexed(inventories: list[Inventory] | Inventories) -> Inventories:
    return inventories if isinstance(inventories, Inventories) else Inventories.of(inventories)


@dataclass
class CycleResult:
    run_id: int
    inventories: list[Inventory] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)  # this run's own, as stored
    findings: list[Finding] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    # workload -> why the inventory under its sites is incomplete or stale (empty: complete)
    gaps: dict[str, list[str]] = field(default_factory=dict)
    broken: list[str] = field(default_factory=list)  # workloads whose checks raised (see CycleSteps)
    stats: dict[str, Any] = field(default_factory=dict)  # as recorded on the run


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


_DIGESTS: dict[int, tuple[Config, str]] = {}  # id -> (the config, kept alive so its id is not reused; digest)


def config_digest(config: Config) -> str:
    """A short digest of the config, recorded on every run. Serializing a config of 1,000 workloads
    takes ~40 ms, and the daemon records a run per second: each config object is digested once."""
    known = _DIGESTS.get(id(config))
    if known is not None and known[0] is config:
        return known[1]
    digest = hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]
    if len(_DIGESTS) >= 8:
        _DIGESTS.clear()
    _DIGESTS[id(config)] = (config, digest)
    return digest


def used_accounts(config: Config, workloads: list[Workload]) -> list[str]:
    """The accounts these workloads use (sites and DNS path), in config order."""
    used = {a for w in workloads for a in config.workload_accounts(w)}
    return [a.name for a in config.accounts if a.name in used]


def secondary_targets(
    config: Config, workloads: list[Workload], inventories: list[Inventory] | Inventories
) -> dict[str, dict[str, list[str]]]:
    """Per workload, the secondary target names the DNS probes resolve (``names_to_resolve``); a
    workload whose plan cannot be made gets none, and its checks report the names unresolved."""
    invs = _indexed(inventories)
    by_account, index = invs.by_account, invs.index
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
    inventories: list[Inventory] | Inventories,
    observations: list[Observation],
    now: datetime,
    drills: Mapping[str, Drill] | None = None,
    *,
    on_error: CheckError | None = None,
) -> tuple[list[Finding], list[Score]]:
    """Pure: findings and scores for each workload from the evidence at hand. A workload whose checks
    raise ends the evaluation, unless ``on_error`` takes the error and the others carry on."""
    invs = _indexed(inventories)  # one index for every workload: the checks' lookups stay cheap
    by_account, index = invs.by_account, invs.index
    by_workload: dict[str, list[Observation]] = {}
    for o in observations:
        by_workload.setdefault(o.workload or "", []).append(o)
    findings: list[Finding] = []
    scores: list[Score] = []
    for w in workloads:
        try:
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
            ws = score(ev, wf)
        except Exception as err:
            if on_error is None:
                raise
            on_error(w, err)
            continue
        findings += wf
        scores.append(ws)
    return findings, scores


def inventory_gaps(
    config: Config, workloads: list[Workload], inventories: list[Inventory] | Inventories, now: datetime
) -> dict[str, list[str]]:
    """Pure: for each workload whose sites rest on an incomplete or stale inventory, the gaps (the
    same ones its checks report as unknown). A gate must not pass on such partial evidence."""
    invs = _indexed(inventories)
    by_account, index = invs.by_account, invs.index
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
    scoring: bool = True,
    kind: str = "check",
    progress: Progress | None = None,
    now: datetime | None = None,
    steps: CycleSteps = CycleSteps(),
) -> CycleResult:
    """Run one cycle as one recorded run and store everything it learned. With ``inventory=False``
    the newest stored inventory is used (the daemon inventories less often than it probes); with
    ``scoring=False`` the cycle stops after storing the observations (a daemon that does not score)."""
    say = progress or (lambda _msg: None)
    selected = select_workloads(config, workloads)
    vantage = vantage_of(config)
    with store.recorded_run(
        kind, vantage=vantage, config_digest=config_digest(config), on_unrecorded=steps.on_unrecorded
    ) as run:
        result = CycleResult(run_id=run.id)
        say("inventory and probes" if inventory else "probes")
        if inventory:
            read = _inventory_reader(config, store, selected)
        else:
            read = _stored_reader(config, store, selected, steps)
        invs, result.observations = _read_and_probe(config, store, run, selected, vantage, steps, read, save=inventory)
        result.inventories = invs.inventories
        if scoring:
            say("checks")
            judged = judge(
                config,
                store,
                run,
                selected,
                invs,
                result.observations,
                vantage=vantage,
                now=now or utcnow(),
                steps=steps,
            )
            result.findings, result.scores = judged.findings, judged.scores
            result.gaps, result.broken = judged.gaps, judged.broken
        run.stats = result.stats = _stats(selected, result, judged=scoring)
    return result


def _stored_reader(
    config: Config, store: Store, workloads: list[Workload], steps: CycleSteps
) -> Callable[[], Inventories]:
    """The newest stored inventory of the workloads' accounts (the daemon's cache of it, when it has one)."""
    names = used_accounts(config, workloads)
    cached = steps.stored_inventory
    if cached is not None:
        return lambda: cached(names)
    return lambda: Inventories.of(store.latest_inventory(names))


def _inventory_reader(config: Config, store: Store, workloads: list[Workload]) -> Callable[[], Inventories]:
    """A fresh inventory of the workloads' accounts; what rarely changes and costs a call per resource
    (termination protection) is carried over from the newest stored one."""
    from failover.inventory import inventory_config

    names = used_accounts(config, workloads)
    previous = store.latest_inventory(names) if names else []
    return lambda: Inventories.of(inventory_config(config, names, previous=previous) if names else [])


def _read_and_probe(
    config: Config,
    store: Store,
    run: RecordedRun,
    workloads: list[Workload],
    vantage: str,
    steps: CycleSteps,
    read: Callable[[], Inventories],
    *,
    save: bool,
) -> tuple[Inventories, list[Observation]]:
    """Read the inventory (``read``, on a thread) while the endpoints are probed (they need none; only
    the DNS paths' secondary targets do), then walk the DNS paths; store the observations (and with
    ``save`` the inventory) under the run. The same observations, in the same order, as reading first
    and probing after: the clouds' answers (or the store's) and the probes' round trips overlap
    instead of adding up."""
    got: list[Inventories] = []

    async def both() -> list[Observation]:
        endpoints = asyncio.ensure_future(probe_endpoints(config, workloads, vantage))
        try:
            got.append(await asyncio.to_thread(read))
        except BaseException:
            endpoints.cancel()
            with contextlib.suppress(BaseException):
                await endpoints
            raise
        paths = await probe_dns_paths(config, workloads, vantage, secondary_targets(config, workloads, got[0]))
        return await endpoints + paths

    observations = steps.run_async(both())
    invs = got[0]
    if save:
        store.save_inventory(run.id, invs.inventories)
    run.rests_on(invs.inventories)
    steps.on_observations(observations)
    steps.checkpoint()
    store.save_observations(run.id, observations)
    return invs, observations


@dataclass
class Judgement:
    findings: list[Finding] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    gaps: dict[str, list[str]] = field(default_factory=dict)
    broken: list[str] = field(default_factory=list)


def judge(
    config: Config,
    store: Store,
    run: RecordedRun,
    workloads: list[Workload],
    inventories: list[Inventory] | Inventories,
    observations: list[Observation],
    *,
    vantage: str,
    now: datetime,
    steps: CycleSteps,
) -> Judgement:
    """Check and score the workloads on the run's evidence (and, with ``steps.other_vantages``, what
    the other vantages saw last), then store findings and scores under the run."""
    seen = list(observations)
    if steps.other_vantages:  # the checks take the worst fresh view; stale_after drops a silent vantage
        seen += [o for w in workloads for o in store.latest_observations(w.name) if o.vantage != vantage]
    drills = store.latest_drills((w.name for w in workloads), now)
    invs = _indexed(inventories)
    out = Judgement()
    on_check_error = steps.on_check_error

    def failed(w: Workload, err: Exception) -> None:
        out.broken.append(w.name)
        if on_check_error is not None:
            on_check_error(w, err)

    out.findings, out.scores = evaluate(
        config, workloads, invs, seen, now, drills, on_error=failed if on_check_error is not None else None
    )
    out.gaps = inventory_gaps(config, workloads, invs, now)
    scored = {s.workload for s in out.scores}
    matrix = _whatif(config, invs, [w for w in workloads if w.name in scored], seen, drills, now)
    steps.checkpoint()
    store.save_findings(run.id, out.findings)
    store.save_scores(run.id, out.scores, matrix)
    return out


def _whatif(
    config: Config,
    invs: Inventories,
    workloads: list[Workload],
    seen: list[Observation],
    drills: Mapping[str, Drill],
    now: datetime,
) -> dict[str, Any]:
    """Each scored workload with aws, gcp and azure down, judged on the evidence its score rests on,
    stored with the score so ``failover score`` reads it instead of recomputing it
    (``failover.whatif.stored``). Nothing when the matrix cannot be judged: readers compute it live."""
    from failover.whatif import ALL_PROVIDERS
    from failover.whatif.stored import judge_matrix, worlds_for

    if not workloads or not invs.inventories:
        return {}
    try:
        worlds = worlds_for(config, invs.whole or invs.by_account, invs.index, invs.worlds)
        return judge_matrix(config, worlds, workloads, seen, drills, now, ALL_PROVIDERS)
    except Exception as err:  # a bug here must not cost the scores: readers fall back to the live matrix
        log.warning("what-if matrix not stored (readers compute it live): %s: %s", type(err).__name__, err)
        return {}


def _stats(workloads: list[Workload], result: CycleResult, *, judged: bool) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "workloads": len(workloads),
        "resources": sum(len(i.resources) for i in result.inventories),
        "incomplete_scopes": sum(len(i.incomplete) for i in result.inventories),
        "observations": len(result.observations),
    }
    if judged:
        stats.update(findings=len(result.findings), scores=len(result.scores))
    return stats
