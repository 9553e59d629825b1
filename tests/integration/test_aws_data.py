"""data.replica and data.bucket_replication on what the AWS adapter reads from moto (behind the sandbox
middleware, which serves what moto lacks with the real shapes): replication that stopped, lag that is
not reported, backups replicated to another region, Aurora global databases, filtered S3 rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from failover.checks import run_checks
from failover.model import Finding, FindingStatus, Inventory
from failover.sandbox.aws import (
    AwsSandbox,
    seed_aurora_global,
    seed_backup_replication,
    seed_buckets,
    seed_metric,
    seed_rds_with_replica,
    seed_replica_lag,
)
from tests.fixtures.aws import SHOP, read_aws, shop_evidence

PASS, WARN, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.WARN, FindingStatus.FAIL, FindingStatus.UNKNOWN


def inventory(sb: AwsSandbox) -> tuple[dict[str, Any], Inventory]:
    return read_aws(sb, ("rds", "s3"))


def judge(sb: AwsSandbox, check_id: str, **targets: Any) -> list[Finding]:
    return run_checks(shop_evidence(*inventory(sb), **targets), only={check_id})


def one(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def aurora_ledger(sb: AwsSandbox, engine: str, **kw: Any) -> None:
    """The shop's global database ``ledger``: primary cluster in us-east-1, secondary in us-west-2."""
    seed_aurora_global(sb, "us-east-1", "us-west-2", "ledger", engine=engine, tags=SHOP, **kw)


# --- item 2: replication stopped ----------------------------------------------------------------


def test_replica_lag_of_minus_one_fails_as_replication_not_running(aws_sandbox: AwsSandbox) -> None:
    seed_rds_with_replica(aws_sandbox, "us-east-1", "us-west-2", "orders", tags=SHOP)
    seed_replica_lag(aws_sandbox, "us-west-2", {"orders-replica": -1})
    finding = one(judge(aws_sandbox, "data.replica"))
    assert (finding.check, finding.status) == ("data.replica", FAIL)
    assert finding.reason == (
        "database orders: replica aws:us-west-2 orders-replica: replication is not running (ReplicaLag = -1)"
    )


@pytest.mark.parametrize(
    ("status", "message", "text"),
    [
        ("error", "Error 1062: Duplicate entry '7' for key 'PRIMARY'", "replication error: Error 1062"),
        ("stopped", "", "replication stopped"),
        ("terminated", "", "replication terminated"),
    ],
)
def test_replica_whose_status_infos_report_a_broken_replication_fails(
    aws_sandbox: AwsSandbox, status: str, message: str, text: str
) -> None:
    seed_rds_with_replica(aws_sandbox, "us-east-1", "us-west-2", "orders", tags=SHOP)
    seed_replica_lag(aws_sandbox, "us-west-2", {"orders-replica": 3})  # a last lag value still looks fine
    aws_sandbox.set_replication_status("us-west-2", "orders-replica", status, message=message)
    finding = one(judge(aws_sandbox, "data.replica"))
    assert (finding.check, finding.status) == ("data.replica", FAIL)
    assert finding.reason.startswith(f"database orders: replica aws:us-west-2 orders-replica {text}")


def test_replica_without_a_lag_datapoint_is_unknown_not_its_restorable_time(aws_sandbox: AwsSandbox) -> None:
    seed_rds_with_replica(aws_sandbox, "us-east-1", "us-west-2", "orders", tags=SHOP)
    finding = one(judge(aws_sandbox, "data.replica"))
    assert (finding.check, finding.status) == ("data.replica", UNKNOWN)
    assert finding.reason == (
        "database orders: replica aws:us-west-2 orders-replica lag unknown (no recent ReplicaLag datapoint)"
    )


def test_replicating_replica_within_the_rpo_passes(aws_sandbox: AwsSandbox) -> None:
    seed_rds_with_replica(aws_sandbox, "us-east-1", "us-west-2", "orders", tags=SHOP)
    seed_replica_lag(aws_sandbox, "us-west-2", {"orders-replica": 4})
    finding = one(judge(aws_sandbox, "data.replica"))
    assert (finding.status, finding.reason) == (PASS, "database orders: replica aws:us-west-2 orders-replica 4s behind")


# --- item 7: cross-region automated backups ---------------------------------------------------


