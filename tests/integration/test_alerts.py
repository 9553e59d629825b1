"""Alerts through the real thing: the daemon's alert workers POSTing to a webhook receiver on
127.0.0.1, claims and the delivery log in SQLite and Postgres, retries, deduplication across two
scorers sharing one database, cooldown, and secrets kept out of the database and the logs."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from failover.daemon.alerts import Alerter
from failover.model import Reason, Score, Status
from failover.schema import AlertDestination, AlertPolicy, Config
from failover.store import Store
from tests.factories import config as base_config
from tests.fixtures.webhook import Receiver

SECRET = "whsec-Zp4kq9"
ROUTING_KEY = "R0UTINGKEY0123456789abcdef012345"
FAST = AlertPolicy(attempts=4, backoff=0.02, timeout=2.0, cooldown=1800)


def config(*destinations: dict[str, Any], policy: AlertPolicy = FAST) -> Config:
    cfg = base_config()
    return cfg.model_copy(update={"alerts": [AlertDestination(**d) for d in destinations], "alert_policy": policy})


def score(status: Status, readiness: float, minutes: float = 0.0) -> Score:
    reasons = [] if status == Status.READY else [Reason("secondary.health", "fail", "secondary answers 503", 30.0)]
    at = datetime.now(UTC) - timedelta(hours=1) + timedelta(minutes=minutes)
    return Score("checkout", status, readiness, reasons=reasons, computed_at=at)


class Outcomes:
    """The metric hook, recorded."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, destination: str, outcome: str) -> None:
        self.seen.append((destination, outcome))


def run_pass(alerter: Alerter, previous: Score | None, current: Score) -> None:
    alerter.scored({"checkout": previous}, [current])
    assert alerter.drain(30), "the alert workers did not finish"


@pytest.fixture
def alerter_for(store: Store) -> Any:
    made: list[Alerter] = []

    def make(cfg: Config, on: Store | None = None, hook: Outcomes | None = None) -> Alerter:
        alerter = Alerter(cfg, on or store, vantage="test", hook=hook)
        made.append(alerter)
        return alerter

    yield make
    for alerter in made:
        alerter.close()


def test_webhook_gets_a_signed_trigger_then_a_resolve(
    store: Store, alerter_for: Callable[..., Alerter], webhook_receiver: Callable[..., Receiver]
) -> None:
    hook = webhook_receiver()
    cfg = config({"name": "ops", "type": "webhook", "url": hook.url("/failover"), "secret": SECRET, "cooldown": 0})
    alerter = alerter_for(cfg)
    ready, down = score(Status.READY, 92), score(Status.NOT_READY, 35, minutes=1)
    run_pass(alerter, ready, down)
    run_pass(alerter, down, score(Status.READY, 90, minutes=2))
    trigger, resolve = hook.received("/failover")
    for request in (trigger, resolve):
        expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-failover-signature"] == expected
        assert request.headers["content-type"].startswith("application/json")
    first, second = json.loads(trigger.body), json.loads(resolve.body)
    assert (first["event"], first["status"], first["previous_status"]) == ("status_changed", "NOT_READY", "READY")
    assert first["reasons"] == [{"check": "secondary.health", "status": "fail", "message": "secondary answers 503"}]
    assert (second["event"], second["status"], second["previous_status"]) == ("resolved", "READY", "NOT_READY")
    log = store.alert_deliveries("ops")
    assert [(r.event, r.outcome, r.attempts, r.http_status) for r in log] == [
        ("resolved", "delivered", 1, 200),
        ("status_changed", "delivered", 1, 200),
    ]


