"""Inventory the config's accounts and keep the snapshot: the one path the CLI (and the runner) use.

An inventory is complete or says where it is not: its run ends ``incomplete`` when any scope could
not be read (``RecordedRun.rests_on``), and nothing here drops an incomplete scope on the way to the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from failover.errors import ConfigError
from failover.model import Inventory, Resource
from failover.schema import Account, Config

if TYPE_CHECKING:
    from failover.store import Store
    from failover.store.runs import Unrecorded

__all__ = [
    "SLOW_SETTINGS_REFRESH_S",
    "InventoryRun",
    "inventory_config",
    "select_accounts",
    "stats_of",
    "store_inventory",
]


def select_accounts(config: Config, names: Iterable[str] | None = None) -> list[Account]:
    """The config's accounts, or only those named (unknown names are a ``ConfigError``)."""
    wanted = list(dict.fromkeys(names or []))
    if not wanted:
        return list(config.accounts)
    known = {a.name: a for a in config.accounts}
    missing = [n for n in wanted if n not in known]
    if missing:
        have = ", ".join(known) or "none defined"
        raise ConfigError(f"--account: unknown account {', '.join(map(repr, missing))} (known: {have})")
    return [known[n] for n in wanted]


# How long a setting that rarely changes and costs a call per resource (EC2 termination protection) is
# carried over from the previous inventory before it is read again; at most half of scoring.stale_after,
# so a carried reading is refreshed well before it counts as stale.
SLOW_SETTINGS_REFRESH_S = 6 * 3600.0


def inventory_config(
    config: Config,
    accounts: Iterable[str] | None = None,
    *,
    on_done: Callable[[Inventory], None] | None = None,
    max_workers: int = 4,
    previous: Sequence[Inventory] = (),
) -> list[Inventory]:
    """Run each selected account's adapter (concurrently); one ``Inventory`` per account, in config order.

    Each account is handed over with its effective ``inventory_deadline`` (the default filled in), the
    declared stores' lag metrics it reads (``Config.lag_metric_reads``), and its ``previous`` inventory
    (the store's newest) as what the adapter may carry over.
    """
    from providers.base import Prior, inventory_accounts

    selected = [
        a.model_copy(update={"inventory_deadline": config.inventory_deadline(a)}).reading(
            config.lag_metric_reads(a.name)
        )
        for a in select_accounts(config, accounts)
    ]
    reuse_for = min(SLOW_SETTINGS_REFRESH_S, config.scoring.stale_after / 2)
    priors = {inv.account: Prior(inv, reuse_for) for inv in previous}
    return inventory_accounts(selected, max_workers=max_workers, on_done=on_done, priors=priors)


def stats_of(inventories: Sequence[Inventory]) -> dict[str, Any]:
    return {
        "accounts": len(inventories),
        "resources": sum(len(inv.resources) for inv in inventories),
        "incomplete_scopes": sum(len(inv.incomplete) for inv in inventories),
        "by_account": {
            inv.account: {"resources": len(inv.resources), "incomplete": [s.to_dict() for s in inv.incomplete]}
            for inv in inventories
        },
    }


@dataclass(frozen=True)
class InventoryRun:
    run_id: int
    inventories: list[Inventory]

    @property
    def resources(self) -> list[Resource]:
        return [r for inv in self.inventories for r in inv.resources]

    @property
    def complete(self) -> bool:
        return all(inv.complete for inv in self.inventories)


def store_inventory(
    config: Config,
    store: Store,
    accounts: Iterable[str] | None = None,
    *,
    on_done: Callable[[Inventory], None] | None = None,
    vantage: str = "",
    config_digest: str = "",
    on_unrecorded: Unrecorded | None = None,
) -> InventoryRun:
    """Inventory and save one snapshot per account under a run of kind ``inventory`` (every account
    when ``accounts`` is None, none when it is empty).

    The run finishes ``ok`` or ``incomplete`` (with per-account counts and the incomplete scopes in its
    stats), or ``error`` when something raised before the snapshot was saved.
    """
    wanted = None if accounts is None else list(accounts)
    selected = [a.name for a in select_accounts(config, wanted)] if wanted is None or wanted else []  # errors first
    with store.recorded_run(
        "inventory", vantage=vantage, config_digest=config_digest, on_unrecorded=on_unrecorded
    ) as run:
        previous = store.latest_inventory(selected) if selected else []
        inventories = inventory_config(config, selected, on_done=on_done, previous=previous) if selected else []
        store.save_inventory(run.id, inventories)
        run.rests_on(inventories)
        run.stats = stats_of(inventories)
    return InventoryRun(run_id=run.id, inventories=inventories)
