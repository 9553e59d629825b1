"""Bulk writes through the driver: SQLAlchemy builds and compiles the statement once, then the rows
go to ``executemany`` as plain values. This skips SQLAlchemy's per-row parameter processing, which
costs more than the database itself at tens of thousands of rows per second.

On Postgres, plain inserts into history tables use COPY, and upserts COPY into a temporary table
then run one INSERT ... SELECT ... ON CONFLICT: per-row statements cost the server more than the rows.
``encode`` turns model-level rows (aware datetimes, JSON-able dicts) into driver values once, so the
history insert and the latest-state upsert share the work.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection, Table, column, select
from sqlalchemy import table as table_clause
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert

from failover.store.engine import json_dumps
from failover.store.tables import UTCDateTime

__all__ = ["encode", "execute_many", "insert_many", "postgres_insert", "sqlite_time", "upsert_many"]


def sqlite_time(value: datetime) -> str:
    # The exact text SQLAlchemy's SQLite DateTime writes, so stored values compare and parse alike.
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds")


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def encode(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Driver-ready copies of ``rows`` for ``table``'s columns (datetimes and JSON converted)."""
    time_fn = sqlite_time if conn.dialect.name == "sqlite" else _naive_utc
    times = [c.name for c in table.columns if isinstance(c.type, UTCDateTime)]
    docs = [c.name for c in table.columns if isinstance(c.type, JSON)]
    out = []
    for row in rows:
        d = dict(row)
        for name in times:
            v = d.get(name)
            if v is not None:
                d[name] = time_fn(v)
        for name in docs:
            if name in d:
                d[name] = json_dumps(d[name])
        out.append(d)
    return out


def _getter(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A C-speed row -> tuple of ``names`` (itemgetter returns a bare value for a single name)."""
    if len(names) == 1:
        name = names[0]
        return lambda row: (row[name],)
    return operator.itemgetter(*names)


def execute_many(conn: Connection, stmt: Insert, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """Run ``stmt`` (an INSERT or upsert over ``columns``) once per row of already-encoded ``rows``."""
    if not rows:
        return
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
    params: list[Any]
    if compiled.positional:
        params = list(map(_getter(compiled.positiontup or []), rows))
    else:
        params = [{k: row[k] for k in columns} for row in rows]
    conn.exec_driver_sql(compiled.string, params)


def insert_many(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append already-encoded ``rows`` to ``table`` (all rows share the first row's columns)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        execute_many(conn, table.insert(), list(rows[0]), rows)
        return
    _copy(conn, table.name, list(rows[0]), rows)


def upsert_many(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], on_conflict: Callable[[Any], Insert]
) -> None:
    """Insert-or-update encoded ``rows`` (at most one per conflict key); ``on_conflict`` turns the
    dialect's INSERT into the upsert, e.g. ``lambda ins: ins.on_conflict_do_update(...)``."""
    if not rows:
        return
    columns = list(rows[0])
    if conn.dialect.name != "postgresql":
        execute_many(conn, on_conflict(sqlite.insert(table)), columns, rows)
        return
    quote = conn.dialect.identifier_preparer.quote
    staging = f"failover_stage_{table.name}"
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(staging)} "
        f"(LIKE {quote(table.name)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    _copy(conn, staging, columns, rows)
    source = table_clause(staging, *(column(c) for c in columns))
    conn.execute(on_conflict(postgres_insert(table).from_select(columns, select(*source.c))))


def postgres_insert(table: Table) -> Any:
    """Postgres's INSERT, its dialect imported when a Postgres database is used (0.1 s a SQLite user
    need not pay)."""
    from sqlalchemy.dialects import postgresql

    return postgresql.insert(table)


def _copy(conn: Connection, name: str, columns: list[str], rows: Sequence[Mapping[str, Any]]) -> None:
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    dbapi_conn: Any = conn.connection.dbapi_connection
    try:
        with dbapi_conn.cursor() as cur, cur.copy(sql) as copy:
            for values in map(_getter(columns), rows):
                copy.write_row(values)
    except conn.dialect.loaded_dbapi.Error as err:  # as SQLAlchemy would have wrapped it
        raise DBAPIError(sql, None, err) from err
