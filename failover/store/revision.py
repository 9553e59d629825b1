"""Whether a database is at the newest schema, answered without Alembic.

Every command opens the store, and asking Alembic costs its import and the loading of every
migration script (0.2-0.4 s of a `failover score` that must take under a second). The scripts'
head is read here from each script's ``revision`` and ``down_revision`` lines, and the database's
from its ``alembic_version`` table. Only a match is trusted: whenever the scripts are anything but
one plain chain declared on those lines (a merge, a branch label, a dependency, a line this reader
does not understand), or the database is empty or elsewhere, ``at_head`` answers False and the
caller asks Alembic, which then decides, upgrades or refuses exactly as before. A unit test checks
that ``script_head`` equals Alembic's own head for the shipped scripts, so the two cannot drift.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

__all__ = ["at_head", "script_head", "scripts_directory"]

# `revision: str = "0005"` / `down_revision: str | Sequence[str] | None = "0004"` at the start of a line
_DECLARED = re.compile(
    r"^(?P<name>revision|down_revision|branch_labels|depends_on)\s*(?::[^=\n]*)?=\s*(?P<value>.*?)\s*$", re.M
)


def scripts_directory() -> Path:
    """The installed ``migrations`` package's ``versions`` directory (what Alembic reads)."""
    import migrations

    return Path(migrations.__file__).resolve().parent / "versions"


def script_head(directory: Path) -> str | None:
    """The one head of the migration scripts in ``directory``, or None when it cannot be read with
    certainty from the scripts' declarations (then Alembic must be asked)."""
    down_of: dict[str, str | None] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name == "__init__.py":
            continue
        try:
            found: dict[str, list[object]] = {}
            for m in _DECLARED.finditer(path.read_text(encoding="utf-8")):
                found.setdefault(m.group("name"), []).append(ast.literal_eval(m.group("value")))
        except (OSError, UnicodeDecodeError, ValueError, SyntaxError):
            return None
        if any(len(values) != 1 for values in found.values()):
            return None
        revision, down = found.get("revision", [None])[0], found.get("down_revision", [0])[0]
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)):
            return None  # no revision, a down_revision not declared or a merge (a tuple)
        if found.get("branch_labels", [None])[0] is not None or found.get("depends_on", [None])[0] is not None:
            return None
        if revision in down_of:
            return None
        down_of[revision] = down
    bases = [r for r, down in down_of.items() if down is None]
    heads = set(down_of) - set(down_of.values())
    if len(bases) != 1 or len(heads) != 1 or any(d is not None and d not in down_of for d in down_of.values()):
        return None
    # one base, one head, and every step known: the chain from the head must reach the base
    (head,) = heads
    seen: set[str] = set()
    at: str | None = head
    while at is not None and at not in seen:
        seen.add(at)
        at = down_of[at]
    return head if len(seen) == len(down_of) else None


@functools.cache
def _shipped_head() -> str | None:
    return script_head(scripts_directory())


def at_head(engine: Engine) -> bool:
    """True only when the database records exactly one revision and it is the scripts' head; False
    for anything else, including any doubt (the caller then asks Alembic)."""
    head = _shipped_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # no such table yet: an empty database, for Alembic to create
        return False
    return len(rows) == 1 and rows[0][0] == head
