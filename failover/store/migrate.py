"""Alembic, configured in code: the scripts are the installed ``migrations`` package, so a wheel
install needs no alembic.ini. Upgrades run in one transaction that first takes a lock (a Postgres
advisory lock; SQLite's write lock via BEGIN IMMEDIATE), so two processes upgrading at once
serialize and the second finds nothing left to do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from failover.store.engine import IMMEDIATE

__all__ = ["current_revision", "downgrade", "head_revision", "is_known", "upgrade"]

# Alembic's ``context`` is one module-level proxy: two threads migrating at once would trample it.
_IN_PROCESS = threading.Lock()

# pg_advisory_xact_lock key for schema migrations (any fixed 64-bit number; "failover" in ASCII).
MIGRATION_LOCK_KEY = 0x6661696C6F766572


def _script_location() -> str:
    import migrations

    return str(Path(migrations.__file__).resolve().parent)


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", _script_location())
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # only if the package was shipped without its versions
        raise RuntimeError("no migrations found in the installed 'migrations' package")
    return head


def is_known(revision: str) -> bool:
    """False for a revision written by a newer failover than this one."""
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _locked(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate to ``revision``; returns the revision the database is at afterwards."""
    return _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> str | None:
    return _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> str | None:
    """One alembic ``step`` to ``revision`` in one transaction, holding the migration lock (in this process
    and in the database), so concurrent starters migrate one at a time."""
    with _IN_PROCESS, engine.connect() as conn:
        conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            _locked(conn)
            step(alembic_config(conn), revision)
    return current_revision(engine)
