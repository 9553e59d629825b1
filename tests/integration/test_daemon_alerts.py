"""Alerts from ``failover daemon`` end to end (a subprocess on the local AWS and SQLite): the scoring
leader's transition reaches a working webhook, a destination that always fails becomes a metric and a
log line while scoring goes on, and no secret reaches the log or the database file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from failover.sandbox.aws import seed_auto_scaling_group, seed_instances
from tests.fixtures.daemon import DaemonProcess, RestartableAws, shop_config, wait_for, write_config
from tests.fixtures.webhook import Receiver

SECRET = "daemon-whsec-31337"
TOKEN = "slackTOKENb4c0n"


def test_a_failing_destination_is_counted_and_logged_while_scoring_and_other_alerts_go_on(
    restartable_aws: RestartableAws,
    tmp_path: Path,
    daemon_factory: Callable[..., DaemonProcess],
    webhook_receiver: Callable[..., Receiver],
) -> None:
    tags = {"app": "shop"}
    seed_instances(restartable_aws, "us-east-1", count=2, instance_type="m5.large", tags=tags)
    seed_auto_scaling_group(restartable_aws, "us-west-2", "web-dr", desired=2, instance_type="m5.large", tags=tags)
    works, broken = webhook_receiver(), webhook_receiver([503])
    db = tmp_path / "failover.db"
    data = shop_config(
        database=f"sqlite:///{db}",
        aws=restartable_aws.account("aws-local", ["us-east-1", "us-west-2"]),
        alerts=[
            {"name": "ops", "type": "webhook", "url": works.url("/ops"), "secret": "${HOOK_SECRET}"},
            {"name": "chat", "type": "slack", "url": "${SLACK_URL}"},
        ],
        alert_policy={"attempts": 2, "backoff": "50ms", "timeout": "2s"},
    )
    env = {"HOOK_SECRET": SECRET, "SLACK_URL": broken.url(f"/services/T0/B0/{TOKEN}")}
    d = daemon_factory(write_config(tmp_path / "failover.yaml", data), env=env)
    failed = d.wait_event("alert.failed", timeout=60)
    assert (failed["destination"], failed["type"], failed["http_status"]) == ("chat", "slack", 503)
    assert failed["host"] == f"http://127.0.0.1:{broken.port}/…"
    delivered = d.wait_event("alert.delivered", timeout=30, where=lambda e: e["destination"] == "ops")
    body = json.loads(works.received("/ops")[0].body)
    assert body["event"] == "status_changed" and body["workload"] == "shop"
    assert delivered["status"] == body["status"] != "READY"
    scored_before = len(d.events("check.finished"))
    wait_for(lambda: len(d.events("check.finished")) >= scored_before + 2, 30, "scoring to go on")
    assert d.sample("failover_alert_deliveries_total", destination="chat", outcome="failed") == 1.0
    assert d.sample("failover_alert_consecutive_failures", destination="chat") == 1.0
    assert d.sample("failover_alert_deliveries_total", destination="ops", outcome="delivered") == 1.0
    assert d.healthz()[0] == 200
    code, _ = d.terminate()
    assert code == 0
    log = d.log_path.read_text()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("failover.db*"))
    for secret in (SECRET, TOKEN):
        assert secret not in log
        assert secret.encode() not in stored
