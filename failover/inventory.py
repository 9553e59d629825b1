"""Inventory the config's accounts and keep the snapshot: the one path the CLI (and the runner) use.

An inventory is complete or says where it is not: ``status_of`` turns the inventories into a run
status (``ok`` / ``incomplete``), and nothing here drops an incomplete scope on the way to the store.
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

__all__ = [
    "InventoryRun",
    "inventory_config",
    "select_accounts",
    "stats_of",
    "status_of",
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


def inventory_config(
    config: Config,
    accounts: Iterable[str] | None = None,
    *,
    on_done: Callable[[Inventory], None] | None = None,
    max_workers: int = 4,
) -> list[Inventory]:
    """Run each selected account's adapter (concurrently); one ``Inventory`` per account, in config order.

    Each account is handed over with its effective ``inventory_deadline`` (the default filled in).
    """
    from providers.base import inventory_accounts

    selected = [
        a.model_copy(update={"inventory_deadline": config.inventory_deadline(a)})
        for a in select_accounts(config, accounts)
    ]
    return inventory_accounts(selected, max_workers=max_workers, on_done=on_done)


def status_of(inventories: Sequence[Inventory]) -> str:
    return "ok" if all(inv.complete for inv in inventories) else "incomplete"


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
) -> InventoryRun:
    """Inventory and save one snapshot per account under a run of kind ``inventory``.

    The run finishes ``ok`` or ``incomplete`` (with per-account counts and the incomplete scopes in its
    stats), or ``error`` when something raised before the snapshot was saved.
    """
    selected = [a.name for a in select_accounts(config, accounts)]  # config errors before a run exists
    run_id = store.start_run("inventory", vantage=vantage)
    try:
        inventories = inventory_config(config, selected, on_done=on_done)
        store.save_inventory(run_id, inventories)
    except BaseException as err:
        store.finish_run(run_id, "error", error=f"{type(err).__name__}: {err}")
        raise
    store.finish_run(run_id, status_of(inventories), stats=stats_of(inventories))
    return InventoryRun(run_id=run_id, inventories=inventories)