def _lone_database(sb: AwsSandbox) -> None:
    sb.client("rds", "us-east-1").create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.medium",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="sandbox-password",
        AllocatedStorage=20,
        BackupRetentionPeriod=7,
        Tags=[{"Key": "app", "Value": "shop"}],
    )


@pytest.mark.parametrize(("rpo", "status"), [("15m", PASS), ("5m", FAIL)])
def test_backups_replicated_to_another_region_count_as_a_copy_aged_by_their_restore_window(
    aws_sandbox: AwsSandbox, rpo: str, status: FindingStatus
) -> None:
    _lone_database(aws_sandbox)
    seed_backup_replication(aws_sandbox, "us-east-1", "us-west-2", "orders", restorable_age=timedelta(minutes=7))
    finding = one(judge(aws_sandbox, "data.replica", rpo=rpo))
    assert (finding.check, finding.status) == ("data.replica", status)
    assert finding.reason.startswith("database orders: backup copy in aws:us-west-2 restorable to 7m")
    assert finding.reason.endswith("ago (RPO 5m)" if status == FAIL else "ago")


def test_backup_replication_not_yet_restorable_is_no_copy(aws_sandbox: AwsSandbox) -> None:
    _lone_database(aws_sandbox)
    seed_backup_replication(aws_sandbox, "us-east-1", "us-west-2", "orders", restorable_age=None)
    finding = one(judge(aws_sandbox, "data.replica"))
    assert (finding.status, finding.reason) == (
        FAIL,
        "database orders: backup copy in aws:us-west-2 is pending: nothing restorable yet",
    )


def test_stopped_backup_replication_fails(aws_sandbox: AwsSandbox) -> None:
    _lone_database(aws_sandbox)
    seed_backup_replication(aws_sandbox, "us-east-1", "us-west-2", "orders")
    source = aws_sandbox.client("rds", "us-east-1").describe_db_instances()["DBInstances"][0]["DBInstanceArn"]
    aws_sandbox.client("rds", "us-west-2").stop_db_instance_automated_backups_replication(SourceDBInstanceArn=source)
    finding = one(judge(aws_sandbox, "data.replica"))
    # RDS stops listing a stopped replication on the source: the copy is gone from the source's view.
    assert (finding.status, finding.reason) == (FAIL, "database orders has no replica outside aws:us-east-1")


def test_unreadable_destination_region_leaves_the_backup_copy_unknown(aws_sandbox: AwsSandbox) -> None:
    _lone_database(aws_sandbox)
    seed_backup_replication(aws_sandbox, "us-east-1", "us-west-2", "orders")
    aws_sandbox.inject(
        "access_denied", region="us-west-2", service="rds", operation="DescribeDBInstanceAutomatedBackups"
    )
    _, inv = inventory(aws_sandbox)
    assert [e.scope for e in inv.incomplete] == ["us-west-2/rds/automated-backups"]
    finding = one(judge(aws_sandbox, "data.replica"))
    assert (finding.status, finding.reason) == (
        UNKNOWN,
        "database orders: backup copy in aws:us-west-2: status unknown (that region's backups not read or not "
        "listing it)",
    )


# --- item 7: Aurora global databases ---------------------------------------------------------


def test_aurora_postgresql_global_secondary_is_judged_by_its_rpo_lag_metric(aws_sandbox: AwsSandbox) -> None:
    aurora_ledger(aws_sandbox, "aurora-postgresql")
    ms = {"ledger-secondary": 1500.0}
    seed_metric(aws_sandbox, "us-west-2", "AuroraGlobalDBRPOLag", "DBClusterIdentifier", ms, unit="Milliseconds")
    # The older metric, far behind, must not be the one read for Aurora PostgreSQL.
    old = {"ledger-secondary": 900_000.0}
    seed_metric(
        aws_sandbox, "us-west-2", "AuroraGlobalDBReplicationLag", "DBClusterIdentifier", old, unit="Milliseconds"
    )
    finding = one(judge(aws_sandbox, "data.replica"))
    assert (finding.check, finding.status) == ("data.replica", PASS)
    assert finding.reason == "database ledger: replica aws:us-west-2 ledger-secondary 2s behind"


