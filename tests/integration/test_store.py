"""Every Store method, on SQLite and Postgres: what is saved comes back equal."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from failover.errors import StoreError
from failover.model import (
    Capacity,
    Drill,
    FindingStatus,
    Inventory,
    ObsStatus,
    Resource,
    ScopeError,
    utcnow,
)
from failover.store import Store
from tests.fixtures.store_rows import T0, finding, obs, score


def inventory(account: str = "aws-prod", minutes: float = 0, n: int = 3) -> Inventory:
    return Inventory(
        account=account,
        provider="aws",
        resources=[
            Resource(
                provider="aws",
                account=account,
                region="us-east-1",
                zone="us-east-1a",
                kind="compute.instance",
                native_type="AWS::EC2::Instance",
                native_id=f"i-{account}-{i}",
                name=f"web-{i}",
                state="running",
                capacity=Capacity(vcpu=2.0, memory_mib=8192),
                tags={"app": "checkout"},
                attrs={"image": "ami-1", "deletion_protection": i % 2 == 0},
            )
            for i in range(n)
        ],
        incomplete=[ScopeError("eu-west-1", "access_denied", "ec2:DescribeInstances denied")],
        started_at=T0 + timedelta(minutes=minutes),
        finished_at=T0 + timedelta(minutes=minutes, seconds=30),
    )


def test_run_is_recorded_from_start_to_finish(store: Store) -> None:
    run_id = store.start_run("check", vantage="eu-1", config_digest="abc")
    started = store.run(run_id)
    assert started is not None
    assert started["status"] == "running" and started["finished_at"] is None
    assert started["started_at"].tzinfo is not None
    store.finish_run(run_id, "failed", error="aws unreachable", stats={"findings": 3})
    done = store.run(run_id)
    assert done is not None
    assert (done["status"], done["error"], done["stats"]) == ("failed", "aws unreachable", {"findings": 3})
    assert done["finished_at"] >= done["started_at"]


def test_finishing_an_unknown_run_is_an_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no such run"):
        store.finish_run(999_999, "ok")


def test_inventory_round_trips_with_its_incomplete_scopes(store: Store) -> None:
    run_id = store.start_run("inventory")
    inv = inventory()
    store.save_inventory(run_id, [inv])
    assert store.latest_inventory() == [inv]


def test_latest_inventory_is_the_newest_snapshot_per_account_and_older_ones_are_kept(store: Store) -> None:
    r1 = store.start_run("inventory")
    store.save_inventory(r1, [inventory("aws-prod", 0, n=3), inventory("aws-dr", 0, n=1)])
    r2 = store.start_run("inventory")
    newer = inventory("aws-prod", 60, n=2)
    store.save_inventory(r2, [newer])
    latest = {i.account: i for i in store.latest_inventory()}
    assert latest["aws-prod"] == newer
    assert len(latest["aws-dr"].resources) == 1
    assert store.latest_inventory(["aws-dr"]) == [latest["aws-dr"]]
    assert store.latest_inventory([]) == []
    # a snapshot that finished earlier (a slow run saving late) does not replace the newer one
    r3 = store.start_run("inventory")
    store.save_inventory(r3, [inventory("aws-prod", 30, n=5)])
    assert store.latest_inventory(["aws-prod"]) == [newer]
    with store.engine.connect() as conn:
        from sqlalchemy import func, select

        from failover.store.tables import inventory_snapshots, resources

        assert conn.execute(select(func.count()).select_from(inventory_snapshots)).scalar() == 4
        assert conn.execute(select(func.count()).select_from(resources)).scalar() == 3 + 1 + 2 + 5


def test_empty_inventory_is_stored_as_empty_not_missing(store: Store) -> None:
    run_id = store.start_run("inventory")
    inv = Inventory(account="gcp-dr", provider="gcp", started_at=T0, finished_at=T0)
    store.save_inventory(run_id, [inv])
    assert store.latest_inventory(["gcp-dr"]) == [inv]


def test_observations_round_trip_and_latest_keeps_the_newest(store: Store) -> None:
    run_id = store.start_run("check")
    old, new = obs(0, status=ObsStatus.FAILED, reason="503"), obs(5)
    other_label = obs(1, label="as-public-name", latency_ms=None)
    untagged = obs(2, workload=None, site=None, label="")
    store.save_observations(run_id, [old, new, other_label, untagged])
    assert store.latest_observations("checkout") == sorted([new, other_label], key=lambda o: o.label)
    assert untagged in store.latest_observations()
    # an older observation arriving later does not replace the newer one
    store.save_observations(run_id, [obs(-10, status=ObsStatus.ERROR, reason="timeout")])
    assert new in store.latest_observations("checkout")


def test_observation_from_another_vantage_is_its_own_latest(store: Store) -> None:
    run_id = store.start_run("check")
    store.save_observations(run_id, [obs(0, vantage="eu-1"), obs(0, vantage="us-1", status=ObsStatus.FAILED)])
    assert {(o.vantage, o.status) for o in store.latest_observations("checkout")} == {
        ("eu-1", ObsStatus.OK),
        ("us-1", ObsStatus.FAILED),
    }


def test_findings_round_trip(store: Store) -> None:
    run_id = store.start_run("check")
    fs = [finding("dns.ttl", status=FindingStatus.WARN, subject=""), finding("secondary.health")]
    store.save_findings(run_id, fs)
    assert store.latest_findings("checkout") == sorted(fs, key=lambda f: (f.check, f.subject))
    assert store.latest_findings("other") == []
    assert store.finding_history("checkout", "dns.ttl", T0 - timedelta(days=1)) == [fs[0]]


def test_scores_round_trip_with_reasons_and_details(store: Store) -> None:
    run_id = store.start_run("check")
    s = score()
    store.save_scores(run_id, [s])
    assert store.latest_scores() == [s]
    assert store.latest_scores("checkout") == [s]
    assert store.latest_scores("nope") == []


def test_score_at_is_the_newest_at_or_before_the_time(store: Store) -> None:
    run_id = store.start_run("check")
    history = [score(m, readiness=50.0 + m) for m in (0, 60, 120)]
    store.save_scores(run_id, [*history, score(30, workload="other")])
    assert store.score_at("checkout", T0 - timedelta(seconds=1)) is None
    assert store.score_at("checkout", T0) == history[0]
    assert store.score_at("checkout", T0 + timedelta(minutes=90)) == history[1]
    assert store.score_at("checkout", T0 + timedelta(days=9)) == history[2]


def test_score_history_is_ordered_by_time(store: Store) -> None:
    run_id = store.start_run("check")
    history = [score(m, readiness=40.0 + m / 10) for m in (120, 0, 60)]
    store.save_scores(run_id, history)
    assert store.score_history("checkout", T0 + timedelta(minutes=1)) == [history[2], history[0]]
    assert [s.computed_at for s in store.score_history("checkout", T0)] == [
        T0,
        T0 + timedelta(minutes=60),
        T0 + timedelta(minutes=120),
    ]


def test_latest_score_is_not_replaced_by_an_older_one(store: Store) -> None:
    run_id = store.start_run("check")
    store.save_scores(run_id, [score(60, readiness=90.0)])
    store.save_scores(run_id, [score(0, readiness=10.0)])
    assert [s.readiness for s in store.latest_scores()] == [90.0]


def test_naive_datetimes_are_taken_as_utc(store: Store) -> None:
    run_id = store.start_run("check")
    store.save_scores(run_id, [score(0)])
    assert store.score_at("checkout", datetime(2026, 11, 2, 12, 0)) == score(0)


def test_mail_delivery_is_recorded_once_per_owner_and_week(store: Store) -> None:
    assert not store.delivered("payments@example.com", "2026-W45")
    assert store.record_delivery("payments@example.com", "2026-W45", "<m1@failover>", vantage="eu-1")
    assert not store.record_delivery("payments@example.com", "2026-W45", "<m2@failover>")
    assert store.delivered("payments@example.com", "2026-W45")
    assert store.record_delivery("payments@example.com", "2026-W46", "<m3@failover>")
    assert store.record_delivery("sre@example.com", "2026-W45", "<m4@failover>")


def test_a_sender_releases_only_its_own_delivery_claim(store: Store) -> None:
    assert store.record_delivery("payments@example.com", "2026-W45", "<m1@failover>")
    assert not store.release_delivery("payments@example.com", "2026-W45", "<someone-else@failover>")
    assert store.delivered("payments@example.com", "2026-W45")
    assert store.release_delivery("payments@example.com", "2026-W45", "<m1@failover>")
    assert not store.delivered("payments@example.com", "2026-W45")
    assert store.record_delivery("payments@example.com", "2026-W45", "<m2@failover>")  # a later run may retry


def test_prune_rolls_observations_up_by_day_then_deletes_them(store: Store) -> None:
    run_id = store.start_run("check")
    day1 = [obs(m, latency_ms=float(10 * (m + 1))) for m in range(3)]  # 10, 20, 30 ms
    day1.append(obs(4, status=ObsStatus.FAILED, latency_ms=None, reason="connection refused"))
    day2 = [obs(24 * 60 + 1, latency_ms=5.0)]
    recent = [obs(5 * 24 * 60)]
    store.save_observations(run_id, day1 + day2 + recent)
    deleted = store.prune(T0 + timedelta(days=3))
    assert deleted == 5
    r1, r2 = store.rollups("checkout")
    assert (r1.day, r1.count, r1.ok_count, r1.latency_avg_ms, r1.latency_max_ms) == (
        date(2026, 11, 2),
        4,
        3,
        20.0,
        30.0,
    )
    assert (r2.day, r2.count, r2.ok_count, r2.latency_max_ms) == (date(2026, 11, 3), 1, 1, 5.0)
    assert (r1.workload, r1.site, r1.probe) == ("checkout", "gcp-east", "http")
    assert store.rollups(since=date(2026, 11, 3)) == [r2]
    # the latest state survives pruning; pruning again deletes nothing
    assert store.latest_observations("checkout") == [recent[0]]
    assert store.prune(T0 + timedelta(days=3)) == 0


def test_prune_merges_into_an_existing_days_rollup(store: Store) -> None:
    run_id = store.start_run("check")
    store.save_observations(run_id, [obs(0, latency_ms=10.0), obs(120, latency_ms=50.0)])
    assert store.prune(T0 + timedelta(minutes=60)) == 1
    assert store.prune(T0 + timedelta(minutes=180)) == 1
    (r,) = store.rollups()
    assert (r.count, r.ok_count, r.latency_avg_ms, r.latency_max_ms) == (2, 2, 30.0, 50.0)


def test_prune_with_nothing_old_deletes_nothing(store: Store) -> None:
    assert store.prune(T0) == 0
    assert store.rollups() == []


def test_score_at_and_history_are_served_by_the_workload_time_index(store: Store) -> None:
    from sqlalchemy import select, text

    from failover.store.tables import scores

    query = (
        select(scores)
        .where(scores.c.workload == "checkout", scores.c.computed_at <= T0)
        .order_by(scores.c.computed_at.desc())
        .limit(1)
    )
    with store.engine.connect() as conn:
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        else:
            conn.execute(text("SET enable_seqscan = off"))  # an empty table would otherwise be scanned
            plan = " ".join(r[0] for r in conn.execute(text(f"EXPLAIN {sql}")))
    assert "ix_scores_workload_computed_at" in plan, plan


def test_in_memory_sqlite_works_for_throwaway_stores() -> None:
    with Store.open("sqlite://") as store:
        run_id = store.start_run("demo")
        store.save_scores(run_id, [score()])
        assert store.latest_scores() == [score()]


def test_history_thins_to_a_daily_score_and_keeps_every_latest_state(store: Store) -> None:
    run_a = store.start_run("check")
    store.save_scores(run_a, [score(0, 70.0), score(10, 75.0)])
    store.save_findings(run_a, [finding(minutes=0)])
    store.finish_run(run_a, "ok")
    run_b = store.start_run("check")
    store.save_scores(run_b, [score(20, 90.0), score(24 * 60, 95.0, workload="search")])
    store.finish_run(run_b, "ok")
    empty = store.start_run("check")  # a failed tick: nothing refers to it
    store.finish_run(empty, "error", error="database was down")
    recent = store.start_run("check")  # still running: never pruned
    for minutes, status in ((0, "AT_RISK"), (1, "NOT_READY")):  # the newest per destination and workload stays
        at = T0 + timedelta(minutes=minutes)
        store.claim_alert("ops", "checkout", "status_changed", status=status, readiness=30.0, basis=at)
    store.claim_alert("ops", "search", "status_changed", status="AT_RISK", readiness=70.0, basis=T0)
    thinned = store.prune_history(utcnow() + timedelta(minutes=1))
    assert thinned == {"findings": 1, "scores": 2, "runs": 1, "alerts": 1}
    kept = {(r.workload, r.status) for r in store.alert_deliveries()}
    assert kept == {("checkout", "NOT_READY"), ("search", "AT_RISK")}
    assert store.run(empty) is None and store.run(recent) is not None
    assert [f.check for f in store.latest_findings("checkout")] == ["secondary.health"]  # latest state stays
    assert [s.readiness for s in store.score_history("checkout", T0 - timedelta(days=1))] == [90.0]
    assert {s.workload: s.readiness for s in store.latest_scores()} == {"checkout": 90.0, "search": 95.0}
    assert store.run(run_a) is not None  # the latest findings still come from it


def test_runs_left_running_by_a_dead_process_are_closed_as_abandoned(store: Store) -> None:
    dead = store.start_run("check", vantage="eu-1")
    other = store.start_run("check", vantage="us-1")
    assert store.abandon_runs("eu-1", before=utcnow() + timedelta(seconds=1)) == 1
    gone = store.run(dead)
    assert gone is not None and gone["status"] == "abandoned" and gone["finished_at"] is not None
    assert store.run(other)["status"] == "running"  # type: ignore[index]  # another vantage's daemon


def test_drills_come_back_newest_first_and_latest_per_workload(store: Store) -> None:
    store.record_drill(Drill("checkout", T0, succeeded=True, recovery_s=420.0, notes="game day"))
    store.record_drill(Drill("checkout", T0 + timedelta(days=30), succeeded=False, notes="DNS never moved"))
    store.record_drill(Drill("search", T0 + timedelta(days=1), succeeded=True))
    assert [d.succeeded for d in store.drills("checkout")] == [False, True]
    latest = store.latest_drills(["checkout", "search", "payments"], now=T0 + timedelta(days=60))
    assert set(latest) == {"checkout", "search"}
    assert latest["checkout"] == Drill("checkout", T0 + timedelta(days=30), False, None, "DNS never moved")
    assert latest["search"].recovery_s is None and latest["search"].performed_at == T0 + timedelta(days=1)


def test_latest_observations_of_many_workloads_is_each_ones_latest_past_one_in_list(store: Store) -> None:
    names = [f"w{i:04d}" for i in range(1200)]  # more than one IN (...) list
    run_id = store.start_run("check")
    store.save_observations(run_id, [obs(0, workload=n) for n in names] + [obs(0, workload="other")])
    picked = names[::2]
    found = store.latest_observations(workloads=reversed(picked))
    assert found == [o for n in picked for o in store.latest_observations(n)]
    assert store.latest_observations(workloads=[]) == []
