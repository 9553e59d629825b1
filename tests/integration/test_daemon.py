"""``failover daemon`` end to end, as a subprocess against the local AWS, a local HTTPS endpoint and a
SQLite file: scores, /healthz, /metrics, the single-instance lock, an AWS outage mid-run, SIGTERM and
``--once`` retention. Every wait is a bounded polling loop."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from failover.model import FindingStatus, Observation, ObsStatus, Status, utcnow
from failover.sandbox.aws import AwsSandbox, seed_auto_scaling_group, seed_instances
from failover.sandbox.web import WebSandbox
from failover.store import Store
from failover.store import tables as t
from tests.fixtures.daemon import DaemonProcess, RestartableAws, shop_config, wait_for, write_config

SHOP = {"app": "shop"}


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebSandbox]:
    sandbox = WebSandbox(tmp_path / "web")
    try:
        yield sandbox
    finally:
        sandbox.stop()


def seed_shop(aws: AwsSandbox) -> None:
    seed_instances(aws, "us-east-1", count=2, instance_type="m5.large", tags=SHOP)
    seed_auto_scaling_group(aws, "us-west-2", "web-dr", desired=2, instance_type="m5.large", tags=SHOP)


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'failover.db'}"


def seeded_shop_config(aws: RestartableAws, tmp_path: Path, **shop: Any) -> Path:
    """Seed the shop workload in ``aws`` and write the daemon's config for it (SQLite under ``tmp_path``)."""
    seed_shop(aws)
    account = aws.account("aws-local", ["us-east-1", "us-west-2"])
    return write_config(tmp_path / "failover.yaml", shop_config(database=sqlite_url(tmp_path), aws=account, **shop))


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """The test's own Store on the daemon's database, opened once the daemon has migrated it."""
    opened: list[Store] = []

    def get() -> Store:
        if not opened:
            opened.append(Store.open(sqlite_url(tmp_path), upgrade=False))
        return opened[0]

    yield get
    for s in opened:
        s.close()


def latest(store: Store) -> tuple[dict[str, FindingStatus], list[Any]]:
    """(check → worst status of the latest findings, latest scores), read back through the Store."""
    findings = store.latest_findings("shop")
    scores = store.latest_scores("shop")
    order = [FindingStatus.PASS, FindingStatus.WARN, FindingStatus.UNKNOWN, FindingStatus.FAIL]
    by_check: dict[str, FindingStatus] = {}
    for f in findings:
        prev = by_check.get(f.check)
        by_check[f.check] = f.status if prev is None else max(prev, f.status, key=order.index)
    return by_check, scores


def runs(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t.runs).order_by(t.runs.c.id))]


def test_daemon_scores_serves_healthz_and_metrics_refuses_a_second_instance_and_exits_0_on_sigterm(
    restartable_aws: RestartableAws,
    web: WebSandbox,
    tmp_path: Path,
    daemon_factory: Callable[..., DaemonProcess],
    reader: Callable[[], Store],
) -> None:
    endpoint = web.start(["shop.example.com"])
    config = seeded_shop_config(restartable_aws, tmp_path, endpoint=endpoint.url(), ca_file=str(web.ca_file))
    d = daemon_factory(config)
    d.wait_event("daemon.started")
    store = reader()

    def scored() -> bool:
        # findings and scores are separate reads, and a check job may land between them: wait for a
        # score of the cycle whose findings show capacity.ratio passing, not an older one
        checks, scores = latest(store)
        newest = max((f.observed_at for f in store.latest_findings("shop")), default=None)
        return (
            bool(scores)
            and checks.get("capacity.ratio") == FindingStatus.PASS
            and newest is not None
            and scores[0].computed_at >= newest
        )

    wait_for(scored, 30, "a score of the cycle with capacity.ratio passing")
    _, [score] = latest(store)
    assert score.status != Status.UNKNOWN and 0 <= score.readiness <= 100

    status, body = d.healthz()
    assert status == 200 and body["status"] == "ok"
    assert body["scheduler_running"] is True and body["vantage"] == "test-vantage"
    assert body["last_cycle_age_seconds"] is not None and body["last_cycle_age_seconds"] < 30
    assert all(body["leader"].values())  # SQLite: the only daemon leads every singleton job

    wait_for(
        lambda: d.sample("failover_probe_duration_seconds_count", probe="http"), 10, "an HTTP probe latency sample"
    )
    fams = d.metrics()
    assert fams["failover_workload_readiness"].type == "gauge"
    [readiness] = fams["failover_workload_readiness"].samples
    assert readiness.labels == {"workload": "shop"} and 0 <= readiness.value <= 100
    statuses = {s.labels["status"]: s.value for s in fams["failover_workload_status"].samples}
    assert sum(statuses.values()) == 1 and set(statuses) == {s.value for s in Status}
    assert d.sample("failover_workload_single_provider_risk", workload="shop", provider="aws") == 1.0
    assert d.sample("failover_workload_rto_target_seconds", workload="shop") == 900.0
    # a passing check is a count per status, not a series of its own (nor a zero for every other status)
    assert d.sample("failover_findings", workload="shop", check="capacity.ratio") is None
    assert {s.labels["status"] for s in fams["failover_findings"].samples} <= {"warn", "fail", "unknown"}
    assert all(s.value > 0 for s in fams["failover_findings"].samples)
    assert (d.sample("failover_workload_findings", workload="shop", status="pass") or 0) >= 1
    assert fams["failover_probe_duration_seconds"].type == "histogram"
    assert d.sample("failover_cycle_duration_seconds_count", job="check")
    assert d.sample("failover_cycle_duration_seconds_count", job="inventory")
    assert d.sample("failover_last_success_timestamp_seconds", job="check")
    assert d.sample("failover_job_failures_total", job="check") == 0.0
    assert d.sample("failover_inventory_incomplete_scopes", account="aws-local") == 0.0
    assert d.get("/nope")[0] == 404

    # One daemon per SQLite file: a second one on the same database refuses to start.
    second = daemon_factory(config)
    assert second.proc.wait(30) == 3
    refused = "\n".join(second.log_lines())
    assert f"another failover daemon is already running on {tmp_path / 'failover.db'} (pid {d.pid})" in refused
    assert "Traceback" not in refused
    assert d.healthz()[0] == 200

    code, seconds = d.terminate()
    assert code == 0 and seconds < 8
    assert d.events("daemon.stopped")
    assert {r["status"] for r in runs(store)} <= {"ok", "cancelled"}  # nothing left half-done as "running"
    for line in d.log_lines():  # structured: every line one JSON event
        assert json.loads(line)["event"]


