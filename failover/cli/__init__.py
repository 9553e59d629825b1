"""The ``failover`` command. Subcommands live in their own modules and are imported only when used,
so ``failover --help`` stays fast (the GCP SDK alone costs seconds to import).

Exit codes (public contract): 0 ok; 1 findings/probe over threshold; 2 usage or config error;
3 an operational error (database or cloud unreachable) that stopped the command.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys
import traceback
from typing import Any

import click

from failover import __version__
from failover.errors import FailoverError

# command name -> "module:attribute"; one module per command family.
COMMANDS: dict[str, str] = {
    "init": "failover.cli.config_cmds:init",
    "validate": "failover.cli.config_cmds:validate",
    "db": "failover.cli.db:db",
    "inventory": "failover.cli.inventory:inventory",
    "probe": "failover.cli.probe:probe",
    "check": "failover.cli.check:check",
    "score": "failover.cli.check:score",
    "explain": "failover.cli.check:explain",
    "whatif": "failover.cli.whatif:whatif",
    "drill": "failover.cli.drill:drill",
    "demo": "failover.cli.demo:demo",
    "report": "failover.cli.report:report",
    "daemon": "failover.cli.daemon:daemon",
    "alerts": "failover.cli.alerts:alerts",
}

# Commands that run until stopped; every other one runs once and exits.
LONG_RUNNING = {"daemon"}

# The cyclic collector's thresholds for a command that runs once: a cycle at 1,000 workloads makes
# millions of objects, nearly all freed by reference counting, and at the default (700) the collector
# runs 300-800 times, walking everything young and now and then everything: 0.2-0.5 s of `failover
# score` and ~1 s of `failover check`. Every 50,000 allocations is ~70x less often, for a few MB.
ONE_SHOT_GC_THRESHOLDS = (50_000, 20, 100)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [n for n, target in COMMANDS.items() if importlib.util.find_spec(target.split(":")[0])]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        if importlib.util.find_spec(module) is None:
            return None
        if cmd_name not in LONG_RUNNING:
            gc.set_threshold(*ONE_SHOT_GC_THRESHOLDS)
        cmd: click.Command = getattr(importlib.import_module(module), attr)
        return cmd

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FailoverError as err:
            if ctx.obj and ctx.obj.get("debug"):  # the traceback, and the same exit code as without
                click.echo(traceback.format_exc().rstrip(), err=True)
            from failover.printable import printable

            click.echo(printable(f"error: {err}", keep_newlines=True), err=True)
            ctx.exit(err.exit_code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="failover")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Multi-cloud failover readiness: would each workload fail over, and how long would it take?"""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main() -> None:
    # pydantic looks for plugins by scanning every installed package's entry points when it builds
    # the first model (~10 ms of each command); failover uses none. Set the variable (even empty)
    # to have pydantic look again.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        cli.main(prog_name="failover", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
