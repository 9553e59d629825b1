"""A copy no replication link shows (AWS DMS, hand-built logical replication) judged by the lag metric the
config names for it (``workloads[].data[].lag_metric``): read through the real inventory path
(``inventory_config`` hands the metric to the account's adapter) from moto's CloudWatch, the GCP
emulator's Cloud Monitoring and the ARM emulator's Azure Monitor, then judged by ``data.replica`` like
every other lag: within the RPO passes, past it fails, no recent datapoint or no reading at all is
unknown, and the evidence names the metric."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from failover.checks import Evidence, run_checks
from failover.config import config_from_text
from failover.errors import ConfigError
from failover.inventory import inventory_config
from failover.model import Finding, FindingStatus, Inventory, Kind
from failover.sandbox.aws import AwsSandbox, seed_metric
from failover.sandbox.azure import FakeArm, arm_action
from failover.sandbox.gcp import FakeGcp
from failover.schema import Config
from tests.factories import undeclared_attrs
from tests.fixtures.azure import ROLE

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


def _config(accounts: list[dict[str, Any]], store: dict[str, Any], copy_to: str = "gcp") -> Config:
    """Workload ``shop``: an RDS primary in us-east-1 copied to GCP (or Azure) by a job no API links to the store."""
    region = {"gcp": "us-central1", "azure": "eastus"}[copy_to]
    sites = [
        {"name": "east", "role": "primary", "account": "aws-local", "regions": ["us-east-1"], "select": {"ids": ["x"]}},
        {"name": copy_to, "role": "secondary", "account": copy_to, "regions": [region], "select": {"ids": ["x"]}},
    ]
    data = [{"name": "orders-db", "kind": "rds", "copy_to": copy_to, **store}]
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


# --- Azure: Azure Monitor through the ARM emulator --------------------------------------------------

SUB = "sub-1"
COPY = f"/subscriptions/{SUB}/resourceGroups/dr/providers/Microsoft.DBforPostgreSQL/flexibleServers/orders-copy"
APPLY_LAG = {"account": "azure", "resource_id": COPY, "name": "apply_lag_seconds", "namespace": "shop/replication"}
APPLY_LAG_LABEL = f"shop/replication apply_lag_seconds Maximum of {COPY}"


def _azure_account(fake: FakeArm) -> dict[str, Any]:
    return {"name": "azure", "provider": "azure", "subscription": SUB, "endpoint": fake.url, "credentials": "anonymous"}


def _azure_copy(fake: FakeArm) -> None:
    """The copy: a PostgreSQL flexible server subscribed (logical replication) to the RDS primary."""
    fake.add_resource_group(SUB, "dr", location="eastus")
    fake.add_postgres_flexible(SUB, "dr", "orders-copy", role="None")


def _azure(fake: FakeArm, sb: AwsSandbox, metric: dict[str, Any] | None = None) -> tuple[Finding, Inventory]:
    accounts = [sb.account("aws-local", ["us-east-1"]), _azure_account(fake)]
    cfg = _config(accounts, {"lag_metric": metric or APPLY_LAG}, copy_to="azure")
    finding, inventories = _judge(cfg, ["aws-local", "azure"])
    assert undeclared_attrs(r for inv in inventories for r in inv.resources) == {}
    return finding, next(i for i in inventories if i.account == "azure")


def _apply_lag(fake: FakeArm, values: list[float], newest: datetime | None = None) -> None:
    fake.add_metric(COPY, "apply_lag_seconds", values, namespace="shop/replication", newest=newest)


@pytest.mark.parametrize(
    ("values", "status", "said"),
    [
        ([500.0, 40.0], PASS, "copy at azure 40s behind"),
        ([20.0, 420.0], FAIL, "copy at azure is 7m behind (RPO 5m)"),
    ],
)
def test_azure_monitor_metric_judges_the_copy(
    fake_arm: FakeArm, aws_sandbox: AwsSandbox, values: list[float], status: FindingStatus, said: str
) -> None:
    _rds(aws_sandbox)
    _azure_copy(fake_arm)
    _apply_lag(fake_arm, values)
    finding, inv = _azure(fake_arm, aws_sandbox)
    assert finding.status == status
    assert finding.reason == f"database orders-db: {said} (lag metric {APPLY_LAG_LABEL})"
    assert finding.evidence["lag_metric"] == APPLY_LAG_LABEL
    [reading] = [r for r in inv.resources if r.kind == Kind.METRIC]
    assert (reading.native_id, reading.region, reading.attrs["subscription"]) == ("shop/orders-db", "eastus", SUB)


def test_azure_monitor_is_read_once_per_metric_with_a_read_permission_the_role_grants(
    fake_arm: FakeArm, aws_sandbox: AwsSandbox
) -> None:
    _rds(aws_sandbox)
    _azure_copy(fake_arm)
    _apply_lag(fake_arm, [40.0])
    _azure(fake_arm, aws_sandbox)
    [call] = [q for q in fake_arm.requests if q.collection == "metrics"]
    assert call.method == "GET" and call.path == f"{COPY}/providers/Microsoft.Insights/metrics"
    assert {k: call.query[k] for k in ("api-version", "metricnames", "interval", "aggregation", "metricnamespace")} == {
        "api-version": "2023-10-01",
        "metricnames": "apply_lag_seconds",
        "interval": "PT1M",
        "aggregation": "Maximum",
        "metricnamespace": "shop/replication",
    }
    start, _, end = call.query["timespan"].partition("/")
    span = datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))
    assert span == timedelta(minutes=10)
    assert arm_action(call.method, call.path) == "Microsoft.Insights/metrics/read"
    assert "Microsoft.Insights/metrics/read" in ROLE["Actions"]


def test_azure_filter_keeps_the_largest_newest_value_of_its_series_read_in_its_unit(
    fake_arm: FakeArm, aws_sandbox: AwsSandbox
) -> None:
    """``filter`` with ``'*'``: one series per subscription slot; the worst newest value counts."""
    _rds(aws_sandbox)
    _azure_copy(fake_arm)
    for slot, values in (("orders_sub", [90000.0, 2500.0]), ("audit_sub", [1000.0, 4000.0]), ("other", [9e6])):
        fake_arm.add_metric(
            COPY, "lag_ms", values, namespace="shop/replication", unit="MilliSeconds", dimensions={"slot": slot}
        )
    metric = {**APPLY_LAG, "name": "lag_ms", "unit": "milliseconds", "aggregation": "Average"}
    finding, _ = _azure(fake_arm, aws_sandbox, {**metric, "filter": "slot eq '*'"})
    assert finding.status == FAIL and "copy at azure is 2h30m behind" in finding.reason  # 9e6 ms
    finding, _ = _azure(fake_arm, aws_sandbox, {**metric, "filter": "slot eq 'audit_sub'"})
    assert finding.status == PASS
    label = f"shop/replication lag_ms [slot eq 'audit_sub'] Average of {COPY}"
    assert finding.reason == f"database orders-db: copy at azure 4s behind (lag metric {label})"


def test_azure_metric_with_no_recent_sample_is_unknown(fake_arm: FakeArm, aws_sandbox: AwsSandbox) -> None:
    _rds(aws_sandbox)
    _azure_copy(fake_arm)
    _apply_lag(fake_arm, [10.0], newest=datetime.now(UTC) - timedelta(hours=1))  # older than the read window
    finding, inv = _azure(fake_arm, aws_sandbox)
    assert finding.status == UNKNOWN
    assert finding.reason == f"database orders-db: copy at azure lag unknown (no recent {APPLY_LAG_LABEL} datapoint)"
    assert inv.incomplete == []


@pytest.mark.parametrize(
    ("metric", "said"),
    [
        (
            {**APPLY_LAG, "name": "apply_lag"},
            "HTTP 400 BadRequest: Failed to find metric configuration for provider: Microsoft.DBforPostgreSQL, "
            "resource Type: flexibleServers, metric: apply_lag, Valid metrics: apply_lag_seconds",
        ),
        (
            {**APPLY_LAG, "resource_id": COPY.replace("orders-copy", "orders-gone")},
            "HTTP 404 ResourceNotFound",
        ),
    ],
)
def test_unreadable_azure_metric_is_unknown_with_the_reason(
    fake_arm: FakeArm, aws_sandbox: AwsSandbox, metric: dict[str, Any], said: str
) -> None:
    _rds(aws_sandbox)
    _azure_copy(fake_arm)
    _apply_lag(fake_arm, [40.0])
    finding, inv = _azure(fake_arm, aws_sandbox, metric)
    assert [(e.scope, e.error) for e in inv.incomplete] == [(f"subscriptions/{SUB}/lag_metrics", "error")]
    assert not [r for r in inv.resources if r.kind == Kind.METRIC]
    assert finding.status == UNKNOWN
    label = metric["resource_id"] if metric["name"] == "apply_lag_seconds" else "apply_lag Maximum"
    assert "copy at azure (declared copy_to): lag metric " in finding.reason and label in finding.reason
    assert f"not read (azure subscriptions/{SUB}/lag_metrics: shop/orders-db: {said}" in finding.reason


def _config_text(metric: dict[str, Any]) -> str:
    store = {"name": "x", "kind": "rds", "copy_to": "azure-dr", "lag_metric": metric}
    flow = "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in store.items()) + "}"
    return f"""accounts:
  - {{name: aws-prod, provider: aws, regions: [us-east-1]}}
  - {{name: azure-dr, provider: azure, subscription: {SUB}}}
