"""Daemons sharing one Postgres share the check work through the work queue (subprocesses, a fresh
database, one vantage): each runs a share of the check jobs, every tick of every slot runs exactly
once, a SIGKILLed daemon's jobs are taken over within one interval, and SIGTERM leaves no run
``running``. The schedule arithmetic and lock names are unit-tested in tests/unit/test_daemon_queue.py."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from failover.daemon.jobs import Jobs
from failover.daemon.locks import libpq_dsn
from failover.daemon.queue import (
    CHECK_TASK,
    INVENTORY_TASK,
    QueueTiming,
    SharedQueue,
    Slot,
    check_locks,
    inventory_locks,
    tick_of,
)
from failover.daemon.scheduler import check_slots
from failover.model import utcnow
from failover.schema import Config
from failover.store import RunStatus, Store
from failover.store import tables as t
from tests.fixtures.daemon import (
    DaemonProcess,
    daemon_jobs,
    estate_data,
    inventory,
    stored_inventory,
    wait_for,
    write_config,
)
from tests.fixtures.store import PostgresServer

pytestmark = pytest.mark.postgres

INTERVAL = 6.0
WORKLOADS = 12


def check_jobs(url: str) -> list[dict[str, Any]]:
    """Every check job in the queue (id, queueing lock, status, worker)."""
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT id, queueing_lock, status::text, worker_id FROM procrastinate_jobs "
            "WHERE task_name = %s ORDER BY id",
            (CHECK_TASK,),
        )
        return [{"id": r[0], "lock": r[1], "status": r[2], "worker": r[3]} for r in cur.fetchall()]


def estate(url: str, endpoint: str) -> dict[str, Any]:
    """``WORKLOADS`` workloads whose secondary's endpoint never answers (each check job takes its 2 s
    probe timeout, so jobs are in flight when a daemon is killed), checked every ``INTERVAL``."""
    data = estate_data(WORKLOADS, database=url, check_interval=f"{INTERVAL:g}s", inventory_interval="1h")
    for w in data["workloads"]:
        w["sites"][0] = {k: v for k, v in w["sites"][0].items() if k != "endpoints"}
        w["sites"][1]["endpoints"] = [{"url": endpoint, "timeout": "2s"}]
    return data


def expected_locks(config: Config, since: float, until: float) -> set[str]:
    """The queueing lock of every tick of every slot due strictly within (since, until)."""
    out = set()
    for interval, offset, names in check_slots(config):
        slot = Slot(interval, offset, tuple(names))
        for tick in range(tick_of(interval, offset, since) + 1, tick_of(interval, offset, until)):
            out.add(check_locks("v", slot.id, tick)[1])
    return out


def test_two_daemons_share_the_checks_and_a_survivor_takes_over_a_killed_ones_jobs(
    pg_server: PostgresServer,
    tmp_path: Path,
    daemon_factory: Callable[..., DaemonProcess],
    silent_endpoint: str,
) -> None:
    url = pg_server.create_database()
    data = estate(url, silent_endpoint)
    config = Config.model_validate(data)
    with Store.open(url) as store:
        stored_inventory(store, inventory(WORKLOADS, started=utcnow()))
    path = write_config(tmp_path / "failover.yaml", data)
    daemons = [daemon_factory(path), daemon_factory(path)]
    workers = [int(d.wait_event("queue.started", 60)["worker"]) for d in daemons]
    began = datetime.now(UTC).timestamp()

    # Both daemons run check jobs; each tick of each slot ran exactly once (no duplicate, none skipped).
    def both_working() -> bool:
        done = [j for j in check_jobs(url) if j["status"] == "succeeded"]
        per = Counter(j["worker"] for j in done)
        return len(done) >= 24 and all(per[w] >= 4 for w in workers)

    wait_for(both_working, 90, "both daemons to run check jobs")
    until = datetime.now(UTC).timestamp()
    jobs = check_jobs(url)
    succeeded = Counter(j["lock"] for j in jobs if j["status"] == "succeeded")
    assert max(succeeded.values()) == 1, [k for k, n in succeeded.items() if n > 1]
    # every slot's every tick from the first full interval on, up to the last that surely finished
    window = expected_locks(config, began + INTERVAL, until - 2 * INTERVAL)
    assert window and window <= set(succeeded), sorted(window - set(succeeded))
    shares = Counter(j["worker"] for j in jobs if j["status"] == "succeeded")
    assert sorted(shares) == sorted(workers)
    assert min(shares.values()) >= 0.15 * sum(shares.values()), shares
    for d in daemons:  # what each daemon reports of itself
        assert (d.sample("failover_queue_jobs_run_total", task=CHECK_TASK, outcome="ok") or 0) >= 1
        assert d.sample("failover_queue_jobs", queue="check:v", status="todo") is not None
    assert sum(d.sample("failover_queue_share", task=CHECK_TASK) or 0 for d in daemons) == pytest.approx(1, abs=0.2)

    # SIGKILL one while it runs a job: the other retries its stalled jobs within one interval.
    victim, survivor = daemons
    wait_for(
        lambda: any(j["status"] == "doing" and j["worker"] == workers[0] for j in check_jobs(url)),
        30,
        "the victim to be running a check job",
    )
    time.sleep(0.5)  # into the job's run (each job waits 2 s on the silent endpoint)
    stalled = {j["id"] for j in check_jobs(url) if j["status"] == "doing" and j["worker"] == workers[0]}
    assert stalled
    victim.kill()
    killed = datetime.now(UTC)

    def taken_over() -> list[dict[str, Any]]:  # one event per job, logged one by one in one pass
        events = [e for e in survivor.events("queue.stalled_job") if e["job"] in stalled]
        return events if {e["job"] for e in events} == stalled else []

    taken = wait_for(taken_over, 3 * INTERVAL, "the survivor to take over every stalled job")
    last = max(datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp() for e in taken)
    took = last - killed.timestamp()
    assert took <= INTERVAL, f"takeover took {took:.1f}s"
    # nothing of the dead daemon's left `doing`, and every slot keeps its ticks, now all on the survivor
    resumed = killed.timestamp() + INTERVAL
    wait_for(lambda: datetime.now(UTC).timestamp() > resumed + 3 * INTERVAL, 5 * INTERVAL, "three more intervals")
    jobs = check_jobs(url)
    assert not [j for j in jobs if j["status"] == "doing" and j["worker"] is not None and j["worker"] != workers[1]]
    succeeded = Counter(j["lock"] for j in jobs if j["status"] == "succeeded")
    assert max(succeeded.values()) == 1
    window = expected_locks(config, resumed, resumed + 2 * INTERVAL)
    assert window <= set(succeeded), sorted(window - set(succeeded))

    # The dead daemon's runs were closed; SIGTERM on the survivor leaves no run running.
    code, _ = survivor.terminate(timeout=30)
    assert code == 0
    with Store.open(url, upgrade=False) as store, store.engine.connect() as conn:
        statuses = Counter(r.status for r in conn.execute(select(t.runs.c.status)))
    assert statuses[RunStatus.RUNNING] == 0, statuses
    assert statuses[RunStatus.ABANDONED] >= 1, statuses


def quick_queue(url: str, jobs: Jobs, *, inventory_interval: float, concurrency: int) -> SharedQueue:
    """A shared work queue of vantage "v" for account "aws" whose heartbeats and stalls come fast."""
    return SharedQueue(
        url,
        jobs,
        vantage="v",
        metrics=jobs.metrics,
        concurrency=concurrency,
        timing=QueueTiming(heartbeat=0.5, stalled_after=4.0, polling=0.5),
        grace=1.0,
        inventory_interval=inventory_interval,
        accounts=["aws"],
    )


def test_housekeeping_retries_a_dead_workers_jobs_and_closes_one_whose_tick_was_queued_again(
    pg_server: PostgresServer,
) -> None:
    url = pg_server.create_database()
    config = Config.model_validate(estate_data(2, database=url, inventory_interval="1h"))
    with Store.open(url) as store:
        jobs = daemon_jobs(config, store)
        queue = quick_queue(url, jobs, inventory_interval=3600.0, concurrency=2)
        # A daemon of vantage "far" died 1 minute ago running two jobs; one's tick was deferred again.
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            [(dead,)] = conn.execute(
                "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 minute') RETURNING id"
            ).fetchall()

            def job(slot: str, tick: int, status: str, worker: int | None) -> int:
                lock, queued = check_locks("far", slot, tick)
                row = conn.execute(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, status, "
                    "worker_id) VALUES ('check:far', %s, %s, %s, %s, %s, %s) RETURNING id",
                    (CHECK_TASK, lock, queued, json.dumps({"vantage": "far", "due": 0.0}), status, worker),
                ).fetchone()
                assert row is not None
                return int(row[0])

            requeued, again = job("check:s", 1, "doing", dead), job("check:s", 1, "todo", None)
            alone = job("check:t", 1, "doing", dead)
        queue.start()
        try:
            assert queue.housekeeping() == ["far"]
        finally:
            queue.stop()
        status = {j["id"]: j["status"] for j in check_jobs(url)}
        assert status == {requeued: "aborted", again: "todo", alone: "todo"}
        assert jobs.metrics.queue_stalled.labels("superseded")._value.get() == 1
        assert jobs.metrics.queue_stalled.labels("retried")._value.get() == 1


def test_an_inventory_tick_that_already_succeeded_is_not_taken_again_however_late_it_was_deferred(
    pg_server: PostgresServer,
) -> None:
    """Each daemon inventories on its own phase, so a second daemon can defer the same tick more than
    half an interval after the first one's job ran: that job still counts, and a tick runs once."""
    url = pg_server.create_database()
    interval = 600.0
    config = Config.model_validate(estate_data(2, database=url, inventory_interval=f"{interval:g}s"))
    with Store.open(url) as store:
        jobs = daemon_jobs(config, store)
        queue = quick_queue(url, jobs, inventory_interval=interval, concurrency=1)
        lock, tick_lock = inventory_locks("aws", 7)
        _, next_lock = inventory_locks("aws", 8)
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            [(done,)] = conn.execute(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, status) "
                "VALUES ('inventory', %s, %s, %s, %s, 'succeeded') RETURNING id",
                (INVENTORY_TASK, lock, tick_lock, json.dumps({"account": "aws", "tick": 7, "due": 1000.0})),
            ).fetchall()
        queue.start()
        try:
            ran = lambda queueing_lock, due: queue._call(queue._already_ran(done + 1, queueing_lock, lock, due))  # noqa: E731
            assert ran(tick_lock, 1000.0 + 0.9 * interval)  # the same tick, deferred 0.9 interval later
            assert ran(next_lock, 1000.0 + 0.4 * interval)  # the next tick, straddling the boundary
            assert not ran(next_lock, 1000.0 + interval)  # the next tick, on time: its own work
        finally:
            queue.stop()
