"""A copy no replication link shows (AWS DMS, hand-built logical replication) judged by the lag metric the
config names for it (``workloads[].data[].lag_metric``): read through the real inventory path
(``inventory_config`` hands the metric to the account's adapter) from moto's CloudWatch and the GCP
emulator's Cloud Monitoring, then judged by ``data.replica`` like every other lag: within the RPO passes,
past it fails, no recent datapoint or no reading at all is unknown, and the evidence names the metric."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from failover.checks import Evidence, run_checks
from failover.inventory import inventory_config
from failover.model import Finding, FindingStatus, Inventory, Kind
from failover.sandbox.aws import AwsSandbox, seed_metric
from failover.sandbox.gcp import FakeGcp
from failover.schema import Config
from tests.factories import undeclared_attrs

PASS, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.UNKNOWN
DMS = {
    "namespace": "AWS/DMS",
    "name": "CDCLatencyTarget",
    "dimensions": {"ReplicationInstanceIdentifier": "dms-1", "ReplicationTaskIdentifier": "orders-to-gcp"},
    "region": "us-east-1",
}
DMS_LABEL = (
    "AWS/DMS CDCLatencyTarget {ReplicationInstanceIdentifier=dms-1, ReplicationTaskIdentifier=orders-to-gcp} Maximum"
)
FRESHNESS = "datastream.googleapis.com/stream/freshness"
STREAM = {"resource_container": "acme", "location": "us-central1", "stream_id": "orders-from-aws"}


def _config(accounts: list[dict[str, Any]], store: dict[str, Any]) -> Config:
    """Workload ``shop``: an RDS primary in us-east-1 copied to GCP by a job no API links to the store."""
    sites = [
        {"name": "east", "role": "primary", "account": "aws-local", "regions": ["us-east-1"], "select": {"ids": ["x"]}},
        {"name": "gcp", "role": "secondary", "account": "gcp", "regions": ["us-central1"], "select": {"ids": ["x"]}},
    ]
    data = [{"name": "orders-db", "kind": "rds", "copy_to": "gcp", **store}]
    workload = {"name": "shop", "owners": ["sre@example.com"], "targets": {"rpo": "5m"}, "sites": sites, "data": data}
    return Config.model_validate({"accounts": accounts, "workloads": [workload]})


def _gcp_account(fake: FakeGcp | None) -> dict[str, Any]:
    url = fake.url if fake is not None else "http://127.0.0.1:9"
    return {"name": "gcp", "provider": "gcp", "project": "acme", "endpoint": url, "credentials": "anonymous"}


def _rds(sb: AwsSandbox) -> None:
    sb.client("rds", "us-east-1").create_db_instance(
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20
    )


def _judge(cfg: Config, accounts: list[str]) -> tuple[Finding, list[Inventory]]:
    inventories = inventory_config(cfg, accounts)
    ev = Evidence(config=cfg, workload=cfg.workloads[0], inventories={i.account: i for i in inventories})
    [finding] = run_checks(ev, only={"data.replica"})
    return finding, inventories


def _aws(sb: AwsSandbox, metric: dict[str, Any] | None = None) -> tuple[Finding, list[Inventory]]:
    accounts = [sb.account("aws-local", ["us-east-1"]), _gcp_account(None)]
    cfg = _config(accounts, {"lag_metric": metric or DMS})
    return _judge(cfg, ["aws-local"])


def _dms_latency(sb: AwsSandbox, seconds: float) -> None:
    dims = DMS["dimensions"]
    seed_metric(
        sb,
        "us-east-1",
        "CDCLatencyTarget",
        "ReplicationInstanceIdentifier",
        {dims["ReplicationInstanceIdentifier"]: seconds},
        unit="Seconds",
        namespace="AWS/DMS",
        dimensions={"ReplicationTaskIdentifier": dims["ReplicationTaskIdentifier"]},
    )


# --- AWS: CloudWatch through moto -------------------------------------------------------------------


def test_dms_copy_within_the_rpo_passes_naming_its_metric(aws_sandbox: AwsSandbox) -> None:
    _rds(aws_sandbox)
    _dms_latency(aws_sandbox, 40)
    aws_sandbox.clear_requests()
    finding, [inv] = _aws(aws_sandbox)
    assert finding.status == PASS
    assert finding.reason == f"database orders-db: copy at gcp 40s behind (lag metric {DMS_LABEL})"
    assert finding.evidence["lag_metric"] == DMS_LABEL
    [reading] = [r for r in inv.resources if r.kind == Kind.METRIC]
    assert (reading.native_id, reading.region, reading.attrs["value_s"]) == ("shop/orders-db", "us-east-1", 40.0)
    assert undeclared_attrs(inv.resources) == {}
    metric_calls = [q.operation for q in aws_sandbox.requests if q.service == "cloudwatch"]
    assert "GetMetricData" in metric_calls and all(q.read_only for q in aws_sandbox.requests)


def test_dms_copy_lagging_past_the_rpo_fails(aws_sandbox: AwsSandbox) -> None:
    _rds(aws_sandbox)
    _dms_latency(aws_sandbox, 900)
    finding, _ = _aws(aws_sandbox)
    assert finding.status == FAIL
    assert finding.reason == f"database orders-db: copy at gcp is 15m behind (RPO 5m) (lag metric {DMS_LABEL})"


def test_dms_copy_with_no_datapoint_is_unknown(aws_sandbox: AwsSandbox) -> None:
    _rds(aws_sandbox)
    finding, _ = _aws(aws_sandbox)
    assert finding.status == UNKNOWN
    assert finding.reason == f"database orders-db: copy at gcp lag unknown (no recent {DMS_LABEL} datapoint)"


def test_custom_metric_in_milliseconds_is_read_as_seconds(aws_sandbox: AwsSandbox) -> None:
    _rds(aws_sandbox)
    seed_metric(
        aws_sandbox,
        "us-east-1",
        "ReplicationLagMs",
        "Job",
        {"orders-pglogical": 2500},
        unit="Milliseconds",
        namespace="Shop/Replication",
    )
    metric = {"namespace": "Shop/Replication", "name": "ReplicationLagMs", "dimensions": {"Job": "orders-pglogical"}}
    finding, _ = _aws(aws_sandbox, {**metric, "unit": "milliseconds", "statistic": "Average"})
    assert finding.status == PASS
    assert "copy at gcp 2s behind (lag metric Shop/Replication ReplicationLagMs {Job=orders-pglogical} Average)" in (
        finding.reason
    )


def test_unreadable_metric_is_unknown_with_the_reason(aws_sandbox: AwsSandbox) -> None:
    _rds(aws_sandbox)
    _dms_latency(aws_sandbox, 40)
    aws_sandbox.inject("access_denied", region="us-east-1", service="cloudwatch", operation="GetMetricData")
    finding, [inv] = _aws(aws_sandbox)
    assert ("us-east-1/lag_metrics", "access_denied") in [(e.scope, e.error) for e in inv.incomplete]
    assert finding.status == UNKNOWN
    assert finding.reason.startswith(
        f"database orders-db: copy at gcp (declared copy_to): lag metric {DMS_LABEL} not read "
        "(aws-local us-east-1/lag_metrics:"
    )


# --- GCP: Cloud Monitoring through the emulator -----------------------------------------------------


def _gcp(fake: FakeGcp, sb: AwsSandbox) -> Finding:
    """The same RDS store, its copy's freshness read from the GCP project the copy lands in."""
    accounts = [sb.account("aws-local", ["us-east-1"]), _gcp_account(fake)]
    metric = {"account": "gcp", "type": FRESHNESS, "resource_labels": {"stream_id": STREAM["stream_id"]}}
    cfg = _config(accounts, {"lag_metric": metric})
    finding, inventories = _judge(cfg, ["aws-local", "gcp"])
    assert undeclared_attrs(r for inv in inventories for r in inv.resources) == {}
    return finding