def test_pagerduty_trigger_then_resolve_use_one_dedup_key(
    store: Store, alerter_for: Callable[..., Alerter], webhook_receiver: Callable[..., Receiver]
) -> None:
    pd = webhook_receiver([202])
    dest = {"name": "pager", "type": "pagerduty", "routing_key": ROUTING_KEY, "url": pd.url("/v2/enqueue")}
    alerter = alerter_for(config({**dest, "cooldown": 0}))
    down = score(Status.NOT_READY, 30, minutes=1)
    run_pass(alerter, score(Status.READY, 95), down)
    run_pass(alerter, down, score(Status.READY, 95, minutes=2))
    trigger, resolve = (pd.json(i, "/v2/enqueue") for i in (0, 1))
    assert (trigger["event_action"], resolve["event_action"]) == ("trigger", "resolve")
    assert trigger["dedup_key"] == resolve["dedup_key"] == "failover/checkout"
    assert trigger["routing_key"] == resolve["routing_key"] == ROUTING_KEY
    assert trigger["payload"]["severity"] == "critical" and trigger["payload"]["source"] == "checkout"
    assert [r.http_status for r in store.alert_deliveries("pager")] == [202, 202]


def test_slack_and_teams_get_their_own_message_shapes(
    store: Store, alerter_for: Callable[..., Alerter], webhook_receiver: Callable[..., Receiver]
) -> None:
    chat = webhook_receiver()
    cfg = config(
        {"name": "slack", "type": "slack", "url": chat.url("/services/T0/B0/x")},
        {"name": "teams", "type": "teams", "url": chat.url("/workflows/abc/triggers/manual/paths/invoke")},
    )
    run_pass(alerter_for(cfg), score(Status.READY, 95), score(Status.AT_RISK, 70, minutes=1))
    slack = chat.json(0, "/services/T0/B0/x")
    assert slack["text"].startswith("checkout is AT_RISK") and slack["blocks"][0]["type"] == "header"
    teams = chat.json(0, "/workflows/abc/triggers/manual/paths/invoke")
    [attachment] = teams["attachments"]
    assert teams["type"] == "message" and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"


def test_a_receiver_failing_twice_then_accepting_gets_one_alert_after_three_attempts(
    store: Store, alerter_for: Callable[..., Alerter], webhook_receiver: Callable[..., Receiver]
) -> None:
    hook = webhook_receiver([500, 503, 200])
    hook429 = webhook_receiver([429, 200], retry_after="0")
    refused = webhook_receiver([400, 200])
    cfg = config(
        {"name": "flaky", "type": "webhook", "url": hook.url()},
        {"name": "limited", "type": "webhook", "url": hook429.url()},
        {"name": "refused", "type": "webhook", "url": refused.url()},
    )
    run_pass(alerter_for(cfg), score(Status.READY, 95), score(Status.NOT_READY, 30, minutes=1))
    assert len(hook.received()) == 3 and len(hook429.received()) == 2
    assert len(refused.received()) == 1  # a 400 is not retried: the payload or URL is wrong
    [flaky] = store.alert_deliveries("flaky")
    assert (flaky.outcome, flaky.attempts, flaky.http_status, flaky.error) == ("delivered", 3, 200, "")
    [limited] = store.alert_deliveries("limited")
    assert (limited.outcome, limited.attempts) == ("delivered", 2)
    [bad] = store.alert_deliveries("refused")
    assert (bad.outcome, bad.attempts, bad.http_status) == ("failed", 1, 400)


def test_scoring_only_queues_while_a_destination_hangs(
    store: Store, alerter_for: Callable[..., Alerter], webhook_receiver: Callable[..., Receiver]
) -> None:
    import socket

    hook = webhook_receiver()
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        cfg = config(
            {"name": "hung", "type": "webhook", "url": url},
            {"name": "ops", "type": "webhook", "url": hook.url()},
            policy=AlertPolicy(attempts=1, timeout=30.0),
        )
        alerter = alerter_for(cfg)
        alerter.scored({"checkout": score(Status.READY, 95)}, [score(Status.NOT_READY, 30, 1)])  # returns at once
        deadline = time.monotonic() + 20
        while not hook.received() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert json.loads(hook.received()[0].body)["event"] == "status_changed"  # the other destination is not held up
        assert not alerter.drain(0.5)  # the hung destination's worker is still waiting for an answer
        assert [r.outcome for r in store.alert_deliveries("hung")] == ["pending"]
    assert alerter.drain(30)  # closing the listener resets the connection: the alert ends failed, logged
    [hung] = store.alert_deliveries("hung")
    assert (hung.outcome, hung.attempts, hung.http_status) == ("failed", 1, None)
    assert hung.error


