"""What keeps a daemon with thousands of workloads within its interval, as behaviour (the figures are
in bench/cycle.py): check jobs share one loaded inventory until a newer inventory run lands, a fresh
stored inventory is not taken again at start, the runs of a dead daemon are closed by a live one, and
a SIGTERM leaves no run ``running``."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from failover.daemon.app import Daemon
from failover.daemon.locks import Liveness
from failover.model import Capacity, Inventory, Kind, Resource, utcnow
from failover.schema import Config
from failover.store import RunStatus, Store
from tests.fixtures.daemon import DaemonProcess, daemon_jobs, wait_for, write_config
from tests.fixtures.store import PostgresServer


def estate(n: int, *, database: str, endpoint: str | None = None, **daemon: Any) -> Config:
    return Config.model_validate(estate_data(n, database=database, endpoint=endpoint, **daemon))


def estate_data(n: int, *, database: str, endpoint: str | None = None, **daemon: Any) -> dict[str, Any]:
    """``n`` workloads on one AWS account, each a primary and a secondary selected by its own tag."""
    site: dict[str, Any] = {"account": "aws"}
    if endpoint:
        site["endpoints"] = [{"url": endpoint, "timeout": "10s"}]
    return {
        "database": database,
        "vantage": "v",
        "accounts": [{"name": "aws", "provider": "aws", "regions": ["us-east-1"]}],
        "daemon": {"listen": "127.0.0.1:0", **daemon},
        "workloads": [
            {
                "name": f"w{i:04d}",
                "owners": ["o@example.com"],
                "sites": [
                    {"name": "p", "role": "primary", "regions": ["us-east-1"], "select": {"tags": {"app": f"w{i}"}}}
                    | site,
                    {"name": "s", "role": "secondary", "regions": ["us-east-1"], "select": {"tags": {"app": f"w{i}s"}}}
                    | site,
                ],
            }
            for i in range(n)
        ],
    }


def inventory(n: int, *, started: datetime, instances: int = 1) -> Inventory:
    return Inventory(
        account="aws",
        provider="aws",
        started_at=started,
        finished_at=started + timedelta(seconds=1),
        resources=[
            Resource(
                "aws",
                "aws",
                "us-east-1",
                Kind.COMPUTE_INSTANCE,
                "ec2:instance",
                f"i-{app}-{j}",
                f"i-{app}-{j}",
                state="running",
                capacity=Capacity(vcpu=2),
                tags={"app": app},
                attrs={"deletion_protection": True},
            )
            for i in range(n)
            for app in (f"w{i}", f"w{i}s")
            for j in range(instances)
        ],
    )


def stored_inventory(store: Store, inv: Inventory) -> None:
    with store.recorded_run("inventory", vantage="elsewhere") as run:
        store.save_inventory(run.id, [inv])


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
    live, other = Liveness(url, "v"), Liveness(url, "alive-elsewhere")
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


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An HTTP endpoint that accepts connections and never answers: every probe waits its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(512)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not done.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/healthz"
    done.set()
    thread.join(2)
    for s in held:
        s.close()
    server.close()


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
