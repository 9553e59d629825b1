"""DynamoDB global tables and ElastiCache global datastores on the AWS adapter, read from moto behind
the sandbox middleware (which serves the replicas and datastores moto lacks, in botocore's shapes),
then judged by ``data.replica`` through ``run_checks`` on a workload whose primary selects the store
by tags: a copy in another region within the RPO passes; none, a broken one or one lagging past the
RPO fails; a lag CloudWatch does not report is unknown."""

from __future__ import annotations

from typing import Any

import pytest

from failover.checks import run_checks
from failover.model import Finding, FindingStatus, Inventory, Kind, Resource
from failover.sandbox.aws import (
    AwsSandbox,
    seed_dynamodb_table,
    seed_elasticache_global,
    seed_global_datastore_lag,
    seed_legacy_global_table,
    seed_replication_latency,
)
from tests import factories as f
from tests.factories import undeclared_attrs
from tests.fixtures.aws import SHOP, read_aws, shop_evidence

PASS, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.UNKNOWN


def inventory(sb: AwsSandbox) -> tuple[dict[str, Any], Inventory]:
    return read_aws(sb, ("dynamodb", "elasticache"))


def store(inv: Inventory, kind: str, name: str, region: str = "us-east-1") -> Resource:
    [found] = [r for r in inv.resources if (r.kind, r.name, r.region) == (kind, name, region)]
    return found


def judge(sb: AwsSandbox, rpo: str = "5m") -> Finding:
    account, inv = inventory(sb)
    assert inv.incomplete == []
    [finding] = run_checks(shop_evidence(account, inv, rpo=rpo), only={"data.replica"})
    return finding


# --- what the adapter reads ---------------------------------------------------------------------


def test_global_table_replica_is_a_copy_with_its_replication_latency(aws_sandbox: AwsSandbox) -> None:
    arn = seed_dynamodb_table(aws_sandbox, "us-east-1", "orders", replicas=["us-west-2"], tags=SHOP)
    seed_replication_latency(aws_sandbox, "us-east-1", "orders", {"us-west-2": 1500})
    _, inv = inventory(aws_sandbox)
    table = store(inv, Kind.DB_TABLE, "orders")
    assert (table.tags, table.attrs["store_kind"], table.attrs["arn"]) == (SHOP, "dynamodb", arn)
    assert table.attrs["global_table_version"] == "2019.11.21"
    assert table.attrs["copies"] == [
        {
            "where": "aws:us-west-2",
            "ref": arn.replace("us-east-1", "us-west-2"),
            "mechanism": "global-table",
            "healthy": True,
            "state": "ACTIVE",
            "lag_s": 1.5,  # ReplicationLatency is in milliseconds
            "lag_source": "ReplicationLatency",
            "estimate": False,
        }
    ]
    replica = store(inv, Kind.DB_TABLE, "orders", "us-west-2")  # the replica is a table of its own region
    assert [c["where"] for c in replica.attrs["copies"]] == ["aws:us-east-1"]
    assert undeclared_attrs(inv.resources) == {}


def test_each_table_is_described_once_and_lag_is_one_batched_read(aws_sandbox: AwsSandbox) -> None:
    for n in range(5):
        seed_dynamodb_table(aws_sandbox, "us-east-1", f"t{n}", replicas=["us-west-2"])
    aws_sandbox.clear_requests()
    inventory(aws_sandbox)
    east = [
        q.operation for q in aws_sandbox.requests if q.region == "us-east-1" and q.service in ("dynamodb", "cloudwatch")
    ]
    assert sorted(set(east)) == [
        "DescribeTable",
        "GetMetricData",
        "ListGlobalTables",
        "ListTables",
        "ListTagsOfResource",
    ]
    assert (east.count("DescribeTable"), east.count("ListTagsOfResource"), east.count("GetMetricData")) == (5, 5, 1)
    assert east.count("ListGlobalTables") == 1  # no legacy global table: nothing more to describe