def test_two_scorers_on_one_database_send_one_alert_per_transition(
    store_factory: Callable[[], Store], webhook_receiver: Callable[..., Receiver]
) -> None:
    hook = webhook_receiver()
    cfg = config({"name": "ops", "type": "webhook", "url": hook.url(), "cooldown": 0})
    outcomes = Outcomes()
    a = Alerter(cfg, store_factory(), hook=outcomes)
    b = Alerter(cfg, store_factory(), hook=outcomes)
    try:
        ready, down, back = score(Status.READY, 95), score(Status.NOT_READY, 30, 1), score(Status.READY, 95, 2)
        for previous, current in ((ready, down), (down, back)):
            a.scored({"checkout": previous}, [current])
            b.scored({"checkout": previous}, [current])
            assert a.drain(30) and b.drain(30)
    finally:
        a.close()
        b.close()
    assert [json.loads(r.body)["event"] for r in hook.received()] == ["status_changed", "resolved"]
    # the slower scorer either lost the claim (a duplicate) or already saw it and decided nothing
    assert outcomes.seen.count(("ops", "delivered")) == 2
    assert set(outcomes.seen) <= {("ops", "delivered"), ("ops", "duplicate")}
    with store_factory() as store:
        assert [(r.event, r.outcome) for r in store.alert_deliveries("ops")] == [
            ("resolved", "delivered"),
            ("status_changed", "delivered"),
        ]


def test_the_claim_of_one_transition_is_won_by_exactly_one_of_several_connections(
    store_factory: Callable[[], Store],
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    stores = [store_factory() for _ in range(4)]
    basis = datetime(2026, 12, 1, 8, 59, 59, 123456, tzinfo=UTC)

    def claim(store: Store) -> int | None:
        return store.claim_alert("ops", "checkout", "status_changed", status="NOT_READY", readiness=30, basis=basis)

    with ThreadPoolExecutor(len(stores)) as pool:
        won = [w for w in pool.map(claim, stores) if w is not None]
    assert len(won) == 1
    assert claim(stores[0]) is None  # and later too
    [row] = stores[0].alert_deliveries()
    assert (row.id, row.outcome, row.status) == (won[0], "pending", "NOT_READY")


def test_a_resolve_waits_out_the_cooldown(
    store: Store, alerter_for: Callable[..., Alerter], webhook_receiver: Callable[..., Receiver]
) -> None:
    hook = webhook_receiver()
    alerter = alerter_for(config({"name": "ops", "type": "webhook", "url": hook.url(), "cooldown": 1.0}))
    down, back = score(Status.NOT_READY, 30, 1), score(Status.READY, 95, 2)
    run_pass(alerter, score(Status.READY, 95), down)
    run_pass(alerter, down, back)
    assert [json.loads(r.body)["event"] for r in hook.received()] == ["status_changed"]
    time.sleep(1.1)
    run_pass(alerter, back, score(Status.READY, 96, 3))
    assert [json.loads(r.body)["event"] for r in hook.received()] == ["status_changed", "resolved"]


def test_secrets_never_reach_the_database_or_the_logs(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    webhook_receiver: Callable[..., Receiver],
) -> None:
    down = webhook_receiver([500])
    token = "T0KEN-in-path-9f8e7d"
    cfg = config(
        {"name": "ops", "type": "webhook", "url": down.url(f"/hooks/{token}?sig=q-{token}"), "secret": SECRET},
        {"name": "pager", "type": "pagerduty", "routing_key": ROUTING_KEY, "url": down.url(f"/pd/{token}")},
        policy=AlertPolicy(attempts=2, backoff=0.01, timeout=2.0),
    )
    db = tmp_path / "alerts.db"
    caplog.set_level(logging.DEBUG)
    with Store.open(f"sqlite:///{db}") as store:
        alerter = Alerter(cfg, store)
        try:
            run_pass(alerter, score(Status.READY, 95), score(Status.NOT_READY, 30, 1))
        finally:
            alerter.close()
        assert {(r.destination, r.outcome, r.http_status) for r in store.alert_deliveries()} == {
            ("ops", "failed", 500),
            ("pager", "failed", 500),
        }
    assert len(down.received()) == 4
    written = db.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("alerts.db-*"))
    logged = caplog.text
    assert "alert.failed" in logged
    for secret in (token, SECRET, ROUTING_KEY):
        assert secret.encode() not in written
        assert secret not in logged


