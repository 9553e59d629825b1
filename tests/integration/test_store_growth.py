"""Storage grows with change, not with time: on SQLite and Postgres, a cycle in which nothing changed
adds no finding row, no observation row (only a sample) and no score payload, while history reads
(finding changes, score trends, rollups) answer as they did when every cycle was stored whole."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, event, func, select, text

from failover.model import FindingStatus, ObsStatus
from failover.store import Store, migrate, open_engine
from failover.store import tables as t
from tests.fixtures.store_rows import T0, finding, obs, score


def count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.metadata.tables[table])).scalar_one())


def cycles(store: Store, n: int, *, start: int = 0) -> None:
    """``n`` check cycles a minute apart in which nothing changed (evidence and latency still vary)."""
    for i in range(start, start + n):
        run = store.start_run("check")
        store.save_observations(run, [obs(i, latency_ms=40.0 + i), obs(i, label="as-public-name")])
        store.save_findings(run, [finding("dns.ttl", i, evidence={"ttl": 60, "run": i}), finding("capacity.ratio", i)])
        store.save_scores(run, [score(i), score(i, workload="search")])
        store.finish_run(run, "ok")


def test_unchanged_cycles_add_no_finding_rows_and_a_change_adds_one(store: Store) -> None:
    cycles(store, 5)
    assert count(store, "findings") == 2
    assert store.finding_history("checkout", "dns.ttl", T0) == [finding("dns.ttl", 0, evidence={"ttl": 60, "run": 0})]
    assert store.latest_findings("checkout")[1].evidence == {"ttl": 60, "run": 4}  # the latest stays current
    run = store.start_run("check")
    failing = finding("dns.ttl", 10, status=FindingStatus.FAIL, reason="TTL 300s exceeds 60s")
    store.save_findings(run, [failing, finding("capacity.ratio", 10)])
    assert count(store, "findings") == 3
    assert [f.status for f in store.finding_history("checkout", "dns.ttl", T0)] == [
        FindingStatus.PASS,
        FindingStatus.FAIL,
    ]
    store.save_findings(store.start_run("check"), [finding("dns.ttl", 11, reason="TTL 300s exceeds 60s")])
    assert count(store, "findings") == 4  # a new reason is a change too


def test_unchanged_probes_add_samples_under_one_observation_row(store: Store) -> None:
    cycles(store, 5)
    assert (count(store, "observations"), count(store, "observation_samples")) == (2, 10)
    run = store.start_run("check")
    store.save_observations(
        run, [obs(10, status=ObsStatus.FAILED, reason="503"), obs(11, status=ObsStatus.FAILED, reason="503")]
    )
    store.save_observations(run, [obs(12, status=ObsStatus.FAILED, reason="connection refused")])
    assert count(store, "observations") == 4  # the failure, then its new reason
    assert store.latest_observations("checkout")[-1] == obs(12, status=ObsStatus.FAILED, reason="connection refused")
    assert store.prune(T0 + timedelta(days=1)) == 13  # every observation is rolled up, as before
    direct = [r for r in store.rollups("checkout") if r.target == obs().target]
    assert [(r.count, r.ok_count, r.latency_max_ms) for r in direct] == [(13, 10, 44.0)]


def test_the_trend_across_unchanged_cycles_is_the_one_every_stored_score_gave(store: Store) -> None:
    cycles(store, 6)
    assert count(store, "scores") == 12 and count(store, "score_payloads") == 1
    history = store.score_history("checkout", T0)
    assert history == [score(i) for i in range(6)]  # each with its own time, as saved
    when = {"checkout": T0 + timedelta(minutes=3, seconds=30), "search": T0 + timedelta(minutes=5), "gone": T0}
    assert store.scores_at(when) == {name: store.score_at(name, at) for name, at in when.items()}
    assert store.scores_at(when)["search"] == score(5, workload="search")
    assert store.scores_at({"checkout": T0 - timedelta(seconds=1)}) == {"checkout": None}
    since = T0 + timedelta(minutes=2)
    assert store.score_histories(["checkout", "search", "gone"], since) == {
        name: store.score_history(name, since) for name in ("checkout", "search", "gone")
    }


def test_the_trend_of_many_workloads_is_one_query(store: Store) -> None:
    run = store.start_run("check")
    names = [f"w{i:04d}" for i in range(1200)]
    store.save_scores(run, [score(m, 60.0 + m, workload=n) for n in names for m in (0, 60)])
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        trend = store.scores_at({n: T0 + timedelta(minutes=30) for n in names})
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert [s.split()[0] for s in statements if s.split()[0] != "BEGIN"] == ["SELECT"]
    assert {s.readiness for s in trend.values() if s is not None} == {60.0} and len(trend) == 1200


def test_history_thinning_drops_score_payloads_no_score_uses(store: Store) -> None:
    run = store.start_run("check")
    store.save_scores(
        run, [replace(score(m, r), details={"rto": {"dns_s": m}}) for m, r in ((0, 70.0), (10, 75.0), (20, 90.0))]
    )
    store.finish_run(run, "ok")
    assert count(store, "score_payloads") == 3
    store.prune_history(datetime.now(UTC) + timedelta(minutes=1))
    assert count(store, "score_payloads") == 1
    assert [s.readiness for s in store.score_history("checkout", T0 - timedelta(days=1))] == [90.0]


def _old_schema_rows(engine: Engine) -> None:
    """Rows as revision 0003 stored them: every observation and score whole."""
    data = '{"status_code": 200}'
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO runs (id, kind, status, started_at) VALUES (1, 'check', 'ok', :at)"),
            {"at": "2026-11-02 12:00:00.000000"},
        )
        for i in range(3):
            conn.execute(
                text(
                    "INSERT INTO observations (run_id, workload, site, probe, target, label, vantage, status, reason,"
                    " latency_ms, observed_at, data) VALUES (1, 'checkout', 'gcp-east', 'http', 'https://x/healthz',"
                    " 'direct', 'eu-1', 'ok', '200 OK', :ms, :at, :data)"
                ),
                {"ms": 10.0 * (i + 1), "at": f"2026-11-02 12:0{i}:00.000000", "data": data},
            )
            conn.execute(
                text(
                    "INSERT INTO scores (run_id, workload, status, readiness, single_provider_risk, rto_estimate_s,"
                    " rto_target_s, reasons, details, computed_at) VALUES (1, 'checkout', 'READY', :r,"
                    ' \'{"aws": 0.25}\', 410.0, 900.0, \'[{"check": "dns.ttl", "status": "warn", "message": "TTL",'
                    ' "points": 7.5}]\', \'{"gates": []}\', :at)'
                ),
                {"r": 80.0 + i, "at": f"2026-11-02 12:0{i}:00.000000"},
            )


def test_upgrading_keeps_every_observation_and_score_of_the_old_schema(empty_db_url: str) -> None:
    engine = open_engine(empty_db_url)
    try:
        migrate.upgrade(engine, "0003")
        _old_schema_rows(engine)
        assert migrate.upgrade(engine) == migrate.head_revision()
    finally:
        engine.dispose()
    with Store.open(empty_db_url) as store:
        history = store.score_history("checkout", T0)
        assert [(s.readiness, s.computed_at.minute) for s in history] == [(80.0, 0), (81.0, 1), (82.0, 2)]
        assert history[0].single_provider_risk == {"aws": 0.25} and history[0].reasons[0].points == 7.5
        assert store.prune(T0 + timedelta(days=1)) == 3
        (rollup,) = store.rollups("checkout")
        assert (rollup.count, rollup.ok_count, rollup.latency_avg_ms, rollup.latency_max_ms) == (3, 3, 20.0, 30.0)
        assert count(store, "observations") == 0