def test_legacy_global_table_replica_is_a_copy_with_its_replication_latency(aws_sandbox: AwsSandbox) -> None:
    arn = seed_legacy_global_table(aws_sandbox, ["us-east-1", "us-west-2"], "carts", tags=SHOP)
    seed_replication_latency(aws_sandbox, "us-east-1", "carts", {"us-west-2": 800})
    aws_sandbox.clear_requests()
    _, inv = inventory(aws_sandbox)
    table = store(inv, Kind.DB_TABLE, "carts")
    assert table.attrs["global_table_version"] == "2017.11.29"
    assert table.attrs["copies"] == [
        {
            "where": "aws:us-west-2",
            "ref": arn.replace("us-east-1", "us-west-2"),
            "mechanism": "global-table",
            "healthy": True,
            "state": "global table ACTIVE, replica table ACTIVE",
            "lag_s": 0.8,
            "lag_source": "ReplicationLatency",
            "estimate": False,
        }
    ]
    calls = {(q.region, q.operation) for q in aws_sandbox.requests if q.service == "dynamodb"}
    assert {("us-east-1", "ListGlobalTables"), ("us-east-1", "DescribeGlobalTable")} <= calls
    assert ("us-west-2", "DescribeTable") in calls  # the replica's table status, in its own region
    assert all(q.read_only for q in aws_sandbox.requests)
    assert undeclared_attrs(inv.resources) == {}


def test_legacy_global_table_within_the_rpo_passes(aws_sandbox: AwsSandbox) -> None:
    seed_legacy_global_table(aws_sandbox, ["us-east-1", "us-west-2"], "carts", tags=SHOP)
    seed_replication_latency(aws_sandbox, "us-east-1", "carts", {"us-west-2": 800})
    finding = judge(aws_sandbox)
    assert (finding.status, finding.reason) == (PASS, "table carts: global-table aws:us-west-2 table/carts 1s behind")


def test_legacy_global_table_with_no_other_region_fails(aws_sandbox: AwsSandbox) -> None:
    seed_legacy_global_table(aws_sandbox, ["us-east-1"], "carts", tags=SHOP)
    assert judge(aws_sandbox).status == FAIL


def test_legacy_global_table_lagging_past_the_rpo_fails(aws_sandbox: AwsSandbox) -> None:
    seed_legacy_global_table(aws_sandbox, ["us-east-1", "us-west-2"], "carts", tags=SHOP)
    seed_replication_latency(aws_sandbox, "us-east-1", "carts", {"us-west-2": 600_000})
    finding = judge(aws_sandbox, rpo="5m")
    assert (finding.status, finding.reason) == (
        FAIL,
        "table carts: global-table aws:us-west-2 table/carts is 10m behind (RPO 5m)",
    )


def test_legacy_global_table_without_a_latency_datapoint_is_unknown(aws_sandbox: AwsSandbox) -> None:
    seed_legacy_global_table(aws_sandbox, ["us-east-1", "us-west-2"], "carts", tags=SHOP)
    finding = judge(aws_sandbox)
    assert finding.status == UNKNOWN
    assert "lag unknown (no recent ReplicationLatency datapoint)" in finding.reason


def test_legacy_global_table_not_active_or_missing_its_replica_table_fails(aws_sandbox: AwsSandbox) -> None:
    seed_legacy_global_table(aws_sandbox, ["us-east-1", "us-west-2"], "carts", tags=SHOP, status="UPDATING")
    seed_replication_latency(aws_sandbox, "us-east-1", "carts", {"us-west-2": 800})
    finding = judge(aws_sandbox)
    assert finding.status == FAIL
    assert "is global table UPDATING, replica table ACTIVE, not replicating" in finding.reason
    aws_sandbox.set_global_table_status("carts", "ACTIVE")
    aws_sandbox.client("dynamodb", "us-west-2").delete_table(TableName="carts")
    finding = judge(aws_sandbox)
    assert finding.status == FAIL
    assert "replica table not found" in finding.reason


def test_unreadable_legacy_global_tables_leave_the_scope_incomplete(aws_sandbox: AwsSandbox) -> None:
    seed_legacy_global_table(aws_sandbox, ["us-east-1", "us-west-2"], "carts", tags=SHOP)
    aws_sandbox.inject("access_denied", region="us-east-1", service="dynamodb", operation="ListGlobalTables")
    _, inv = inventory(aws_sandbox)
    assert [(e.scope, e.error) for e in inv.incomplete] == [("us-east-1/dynamodb", "access_denied")]
    assert "legacy global tables (ListGlobalTables)" in inv.incomplete[0].reason


def test_unreadable_table_descriptions_leave_the_scope_incomplete(aws_sandbox: AwsSandbox) -> None:
    seed_dynamodb_table(aws_sandbox, "us-east-1", "orders", replicas=["us-west-2"], tags=SHOP)
    aws_sandbox.inject("access_denied", region="us-east-1", service="dynamodb", operation="DescribeTable")
    _, inv = inventory(aws_sandbox)
    assert [(e.scope, e.error) for e in inv.incomplete] == [("us-east-1/dynamodb", "access_denied")]


