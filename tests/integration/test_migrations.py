"""Alembic migrations on SQLite and Postgres: from empty, round trips, and concurrent upgrades."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from failover.errors import StoreError
from failover.store import Store, migrate, open_engine
from failover.store.tables import metadata

TABLES = {t.name for t in metadata.sorted_tables}
# The work queue's tables (revision 0006, Postgres only): procrastinate's, not in our metadata.
QUEUE_TABLES = {"procrastinate_jobs", "procrastinate_events", "procrastinate_periodic_defers", "procrastinate_workers"}


def _queue_object(name: str | None, *_: object) -> bool:
    return not (name or "").startswith("procrastinate_")


def _tables(url: str) -> set[str]:
    """Our tables in the database; asserts the work queue's are there exactly when ours are, on Postgres."""
    engine = open_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        queue = {n for n in names if n.startswith("procrastinate_")}
        expected = QUEUE_TABLES if engine.dialect.name == "postgresql" and names - queue else set()
        assert queue == expected
        return names - queue
    finally:
        engine.dispose()


def test_upgrade_from_empty_creates_the_schema_the_code_expects(empty_db_url: str) -> None:
    assert _tables(empty_db_url) == set()
    engine = open_engine(empty_db_url)
    try:
        assert migrate.upgrade(engine) == migrate.head_revision()
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": _queue_object})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()
    assert _tables(empty_db_url) == TABLES


def test_downgrade_to_base_and_upgrade_again_round_trips(empty_db_url: str) -> None:
    engine = open_engine(empty_db_url)
    try:
        migrate.upgrade(engine)
        assert migrate.downgrade(engine, "base") is None
        assert _tables(empty_db_url) == set()
        assert migrate.upgrade(engine) == migrate.head_revision()
    finally:
        engine.dispose()
    with Store.open(empty_db_url, upgrade=False) as store:  # usable after the round trip
        run_id = store.start_run("check")
        assert store.record_delivery("a@example.com", "2026-W01", "<m>")
        store.finish_run(run_id, "ok")


def test_store_open_upgrades_by_default(empty_db_url: str) -> None:
    with Store.open(empty_db_url) as store:
        assert migrate.current_revision(store.engine) == migrate.head_revision()


def test_store_open_without_upgrade_refuses_an_old_schema(empty_db_url: str) -> None:
    with pytest.raises(StoreError, match="failover db upgrade"):
        Store.open(empty_db_url, upgrade=False)


def test_two_processes_upgrading_at_once_both_succeed(empty_db_url: str) -> None:
    start = time.time() + 1.5  # both past their imports, then open at the same instant
    code = (
        "import sys, time; from failover.store import Store, migrate\n"
        f"time.sleep(max(0.0, {start} - time.time()))\n"
        "s = Store.open(sys.argv[1]); print(migrate.current_revision(s.engine)); s.close()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, empty_db_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err.decode()
        assert out.decode().strip() == migrate.head_revision()
    assert _tables(empty_db_url) == TABLES


def test_a_schema_from_a_newer_failover_is_refused_clearly(store_url: str) -> None:
    from sqlalchemy import text

    Store.open(store_url).close()
    engine = open_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match="written by a newer failover"):
        Store.open(store_url)


def test_the_quick_revision_look_says_at_head_only_at_the_head(empty_db_url: str) -> None:
    from failover.store.revision import at_head

    engine = open_engine(empty_db_url)
    try:
        assert not at_head(engine)  # no alembic_version table yet
        migrate.upgrade(engine)
        assert at_head(engine)
        head = migrate.head_revision()
        previous = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(head).down_revision
        assert isinstance(previous, str)
        migrate.downgrade(engine, previous)
        assert not at_head(engine)
    finally:
        engine.dispose()
    with Store.open(empty_db_url) as store:  # one behind: Alembic upgrades it as before
        assert migrate.current_revision(store.engine) == head
        assert at_head(store.engine)
