"""Text from outside the operator's config (cloud resource names and tags, HTTP headers, certificate
fields, DNS names, error messages, drill notes) made safe to show: every control character is shown
escaped (``\\x1b``, ``\\n``), so a VM named ``payments-evil\\x1b[31m`` or a ``Server: \\x1b[2J`` header
cannot recolour, clear or retitle the operator's terminal, fake log lines, or reorder text (Unicode
bidirectional overrides).

This is the one place that decides what is printable. The CLI's console (``failover.cli.options``),
its renderers (``failover.cli.render``), the text log format (``failover.daemon.logs``) and the email
templates (``failover.mail.compose``) all pass remote strings through it. JSON output is not touched
here: it keeps the exact value (control characters appear as JSON ``\\u`` escapes, never raw).
"""

from __future__ import annotations

import re

__all__ = ["UNSAFE", "escape_json_controls", "printable"]

# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI to some terminals), the line and paragraph
# separators, and the bidirectional marks, embeddings, overrides and isolates ("Trojan Source").
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEP_NEWLINE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(value: object, *, keep_newlines: bool = False) -> str:
    """``value`` as text with every control character escaped; unchanged when there is none.

    ``keep_newlines`` leaves ``\\n`` alone, for text laid out on several lines by our own renderers
    (each remote piece in it should already have gone through ``printable`` on its own).
    """
    text = value if isinstance(value, str) else str(value)
    pattern = _UNSAFE_KEEP_NEWLINE if keep_newlines else UNSAFE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)


def escape_json_controls(dumped: str) -> str:
    """A ``json.dumps(..., ensure_ascii=False)`` result with the characters JSON leaves raw (DEL, C1,
    separators, bidi controls) written as ``\\uXXXX`` escapes: the same value, nothing a terminal acts
    on. Outside strings ``json.dumps`` writes only ASCII, so every hit is inside a string."""
    if _UNSAFE_IN_JSON.search(dumped) is None:
        return dumped
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
