"""What the two HTML renderers (the weekly email, the status page) share: one Jinja2 environment
recipe and the filters whose meaning must not drift between them. Remote text is shown through
``failover.printable`` on every ``{{ value }}``, and autoescape is on for HTML."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from failover.printable import printable

__all__ = ["environment", "num", "shown"]


def shown(value: object) -> object:
    """Every ``{{ value }}``: strings printable (remote names and reasons can carry control characters
    and escapes that would reach a reader's terminal); markup we built and non-strings as they are."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value)
    return value


def num(v: float | None) -> str:
    """A score or duration figure: whole when it is (to a tenth), else one decimal; ``?`` unknown."""
    if v is None:
        return "?"
    return f"{v:.0f}" if abs(v - round(v)) < 0.05 else f"{v:.1f}"


def environment(
    package: str, *, text_extensions: tuple[str, ...] = (), keep_trailing_newline: bool = False
) -> Environment:
    """The templates of ``package`` (its ``templates/`` folder): HTML autoescaped, ``text_extensions``
    not (plain-text parts), undefined names an error, every value through ``shown``."""
    return Environment(
        finalize=shown,
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html",), disabled_extensions=text_extensions, default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=keep_trailing_newline,
    )