def test_global_datastore_secondary_is_a_copy_of_the_primary(aws_sandbox: AwsSandbox) -> None:
    ids = seed_elasticache_global(aws_sandbox, "us-east-1", "us-west-2", "sessions", tags=SHOP)
    seed_global_datastore_lag(aws_sandbox, "us-west-2", {c: 0.4 for c in ids["secondary_clusters"].split(",")})
    _, inv = inventory(aws_sandbox)
    primary = store(inv, Kind.CACHE, "sessions")
    secondary = store(inv, Kind.CACHE, "sessions-secondary", "us-west-2")
    assert (primary.attrs["store_kind"], primary.attrs["global_role"]) == ("elasticache", "PRIMARY")
    assert primary.attrs["global_datastore"] == ids["global_id"] == "ldgnf-sessions"
    [copy] = primary.attrs["copies"]
    assert (copy["where"], copy["ref"], copy["mechanism"]) == (
        "aws:us-west-2",
        "sessions-secondary",
        "global-datastore",
    )
    assert (copy["healthy"], copy["lag_s"], copy["lag_source"]) == (True, 0.4, "GlobalDatastoreReplicationLag")
    assert (secondary.attrs["replica_source"], secondary.attrs["copies"]) == ("sessions", [])
    assert undeclared_attrs(inv.resources) == {}


# --- data.replica through run_checks -------------------------------------------------------------


def test_global_table_with_an_active_replica_within_the_rpo_passes(aws_sandbox: AwsSandbox) -> None:
    seed_dynamodb_table(aws_sandbox, "us-east-1", "orders", replicas=["us-west-2"], tags=SHOP)
    seed_replication_latency(aws_sandbox, "us-east-1", "orders", {"us-west-2": 900})
    assert judge(aws_sandbox).status == PASS


def test_table_without_a_replica_fails(aws_sandbox: AwsSandbox) -> None:
    seed_dynamodb_table(aws_sandbox, "us-east-1", "orders", tags=SHOP)
    finding = judge(aws_sandbox)
    assert finding.status == FAIL
    assert "orders" in finding.reason and "us-east-1" in finding.reason


def test_replica_lagging_past_the_rpo_fails(aws_sandbox: AwsSandbox) -> None:
    seed_dynamodb_table(aws_sandbox, "us-east-1", "orders", replicas=["us-west-2"], tags=SHOP)
    seed_replication_latency(aws_sandbox, "us-east-1", "orders", {"us-west-2": 600_000})  # 10 min
    assert judge(aws_sandbox, rpo="5m").status == FAIL


def test_replica_with_no_replication_latency_datapoint_is_unknown(aws_sandbox: AwsSandbox) -> None:
    seed_dynamodb_table(aws_sandbox, "us-east-1", "orders", replicas=["us-west-2"], tags=SHOP)
    assert judge(aws_sandbox).status == UNKNOWN


@pytest.mark.parametrize("status", ["CREATING", "REGION_DISABLED", "INACCESSIBLE_ENCRYPTION_CREDENTIALS"])
def test_replica_that_is_not_active_fails(aws_sandbox: AwsSandbox, status: str) -> None:
    seed_dynamodb_table(aws_sandbox, "us-east-1", "orders", replicas=["us-west-2"], replica_status=status, tags=SHOP)
    seed_replication_latency(aws_sandbox, "us-east-1", "orders", {"us-west-2": 900})  # a last lag still looks fine
    finding = judge(aws_sandbox)
    assert finding.status == FAIL


def test_global_datastore_secondary_within_the_rpo_passes(aws_sandbox: AwsSandbox) -> None:
    ids = seed_elasticache_global(aws_sandbox, "us-east-1", "us-west-2", "sessions", tags={"app": "shop"})
    seed_global_datastore_lag(aws_sandbox, "us-west-2", {c: 0.4 for c in ids["secondary_clusters"].split(",")})
    assert judge(aws_sandbox).status == PASS


def test_global_datastore_secondary_without_lag_is_unknown_and_still_syncing_fails(aws_sandbox: AwsSandbox) -> None:
    seed_elasticache_global(aws_sandbox, "us-east-1", "us-west-2", "sessions", tags=SHOP)
    assert judge(aws_sandbox).status == UNKNOWN
    aws_sandbox.reset()
    ids = seed_elasticache_global(
        aws_sandbox, "us-east-1", "us-west-2", "sessions", tags=SHOP, member_status="associating"
    )
    seed_global_datastore_lag(aws_sandbox, "us-west-2", {c: 0.4 for c in ids["secondary_clusters"].split(",")})
    assert judge(aws_sandbox).status == FAIL


