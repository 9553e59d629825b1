"""The daemon's parts on their own: schedule arithmetic, /healthz answers, metric rendering, log
lines, listen addresses (pure); the SQLite instance lock, Postgres leadership and a job surviving a
database outage (real flock, real Postgres)."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from failover.daemon.health import JobBook, JobRecord, health
from failover.daemon.http import parse_listen
from failover.daemon.jobs import Cancelled, Jobs
from failover.daemon.locks import AdvisoryLock, InstanceLock, Solo, lock_key
from failover.daemon.logs import JsonFormatter, TextFormatter, emit, redact
from failover.daemon.metrics import SINGLETONS, DaemonMetrics, WorkloadState, workload_families
from failover.daemon.scheduler import check_slots, last_occurrence, missed_mail, next_due, validate, workload_offset
from failover.errors import ConfigError, DaemonError
from failover.model import Finding, FindingStatus, Score, Status
from failover.schema import Config, MailSchedule
from failover.store import Store
from tests.fixtures.daemon import due_schedule
from tests.fixtures.store import PostgresServer

UTC_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday


def config(n: int = 1, **daemon: Any) -> Config:
    sel = {"tags": {"app": "x"}}
    return Config.model_validate(
        {
            "accounts": [{"name": "a", "provider": "aws", "regions": ["us-east-1"]}],
            "daemon": daemon,
            "workloads": [
                {
                    "name": f"w{i:04d}",
                    "owners": ["o@example.com"],
                    "sites": [
                        {"name": "p", "role": "primary", "account": "a", "select": sel},
                        {"name": "s", "role": "secondary", "account": "a", "select": sel},
                    ],
                }
                for i in range(n)
            ],
        }
    )


# -- schedule -----------------------------------------------------------------------------------


def test_last_occurrence_is_the_latest_send_time_in_the_schedule_zone() -> None:
    mon8 = MailSchedule(day="mon", time="08:00", timezone="Europe/Berlin")
    assert last_occurrence(mon8, UTC_NOW) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 08:00 CET
    just_before = datetime(2026, 11, 23, 6, 59, tzinfo=UTC)  # 07:59 in Berlin: last week's is the latest
    assert last_occurrence(mon8, just_before) == datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
    assert last_occurrence(mon8, datetime(2026, 11, 23, 7, 0, tzinfo=UTC)) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def test_missed_mail_is_due_only_within_grace_and_in_the_same_iso_week() -> None:
    mon8 = MailSchedule(day="mon", time="08:00", grace=86400)
    assert missed_mail(mon8, datetime(2026, 11, 23, 20, 0, tzinfo=UTC)) == datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert missed_mail(mon8, datetime(2026, 11, 24, 9, 0, tzinfo=UTC)) is None  # 25h late
    sunday_night = MailSchedule(day="sun", time="23:00", grace=86400)
    assert missed_mail(sunday_night, datetime(2026, 11, 29, 23, 30, tzinfo=UTC)) is not None
    assert missed_mail(sunday_night, datetime(2026, 11, 30, 1, 0, tzinfo=UTC)) is None  # a new ISO week began


def test_few_workloads_get_their_own_job_at_a_stable_offset() -> None:
    slots = check_slots(config(3, check_interval="60s"))
    assert [names for _, _, names in slots] == [["w0000"], ["w0001"], ["w0002"]]
    assert all(0 <= offset < 60 and interval == 60 for interval, offset, _ in slots)
    assert len({offset for _, offset, _ in slots}) == 3
    assert slots == check_slots(config(3, check_interval="60s"))  # same config, same phase after a restart
    assert slots[0][1] == workload_offset("w0000", 60)


def test_many_workloads_are_batched_into_one_job_per_second_of_interval() -> None:
    cfg = config(1000, check_interval="1m")
    cfg.workloads[0].check_interval = 300.0
    slots = check_slots(cfg)
    by_interval: dict[float, list[list[str]]] = {}
    for interval, _, names in slots:
        by_interval.setdefault(interval, []).append(names)
    assert by_interval[300.0] == [["w0000"]]
    assert len(by_interval[60.0]) <= 60
    covered = [n for group in by_interval[60.0] for n in group]
    assert sorted(covered) == [f"w{i:04d}" for i in range(1, 1000)]  # every workload once
    assert max(len(g) for g in by_interval[60.0]) < 40  # spread out, not piled into a few slots


def test_next_due_continues_from_the_last_run_or_runs_now() -> None:
    assert next_due(None, 900, UTC_NOW) == UTC_NOW
    assert next_due(UTC_NOW - timedelta(minutes=10), 900, UTC_NOW) == UTC_NOW + timedelta(minutes=5)
    assert next_due(UTC_NOW - timedelta(hours=1), 900, UTC_NOW) == UTC_NOW


def test_config_the_daemon_cannot_schedule_is_one_clear_error() -> None:
    with pytest.raises(ConfigError) as err:
        validate(config(1, check_interval="500ms", inventory_interval=0))
    assert "daemon.check_interval: expected at least 1s" in str(err.value)
    assert "daemon.inventory_interval: expected at least 1s" in str(err.value)
    with pytest.raises(ConfigError, match="workloads: none defined"):
        validate(Config())


# -- /healthz -----------------------------------------------------------------------------------


def _health(**kw: Any) -> tuple[int, dict[str, Any]]:
    args: dict[str, Any] = {
        "now": 1000.0,
        "started": 900.0,
        "scheduler_running": True,
        "stopping": False,
        "stale_after": 60.0,
        "jobs": {},
        "leader": {"scoring": True},
        "vantage": "v",
        "version": "0",
    }
    return health(**{**args, **kw})


def test_healthz_is_ok_with_a_recent_cycle_and_503_when_stale_stopped_or_stopping() -> None:
    recent = {"check": JobRecord(last_success=980.0)}
    assert _health(jobs=recent)[0] == 200 and _health(jobs=recent)[1]["last_cycle_age_seconds"] == 20.0
    code, body = _health(jobs={"check": JobRecord(last_success=900.0, failures=3, last_error="db down")})
    assert code == 503 and body["status"] == "failing" and "100s ago" in body["reason"]
    assert body["jobs"]["check"]["last_error"] == "db down"
    assert _health(jobs=recent, scheduler_running=False)[0] == 503
    assert _health(jobs=recent, stopping=True)[1]["status"] == "stopping"


def test_healthz_gives_a_starting_daemon_time_for_its_first_cycle() -> None:
    assert _health(started=990.0) == (200, _health(started=990.0)[1])
    assert _health(started=990.0)[1]["status"] == "starting"
    assert _health(started=800.0)[0] == 503


# -- metrics ------------------------------------------------------------------------------------


def _finding(check: str, status: FindingStatus, subject: str = "") -> Finding:
    return Finding(check=check, workload="shop", status=status, reason="r", subject=subject)


def _families(metrics: DaemonMetrics) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(generate_latest(metrics.registry).decode())}


def test_workload_metrics_render_scores_findings_and_drop_series_that_no_longer_exist() -> None:
    score = Score(
        workload="shop",
        status=Status.AT_RISK,
        readiness=62.5,
        single_provider_risk={"aws": 1.0, "gcp": 0.25},
        rto_estimate_s=420.0,
        rto_target_s=900.0,
        computed_at=UTC_NOW,
    )
    m = DaemonMetrics(version="1", vantage="v")
    findings = [
        _finding("dns.ttl", FindingStatus.FAIL),
        _finding("guardrails.deletion_protection", FindingStatus.FAIL, "east"),
        _finding("guardrails.deletion_protection", FindingStatus.PASS, "west"),
    ]
    m.workload("shop", score, findings)
    m.workload("search", None, [])
    fams = _families(m)
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in fams.values() for s in f.samples}
    assert values[("failover_workload_readiness", (("workload", "shop"),))] == 62.5
    assert values[("failover_workload_status", (("status", "AT_RISK"), ("workload", "shop")))] == 1
    assert values[("failover_workload_status", (("status", "READY"), ("workload", "shop")))] == 0
    assert values[("failover_workload_status", (("status", "UNKNOWN"), ("workload", "search")))] == 1
    assert ("failover_workload_readiness", (("workload", "search"),)) not in values  # no score, no number
    assert values[("failover_workload_single_provider_risk", (("provider", "gcp"), ("workload", "shop")))] == 0.25
    assert values[("failover_workload_rto_estimate_seconds", (("workload", "shop"),))] == 420
    assert values[("failover_workload_score_timestamp_seconds", (("workload", "shop"),))] == UTC_NOW.timestamp()
    key = ("failover_findings", (("check", "guardrails.deletion_protection"), ("status", "fail"), ("workload", "shop")))
    assert values[key] == 1
    # passing findings are counted per status; only what is not passing has a series per check
    assert values[("failover_workload_findings", (("status", "pass"), ("workload", "shop")))] == 1
    assert values[("failover_workload_findings", (("status", "fail"), ("workload", "shop")))] == 2
    assert not [k for k in values if k[0] == "failover_findings" and dict(k[1])["status"] in ("pass", "skip")]
    assert all(v > 0 for k, v in values.items() if k[0] in ("failover_findings", "failover_workload_findings"))
    m.workload("shop", score, [_finding("dns.ttl", FindingStatus.PASS)])
    text_out = generate_latest(m.registry).decode()
    assert "guardrails.deletion_protection" not in text_out


def test_served_metrics_are_what_prometheus_client_renders_in_either_format() -> None:
    from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest

    m = DaemonMetrics(version="1", vantage="v")
    m.job_finished("check", 0.5, ok=True, at=1_700_000_000.0)
    m.workload("shop", None, [_finding("dns.ttl", FindingStatus.FAIL), _finding("dns.ttl", FindingStatus.PASS)])
    m.workload('odd "name"\\\n', None, [_finding("dns.ttl", FindingStatus.UNKNOWN)])
    m.workload("shop", None, [_finding("secondary.tls", FindingStatus.WARN)])  # replaced, not added
    assert m.exposition("text/plain") == (generate_latest(m.registry), "text/plain; version=0.0.4; charset=utf-8")
    body, content_type = m.exposition("application/openmetrics-text; version=1.0.0")
    assert body == openmetrics_latest(m.registry) and content_type.startswith("application/openmetrics-text")
    assert b"dns.ttl" in body and b'check="dns.ttl",status="unknown"' in body


def test_metric_names_follow_prometheus_conventions() -> None:
    m = DaemonMetrics(version="1", vantage="v")
    m.job_finished("check", 0.5, ok=False, at=time.time())
    m.workload("shop", None, [_finding("dns.ttl", FindingStatus.UNKNOWN)])
    fams = _families(m)
    assert all(name.startswith("failover_") for name in fams)
    for fam in fams.values():
        if fam.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in fam.samples), fam.name
        if fam.type == "histogram":
            assert fam.name.endswith("_seconds"), fam.name
    assert {s.labels["job"] for s in fams["failover_job_failures"].samples} >= {"inventory", "check", "mail"}
    assert {s.labels["job"] for s in fams["failover_leader"].samples} == set(SINGLETONS)
    assert workload_families({"x": WorkloadState()})[1].samples  # an unscored workload still has a status


# -- logs ---------------------------------------------------------------------------------------


def _logger(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    log = logging.getLogger(f"test.daemon.{id(out)}")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    return log, out


def test_json_logs_are_one_line_per_event_with_fields_and_no_url_passwords() -> None:
    log, out = _logger(JsonFormatter())
    emit(log, logging.INFO, "job.finished", job="check", seconds=0.25, names=["a", "b"])
    try:
        raise ValueError("cannot reach postgresql://app:s3cr3t@db.internal/failover\nsecond line")
    except ValueError:
        emit(log, logging.ERROR, "job.failed", job="check", database="postgresql://app:s3cr3t@db/x", exc_info=True)
    log.warning("plain library message")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    first, failed, plain = (json.loads(x) for x in lines)
    assert first["event"] == "job.finished" and first["job"] == "check" and first["names"] == ["a", "b"]
    assert failed["level"] == "error" and "Traceback" in failed["traceback"]
    assert "s3cr3t" not in out.getvalue() and failed["database"] == "postgresql://app:***@db/x"
    assert plain["event"] == "log" and plain["msg"] == "plain library message"


def test_text_logs_read_as_event_then_key_value_pairs() -> None:
    log, out = _logger(TextFormatter())
    emit(log, logging.WARNING, "job.failed", job="check", error="database is locked", jobs=["a", "b"])
    line = out.getvalue().strip()
    assert "WARNING job.failed job=check" in line and 'error="database is locked"' in line and "jobs=a,b" in line
    assert (
        redact("smtp://user:pw@host:25 and https://x.example/path")
        == "smtp://user:***@host:25 and https://x.example/path"
    )


# -- listen ---------------------------------------------------------------------------------------


def test_listen_addresses_parse_or_fail_clearly() -> None:
    assert parse_listen("127.0.0.1:9108") == ("127.0.0.1", 9108)
    assert parse_listen("[::1]:0") == ("::1", 0)
    assert parse_listen(":9108") == ("", 9108)
    assert parse_listen("localhost:80") == ("localhost", 80)
    for bad in ("9108", "127.0.0.1:http", "::1:9108", "host:70000", "bad host:1"):
        with pytest.raises(ConfigError, match="--listen"):
            parse_listen(bad, source="--listen")


# -- locks --------------------------------------------------------------------------------------


def test_instance_lock_refuses_a_second_holder_until_released(tmp_path: Path) -> None:
    db = tmp_path / "failover.db"
    first = InstanceLock(db).acquire()
    with pytest.raises(DaemonError) as err:
        InstanceLock(db).acquire()
    assert f"another failover daemon is already running on {db}" in str(err.value)
    assert str(tmp_path / "failover.db.daemon.lock") in str(err.value)
    first.release()
    InstanceLock(db).acquire().release()


def test_lock_keys_are_stable_distinct_signed_64_bit() -> None:
    keys = {lock_key(n) for n in SINGLETONS}
    assert len(keys) == len(SINGLETONS) and all(-(2**63) <= k < 2**63 for k in keys)
    assert lock_key("scoring") == lock_key("scoring")


@pytest.mark.postgres
def test_advisory_leadership_has_one_holder_and_passes_on_when_the_holder_goes(pg_server: PostgresServer) -> None:
    url = pg_server.create_database()
    changes: list[tuple[str, str, bool]] = []
    a = AdvisoryLock(url, "scoring", vantage="a", on_change=lambda n, h: changes.append(("a", n, h)))
    b = AdvisoryLock(url, "scoring", vantage="b", on_change=lambda n, h: changes.append(("b", n, h)))
    other_job = AdvisoryLock(url, "mail", vantage="b")
    try:
        assert a.ensure() is True
        assert b.ensure() is False and a.ensure() is True  # still held, verified on its session
        assert other_job.ensure() is True  # each singleton job has its own lock
        a.release()  # the holder's session ends (as when its process dies)
        assert b.ensure() is True and a.ensure() is False
        # The holder's connection is cut by the server: it notices and steps down.
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :app"),
                {"app": "failover-daemon b scoring"},
            )
        engine.dispose()
        assert b.ensure() is False  # it notices its session is gone and steps down
        assert changes == [("a", "scoring", True), ("b", "scoring", True), ("b", "scoring", False)]
        deadline = time.monotonic() + 5
        while not b.ensure():  # the lock died with the session: free again once the backend has exited
            assert time.monotonic() < deadline, "the lock was not freed with its session"
            time.sleep(0.05)
    finally:
        for lock in (a, b, other_job):
            lock.release()


# -- jobs -----------------------------------------------------------------------------------------


def _jobs(store: Store) -> tuple[Jobs, DaemonMetrics, JobBook, threading.Event]:
    metrics, book, stop = DaemonMetrics(version="1", vantage="v"), JobBook(), threading.Event()
    leaders = {n: Solo(n) for n in SINGLETONS}
    jobs = Jobs(
        config(1),
        store,
        vantage="v",
        metrics=metrics,
        book=book,
        leaders=leaders,
        stop=stop,
        on_mail_retry=lambda _delay: None,
    )
    return jobs, metrics, book, stop


def test_a_failing_job_is_counted_and_logged_and_the_next_tick_runs(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
        jobs, metrics, book, _ = _jobs(store)
        calls: list[int] = []

        def flaky() -> None:
            calls.append(1)
            if len(calls) == 1:
                raise KeyError("a bug")

        run = jobs.guarded("check", flaky)
        assert run() is False and run() is True
        assert book.snapshot()["check"].failures == 1 and book.snapshot()["check"].last_success is not None
        assert "KeyError" in book.snapshot()["check"].last_error
        fams = _families(metrics)
        [failures] = [
            s for s in fams["failover_job_failures"].samples if s.name.endswith("_total") and s.labels["job"] == "check"
        ]
        assert failures.value == 1


def test_the_scoring_daemon_counts_what_other_vantages_saw(tmp_path: Path) -> None:
    from failover.model import Observation, ObsStatus, utcnow
    from failover.runner import judge
    from failover.schema import Endpoint

    cfg = config(1)
    workload = cfg.workloads[0].model_copy(
        update={
            "sites": [
                cfg.workloads[0].sites[0],
                cfg.workloads[0]
                .sites[1]
                .model_copy(
                    update={"endpoints": [Endpoint(url="https://s.example.com/healthz", as_public_name=False)]}
                ),
            ]
        }
    )

    def seen(vantage: str, status: ObsStatus, reason: str) -> Observation:
        return Observation(
            probe="http",
            target="https://s.example.com/healthz",
            status=status,
            reason=reason,
            observed_at=utcnow(),
            vantage=vantage,
            workload=workload.name,
            site="s",
            label="direct",
        )

    with Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
        jobs, _, _, _ = _jobs(store)
        other = store.start_run("probe", vantage="eu-1")
        store.save_observations(other, [seen("eu-1", ObsStatus.FAILED, "HTTP 503")])
        with store.recorded_run("check", vantage="v") as run:
            judged = judge(
                jobs.config,
                store,
                run,
                [workload],
                [],
                [seen("v", ObsStatus.OK, "HTTP 200")],
                vantage="v",
                now=utcnow(),
                steps=jobs.cycle_steps(scoring=True),
            )
        assert judged.broken == []
        [health] = [f for f in store.latest_findings(workload.name) if f.check == "secondary.health"]
        assert health.status == "fail" and "from eu-1: HTTP 503" in health.reason, health.reason


def test_probes_in_flight_are_cancelled_when_the_daemon_stops(tmp_path: Path) -> None:
    import asyncio

    with Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
        jobs, _, _, stop = _jobs(store)
        threading.Timer(0.2, stop.set).start()
        began = time.monotonic()
        with pytest.raises(Cancelled):
            jobs.run_async(asyncio.sleep(30))
        assert time.monotonic() - began < 2


@pytest.mark.postgres
def test_a_database_down_for_a_while_fails_runs_until_it_is_back(pg_server: PostgresServer) -> None:
    url = pg_server.create_database()
    name = make_url(url).database
    admin = create_engine(
        pg_server.admin_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    store = Store.open(url)
    try:
        jobs, _, book, _ = _jobs(store)
        retention = jobs.guarded("retention", jobs.retention, singleton="retention")
        assert retention() is True
        with admin.connect() as conn:  # the database goes away: no new connections, current ones cut
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"), {"d": name})
        assert retention() is False
        assert "cannot" in book.snapshot()["retention"].last_error
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert retention() is True
        assert book.snapshot()["retention"].failures == 1
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


# -- the schedule a (re)started daemon builds ------------------------------------------------------


def test_a_restarted_daemon_continues_the_schedule_and_queues_a_missed_weekly_email(tmp_path: Path) -> None:
    from failover.daemon import Daemon
    from failover.store import tables as tables

    url = f"sqlite:///{tmp_path / 'f.db'}"
    data = config(2, inventory_interval="15m", check_interval="1m").model_dump(by_alias=True, exclude_none=True)
    now = datetime.now(UTC)
    schedule = due_schedule(now, ago=timedelta(minutes=30), grace="2h")  # due while we were down
    data["mail"] = {"from": "f@example.com", "smtp": {"host": "127.0.0.1", "port": 2525, "starttls": False}}
    data["mail"]["schedule"] = schedule
    data["database"] = url
    cfg = Config.model_validate(data)
    with Store.open(url) as store:  # the previous daemon's last inventory, 5 minutes ago (a cloud was away)
        run = store.start_run("inventory")
        store.finish_run(run, "incomplete")
        with store.engine.begin() as conn:
            conn.execute(tables.runs.update().values(started_at=now - timedelta(minutes=5)))
    daemon = Daemon.open(cfg, listen="127.0.0.1:0")
    try:
        daemon.scheduler.start(paused=True)
        jobs = {j.id: j for j in daemon.scheduler.get_jobs()}
        inventory_at = jobs["inventory"].next_run_time
        assert abs((inventory_at - (now + timedelta(minutes=10))).total_seconds()) < 5  # 15m after the last one
        assert abs((jobs["retention"].next_run_time - now).total_seconds()) < 5  # never ran: runs at once
        checks = [j for j in jobs.values() if j.id.startswith("check:")]
        assert len(checks) == 2 and all(now < j.next_run_time <= now + timedelta(minutes=1, seconds=1) for j in checks)
        assert cfg.mail is not None and missed_mail(cfg.mail.schedule, now) is not None
        daemon._maybe_catch_up_mail()
        assert "mail-catch-up" in {j.id for j in daemon.scheduler.get_jobs()}
        assert jobs["mail"].next_run_time > now  # the regular weekly run stays on its cron
    finally:
        daemon.scheduler.shutdown(wait=False)
        daemon.close()


def test_mail_that_cannot_work_stops_the_daemon_at_start_not_on_the_day_it_is_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SMTP_TEST_PASSWORD_UNSET", raising=False)
    data = config(1).model_dump(by_alias=True, exclude_none=True)
    data["mail"] = {
        "from": "f@example.com",
        "smtp": {"host": "smtp.example.com", "username_env": "SMTP_USER", "password_env": "SMTP_TEST_PASSWORD_UNSET"},
    }
    monkeypatch.setenv("SMTP_USER", "mailer")
    with pytest.raises(ConfigError, match="SMTP_TEST_PASSWORD_UNSET is not set"):
        validate(Config.model_validate(data))
