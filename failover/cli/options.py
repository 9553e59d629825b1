"""Options and output helpers shared by every subcommand (one way to do each)."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.text import Text

from failover.cli.render import Format
from failover.printable import printable

if TYPE_CHECKING:
    from failover.schema import Config
    from failover.store import Store

F = TypeVar("F", bound=Callable[..., Any])

config_option = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: ./failover.yaml, then $FAILOVER_CONFIG).",
)


def format_option(default: Format = Format.TABLE) -> Callable[[F], F]:
    """``--format``, given to the command as a ``Format`` (for ``failover.cli.render.emit``)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice([f.value for f in Format]),
        default=default.value,
        show_default=True,
        callback=lambda _ctx, _param, value: Format(value),
        help="Output format.",
    )


def open_store(config: Config) -> Store:
    """The config's database (``$FAILOVER_DATABASE_URL`` first), migrated to the newest schema: every
    command opens it this way, as ``with open_store(config) as store:``."""
    from failover.store import Store, resolve_database_url

    return Store.open(resolve_database_url(config.database))


class SafeConsole(Console):
    """A console that shows text as text: every string it renders (table cells, titles, printed lines)
    has its control characters escaped (``failover.printable``), and no markup or emoji codes are read
    from it, so a resource named ``[bold]x`` or ``x\x1b[2J`` prints as exactly that. Renderables built
    as ``Text`` by hand must use ``failover.cli.render.table.cell``."""

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
    from failover.cli.jsontext import indented_json

    click.echo(indented_json(data))


def echo_line(text: str, err: bool = False) -> None:
    """A plain line (warnings, errors, notices) that may carry remote text: shown printable."""
    click.echo(printable(text, keep_newlines=True), err=err)


class Percent(click.ParamType):
    """A finite number from 0 to 100. Click's FloatRange lets NaN through (every comparison with NaN
    is false), and a NaN gate never fails: refused here with infinities and out-of-range values."""

    name = "percent"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or not 0 <= number <= 100:
            self.fail(f"expected a number between 0 and 100, got {value!r}", param, ctx)
        return number


class Duration(click.ParamType):
    """A duration (``90s``, ``15m``, ``7d``) through the config's own parser, as seconds."""

    name = "duration"

    def __init__(self, *, positive: bool = False) -> None:
        self.positive = positive

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        from failover.schema import parse_duration

        if isinstance(value, float):  # a default already converted
            return value
        try:
            seconds = parse_duration(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)
        if self.positive and seconds <= 0:
            self.fail(f"expected a duration greater than zero, got {value!r}", param, ctx)
        return seconds


class Printable(click.ParamType):
    """Text that will be stored or printed: no control characters (see failover.schema)."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from failover.schema import control_character

        text = str(value)
        problem = control_character(text)
        if problem:
            self.fail(problem, param, ctx)
        return text


PERCENT = Percent()
PRINTABLE = Printable()