def test_older_aurora_mysql_global_secondary_reads_the_replication_lag_metric(aws_sandbox: AwsSandbox) -> None:
    aurora_ledger(aws_sandbox, "aurora-mysql", version="5.7.mysql_aurora.2.11.2")
    lag = {"ledger-secondary": 600_000.0}
    seed_metric(
        aws_sandbox, "us-west-2", "AuroraGlobalDBReplicationLag", "DBClusterIdentifier", lag, unit="Milliseconds"
    )
    finding = one(judge(aws_sandbox, "data.replica"))
    assert (finding.status, finding.reason) == (
        FAIL,
        "database ledger: replica aws:us-west-2 ledger-secondary is 10m behind (RPO 5m)",
    )


def test_global_secondary_without_its_lag_metric_is_unknown(aws_sandbox: AwsSandbox) -> None:
    aurora_ledger(aws_sandbox, "aurora-mysql", version="8.0.mysql_aurora.3.05.2")
    finding = one(judge(aws_sandbox, "data.replica"))
    assert (finding.status, finding.reason) == (
        UNKNOWN,
        "database ledger: replica aws:us-west-2 ledger-secondary lag unknown"
        " (no recent AuroraGlobalDBRPOLag datapoint)",
    )


# --- item 6: S3 replication rules with filters ------------------------------------------------


def _replicate(sb: AwsSandbox, *rules: dict[str, Any]) -> None:
    seed_buckets(sb, "shop-assets", "us-east-1", replica="shop-assets-dr", replica_region="us-west-2", tags=SHOP)
    sb.client("s3", "us-east-1").put_bucket_replication(
        Bucket="shop-assets",
        ReplicationConfiguration={"Role": "arn:aws:iam::123456789012:role/replication", "Rules": list(rules)},
    )


def _rule(rule_id: str, scope: dict[str, Any], bucket: str = "shop-assets-dr", **dest: str) -> dict[str, Any]:
    v2 = {"Priority": 1, "DeleteMarkerReplication": {"Status": "Disabled"}} if "Filter" in scope else {}
    return {
        "ID": rule_id,
        "Status": "Enabled",
        **v2,
        **scope,
        "Destination": {"Bucket": f"arn:aws:s3:::{bucket}", **dest},
    }


@pytest.mark.parametrize(
    ("scope", "copied"),
    [
        ({"Filter": {"Prefix": "logs/"}}, "prefix logs/"),
        ({"Filter": {"Tag": {"Key": "tier", "Value": "gold"}}}, "tags tier=gold"),
        (
            {"Filter": {"And": {"Prefix": "img/", "Tags": [{"Key": "tier", "Value": "gold"}]}}},
            "prefix img/ and tags tier=gold",
        ),
        ({"Prefix": "logs/"}, "prefix logs/"),  # a V1 rule: the prefix on the rule itself
    ],
)
def test_filtered_replication_rule_warns_with_what_is_left_out(
    aws_sandbox: AwsSandbox, scope: dict[str, Any], copied: str
) -> None:
    _replicate(aws_sandbox, _rule("part", scope))
    findings = [x for x in judge(aws_sandbox, "data.bucket_replication") if x.subject == "shop-assets"]
    finding = one(findings)
    assert (finding.check, finding.status) == ("data.bucket_replication", WARN)
    assert finding.reason == (
        f"bucket shop-assets: only objects with {copied} to us-west-2 are copied; the rest exist only in aws:us-east-1"
    )


def test_a_whole_bucket_rule_beside_filtered_ones_is_a_full_copy(aws_sandbox: AwsSandbox) -> None:
    whole = _rule("all", {"Filter": {}})
    whole["Priority"] = 2
    _replicate(aws_sandbox, _rule("logs", {"Filter": {"Prefix": "logs/"}}), whole)
    finding = one([x for x in judge(aws_sandbox, "data.bucket_replication") if x.subject == "shop-assets"])
    assert (finding.status, finding.reason) == (PASS, "bucket shop-assets is copied to us-west-2")


def test_destination_bucket_outside_the_inventory_is_unknown_not_a_copy(aws_sandbox: AwsSandbox) -> None:
    _replicate(aws_sandbox, _rule("partner", {"Filter": {}}, bucket="partner-dr", Account="210987654321"))
    finding = one([x for x in judge(aws_sandbox, "data.bucket_replication") if x.subject == "shop-assets"])
    assert (finding.check, finding.status) == ("data.bucket_replication", UNKNOWN)
    assert (
        finding.reason == "bucket shop-assets is replicated to bucket partner-dr (region unknown: not in the inventory)"
    )
