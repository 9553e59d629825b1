"""``failover inventory``: read the configured accounts, store the snapshot, show it by workload site.

Exit codes: 0 every scope was read; 1 the inventory is incomplete somewhere (each gap is printed to
stderr as ``warning: …``; what was read is still shown and stored); 2 config/usage error; 3 the
database could not be opened or written.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from failover.cli.options import config_option, console, echo_json, echo_line, format_option
from failover.errors import ConfigError
from failover.model import Capacity, Inventory, Resource
from failover.printable import printable
from failover.schema import Config


def capacity_text(c: Capacity) -> str:
    parts = []
    if c.instances is not None:
        parts.append(f"{c.instances} inst")
    if c.vcpu is not None:
        parts.append(f"{c.vcpu:g} vCPU")
    if c.memory_mib is not None:
        parts.append(f"{c.memory_mib / 1024:g} GiB")
    return " · ".join(parts)


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


def resource_json(r: Resource, where: list[dict[str, str]]) -> dict[str, Any]:
    first = where[0] if where else {}
    return {
        **r.to_dict(),
        "workload": first.get("workload"),
        "site": first.get("site"),
        "assignments": where,
    }


def summary_line(inv: Inventory) -> str:
    head = f"{inv.account} ({inv.provider}): {len(inv.resources)} resources"
    if inv.complete:
        return f"{head}, complete"
    gaps = "; ".join(f"{s.scope} {s.error}" for s in inv.incomplete)
    return f"{head}, {len(inv.incomplete)} scopes incomplete: {gaps}"


def _table(title: str, resources: list[Resource]) -> Any:
    from rich.table import Table

    from failover.cli.render import cell

    table = Table(title=title, title_justify="left", expand=False)
    for col in ("kind", "name", "id", "region", "zone", "state", "capacity"):
        table.add_column(col, overflow="fold")
    for r in sorted(resources, key=lambda r: (r.kind, r.region, r.name, r.native_id)):
        table.add_row(
            str(r.kind),
            cell(r.name),
            cell(r.native_id),
            cell(r.region or "global"),
            cell(r.zone),
            cell(r.state),
            capacity_text(r.capacity),
        )
    return table


@click.command()
@config_option
@click.option("--account", "accounts", multiple=True, metavar="NAME", help="Only this account (repeatable).")
@format_option()
@click.option("--no-store", is_flag=True, help="Print the inventory without saving a snapshot.")
def inventory(config_path: str | None, accounts: tuple[str, ...], fmt: str, no_store: bool) -> None:
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
        from failover.store import Store, resolve_database_url

        store = Store.open(resolve_database_url(config.database))
        try:
            done: InventoryRun = store_inventory(config, store, names, on_done=on_done, vantage=vantage_of(config))
        finally:
            store.close()
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
    if fmt == "json":
        echo_json([resource_json(r, where.get(id(r), [])) for r in resources])
    else:
        out = console()
        for w in config.workloads:
            for s in w.sites:
                matched = by_site.get((w.name, s.name), [])
                if s.account in names:
                    out.print(_table(f"{w.name} / {s.name} ({s.role}, {s.account}): {len(matched)}", matched))
        if unassigned:
            out.print(_table(f"unassigned: {len(unassigned)}", unassigned))
        for inv in inventories:
            out.print(summary_line(inv))
    for inv in inventories:
        for gap in inv.incomplete:
            echo_line(
                f"warning: inventory of {inv.account} incomplete at {gap.scope} ({gap.error}): {gap.reason}", err=True
            )
    if not all(inv.complete for inv in inventories):
        click.get_current_context().exit(1)
