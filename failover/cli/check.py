"""``failover check`` (run one cycle), ``failover score`` (read the latest scores) and ``failover
explain`` (every finding of one workload with its evidence and the check's doc)."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from failover.cli.options import PERCENT, Duration, config_option, console, echo_line, format_option, open_store
from failover.cli.render import Format, emit
from failover.cli.render.views import CycleView, ExplainView, ScoresView
from failover.errors import ConfigError

if TYPE_CHECKING:
    from failover.schema import Config
    from failover.store import Store
    from failover.whatif import WhatIf

fail_under_option = click.option(
    "--fail-under",
    type=PERCENT,
    default=None,
    metavar="N",
    help="Exit 1 if any selected workload's readiness is below N, or has no score (a CI gate).",
)
workload_option = click.option(
    "--workload", "-w", "workloads", multiple=True, metavar="NAME", help="Only this workload (repeatable)."
)


def _gate(scores: list, expected: list[str], fail_under: float | None, gaps: dict[str, list[str]] | None = None) -> int:
    """1 when a workload is below ``fail_under``, has no score, or (``check``) rests on an incomplete
    inventory: unknown is never healthy, so the gate does not pass on partial evidence."""
    if fail_under is None:
        return 0
    have = {s.workload: s for s in scores}
    below = [n for n in expected if n not in have or have[n].readiness < fail_under]
    partial = [n for n in expected if (gaps or {}).get(n)]
    if below:
        click.echo(f"below --fail-under {fail_under:g}: {', '.join(below)}", err=True)
    for name in partial:
        assert gaps is not None
        echo_line(f"gate: {name}: inventory incomplete ({'; '.join(gaps[name][:3])})", err=True)
    return 1 if below or partial else 0


@click.command()
@config_option
@workload_option
@format_option()
@fail_under_option
@click.option("--no-inventory", is_flag=True, help="Use the newest stored inventory instead of reading the clouds.")
def check(
    config_path: str | None, workloads: tuple[str, ...], fmt: Format, fail_under: float | None, no_inventory: bool
) -> None:
    """Run one full cycle (inventory, probes, checks, score), store it, and print the findings."""
    from failover.config import load_config
    from failover.runner import run_cycle

    config = load_config(config_path)
    if not config.workloads:
        raise ConfigError(f"{config_path or 'the config'} defines no workloads: nothing to check")
    with open_store(config) as store:
        if fmt.for_people and sys.stderr.isatty():
            with console(stderr=True).status("running checks…") as status:
                result = run_cycle(
                    config,
                    store,
                    workloads=list(workloads),
                    inventory=not no_inventory,
                    progress=lambda step: status.update(f"{step}…"),
                )
        else:
            result = run_cycle(config, store, workloads=list(workloads), inventory=not no_inventory)
    for inv in result.inventories:
        for gap in inv.incomplete:
            echo_line(f"warning: inventory of {inv.account} incomplete at {gap.scope}: {gap.reason}", err=True)
    emit(CycleView(result.run_id, result.scores, result.findings), fmt)
    sys.exit(_gate(result.scores, [s.workload for s in result.scores], fail_under, result.gaps))


@click.command()
@config_option
@workload_option
@format_option()
@fail_under_option
@click.option(
    "--since",
    "since_s",
    type=Duration(),
    default="7d",
    show_default=True,
    metavar="DURATION",
    help="Trend against the score this long ago.",
)
@click.option(
    "--top", type=click.IntRange(min=0), default=3, show_default=True, help="Reasons shown per workload in the table."
)
def score(
    config_path: str | None, workloads: tuple[str, ...], fmt: Format, fail_under: float | None, since_s: float, top: int
) -> None:
    """Print the latest stored scores (no cloud calls) with their trend and top reasons."""
    from failover.config import load_config

    config = load_config(config_path, required=False)
    with open_store(config) as store:
        scores = store.latest_scores()
        if workloads:
            unknown = sorted(set(workloads) - {s.workload for s in scores} - {w.name for w in config.workloads})
            if unknown:
                raise ConfigError(f"unknown workload {', '.join(unknown)}")
            scores = [s for s in scores if s.workload in workloads]
        elif config.workloads:
            configured = {w.name for w in config.workloads}
            scores = [s for s in scores if s.workload in configured]
        previous = store.scores_at({s.workload: s.computed_at - timedelta(seconds=since_s) for s in scores})
        whatif = _whatif(config, store, [s.workload for s in scores])
    expected = list(workloads) or [w.name for w in config.workloads] or [s.workload for s in scores]
    missing = [n for n in expected if n not in {s.workload for s in scores}]
    emit(ScoresView(scores, previous, since_s, top, whatif), fmt)
    if not scores:  # nothing to show is not "all is well": a CI step reading scores must notice
        which = f" for {', '.join(missing)}" if workloads else ""
        click.echo(f"no scores stored yet{which}; run `failover check` (or start `failover daemon`)", err=True)
        sys.exit(1)
    if missing:
        click.echo(f"no score yet for {', '.join(missing)}: run `failover check`", err=True)
    sys.exit(_gate(scores, expected, fail_under))


def _whatif(config: Config, store: Store, names: list[str]) -> list[WhatIf]:
    """The scored workloads the config defines, each with aws, gcp and azure down (``failover whatif
    --all-providers``): as stored with their scores while that still holds, else computed live; none
    without a config or a stored inventory."""
    from failover.whatif.stored import stored_matrix

    wanted = set(names)
    selected = [w for w in config.workloads if w.name in wanted]
    if not selected:
        return []
    every = len(selected) == len(config.workloads)
    return stored_matrix(config, store, None if every else selected, none_uninventoried=True)


@click.command()
@click.argument("workload")
@config_option
@format_option()
def explain(workload: str, config_path: str | None, fmt: Format) -> None:
    """Every finding of WORKLOAD with its evidence and the check's documentation."""
    from failover.config import load_config

    config = load_config(config_path, required=False)
    with open_store(config) as store:
        findings = store.latest_findings(workload)
        scores = store.latest_scores(workload)
    if not findings and not scores:
        raise ConfigError(f"no findings stored for workload {workload!r}: run `failover check` first")
    emit(ExplainView(scores, findings), fmt)
