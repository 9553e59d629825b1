"""``failover drill``: record the failover drills a team runs, and list them. The newest drill of each
workload is the evidence behind the ``evidence.drill`` check."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from failover.cli.options import PRINTABLE, Duration, config_option, format_option, open_store
from failover.cli.render import Format, emit
from failover.cli.render.views import DrillsView
from failover.errors import ConfigError


@click.group()
def drill() -> None:
    """Record and list failover drills (game days)."""


@drill.command()
@click.argument("workload")
@config_option
@click.option(
    "--recovery",
    "recovery_s",
    type=Duration(),
    metavar="DURATION",
    help="Measured time until the secondary served users (e.g. 7m).",
)
@click.option("--failed", is_flag=True, help="The failover did not work.")
@click.option("--at", "at", metavar="ISO-8601", help="When the drill ran (default: now; not in the future).")
@click.option("--notes", type=PRINTABLE, default="", help="What happened, in a line.")
def record(
    workload: str, config_path: str | None, recovery_s: float | None, failed: bool, at: str | None, notes: str
) -> None:
    """Record a drill of WORKLOAD."""
    from failover.config import load_config
    from failover.model import Drill
    from failover.schema import format_duration

    now = datetime.now(UTC)
    when = _drill_time(at, now) if at else now
    config = load_config(config_path)
    if workload not in {w.name for w in config.workloads}:
        known = ", ".join(w.name for w in config.workloads) or "none"
        raise ConfigError(f"unknown workload {workload!r} (known: {known})")
    with open_store(config) as store:
        store.record_drill(Drill(workload, when, succeeded=not failed, recovery_s=recovery_s, notes=notes))
    outcome = "failed" if failed else f"recovered in {format_duration(recovery_s)}" if recovery_s else "succeeded"
    click.echo(f"recorded: {workload} drill of {when:%Y-%m-%d %H:%M} UTC, {outcome}")


def _drill_time(at: str, now: datetime) -> datetime:
    """``--at`` as an aware UTC time (no zone means UTC), not later than ``now`` plus the clock skew."""
    from failover.model import DRILL_CLOCK_SKEW

    try:
        when = datetime.fromisoformat(at)
        when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: a zone offset past year 1 or 9999
        raise ConfigError(f"--at: expected an ISO-8601 time like 2026-11-20T14:00Z, got {at!r}") from None
    if when > now + DRILL_CLOCK_SKEW:
        raise ConfigError(
            f"--at: {when:%Y-%m-%d %H:%M} UTC is in the future (now {now:%Y-%m-%d %H:%M} UTC): "
            "record a drill once it has run"
        )
    return when


@drill.command(name="list")
@click.argument("workload", required=False)
@config_option
@format_option()
def list_(workload: str | None, config_path: str | None, fmt: Format) -> None:
    """List recorded drills, newest first."""
    from failover.config import load_config

    config = load_config(config_path, required=False)
    with open_store(config) as store:
        drills = store.drills(workload)
    emit(DrillsView(drills), fmt)
