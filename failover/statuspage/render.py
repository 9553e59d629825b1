"""The status pages as HTML strings: ``render_index`` and ``render_workload``, one Jinja2 environment
for both the daemon and ``failover report --html``. Pure: no I/O.

Jinja2 autoescapes every template (they are all ``.html``), and every value a template shows passes
through ``failover.printable`` first, so a workload name, finding message or evidence string from a
remote server is shown as text: ``<script>`` as characters, control and bidi characters as ``\\x1b``
or ``\\u202e``. Only the sparkline (numbers and fixed words, built in ``sparkline``) is markup we made.
No page carries JavaScript.
"""

from __future__ import annotations

import functools
from datetime import datetime

from jinja2 import Environment
from markupsafe import Markup, escape

from failover.printable import printable
from failover.schema import format_duration
from failover.statuspage.model import IndexPage, WorkloadPage
from failover.statuspage.sparkline import sparkline, trend_words
from failover.templating import environment, num

__all__ = ["render_index", "render_workload"]

_STATUS_MARK = {"READY": "✓", "AT_RISK": "!", "NOT_READY": "✗", "UNKNOWN": "?"}
_FINDING_MARK = {"pass": "✓", "warn": "!", "fail": "✗", "unknown": "?", "skip": "-"}
_SURVIVES_MARK = {"yes": "✓", "no": "✗", "unknown": "?"}


def _multiline(value: str) -> Markup:
    """Text laid out on several lines (indented evidence JSON): printable but for its newlines, escaped."""
    return Markup(escape(printable(value, keep_newlines=True)))


def _when(at: datetime | None) -> str:
    return "never" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


def _pct(v: float) -> str:
    return f"{v:.0%}"


@functools.lru_cache(maxsize=1)
def _env() -> Environment:
    env = environment("failover.statuspage")
    env.filters.update(
        num=num,
        dur=format_duration,
        when=_when,
        pct=_pct,
        status_mark=lambda s: _STATUS_MARK.get(str(s), "?"),
        finding_mark=lambda s: _FINDING_MARK.get(str(s), "?"),
        survives_mark=lambda s: _SURVIVES_MARK.get(str(s), "?"),
        trend_words=trend_words,
        multiline=_multiline,
        spark=lambda values, threshold=80.0, width=120, height=28: Markup(
            sparkline(values, width=width, height=height, threshold=threshold)
        ),
    )
    return env


def render_index(page: IndexPage) -> str:
    return _env().get_template("index.html").render(page=page)


def render_workload(page: WorkloadPage) -> str:
    return _env().get_template("workload.html").render(page=page, w=page.summary)
