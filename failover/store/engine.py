"""Engines configured the same way for the store and for migrations.

SQLite: WAL, ``synchronous=NORMAL``, foreign keys on, a busy timeout, and transactions begun by us
(the driver's own implicit BEGIN skips DDL, which would let two processes migrate at once). Writers
begin with ``BEGIN IMMEDIATE`` so they queue on the busy timeout instead of failing on lock upgrade.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from failover.errors import StoreError
from failover.store.urls import display_url

__all__ = ["IMMEDIATE", "error_reason", "json_dumps", "make_engine"]

IMMEDIATE = "failover_sqlite_immediate"  # execution option: begin the SQLite transaction IMMEDIATE
BUSY_TIMEOUT_MS = 30_000


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


# One encoder for every value (json.dumps with options builds a new one per call).
# NaN is not JSON and Postgres refuses it: fail the write instead of storing something unreadable.
_ENCODER = json.JSONEncoder(default=_json_default, allow_nan=False, separators=(",", ":"))


def json_dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    if backend == "postgresql":
        return create_engine(
            url,
            json_serializer=json_dumps,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10, "application_name": "failover"},
        )
    raise StoreError(f"cannot open database {display_url(url)}: unsupported backend {backend!r}")


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    db = parsed.database or ""
    memory = db in ("", ":memory:")
    if not memory and not db.startswith("file:"):
        parent = Path(db).parent
        if not parent.is_dir():
            raise StoreError(f"cannot open database {display_url(url)}: directory {parent} does not exist")
    kwargs: dict[str, Any] = {"json_serializer": json_dumps}
    if memory:  # one shared connection, or every checkout would see its own empty database
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not memory:
                _enable_wal(cur)
                # Checkpoint every ~40 MB rather than 4 MB: a batch touching one index page per
                # workload then copies each page once per checkpoint, not once per batch. Afterwards
                # the WAL file is cut back to 64 MB.
                cur.execute("PRAGMA wal_autocheckpoint = 10000")
                cur.execute("PRAGMA journal_size_limit = 67108864")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _enable_wal(cur: Any) -> None:
    """Switch to WAL once per database file. SQLite answers "database is locked" at once, without
    its busy handler, while another process is switching a new file over; so wait here instead."""
    import sqlite3

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def error_reason(err: BaseException) -> str:
    """The driver's own message, first line only (SQLAlchemy appends SQL and a docs link)."""
    orig = getattr(err, "orig", None)
    text = str(orig if orig is not None else err).strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(err).__name__)
    return first[:300]
