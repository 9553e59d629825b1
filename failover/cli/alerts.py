"""``failover alerts test``: send a test alert to every ``alerts:`` destination (or one), to prove the
URL, key and network path work before a real status change needs them.

Each destination is shown by name, type and host only: a webhook URL's path and query are its
token, and secrets and routing keys are never printed. Exit codes: 0 every test alert delivered;
2 no ``alerts:`` section or an unknown ``--to``; 3 a delivery failed (after its retries) or the
database could not be reached.
"""

from __future__ import annotations

import click

from failover.cli.options import config_option, echo_line, open_store

__all__ = ["alerts"]


@click.group()
def alerts() -> None:
    """Alert destinations (alerts: in the config)."""


@alerts.command("test")
@config_option
@click.option("--to", "to", metavar="NAME", default=None, help="Only this destination (its name: in alerts:).")
@click.pass_context
def test(ctx: click.Context, config_path: str | None, to: str | None) -> None:
    """Send a test alert to every destination (or --to NAME) and print each outcome."""
    from failover.alerts import send_test, shown_url
    from failover.config import load_config
    from failover.errors import ConfigError
    from failover.runner import vantage_of

    config = load_config(config_path)
    if not config.alerts:
        raise ConfigError("the config has no alerts: section, so there is nowhere to send a test alert")
    names = [d.name for d in config.alerts]
    if to is not None and to not in names:
        raise ConfigError(f"unknown alert destination {to!r} (known: {', '.join(names)})")
    chosen = [d for d in config.alerts if to is None or d.name == to]
    failed = 0
    with open_store(config) as store:
        for dest in chosen:
            where = f"{dest.name} ({dest.type}, {shown_url(dest.endpoint)})"
            outcome = send_test(config, store, dest, vantage=vantage_of(config))
            tries = f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
            if outcome.ok:
                click.echo(f"delivered {where}: HTTP {outcome.http_status}, {tries}")
            else:
                failed += 1
                echo_line(f"failed {where}: {outcome.error} ({tries})", err=True)  # the server's words: remote text
    if failed:
        ctx.exit(3)
