"""AWS reads that would cost a call per resource, done without one: Route 53 health-check status in
bulk for the checks that govern records only, EC2 termination protection carried over between
inventories (and read again once old). Calls are counted in the sandbox's request log."""

from __future__ import annotations

from typing import Any

from failover.inventory import store_inventory
from failover.model import Inventory, Kind, Resource
from failover.sandbox.aws import (
    AwsSandbox,
    WireRequest,
    seed_buckets,
    seed_health_check,
    seed_instances,
    seed_records,
    seed_zone,
)
from failover.schema import Config
from failover.store import Store
from providers.aws import AwsAdapter
from providers.base import Prior


def calls(requests: list[WireRequest], operation: str) -> list[str]:
    return [q.region for q in requests if q.operation == operation]


def by_id(inv: Inventory, kind: str) -> dict[str, Resource]:
    return {r.native_id: r for r in inv.resources if r.kind == kind}


def http_check(sb: AwsSandbox, ip: str) -> str:
    return seed_health_check(sb, {"Type": "HTTP", "IPAddress": ip, "Port": 80, "ResourcePath": "/healthz"})


def test_health_check_status_is_read_in_bulk_for_the_checks_records_use(
    aws_sandbox: AwsSandbox, aws_account: Any
) -> None:
    sb = aws_sandbox
    zone = seed_zone(sb, "bulk.example")
    governing = [http_check(sb, f"192.0.2.{i % 250 + 1}") for i in range(500)]
    children = [http_check(sb, "198.51.100.1"), http_check(sb, "198.51.100.2")]
    calculated = seed_health_check(sb, {"Type": "CALCULATED", "ChildHealthChecks": children, "HealthThreshold": 2})
    orphans = [http_check(sb, "203.0.113.1"), http_check(sb, "203.0.113.2")]
    named = [*governing, calculated]
    seed_records(
        sb,
        zone,
        [
            {
                "Name": f"h{n}.bulk.example.",
                "Type": "A",
                "SetIdentifier": "east",
                "Weight": 1,
                "TTL": 60,
                "ResourceRecords": [{"Value": "192.0.2.200"}],
                "HealthCheckId": hc,
            }
            for n, hc in enumerate(named)
        ],
    )
    sb.set_health_check_status(governing[7], healthy=False)
    sb.set_health_check_status(children[1], healthy=False)
    sb.clear_requests()

    inv = AwsAdapter(services=("route53",)).inventory(aws_account())

    assert inv.complete, inv.incomplete
    # 503 statuses (500 named, the calculated check's 2 children, the calculated one): two calls of
    # at most 500 queries, in Route 53's metrics region; no call per health check.
    assert calls(sb.requests, "GetMetricData") == ["us-east-1", "us-east-1"]
    assert calls(sb.requests, "GetHealthCheckStatus") == []
    checks = by_id(inv, Kind.DNS_HEALTH_CHECK)
    assert checks[governing[0]].attrs["status"] == "healthy"
    assert checks[governing[7]].attrs["status"] == "unhealthy" and checks[governing[7]].state == "unhealthy"
    assert [checks[c].attrs["status"] for c in children] == ["healthy", "unhealthy"]
    assert checks[calculated].attrs["status"] == "unhealthy"  # 1 of its 2 children, threshold 2
    for orphan in orphans:
        assert checks[orphan].attrs["status"] == "unknown"
        assert "governs no record" in checks[orphan].attrs["status_reason"]


