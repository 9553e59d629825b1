"""Options and output helpers shared by every subcommand (one way to do each)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.text import Text

from failover.printable import printable

F = TypeVar("F", bound=Callable[..., Any])

config_option = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: ./failover.yaml, then $FAILOVER_CONFIG).",
)


def format_option(default: str = "table") -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json"]),
        default=default,
        show_default=True,
        help="Output format.",
    )


class SafeConsole(Console):
    """A console that shows text as text: every string it renders (table cells, titles, printed lines)
    has its control characters escaped (``failover.printable``), and no markup or emoji codes are read
    from it, so a resource named ``[bold]x`` or ``x\x1b[2J`` prints as exactly that. Renderables built
    as ``Text`` by hand must use ``failover.cli.render.cell``."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["markup"] = False
        kwargs["emoji"] = False
        return super().render_str(printable(text, keep_newlines=True), **kwargs)


def console(stderr: bool = False) -> Console:
    """Rich console; when not a terminal (CI logs, pipes) tables get 160 columns instead of 80."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 160
    return SafeConsole(stderr=stderr, highlight=False, soft_wrap=False, width=width, markup=False, emoji=False)


def echo_json(data: Any) -> None:
    """JSON keeps every value exactly (ASCII-only output: control characters appear as escapes)."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def echo_line(text: str, err: bool = False) -> None:
    """A plain line (warnings, errors, notices) that may carry remote text: shown printable."""
    click.echo(printable(text, keep_newlines=True), err=err)
