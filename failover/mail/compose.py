"""An owner's digest → a ready-to-send ``EmailMessage`` (plain text + HTML). Pure: no I/O.

The HTML is built for mail clients, not browsers: nested tables and inline styles, no scripts, no
images (the weekly trend is a row of table cells plus a unicode sparkline, so it survives blocked
images and stripped styles). Jinja2 autoescapes the HTML template; every value either template shows
has its control characters escaped (``failover.printable``); every value that reaches a header is
flattened to one line first, so a hostile name cannot add headers.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from jinja2 import Environment

from failover.mail.digest import OwnerDigest
from failover.model import Status
from failover.schema import Config, format_duration
from failover.templating import environment, num

__all__ = ["compose", "one_line_header", "render_html", "render_text", "subject_for"]

_STATUS_COLOR = {
    Status.READY: "#1a7f37",
    Status.AT_RISK: "#9a6700",
    Status.NOT_READY: "#cf222e",
    Status.UNKNOWN: "#57606a",
}
_FINDING_COLOR = {"fail": "#cf222e", "unknown": "#57606a", "warn": "#9a6700", "pass": "#1a7f37", "skip": "#57606a"}
_CHANGE_COLOR = {"new": "#cf222e", "worse": "#cf222e", "fixed": "#1a7f37"}
_SPARK = "▁▂▃▄▅▆▇█"
# CR, LF and every other control or line/paragraph separator a header must not carry.
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_BAR_MAX_PX = 36


def one_line_header(value: str, limit: int = 200) -> str:
    """Flatten to one line (no CR/LF or other control characters) and bound its length."""
    text = " ".join(_HEADER_BREAKS.sub(" ", value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def subject_for(prefix: str, iso_week: str, counts: dict[Status, int]) -> str:
    summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no workloads"
    return one_line_header(f"{prefix} Weekly readiness, {iso_week}: {summary}".strip(), limit=300)


def _signed(v: float | None) -> str:
    if v is None:
        return "?"
    text = num(abs(v))
    return "±0" if text == "0" else ("+" if v > 0 else "-") + text


def _spark(values: list[float | None]) -> str:
    out = []
    for v in values:
        if v is None:
            out.append("·")
        else:
            out.append(_SPARK[min(len(_SPARK) - 1, max(0, int(v / 100 * len(_SPARK))))])
    return "".join(out)


def _trendnums(values: list[float | None]) -> str:
    return " ".join(num(v) if v is not None else "-" for v in values)


def _trend_span(values: list[float | None]) -> str:
    """First and last known values ("90 → 60"), readable where the bars are not drawn."""
    known = [v for v in values if v is not None]
    if not known:
        return "no scores"
    return num(known[0]) if len(known) == 1 else f"{num(known[0])} → {num(known[-1])}"


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M %Z").strip()


def _day(d: date) -> str:
    return d.strftime("%a %d %b")


def _fmt(value: object, spec: str) -> str:
    return spec % (value,)


@functools.lru_cache(maxsize=4)
def _env(ready: float, not_ready_below: float) -> Environment:
    env = environment("failover.mail", text_extensions=("txt",), keep_trailing_newline=True)

    def bar_color(v: float | None) -> str:
        if v is None:
            return "#d0d7de"
        return "#1a7f37" if v >= ready else ("#9a6700" if v >= not_ready_below else "#cf222e")

    def bar_height(v: float | None) -> int:
        return 2 if v is None else max(2, round(v / 100 * _BAR_MAX_PX))

    env.filters.update(
        num=num,
        signed=_signed,
        spark=_spark,
        trendnums=_trendnums,
        trend_span=_trend_span,
        when=_when,
        day=_day,
        dur=format_duration,
        fmt=_fmt,
        color=lambda s: _STATUS_COLOR.get(Status(s), "#57606a"),
        finding_color=lambda s: _FINDING_COLOR.get(str(s), "#57606a"),
        change_color=lambda k: _CHANGE_COLOR.get(str(k), "#57606a"),
        bar_color=bar_color,
        bar_height=bar_height,
    )
    return env


def _context(digest: OwnerDigest, config: Config) -> dict[str, object]:
    mail = config.mail
    prefix = mail.subject_prefix if mail else "[failover]"
    return {
        "d": digest,
        "subject": subject_for(prefix, digest.iso_week, digest.counts),
        "summary": ", ".join(f"{n} {s}" for s, n in digest.counts.items()) or "No workloads",
        "docs_url": mail.docs_url if mail else "",
    }


def render_text(digest: OwnerDigest, config: Config) -> str:
    env = _env(config.scoring.ready_threshold, config.scoring.not_ready_below)
    return env.get_template("weekly.txt").render(_context(digest, config))


def render_html(digest: OwnerDigest, config: Config) -> str:
    env = _env(config.scoring.ready_threshold, config.scoring.not_ready_below)
    return env.get_template("weekly.html").render(_context(digest, config))


def compose(
    digest: OwnerDigest, config: Config, *, message_id: str, text: str | None = None, html: str | None = None
) -> EmailMessage:
    """The message for one owner: headers, a text/plain part and a text/html alternative.

    ``text``/``html`` may be passed when already rendered from this digest (to render once).
    """
    if config.mail is None:
        raise ValueError("compose needs config.mail")
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = subject_for(config.mail.subject_prefix, digest.iso_week, digest.counts)
    msg["From"] = Address(display_name="failover", addr_spec=one_line_header(config.mail.from_))
    msg["To"] = Address(addr_spec=one_line_header(digest.owner))
    msg["Date"] = format_datetime(digest.now)
    msg["Message-ID"] = one_line_header(message_id)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    msg["X-Failover-Week"] = digest.iso_week
    msg.set_content(text if text is not None else render_text(digest, config))
    msg.add_alternative(html if html is not None else render_html(digest, config), subtype="html")
    return msg