workloads:
  - name: w
    owners: [a@example.com]
    sites:
      - {{name: aws-east, role: primary, account: aws-prod, select: {{tags: {{app: w}}}}}}
      - {{name: azure-dr, role: secondary, account: azure-dr, select: {{tags: {{app: w}}}}}}
    data:
      - {flow}
"""


def test_azure_monitor_lag_metric_is_valid_config() -> None:
    cfg = config_from_text(_config_text(APPLY_LAG | {"account": "azure-dr", "filter": "slot eq '*'"}), "c.yaml", env={})
    [read] = cfg.lag_metric_reads("azure-dr")
    assert (read.key, read.metric.subscription, read.metric.aggregation) == ("w/x", SUB, "Maximum")


AZ = {"account": "azure-dr", "resource_id": COPY, "name": "apply_lag_seconds"}


@pytest.mark.parametrize(
    ("metric", "field", "message"),
    [
        (
            {"account": "azure-dr", "name": "apply_lag_seconds"},
            "lag_metric.resource_id",
            "an Azure Monitor lag metric (account 'azure-dr' is azure) needs resource_id",
        ),
        (
            {"account": "azure-dr", "resource_id": COPY},
            "lag_metric.name",
            "an Azure Monitor lag metric (account 'azure-dr' is azure) needs name",
        ),
        (
            AZ | {"dimensions": {"slot": "a"}},
            "lag_metric.dimensions",
            "dimensions is not an Azure Monitor setting (account 'azure-dr' is azure)",
        ),
        (
            AZ | {"type": "t"},
            "lag_metric.type",
            "type is not an Azure Monitor setting (account 'azure-dr' is azure)",
        ),
        (
            AZ | {"resource_id": "orders-copy"},
            "lag_metric.resource_id",
            "expected an ARM resource id, /subscriptions/ID/resourceGroups/GROUP/providers/NAMESPACE/TYPE/NAME",
        ),
        (
            AZ | {"resource_id": COPY.replace(SUB, "sub-9")},
            "lag_metric.resource_id",
            f"resource_id is in subscription 'sub-9', which account 'azure-dr' does not read (its subscriptions: "
            f"{SUB})",
        ),
        (
            AZ | {"aggregation": "p99"},
            "lag_metric.aggregation",
            "expected one of Average, Maximum, Minimum, Total, Count, got 'p99'",
        ),
        (
            {"account": "aws-prod", "namespace": "AWS/DMS", "name": "CDCLatencyTarget", "aggregation": "Average"},
            "lag_metric.aggregation",
            "aggregation is not a CloudWatch setting (account 'aws-prod' is aws)",
        ),
    ],
)
def test_bad_azure_lag_metric_is_a_located_error(metric: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_text(_config_text(metric), "cfg.yaml", env={})
    [problem] = err.value.problems
    assert problem.startswith("cfg.yaml:") and field in problem and message in problem
