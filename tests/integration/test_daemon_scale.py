"""What keeps a daemon with thousands of workloads within its interval, as behaviour (the figures are
in bench/cycle.py): check jobs share one loaded inventory until a newer inventory run lands, a fresh
stored inventory is not taken again at start, the runs of a dead daemon are closed by a live one, and
a SIGTERM leaves no run ``running``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from failover.daemon.app import Daemon
from failover.daemon.locks import Liveness
from failover.model import utcnow
from failover.schema import Config
from failover.store import RunStatus, Store
from tests.fixtures.daemon import (
    DaemonProcess,
    daemon_jobs,
    estate,
    estate_data,
    inventory,
    stored_inventory,
    wait_for,
    write_config,
)
from tests.fixtures.store import PostgresServer


def capacity_vcpu(store: Store, workload: str) -> str:
    [found] = [f for f in store.latest_findings(workload) if f.check == "capacity.ratio"]
    return found.reason


def test_check_jobs_share_the_loaded_inventory_until_a_newer_inventory_run_lands(tmp_path: Path) -> None:
    config = estate(6, database=f"sqlite:///{tmp_path / 'f.db'}")
    with Store.open(config.database or "") as store:
        stored_inventory(store, inventory(6, started=utcnow()))
        jobs = daemon_jobs(config, store)
        names = [w.name for w in config.workloads]
        for batch in (names[:2], names[2:4], names[4:], names[:2]):
            jobs.check(batch)
        assert jobs.inventory_cache.loads == 1  # four jobs, one load from the store
        before = capacity_vcpu(store, "w0000")

        stored_inventory(store, inventory(6, started=utcnow(), instances=2))  # e.g. from `failover check`
        jobs.check(names[:2])
        jobs.check(names[2:])
        assert jobs.inventory_cache.loads == 2  # the new run is loaded once, by the next job
        after = capacity_vcpu(store, "w0000")
        assert after != before  # and that job judged on it


def test_a_job_rests_only_on_the_inventories_of_its_own_workloads(tmp_path: Path) -> None:
    config = estate(2, database=f"sqlite:///{tmp_path / 'f.db'}")
    with Store.open(config.database or "") as store:
        stored_inventory(store, inventory(2, started=utcnow()))
        jobs = daemon_jobs(config, store)
        got = jobs.inventory_cache.get([])
        assert got.inventories == [] and got.by_account == {}
        assert [i.account for i in jobs.inventory_cache.get(["aws"]).inventories] == ["aws"]
        assert jobs.inventory_cache.loads == 1


def _inventory_due(config: Config) -> datetime:
    daemon = Daemon.open(config)
    try:
        job = daemon.scheduler.get_job("inventory")
        due: datetime = job.next_run_time
        return due
    finally:
        daemon.close()


def test_a_daemon_starting_on_a_fresh_stored_inventory_does_not_take_it_again(tmp_path: Path) -> None:
    config = estate(2, database=f"sqlite:///{tmp_path / 'f.db'}", inventory_interval="15m")
    started = utcnow() - timedelta(minutes=5)
    with Store.open(config.database or "") as store, store.recorded_run("check", vantage="cli") as run:
        store.save_inventory(run.id, [inventory(2, started=started)])  # `failover check`, 5 minutes ago
    due = _inventory_due(config)
    assert abs((due - (started + timedelta(minutes=15))).total_seconds()) < 2  # due 10 minutes from now


def test_a_daemon_starting_on_a_stale_or_partial_stored_inventory_takes_one_at_once(tmp_path: Path) -> None:
    config = estate(2, database=f"sqlite:///{tmp_path / 'f.db'}", inventory_interval="15m")
    with Store.open(config.database or "") as store, store.recorded_run("check", vantage="cli") as run:
        store.save_inventory(run.id, [inventory(2, started=utcnow() - timedelta(minutes=20))])
    assert abs((_inventory_due(config) - datetime.now(UTC)).total_seconds()) < 5


@pytest.mark.postgres
def test_a_live_daemon_closes_the_runs_of_a_dead_one_and_leaves_a_live_ones_alone(pg_server: PostgresServer) -> None:
    url = pg_server.create_database()
    config = estate(1, database=url)
    live, other = Liveness(url, "v", "me"), Liveness(url, "alive-elsewhere", "other")
    with Store.open(url) as store:
        try:
            assert live.ensure() and other.ensure()
            dead_run = store.start_run("check", vantage="dead")  # its daemon was SIGKILLed: no lock held
            alive_run = store.start_run("probe", vantage="alive-elsewhere")
            assert live.alive("alive-elsewhere") and not live.alive("dead")
            daemon_jobs(config, store).close_dead_runs(live.alive, older_than=0)
            assert store.run(dead_run)["status"] == RunStatus.ABANDONED
            assert store.run(alive_run)["status"] == RunStatus.RUNNING
            other.release()  # that daemon goes too
            daemon_jobs(config, store).close_dead_runs(live.alive, older_than=0)
            assert store.run(alive_run)["status"] == RunStatus.ABANDONED
        finally:
            live.release()
            other.release()


@pytest.mark.postgres
def test_daemons_sharing_a_vantage_close_only_the_runs_of_the_one_that_died(pg_server: PostgresServer) -> None:
    url = pg_server.create_database()
    config = estate(1, database=url)
    me, peer, dead = (Liveness(url, "v", token) for token in ("me", "peer", "dead"))
    stores = {token: Store.open(url, owner=token) for token in ("me", "peer", "dead")}
    try:
        assert me.ensure()
        peer.ensure()
        dead.ensure()
        mine = stores["me"].start_run("check", vantage="v")
        peers = stores["peer"].start_run("check", vantage="v")
        orphan = stores["dead"].start_run("check", vantage="v")
        dead.release()  # SIGKILLed: Postgres ended its session, so its owner lock is free
        jobs = daemon_jobs(config, stores["me"])
        assert jobs.close_dead_runs(me.alive, older_than=3600, owner_alive=me.owner_alive) == 1
        assert stores["me"].run(orphan)["status"] == RunStatus.ABANDONED  # at once, whatever its age
        assert stores["me"].run(peers)["status"] == RunStatus.RUNNING  # same vantage, its daemon alive
        assert stores["me"].run(mine)["status"] == RunStatus.RUNNING
    finally:
        for lock in (me, peer, dead):
            lock.release()
        for store in stores.values():
            store.close()


@pytest.mark.postgres
def test_a_starting_daemon_leaves_the_runs_of_a_live_peer_of_its_vantage_alone(pg_server: PostgresServer) -> None:
    url = pg_server.create_database()
    peer = Liveness(url, "v", "peer")
    with Store.open(url, owner="peer") as store:
        try:
            peer.ensure()
            running = store.start_run("check", vantage="v")
            with Store.open(url) as older:  # a run from before runs had owners
                unowned = older.start_run("check", vantage="v")
            config = estate(1, database=url)
            with Daemon.open(config, listen="127.0.0.1:0") as daemon:
                assert daemon.store.owner not in (None, "peer")
            assert store.run(running)["status"] == RunStatus.RUNNING
            assert store.run(unowned)["status"] == RunStatus.ABANDONED
        finally:
            peer.release()


def test_sigterm_with_many_jobs_in_flight_leaves_no_run_running(
    tmp_path: Path,
    daemon_factory: Callable[..., DaemonProcess],
    silent_endpoint: str,
) -> None:
    db = f"sqlite:///{tmp_path / 'f.db'}"
    data = estate_data(40, database=db, endpoint=silent_endpoint, check_interval="2s", inventory_interval="1h")
    with Store.open(db) as store:
        stored_inventory(store, inventory(40, started=utcnow()))
    path = write_config(tmp_path / "failover.yaml", data)
    d = daemon_factory(path)

    def running_runs() -> list[int]:
        with Store.open(db) as store:
            return [r for r in range(1, 200) if (store.run(r) or {}).get("status") == RunStatus.RUNNING]

    wait_for(lambda: len(running_runs()) >= 2, 30, "check runs waiting on the silent endpoint")
    code, _ = d.terminate(timeout=30)
    assert code == 0
    assert running_runs() == []
