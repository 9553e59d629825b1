"""``failover inventory``: read the configured accounts, store the snapshot, show it by workload site.

Exit codes: 0 every scope was read; 1 the inventory is incomplete somewhere (each gap is printed to
stderr as ``warning: …``; what was read is still shown and stored); 2 config/usage error; 3 the
database could not be opened or written.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from failover.cli.options import config_option, console, echo_line, format_option, open_store
from failover.cli.render import Format, emit
from failover.cli.render.table import summary_line
from failover.cli.render.views import InventoryView, SiteResources
from failover.errors import ConfigError
from failover.model import Inventory, Resource
from failover.printable import printable
from failover.schema import Config


def assignments(config: Config, resources: list[Resource]) -> tuple[dict[int, list[dict[str, str]]], Any]:
    """id(resource) -> [{workload, site, role}], plus ``assign``'s (by_site, unassigned)."""
    from failover.assign import assign

    by_site, unassigned = assign(config, resources)
    roles = {(w.name, s.name): s.role for w in config.workloads for s in w.sites}
    out: dict[int, list[dict[str, str]]] = {}
    for (workload, site), matched in by_site.items():
        for r in matched:
            out.setdefault(id(r), []).append({"workload": workload, "site": site, "role": roles[(workload, site)]})
    return out, (by_site, unassigned)


@click.command()
@config_option
@click.option("--account", "accounts", multiple=True, metavar="NAME", help="Only this account (repeatable).")
@format_option()
@click.option("--no-store", is_flag=True, help="Print the inventory without saving a snapshot.")
def inventory(config_path: str | None, accounts: tuple[str, ...], fmt: Format, no_store: bool) -> None:
    """Inventory the configured cloud accounts and show the resources by workload site."""
    from failover.config import load_config
    from failover.inventory import InventoryRun, inventory_config, select_accounts, store_inventory

    config = load_config(config_path)
    if not config.accounts:
        raise ConfigError(f"{config_path or 'the config'} defines no accounts: nothing to inventory")
    selected = select_accounts(config, accounts)
    names = [a.name for a in selected]

    def run(on_done: Any = None) -> list[Inventory]:
        if no_store:
            return inventory_config(config, names, on_done=on_done)
        from failover.runner import vantage_of

        with open_store(config) as store:
            done: InventoryRun = store_inventory(config, store, names, on_done=on_done, vantage=vantage_of(config))
        return done.inventories

    if sys.stdout.isatty():
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False), TimeElapsedColumn())
        with Progress(*columns, console=console(), transient=True) as bar:
            tasks = {a.name: bar.add_task(f"inventory {a.name} ({a.provider})", total=1) for a in selected}

            def on_done(inv: Inventory) -> None:
                bar.update(tasks[inv.account], completed=1, description=printable(summary_line(inv)))

            inventories = run(on_done)
    else:
        inventories = run()

    resources = [r for inv in inventories for r in inv.resources]
    where, (by_site, unassigned) = assignments(config, resources)
    sites = [
        SiteResources(w.name, s.name, s.role, s.account, by_site.get((w.name, s.name), []))
        for w in config.workloads
        for s in w.sites
        if s.account in names
    ]
    emit(InventoryView(inventories, resources, where, sites, unassigned), fmt)
    for inv in inventories:
        for gap in inv.incomplete:
            echo_line(
                f"warning: inventory of {inv.account} incomplete at {gap.scope} ({gap.error}): {gap.reason}", err=True
            )
    if not all(inv.complete for inv in inventories):
        click.get_current_context().exit(1)