def _freshness(fake: FakeGcp, values: list[float], newest: datetime | None = None) -> None:
    fake.add_time_series("acme", FRESHNESS, "datastream.googleapis.com/Stream", STREAM, values, newest=newest)


@pytest.mark.parametrize(
    ("values", "status", "said"),
    [
        ([500.0, 20.0], PASS, "copy at gcp 20s behind"),
        ([20.0, 420.0], FAIL, "copy at gcp is 7m behind (RPO 5m)"),
    ],
)
def test_stream_freshness_judges_the_copy(
    gcp_fake: FakeGcp, aws_sandbox: AwsSandbox, values: list[float], status: FindingStatus, said: str
) -> None:
    _rds(aws_sandbox)
    gcp_fake.add_project("acme")
    _freshness(gcp_fake, values)
    finding = _gcp(gcp_fake, aws_sandbox)
    assert finding.status == status
    label = f"{FRESHNESS} {{resource.stream_id={STREAM['stream_id']}}}"
    assert finding.reason == f"database orders-db: {said} (lag metric {label})"


def test_stream_freshness_with_only_stale_points_is_unknown(gcp_fake: FakeGcp, aws_sandbox: AwsSandbox) -> None:
    _rds(aws_sandbox)
    gcp_fake.add_project("acme")
    _freshness(gcp_fake, [10.0], newest=datetime.now(UTC) - timedelta(hours=1))  # older than the read window
    finding = _gcp(gcp_fake, aws_sandbox)
    assert finding.status == UNKNOWN
    assert "lag unknown (no recent datastream.googleapis.com/stream/freshness" in finding.reason


def test_unreadable_monitoring_is_unknown(gcp_fake: FakeGcp, aws_sandbox: AwsSandbox) -> None:
    _rds(aws_sandbox)
    gcp_fake.add_project("acme")
    _freshness(gcp_fake, [10.0])
    gcp_fake.fail(403, collection="timeSeries", message="monitoring.timeSeries.list denied")
    finding = _gcp(gcp_fake, aws_sandbox)
    assert finding.status == UNKNOWN
    assert "not read (gcp acme/lagMetrics: shop/orders-db:" in finding.reason
