"""The stored evidence the what-if reads, loaded the way a cycle's checks would see it: the newest
inventory of every account the workloads use, their newest observations from every vantage, and
their newest drills. No cloud calls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from failover.model import Observation, utcnow
from failover.runner import used_accounts
from failover.schema import Config, Workload
from failover.store import Store
from failover.whatif.evaluate import StoredEvidence


def load_evidence(
    config: Config, store: Store, workloads: Sequence[Workload] | None = None, now: datetime | None = None
) -> StoredEvidence:
    selected = list(workloads) if workloads is not None else list(config.workloads)
    now = now or utcnow()
    return StoredEvidence(
        inventories=store.latest_inventory(used_accounts(config, selected)),
        observations=_in_order(selected, store.latest_observations(workloads=[w.name for w in selected])),
        drills=store.latest_drills((w.name for w in selected), now),
        now=now,
    )


def _in_order(workloads: Sequence[Workload], observations: list[Observation]) -> list[Observation]:
    """Workload by workload in the given order, each in the store's key order."""
    by_workload: dict[str | None, list[Observation]] = {}
    for o in observations:
        by_workload.setdefault(o.workload, []).append(o)
    return [o for w in workloads for o in by_workload.get(w.name, [])]
