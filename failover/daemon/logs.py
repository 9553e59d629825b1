"""Structured logs: one line per event, as text for people or JSON for log pipelines.

Daemon code logs through ``emit(log, level, "job.finished", job="check", ...)``: the event name and its
fields become JSON keys (or ``key=value`` pairs in text). Records from libraries (the mailer, the
adapters) carry no event name and appear as ``event: "log"`` with their message. Every message and
field passes a redaction filter that hides passwords in URLs, a safety net behind the rule that
secrets are never logged in the first place (database URLs go through ``display_url``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from failover.printable import escape_json_controls, printable

__all__ = ["LogFormat", "emit", "redact", "setup_logging"]

LogFormat = Literal["text", "json"]

_FIELDS = "failover_fields"
_EVENT = "failover_event"
# scheme://user:password@host -> scheme://user:***@host
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@")
_RESERVED = {"time", "level", "logger", "event", "msg", "error", "traceback"}


def redact(text: str) -> str:
    return _URL_PASSWORD.sub(r"\g<head>***@", text)


def emit(log: logging.Logger, level: int, event: str, msg: str = "", /, **fields: Any) -> None:
    """Log one event with structured fields (``exc_info`` may be passed to attach the current error)."""
    exc_info = fields.pop("exc_info", None)
    log.log(level, msg or event, exc_info=exc_info, extra={_EVENT: event, _FIELDS: fields})


def _value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, str):
        return redact(v)
    if isinstance(v, list | tuple):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _value(x) for k, x in v.items()}
    if v is None or isinstance(v, bool | int):
        return v
    return redact(str(v))


def _parts(record: logging.LogRecord) -> tuple[str, str, dict[str, Any]]:
    event = getattr(record, _EVENT, None) or "log"
    fields = {k: _value(v) for k, v in (getattr(record, _FIELDS, None) or {}).items()}
    msg = redact(record.getMessage())
    return event, msg, fields


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event, msg, fields = _parts(record)
        out: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": event,
        }
        if msg != event:
            out["msg"] = msg
        for k, v in fields.items():
            out[k if k not in _RESERVED else f"field_{k}"] = v
        if record.exc_info and record.exc_info[1] is not None:
            err = record.exc_info[1]
            out["error"] = redact(f"{type(err).__name__}: {err}")
            out["traceback"] = redact("".join(traceback.format_exception(*record.exc_info)))
        # Exact values; the control characters JSON would leave raw are written as \u escapes.
        return escape_json_controls(json.dumps(out, ensure_ascii=False, default=str))


def _text_value(v: Any) -> str:
    if isinstance(v, list):
        v = ",".join(str(x) for x in v)
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    if not s or any(c in s for c in ' ="\n'):
        return json.dumps(s)  # ASCII only: every control character is an escape
    return printable(s)


class TextFormatter(logging.Formatter):
    """``time LEVEL event msg key=value…``: one line per event, remote text shown printable (a
    newline or escape in a resource name cannot forge a line or reach the terminal)."""

    def format(self, record: logging.LogRecord) -> str:
        event, msg, fields = _parts(record)
        head = f"{_timestamp(record)} {record.levelname:<7} {printable(event)}"
        if msg != event:
            head += f" {printable(msg)}"
        tail = " ".join(f"{printable(k)}={_text_value(v)}" for k, v in fields.items())
        line = f"{head} {tail}" if tail else head
        if record.exc_info and record.exc_info[1] is not None:
            tb = redact("".join(traceback.format_exception(*record.exc_info))).rstrip()
            line += "\n" + "\n".join(f"    {printable(x)}" for x in tb.splitlines())
        return line


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    """An exception escaping a thread (not a job: jobs catch their own) is logged as one event."""
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("failover.daemon").error(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        extra={_EVENT: "thread.crashed", _FIELDS: {"thread": name}},
    )


def setup_logging(fmt: LogFormat = "text", level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Route every logger to one handler on stderr in the chosen format (replacing earlier setup)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # library warnings become events too: every line stays one event
    threading.excepthook = _thread_excepthook
    # Chatty libraries: their warnings still show; the scheduler's own job events are logged by us.
    for name in ("botocore", "boto3", "urllib3", "azure", "google", "httpx", "httpcore", "asyncio"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
