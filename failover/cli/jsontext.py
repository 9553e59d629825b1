"""The CLI's JSON text: exactly ``json.dumps(data, indent=2, default=str)`` (ASCII only, every value
as the standard library writes it), written by orjson when that gives the same text.

The standard library's encoder is pure Python when it indents: 0.2 s for ``failover score`` and
0.5 s for ``failover check`` at 1,000 workloads, of a 1 s and a 5 s goal. orjson writes the same
indentation and separators; where its text could differ, the standard library writes it instead:

- what orjson reads back must equal ``data`` (a NaN, which orjson writes as null, never equals
  itself; a plain Enum, written by value, never equals its value; a datetime or anything else
  given to ``default=str`` is a string, not equal to the object);
- orjson refuses what it cannot write (integers beyond 64 bits, non-string keys, lone surrogates,
  nesting deeper than 254);
- floats between 1e-10 and 1e-4 are written differently (``1e-5`` and ``0.00001`` where Python
  writes ``1e-05``): any text that may hold one is left to the standard library (a false alarm
  inside a string costs only the time);
- non-ASCII characters and DEL are escaped afterwards exactly as ``ensure_ascii`` does (``\\uXXXX``,
  surrogate pairs beyond the BMP): outside strings, JSON text is ASCII, so they can only be string
  content.
"""

from __future__ import annotations

import json
import re
from typing import Any

from failover.collector import collector_paused

__all__ = ["indented_json"]

_NOT_ASCII = re.compile(r"[^\x00-\x7e]")  # what ensure_ascii escapes that orjson writes as is
_EXPONENT = re.compile(rb"e-\d(?!\d)")  # "e-" and one digit: found fast (a literal start), then looked at
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _may_hold_a_tiny_float(raw: bytes) -> bool:
    """Whether orjson's text may hold a float it writes unlike Python (1e-10 < |x| < 1e-4): as
    ``0.0000…`` (from 1e-05) or with a one-digit negative exponent. Values in indented text follow
    a space, so a candidate inside a string (a UUID's ``…e-8…``) is told apart by what precedes it;
    a string that merely looks like such a number costs only the time."""
    if b" 0.0000" in raw or b" -0.0000" in raw:
        return True
    for match in _EXPONENT.finditer(raw):
        start = raw.rfind(b" ", 0, match.start()) + 1
        if _NUMBER.fullmatch(raw, start, match.start()):
            return True
    return False


def _standard(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str)


def _orjson(data: Any) -> str | None:
    """The same text as ``_standard``, or None when orjson's could differ."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - a dependency; the standard library still writes it
        return None
    option = orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    try:
        raw = orjson.dumps(data, default=str, option=option)
    except (TypeError, orjson.JSONEncodeError):
        return None
    if _may_hold_a_tiny_float(raw):
        return None
    with collector_paused():  # reading back makes as many objects as ``data`` holds, none cyclic
        same = orjson.loads(raw) == data
    if not same:
        return None
    text = raw.decode()
    return text if text.isascii() and "\x7f" not in text else _NOT_ASCII.sub(_escape, text)


def indented_json(data: Any) -> str:
    """``json.dumps(data, indent=2, default=str)``, the same text, faster."""
    text = _orjson(data)
    return _standard(data) if text is None else text
