"""``failover whatif``: if a provider (or one of its regions) went down now, which workloads keep
serving, how soon, and what breaks, from the stored evidence (``--refresh`` runs a cycle first).

Exit codes: 0 every selected workload survives within its RTO; 1 one does not (or may not); 2 bad
usage (an unknown provider, region or workload, listed with the valid ones); 3 the database is
unreachable.
"""

from __future__ import annotations

import sys

import click

from failover.cli.check import workload_option
from failover.cli.options import config_option, echo_line, format_option, open_store
from failover.cli.render import Format, emit
from failover.errors import ConfigError

__all__ = ["whatif"]


@click.command()
@config_option
@click.option(
    "--down",
    "downs",
    multiple=True,
    metavar="PROVIDER[:REGION]",
    help="The failed domain: aws, gcp, azure (or another configured provider), or one region of it "
    "(aws:us-east-1). Repeatable; a comma list works too.",
)
@click.option("--all-providers", is_flag=True, help="The matrix: each workload with each of aws, gcp and azure down.")
@workload_option
@click.option("--refresh", is_flag=True, help="Run one cycle first (as `failover check` does), then answer.")
@format_option()
def whatif(
    config_path: str | None,
    downs: tuple[str, ...],
    all_providers: bool,
    workloads: tuple[str, ...],
    refresh: bool,
    fmt: Format,
) -> None:
    """If PROVIDER[:REGION] went down now: which workloads keep serving, where, how soon, and why not."""
    from failover.cli.render.views import WhatIfView
    from failover.config import load_config
    from failover.runner import run_cycle, select_workloads
    from failover.schema import PROVIDERS
    from failover.whatif import ALL_PROVIDERS, load_evidence, parse_domain, what_if

    texts = [part.strip() for text in downs for part in text.split(",") if part.strip()]
    if not texts and not all_providers:
        raise ConfigError(
            f"say what goes down: --down PROVIDER[:REGION] (providers: {', '.join(PROVIDERS)}) or --all-providers"
        )
    config = load_config(config_path)
    if not config.workloads:
        raise ConfigError(f"{config_path or 'the config'} defines no workloads: nothing to ask about")
    selected = select_workloads(config, list(workloads))
    with open_store(config) as store:
        if refresh:
            result = run_cycle(config, store, workloads=[w.name for w in selected])
            for inv in result.inventories:
                for gap in inv.incomplete:
                    echo_line(f"warning: inventory of {inv.account} incomplete at {gap.scope}: {gap.reason}", err=True)
        evidence = load_evidence(config, store, selected)
    if not evidence.inventories:
        raise ConfigError("no inventory stored yet: run `failover check` (or pass --refresh) first")
    domains = [parse_domain(t, config, evidence.inventories) for t in texts]
    if all_providers:
        domains += ALL_PROVIDERS
    domains = list(dict.fromkeys(domains))
    results = what_if(config, evidence, domains, selected)
    emit(WhatIfView(results, domains), fmt)
    sys.exit(0 if all(r.within_target for r in results) else 1)
