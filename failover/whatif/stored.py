"""The what-if matrix stored with each score, and read back only while it is still the truth.

Recomputing each workload with aws, gcp and azure down from the store took about a second of every
``failover score`` at 1,000 workloads. The cycle already holds the evidence its scores rest on, so
``judge_matrix`` judges the matrix there, on that same evidence at the same ``now``, and it is stored
with the newest score (``latest_scores.whatif``). ``stored_matrix`` reads it back, and computes a
workload live from the store instead (exactly as before) when its stored matrix is missing (a row
from before migration 0008, a score written by an older version), belongs to another score, or no
longer holds at the time of reading: past ``scoring.stale_after`` of the score, or of the oldest
evidence it read. Stale evidence then reads ``unknown`` as it always did; an old "yes" is never
shown as current.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from failover.model import Drill, Inventory, Observation, utcnow
from failover.whatif.domain import Domain
from failover.whatif.result import WhatIf

if TYPE_CHECKING:
    from failover.assign import ResourceIndex
    from failover.schema import Config, Workload
    from failover.store import Store
    from failover.whatif.evaluate import Worlds

__all__ = ["judge_matrix", "stored_matrix", "worlds_for"]

_VERSION = 1  # the document's shape; another one is read as missing


def worlds_for(
    config: Config, by_account: dict[str, Inventory], index: ResourceIndex, cache: dict[int, tuple[Config, Worlds]]
) -> Worlds:
    """The ``Worlds`` of this config over this indexed inventory, from ``cache`` (one per inventory
    snapshot: the daemon's ``Inventories`` carry it from job to job)."""
    from failover.whatif.evaluate import Worlds

    known = cache.get(id(config))
    if known is not None and known[0] is config:
        return known[1]
    worlds = Worlds(config, by_account, index)
    if len(cache) >= 4:
        cache.clear()
    cache[id(config)] = (config, worlds)
    return worlds


def judge_matrix(
    config: Config,
    worlds: Worlds,
    workloads: Sequence[Workload],
    observations: Sequence[Observation],
    drills: Mapping[str, Drill],
    now: datetime,
    downs: Sequence[Domain],
) -> dict[str, dict[str, Any]]:
    """Per workload, the document ``stored_matrix`` reads: its what-if under each of ``downs`` judged
    on this evidence at ``now`` (the score's time), and the time of the oldest evidence it read."""
    from failover.whatif.evaluate import StoredEvidence, what_if_indexed

    evidence = StoredEvidence(inventories=[], observations=list(observations), drills=drills, now=now)
    results = what_if_indexed(config, worlds, evidence, downs, workloads)
    by_workload: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_workload.setdefault(r.workload, []).append(r.to_dict())
    oldest = _oldest_evidence(config, worlds.by_account, workloads, observations, now)
    return {
        w.name: {
            "version": _VERSION,
            "at": now.isoformat(),
            "evidence_from": oldest[w.name].isoformat(),
            "downs": [str(d) for d in downs],
            "results": by_workload.get(w.name, []),
        }
        for w in workloads
    }


def _oldest_evidence(
    config: Config,
    by_account: Mapping[str, Inventory],
    workloads: Sequence[Workload],
    observations: Sequence[Observation],
    now: datetime,
) -> dict[str, datetime]:
    """Per workload, the time of the oldest evidence its what-if reads that was still fresh at ``now``
    (its accounts' inventories, its observations): the matrix holds until that turns stale."""
    stale_after = config.scoring.stale_after
    oldest: dict[str, datetime] = {}
    for o in observations:
        name = o.workload or ""
        if (now - o.observed_at).total_seconds() <= stale_after and o.observed_at < oldest.get(name, now):
            oldest[name] = o.observed_at
    out = {}
    for w in workloads:
        at = oldest.get(w.name, now)
        for account in config.workload_accounts(w):
            inv = by_account.get(account)
            if inv is not None and inv.finished_at < at and (now - inv.finished_at).total_seconds() <= stale_after:
                at = inv.finished_at
        out[w.name] = at
    return out


def stored_matrix(
    config: Config,
    store: Store,
    workloads: Sequence[Workload] | None = None,
    now: datetime | None = None,
    downs: Sequence[Domain] | None = None,
    *,
    none_uninventoried: bool = False,
) -> list[WhatIf]:
    """``what_if`` of the workloads (all configured by default) under ``downs`` (aws, gcp, azure) as
    ``failover whatif`` answers it, workload by workload: the matrix stored with the newest score
    where it still holds at ``now``, else computed live from the store (see the module docstring).
    ``none_uninventoried``: no matrix at all when nothing is stored and nothing inventoried (what
    ``failover score`` shows then) rather than every answer unknown."""
    from failover.whatif import ALL_PROVIDERS

    selected = list(workloads) if workloads is not None else list(config.workloads)
    downs = list(downs or ALL_PROVIDERS)
    now = now or utcnow()
    wanted = [str(d) for d in downs]
    found: dict[str, list[WhatIf]] = {}
    if selected:
        stored = store.latest_whatif(None if workloads is None else [w.name for w in selected])
        for w in selected:
            at, doc = stored.get(w.name, (None, None))
            results = _valid(doc, at, now, wanted, config.scoring.stale_after)
            if results is not None:
                found[w.name] = results
    live = [w for w in selected if w.name not in found]
    if live:
        from failover.whatif.evaluate import what_if
        from failover.whatif.load import load_evidence

        evidence = load_evidence(config, store, live, now)
        if none_uninventoried and not evidence.inventories and not found:
            return []  # nothing inventoried and nothing stored: no matrix (as before)
        for r in what_if(config, evidence, downs, live):
            found.setdefault(r.workload, []).append(r)
    return [r for w in selected for r in found.get(w.name, [])]


def _valid(
    doc: Any, scored_at: datetime | None, now: datetime, downs: list[str], stale_after: float
) -> list[WhatIf] | None:
    """The stored results, or None when they must be computed live."""
    if scored_at is None or not isinstance(doc, dict) or doc.get("version") != _VERSION or doc.get("downs") != downs:
        return None
    try:
        at = datetime.fromisoformat(doc["at"])
        evidence_from = datetime.fromisoformat(doc["evidence_from"])
        if at != scored_at:  # judged with another score (an older version wrote this one)
            return None
        if now < at or (now - evidence_from).total_seconds() > stale_after:  # evidence_from <= at
            return None
        return [WhatIf.from_dict(d) for d in doc["results"]]
    except (KeyError, TypeError, ValueError):
        return None
