"""One place that renders: a command builds a result (a view from ``failover.cli.render.views``, or
an ``Observation``) and hands it to ``emit(result, fmt)``; the renderer registered for ``fmt`` shows
it. Commands never branch on the format.

One module per format, each with ``emit(result)``: ``table`` (for people: rich tables whose remote
text goes through ``failover.printable``) and ``json`` (for programs: the documented JSON shapes,
every value exact). A new format is a new ``Format`` member, a module here with an ``emit`` that
covers every view, and its entry in ``RENDERERS``. Renderers are imported when used, like the
commands in ``failover.cli.COMMANDS``, so ``--help`` stays fast.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import Protocol, cast

__all__ = ["RENDERERS", "Format", "Renderer", "emit"]


class Format(StrEnum):
    """The ``--format`` values (public contract)."""

    TABLE = "table"
    JSON = "json"

    @property
    def for_people(self) -> bool:
        """Output a person reads at a terminal, so a spinner on stderr may accompany it; a program
        reading the output gets no spinner."""
        return self is Format.TABLE


class Renderer(Protocol):
    def emit(self, result: object) -> None:
        """Write ``result`` to stdout (and its notices to stderr) in this module's format."""


# format -> the module that renders it (imported on first use).
RENDERERS: dict[Format, str] = {
    Format.TABLE: "failover.cli.render.table",
    Format.JSON: "failover.cli.render.json",
}


def emit(result: object, fmt: Format | str) -> None:
    """Show ``result`` in ``fmt``: the one way every command writes its output."""
    renderer = cast(Renderer, importlib.import_module(RENDERERS[Format(fmt)]))
    renderer.emit(result)