def test_health_check_status_unreadable_is_unknown_with_the_reason(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    zone = seed_zone(aws_sandbox, "denied.example")
    hc = http_check(aws_sandbox, "192.0.2.1")
    record = {"Name": "www.denied.example.", "Type": "A", "SetIdentifier": "p", "Failover": "PRIMARY", "TTL": 60}
    seed_records(aws_sandbox, zone, [{**record, "ResourceRecords": [{"Value": "192.0.2.1"}], "HealthCheckId": hc}])
    aws_sandbox.inject("access_denied", service="cloudwatch", operation="GetMetricData")

    inv = AwsAdapter(services=("route53",)).inventory(aws_account())

    check = by_id(inv, Kind.DNS_HEALTH_CHECK)[hc]
    assert check.attrs["status"] == "unknown" and "could not be read" in check.attrs["status_reason"]
    assert {s.scope: s.error for s in inv.incomplete} == {"global/route53/health-check-status": "access_denied"}


def test_termination_protection_is_carried_over_while_young_and_read_again_when_old(
    aws_sandbox: AwsSandbox, aws_account: Any
) -> None:
    sb = aws_sandbox
    protected = seed_instances(sb, "us-east-1", deletion_protection=True)
    plain = seed_instances(sb, "us-east-1", count=2)
    account = aws_account()
    sb.clear_requests()
    first = AwsAdapter(services=("ec2",)).inventory(account)
    assert len(calls(sb.requests, "DescribeInstanceAttribute")) == 3

    sb.client("ec2", "us-east-1").modify_instance_attribute(InstanceId=plain[0], DisableApiTermination={"Value": True})
    sb.clear_requests()
    second = AwsAdapter(services=("ec2",)).inventory(account, Prior(first, reuse_for_s=3600))
    assert calls(sb.requests, "DescribeInstanceAttribute") == []  # every reading carried over
    carried, read = by_id(second, Kind.COMPUTE_INSTANCE), by_id(first, Kind.COMPUTE_INSTANCE)
    for iid in [*protected, *plain]:
        assert carried[iid].attrs["deletion_protection"] == read[iid].attrs["deletion_protection"]
        assert carried[iid].attrs["deletion_protection_read_at"] == read[iid].attrs["deletion_protection_read_at"]
    assert carried[plain[0]].attrs["deletion_protection"] is False  # the change waits for the next read

    sb.clear_requests()
    third = AwsAdapter(services=("ec2",)).inventory(account, Prior(second, reuse_for_s=0.001))
    assert len(calls(sb.requests, "DescribeInstanceAttribute")) == 3  # too old to carry: read again
    fresh = by_id(third, Kind.COMPUTE_INSTANCE)
    assert fresh[plain[0]].attrs["deletion_protection"] is True
    assert fresh[plain[0]].attrs["deletion_protection_read_at"] > read[plain[0]].attrs["deletion_protection_read_at"]


def test_an_unreadable_protection_is_read_again_not_carried(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_instances(aws_sandbox, "us-east-1", count=2)
    account = aws_account()
    aws_sandbox.inject("access_denied", service="ec2", operation="DescribeInstanceAttribute")
    first = AwsAdapter(services=("ec2",), max_attempts=1).inventory(account)
    assert all(r.attrs["deletion_protection"] is None for r in first.resources)
    aws_sandbox.clear_faults()
    aws_sandbox.clear_requests()
    second = AwsAdapter(services=("ec2",)).inventory(account, Prior(first, reuse_for_s=3600))
    assert len(calls(aws_sandbox.requests, "DescribeInstanceAttribute")) == 2
    assert all(r.attrs["deletion_protection"] is False for r in second.resources)


def test_the_next_inventory_reads_protection_back_from_the_store(
    aws_sandbox: AwsSandbox, aws_account: Any, store: Store
) -> None:
    seed_instances(aws_sandbox, "us-east-1", count=3, deletion_protection=True)
    config = Config(accounts=[aws_account()])
    aws_sandbox.clear_requests()
    store_inventory(config, store)
    assert len(calls(aws_sandbox.requests, "DescribeInstanceAttribute")) == 3
    aws_sandbox.clear_requests()
    run = store_inventory(config, store)
    assert calls(aws_sandbox.requests, "DescribeInstanceAttribute") == []
    assert [r.attrs["deletion_protection"] for r in run.resources] == [True, True, True]


def test_protection_reads_do_not_hold_the_other_services_per_item_reads_behind_them(
    aws_sandbox: AwsSandbox, aws_account: Any
) -> None:
    """The account's bounded pool serves Route 53's tag batches alongside a region's protection reads,
    not after all of them."""
    sb = aws_sandbox
    seed_instances(sb, "us-east-1", count=12)
    seed_zone(sb, "fair.example")
    sb.inject("slow", operation="DescribeInstanceAttribute", delay=0.5)
    sb.clear_requests()
    inv = AwsAdapter(services=("ec2", "route53")).inventory(aws_account(max_concurrency=2))
    assert not inv.incomplete
    ops = [q.operation for q in sb.requests]
    assert ops.count("DescribeInstanceAttribute") == 12
    last_protection = max(n for n, op in enumerate(ops) if op == "DescribeInstanceAttribute")
    assert ops.index("ListTagsForResources") < last_protection


def test_bucket_versioning_and_replication_are_carried_over_while_young_tags_read_every_time(
    aws_sandbox: AwsSandbox, aws_account: Any
) -> None:
    sb = aws_sandbox
    seed_buckets(sb, "shop", "us-east-1", replica="shop-dr", replica_region="us-west-2", tags={"app": "shop"})
    account = aws_account()
    s3_ops = ("GetBucketVersioning", "GetBucketReplication", "GetBucketTagging")
    sb.clear_requests()
    first = AwsAdapter(services=("s3",)).inventory(account)
    assert [len(calls(sb.requests, op)) for op in s3_ops] == [2, 2, 2]

    sb.client("s3", "us-east-1").put_bucket_tagging(Bucket="shop", Tagging={"TagSet": [{"Key": "app", "Value": "x"}]})
    sb.client("s3", "us-east-1").put_bucket_versioning(Bucket="shop", VersioningConfiguration={"Status": "Suspended"})
    sb.clear_requests()
    second = AwsAdapter(services=("s3",)).inventory(account, Prior(first, reuse_for_s=3600))
    assert [len(calls(sb.requests, op)) for op in s3_ops] == [0, 0, 2]  # tags select sites: always read
    was, now = by_id(first, Kind.STORAGE_BUCKET), by_id(second, Kind.STORAGE_BUCKET)
    assert now["shop"].tags == {"app": "x"}
    assert now["shop"].attrs["versioning"] == "Enabled"  # the change waits for the next read
    for name in ("shop", "shop-dr"):
        for key in ("versioning", "replication", "settings_read_at"):
            assert now[name].attrs[key] == was[name].attrs[key]
        assert now[name].region == was[name].region
    assert now["shop"].attrs["replication"]["rules"][0]["destination_region"] == "us-west-2"

    sb.clear_requests()
    third = AwsAdapter(services=("s3",)).inventory(account, Prior(second, reuse_for_s=0.001))
    assert [len(calls(sb.requests, op)) for op in s3_ops] == [2, 2, 2]  # too old to carry: read again
    fresh = by_id(third, Kind.STORAGE_BUCKET)
    assert fresh["shop"].attrs["versioning"] == "Suspended"
    assert fresh["shop"].attrs["settings_read_at"] > was["shop"].attrs["settings_read_at"]


def test_unread_bucket_settings_are_read_again_not_carried(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_buckets(aws_sandbox, "logs", "us-east-1")
    account = aws_account()
    aws_sandbox.inject("access_denied", operation="GetBucketReplication")
    first = AwsAdapter(services=("s3",), max_attempts=1).inventory(account)
    assert by_id(first, Kind.STORAGE_BUCKET)["logs"].attrs["replication"] is None
    aws_sandbox.clear_faults()
    aws_sandbox.clear_requests()
    second = AwsAdapter(services=("s3",)).inventory(account, Prior(first, reuse_for_s=3600))
    assert len(calls(aws_sandbox.requests, "GetBucketReplication")) == 1
    assert by_id(second, Kind.STORAGE_BUCKET)["logs"].attrs["replication"] == {"role": None, "rules": []}