def test_aws_outage_mid_run_turns_aws_checks_unknown_then_they_recover_and_sigterm_cancels_a_stuck_run(
    restartable_aws: RestartableAws,
    tmp_path: Path,
    daemon_factory: Callable[..., DaemonProcess],
    reader: Callable[[], Store],
) -> None:
    config = seeded_shop_config(restartable_aws, tmp_path)
    d = daemon_factory(config)
    d.wait_event("daemon.started")
    store = reader()

    def capacity() -> FindingStatus | None:
        return latest(store)[0].get("capacity.ratio")

    wait_for(lambda: capacity() == FindingStatus.PASS, 30, "capacity.ratio to pass")
    restartable_aws.stop()
    wait_for(lambda: capacity() == FindingStatus.UNKNOWN, 30, "capacity.ratio to go unknown while AWS is down")
    _, [down] = latest(store)
    assert down.readiness < 100
    assert d.sample("failover_inventory_incomplete_scopes", account="aws-local")
    assert d.healthz()[0] == 200  # a cloud outage is evidence, not a daemon failure
    [inv] = store.latest_inventory(["aws-local"])
    assert inv.incomplete and all(e.error == "unreachable" for e in inv.incomplete)

    restartable_aws.restart()
    wait_for(lambda: capacity() == FindingStatus.PASS, 30, "capacity.ratio to recover after AWS is back")
    assert d.proc.poll() is None

    # A run stuck in a cloud call at SIGTERM is abandoned after the grace period, recorded as cancelled.
    stuck = restartable_aws.inject("slow", service="ec2", operation="DescribeInstances", delay=60)
    wait_for(lambda: stuck.hits, 15, "an inventory run stuck in DescribeInstances")
    code, seconds = d.terminate()
    assert code == 0 and seconds < 10
    assert d.events("daemon.abandoned")
    statuses = [r["status"] for r in runs(store)]
    assert "running" not in statuses and "cancelled" in statuses
    restartable_aws.clear_faults()


def test_once_runs_each_job_and_prunes_observations_past_retention(
    restartable_aws: RestartableAws,
    tmp_path: Path,
    daemon_factory: Callable[..., DaemonProcess],
    reader: Callable[[], Store],
) -> None:
    url = sqlite_url(tmp_path)
    old = utcnow() - timedelta(days=10)
    with Store.open(url) as store:
        run_id = store.start_run("check")
        stale = Observation(
            probe="http", target="https://old", status=ObsStatus.OK, reason="ok", latency_ms=5.0, observed_at=old
        )
        store.save_observations(run_id, [stale.tagged(workload="shop", site="west", vantage="test-vantage")])
        store.finish_run(run_id, "ok")
    config = seeded_shop_config(restartable_aws, tmp_path, daemon={"retention": "7d"})
    d = daemon_factory(config, "--once")
    assert d.proc.wait(60) == 0, "\n".join(d.log_lines())
    store = reader()
    kinds = {r["kind"]: r["status"] for r in runs(store)}
    assert kinds["inventory"] == kinds["check"] == kinds["retention"] == "ok"
    [pruned] = d.events("retention.finished")
    assert pruned["pruned"] == 1
    assert [r.target for r in store.rollups()] == ["https://old"]
    assert store.latest_scores("shop")
