"""The small JSON-path subset endpoint checks need: ``$``, ``.key``, ``["key"]`` and ``[index]``.

No filters or wildcards: a health check names one value. Parsing is separate from lookup so a bad path
is rejected when the target is built, not when the probe runs.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MISSING", "lookup", "parse"]

_TOKEN = re.compile(r"""\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[(?:"([^"]*)"|'([^']*)')\]""")

MISSING = object()


def parse(path: str) -> tuple[str | int, ...]:
    """``$.a.b[0]`` → ("a", "b", 0); ValueError naming the path when it is not in the subset."""
    if not path.startswith("$"):
        raise ValueError(f"JSON path must start with '$': {path!r}")
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None:
            raise ValueError(f"unsupported JSON path {path!r} at {path[pos:]!r} (use $.a.b[0] or $['a'])")
        key, index, dq, sq = m.groups()
        steps.append(int(index) if index is not None else key if key is not None else dq if dq is not None else sq)
        pos = m.end()
    return tuple(steps)


def lookup(document: Any, steps: tuple[str | int, ...]) -> Any:
    """The value at ``steps`` or ``MISSING``."""
    node = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return MISSING
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return MISSING
            node = node[step]
    return node