def test_cache_without_a_global_datastore_fails(aws_sandbox: AwsSandbox) -> None:
    seed_elasticache_global(aws_sandbox, "us-east-1", None, "sessions", tags=SHOP)
    assert judge(aws_sandbox).status == FAIL


def test_global_datastore_secondary_lagging_past_the_rpo_fails(aws_sandbox: AwsSandbox) -> None:
    ids = seed_elasticache_global(aws_sandbox, "us-east-1", "us-west-2", "sessions", tags=SHOP)
    seed_global_datastore_lag(aws_sandbox, "us-west-2", {c: 600.0 for c in ids["secondary_clusters"].split(",")})
    finding = judge(aws_sandbox, rpo="5m")
    assert finding.status == FAIL
    assert finding.reason == "cache sessions: global-datastore aws:us-west-2 sessions-secondary is 10m behind (RPO 5m)"


@pytest.mark.parametrize(("kind", "noun"), [("dynamodb", "db.table"), ("elasticache", "cache")])
def test_declared_store_not_in_the_inventory_is_unknown_naming_where_it_was_looked_for(
    aws_sandbox: AwsSandbox, kind: str, noun: str
) -> None:
    # The account holds a replicated table and cache, but not the store the workload declares.
    seed_dynamodb_table(aws_sandbox, "us-east-1", "orders", replicas=["us-west-2"], tags=SHOP)
    seed_elasticache_global(aws_sandbox, "us-east-1", "us-west-2", "sessions", tags=SHOP)
    account, inv = inventory(aws_sandbox)
    sites = [
        f.site("east", "primary", "aws-local", "us-east-1", {"app": "other"}),
        f.site("west", "secondary", "aws-local", "us-west-2", {"app": "other"}),
    ]
    ev = f.live_evidence([account], [inv], sites, data=[{"name": "ledger", "kind": kind}])
    [finding] = run_checks(ev, only={"data.replica"})
    assert (finding.status, finding.subject) == (UNKNOWN, "ledger")
    assert finding.reason == (
        f"data store ledger ({kind}) not found in account aws-local (aws) us-east-1, {noun} of kind {kind}, ids ledger"
    )
    assert finding.evidence["declared"] is True


def test_sandbox_answers_legacy_global_table_errors_as_dynamodb_does(aws_sandbox: AwsSandbox) -> None:
    client = aws_sandbox.client("dynamodb", "us-east-1")
    with pytest.raises(client.exceptions.GlobalTableNotFoundException):
        client.describe_global_table(GlobalTableName="nothing")
    with pytest.raises(client.exceptions.TableNotFoundException):  # no such table in us-west-2
        client.create_global_table(GlobalTableName="nothing", ReplicationGroup=[{"RegionName": "us-west-2"}])
    seed_legacy_global_table(aws_sandbox, ["us-east-1", "us-west-2"], "carts")
    with pytest.raises(client.exceptions.GlobalTableAlreadyExistsException):
        client.create_global_table(GlobalTableName="carts", ReplicationGroup=[{"RegionName": "us-east-1"}])
    for n in range(3):
        seed_legacy_global_table(aws_sandbox, ["us-east-1"], f"tbl{n}")
    first = client.list_global_tables(RegionName="us-east-1", Limit=2)
    rest = client.list_global_tables(RegionName="us-east-1", ExclusiveStartGlobalTableName="tbl0")
    assert [g["GlobalTableName"] for g in first["GlobalTables"]] == ["carts", "tbl0"]
    assert first["LastEvaluatedGlobalTableName"] == "tbl0"
    assert [g["GlobalTableName"] for g in rest["GlobalTables"]] == ["tbl1", "tbl2"]
    assert client.list_global_tables(RegionName="us-west-2")["GlobalTables"] == [
        {"GlobalTableName": "carts", "ReplicationGroup": [{"RegionName": "us-east-1"}, {"RegionName": "us-west-2"}]}
    ]
    described = client.describe_global_table(GlobalTableName="carts")["GlobalTableDescription"]
    assert (described["GlobalTableStatus"], described["GlobalTableArn"]) == (
        "ACTIVE",
        "arn:aws:dynamodb::123456789012:global-table/carts",
    )
