"""The newest stored inventory, loaded once per inventory run and shared by every check job.

A daemon runs about one check job per second; the inventory changes once per
``daemon.inventory_interval``. Reloading every resource from the store and indexing it in every job
made each job cost O(N) and a sweep O(N²). The cache asks the store one small question per job (the
newest snapshot id of each account: ``Store.inventory_version``) and reloads only when the answer
changes, so a new inventory run, from this daemon, another one or ``failover check``, is used by the
next job.
"""

from __future__ import annotations

import threading

from failover.runner import Inventories
from failover.store import Store

__all__ = ["InventoryCache"]


class InventoryCache:
    """``get(accounts)`` as ``CycleSteps.stored_inventory``; ``loads`` counts the full reloads."""

    def __init__(self, store: Store, accounts: list[str]) -> None:
        self.store = store
        self.accounts = list(accounts)  # every account a configured workload uses
        self.loads = 0
        self._version: tuple[tuple[str, int], ...] | None = None
        self._loaded = Inventories.of([])
        self._lock = threading.Lock()  # jobs at once wait for one reload instead of each doing it

    def get(self, accounts: list[str]) -> Inventories:
        version = self.store.inventory_version(self.accounts)
        with self._lock:
            if version != self._version:
                self._loaded = Inventories.of(self.store.latest_inventory(self.accounts))
                self._version = version
                self.loads += 1
            loaded = self._loaded
        return loaded.only(accounts)
