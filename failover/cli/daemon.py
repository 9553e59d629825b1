"""``failover daemon``: run inventory, checks, the weekly email and retention on a schedule, serving
/healthz and /metrics, until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import sys

import click

from failover.cli.options import config_option


@click.command()
@config_option
@click.option(
    "--listen",
    metavar="HOST:PORT",
    default=None,
    help="Serve /healthz and /metrics here (overrides daemon.listen; port 0 picks a free port).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One line per event: text for people, json for log pipelines.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="Least severe events to log.",
)
@click.option("--once", is_flag=True, help="Run each job once (inventory, check, mail if due, retention) and exit.")
def daemon(config_path: str | None, listen: str | None, log_format: str, log_level: str, once: bool) -> None:
    """Run continuously: inventory, probes+checks+scoring per workload, weekly email, retention.

    Exit codes: 0 stopped by SIGTERM/SIGINT (or --once with every job ok); 2 config error;
    3 could not start (database unreachable, another daemon on the same SQLite file, listen address
    taken) or, with --once, a job failed.
    """
    from failover.config import load_config
    from failover.daemon import Daemon, stop_on_signals
    from failover.daemon.logs import setup_logging

    setup_logging("json" if log_format == "json" else "text", getattr(logging, log_level.upper()))
    config = load_config(config_path)
    stop = stop_on_signals()
    with Daemon.open(config, listen=listen, stop=stop) as app:
        code = app.run_once() if once else app.serve()
    sys.exit(code)