# ----------------------------------------------------------------------------- failover alerts test


def cli_config(tmp_path: Path, alerts: list[dict[str, Any]]) -> Path:
    import yaml

    data = base_config().model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.update({"database": str(tmp_path / "f.db"), "alerts": alerts, "alert_policy": {"backoff": "10ms"}})
    path = tmp_path / "failover.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def alerts_test(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str, **env: str) -> Any:
    from click.testing import CliRunner

    from failover.cli import cli

    monkeypatch.delenv("FAILOVER_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(cli, ["alerts", "test", "-c", str(tmp_path / "failover.yaml"), *args])


def test_alerts_test_sends_to_every_destination_and_shows_hosts_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook_receiver: Callable[..., Receiver]
) -> None:
    hook, pd = webhook_receiver(), webhook_receiver([202])
    cli_config(
        tmp_path,
        [
            {"name": "ops", "type": "webhook", "url": hook.url("/h/${HOOK_TOKEN}"), "secret": "${HOOK_SECRET}"},
            {"name": "pager", "type": "pagerduty", "routing_key": "${PD_KEY}", "url": pd.url("/v2/enqueue")},
        ],
    )
    result = alerts_test(monkeypatch, tmp_path, HOOK_TOKEN="tok-777", HOOK_SECRET=SECRET, PD_KEY=ROUTING_KEY)
    assert result.exit_code == 0, result.output
    assert f"delivered ops (webhook, http://127.0.0.1:{hook.port}/…): HTTP 200, 1 attempt" in result.output
    assert f"delivered pager (pagerduty, http://127.0.0.1:{pd.port}/…): HTTP 202, 1 attempt" in result.output
    for secret in ("tok-777", SECRET, ROUTING_KEY):
        assert secret not in result.output
    test_body = hook.json(0)
    assert test_body["event"] == "test" and test_body["workload"] == ""
    assert hook.received()[0].headers["x-failover-signature"].startswith("sha256=")
    page = pd.json(0)
    assert (page["event_action"], page["payload"]["severity"], page["routing_key"]) == ("trigger", "info", ROUTING_KEY)
    with Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
        assert sorted((r.destination, r.event, r.outcome) for r in store.alert_deliveries()) == [
            ("ops", "test", "delivered"),
            ("pager", "test", "delivered"),
        ]


def test_alerts_test_exits_3_when_a_destination_fails_and_2_on_bad_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook_receiver: Callable[..., Receiver]
) -> None:
    hook, down = webhook_receiver(), webhook_receiver([500])
    cli_config(
        tmp_path,
        [
            {"name": "ops", "type": "webhook", "url": hook.url()},
            {"name": "chat", "type": "slack", "url": down.url("/services/T/B/tok-999")},
        ],
    )
    failing = alerts_test(monkeypatch, tmp_path)
    assert failing.exit_code == 3
    assert f"failed chat (slack, http://127.0.0.1:{down.port}/…): HTTP 500" in failing.output
    assert "tok-999" not in failing.output
    only = alerts_test(monkeypatch, tmp_path, "--to", "ops")
    assert only.exit_code == 0 and "chat" not in only.output
    unknown = alerts_test(monkeypatch, tmp_path, "--to", "nope")
    assert unknown.exit_code == 2 and "unknown alert destination 'nope' (known: ops, chat)" in unknown.output
    cli_config(tmp_path, [])
    assert alerts_test(monkeypatch, tmp_path).exit_code == 2


def test_validate_json_lists_destinations_by_host_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from failover.cli import cli

    cli_config(tmp_path, [{"name": "chat", "type": "slack", "url": "${SLACK_URL}"}])
    monkeypatch.setenv("SLACK_URL", "https://hooks.slack.com/services/T0/B0/tok-555")
    result = CliRunner().invoke(cli, ["validate", "-c", str(tmp_path / "failover.yaml"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["alerts"] == [
        {"name": "chat", "type": "slack", "host": "https://hooks.slack.com/…"}
    ]
    assert "tok-555" not in result.output
