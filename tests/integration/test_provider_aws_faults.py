"""How the AWS adapter behaves when parts of an account cannot be read, and with many pages.

Faults come from the sandbox's middleware in front of moto: the SDK sees real AccessDenied,
throttling, 500 and slow answers on the wire. A scope that cannot be read is always reported; it
never turns into "no resources".
"""

from __future__ import annotations

import socket
from typing import Any

import pydantic
import pytest

from failover.model import Kind
from failover.sandbox.aws import (
    AwsSandbox,
    seed_buckets,
    seed_failover_zone,
    seed_instances,
    seed_rds_with_replica,
    seed_replica_lag,
)
from failover.schema import Account
from providers.aws import AwsAdapter


def scopes(inv: Any) -> dict[str, str]:
    return {s.scope: s.error for s in inv.incomplete}


def test_denied_service_in_one_region_is_reported_incomplete_while_the_rest_is_read(
    aws_sandbox: AwsSandbox, aws_account: Any
) -> None:
    seed_instances(aws_sandbox, "us-east-1", count=1)
    seed_instances(aws_sandbox, "us-west-2", count=2)
    seed_rds_with_replica(aws_sandbox, "us-east-1", "us-west-2", "orders")
    aws_sandbox.inject("access_denied", region="us-west-2", service="rds")
    inv = AwsAdapter(services=("ec2", "rds")).inventory(aws_account(regions=("us-east-1", "us-west-2")))
    assert scopes(inv) == {"us-west-2/rds": "access_denied"}
    [gap] = inv.incomplete
    assert "DescribeDBInstances" in gap.reason and "AccessDenied" in gap.reason
    assert not inv.complete
    dbs = [(r.region, r.name) for r in inv.resources if r.kind == Kind.DB_INSTANCE]
    assert dbs == [("us-east-1", "orders")]  # the replica's region could not be read, not "empty"
    assert len([r for r in inv.resources if r.kind == Kind.COMPUTE_INSTANCE and r.region == "us-west-2"]) == 2


def test_denied_ec2_uses_unauthorized_operation_and_is_not_retried(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_instances(aws_sandbox, "us-east-1", count=1)
    aws_sandbox.inject("access_denied", service="ec2", operation="DescribeInstances")
    inv = AwsAdapter(services=("ec2",)).inventory(aws_account())
    assert scopes(inv) == {"us-east-1/ec2": "access_denied"}
    assert "UnauthorizedOperation" in inv.incomplete[0].reason
    assert [q.operation for q in aws_sandbox.requests].count("DescribeInstances") == 1
    assert inv.resources == []


def test_throttled_scope_is_retried_until_it_succeeds(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    ids = seed_instances(aws_sandbox, "us-east-1", count=2)
    fault = aws_sandbox.inject("throttle", service="ec2", operation="DescribeInstances", times=2)
    inv = AwsAdapter(services=("ec2",)).inventory(aws_account())
    assert inv.complete
    assert sorted(r.native_id for r in inv.resources) == sorted(ids)
    assert fault.hits == 2
    assert [q.operation for q in aws_sandbox.requests].count("DescribeInstances") == 3


def test_scope_still_throttled_after_retries_is_reported_throttled(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_instances(aws_sandbox, "us-east-1", count=1)
    aws_sandbox.inject("throttle", service="ec2", operation="DescribeInstances")
    inv = AwsAdapter(services=("ec2",), max_attempts=2).inventory(aws_account())
    assert scopes(inv) == {"us-east-1/ec2": "throttled"}
    assert "RequestLimitExceeded" in inv.incomplete[0].reason
    assert [q.operation for q in aws_sandbox.requests].count("DescribeInstances") == 2


def test_server_errors_make_a_scope_unreachable_and_keep_the_rest(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_failover_zone(aws_sandbox, "shop.example", "www", primary="192.0.2.1", secondary="192.0.2.2")
    aws_sandbox.inject("error", service="route53", operation="ListHealthChecks")
    inv = AwsAdapter(services=("route53",), max_attempts=2).inventory(aws_account())
    assert scopes(inv) == {"global/route53/health-checks": "unreachable"}
    kinds = {r.kind for r in inv.resources}
    assert Kind.DNS_ZONE in kinds and Kind.DNS_RECORD in kinds and Kind.DNS_HEALTH_CHECK not in kinds


def test_slow_service_times_out_as_unreachable(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_instances(aws_sandbox, "us-east-1", count=1)
    # Margins wide enough that a loaded machine's ordinary calls stay well inside the timeout.
    aws_sandbox.inject("slow", service="rds", delay=4.0)
    inv = AwsAdapter(services=("ec2", "rds"), max_attempts=1).inventory(aws_account(timeout="2s"))
    assert scopes(inv) == {"us-east-1/rds": "unreachable"}
    assert len([r for r in inv.resources if r.kind == Kind.COMPUTE_INSTANCE]) == 1


def test_unknown_deletion_protection_is_none_with_a_note_never_false(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_instances(aws_sandbox, "us-east-1", count=2, deletion_protection=True)
    aws_sandbox.inject("access_denied", operation="DescribeInstanceAttribute", times=1)
    inv = AwsAdapter(services=("ec2",)).inventory(aws_account())
    assert scopes(inv) == {"us-east-1/ec2/instance-attributes": "access_denied"}
    assert "1 of 2 instances" in inv.incomplete[0].reason
    values = sorted((r.attrs["deletion_protection"] for r in inv.resources), key=str)
    assert values == [None, True]
    unknown = next(r for r in inv.resources if r.attrs["deletion_protection"] is None)
    assert "deletion protection unknown" in unknown.attrs["notes"][0]


def test_denied_replica_lag_read_leaves_lag_unknown_and_says_so(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_rds_with_replica(aws_sandbox, "us-east-1", "us-west-2", "orders")
    seed_replica_lag(aws_sandbox, "us-west-2", {"orders-replica": 3.0})
    aws_sandbox.inject("access_denied", region="us-west-2", service="cloudwatch")
    inv = AwsAdapter(services=("rds",)).inventory(aws_account(regions=("us-east-1", "us-west-2")))
    assert scopes(inv) == {"us-west-2/cloudwatch": "access_denied"}
    replica = next(r for r in inv.resources if r.name == "orders-replica")
    assert replica.attrs["replica_lag_s"] is None  # unknown, not zero


def test_replica_without_recent_lag_datapoint_has_unknown_lag(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_rds_with_replica(aws_sandbox, "us-east-1", "us-west-2", "orders")
    inv = AwsAdapter(services=("rds",)).inventory(aws_account(regions=("us-east-1", "us-west-2")))
    assert inv.complete
    replica = next(r for r in inv.resources if r.name == "orders-replica")
    assert replica.attrs["replica_lag_s"] is None


def test_denied_replication_read_leaves_replication_unknown(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_buckets(aws_sandbox, "shop-assets", "us-east-1", replica="shop-assets-dr", replica_region="us-west-2")
    aws_sandbox.inject("access_denied", service="s3", operation="GetBucketReplication")
    inv = AwsAdapter(services=("s3",)).inventory(aws_account())
    assert scopes(inv) == {"global/s3/bucket-config": "access_denied"}
    buckets = {r.name: r for r in inv.resources}
    assert set(buckets) == {"shop-assets", "shop-assets-dr"}
    assert buckets["shop-assets"].attrs["replication"] is None  # unknown, not "none configured"
    assert buckets["shop-assets"].attrs["versioning"] == "Enabled"


def test_unreachable_endpoint_reports_every_scope_and_no_resources(aws_account: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the adapter connects: nothing listens
    account = aws_account(endpoint_url=f"http://127.0.0.1:{port}")
    inv = AwsAdapter(services=("ec2", "route53"), max_attempts=1).inventory(account)
    assert inv.resources == []
    assert scopes(inv) == {
        "global/sts": "unreachable",
        "us-east-1/ec2": "unreachable",
        "global/route53": "unreachable",  # the zones come first: without them no check's role is known
    }


def test_assumes_role_and_reads_with_the_role_credentials(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_instances(aws_sandbox, "us-east-1", count=1)
    role = "arn:aws:iam::123456789012:role/failover-readonly"
    aws_sandbox.clear_requests()
    inv = AwsAdapter(services=("ec2",)).inventory(aws_account(role_arn=role))
    assert inv.complete and len(inv.resources) == 1
    requests = aws_sandbox.requests
    assert requests[0].operation == "AssumeRole" and requests[0].access_key == "failover-anonymous"
    assert requests[1:] and all(q.access_key != "failover-anonymous" for q in requests[1:])


def test_denied_role_assumption_is_an_incomplete_inventory(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_instances(aws_sandbox, "us-east-1", count=1)
    aws_sandbox.inject("access_denied", service="sts", operation="AssumeRole")
    inv = AwsAdapter().inventory(aws_account(role_arn="arn:aws:iam::123456789012:role/nope"))
    assert scopes(inv) == {"sts:AssumeRole": "access_denied"}
    assert inv.resources == []


def test_paginates_instances_and_record_sets_over_several_pages(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    ids = [i for _ in range(5) for i in seed_instances(aws_sandbox, "us-east-1", count=1)]
    seed_failover_zone(aws_sandbox, "shop.example", "www", primary="192.0.2.1", secondary="192.0.2.2", extra_records=7)
    inv = AwsAdapter(services=("ec2", "route53"), page_size=2).inventory(aws_account())
    assert inv.complete
    assert sorted(r.native_id for r in inv.resources if r.kind == Kind.COMPUTE_INSTANCE) == sorted(ids)
    records = [r for r in inv.resources if r.kind == Kind.DNS_RECORD]
    assert len(records) == 2 + 2 + 7  # SOA, NS, the failover pair, hostN
    ops = [q.operation for q in aws_sandbox.requests]
    assert ops.count("DescribeInstances") == 3  # one reservation per run: 2 + 2 + 1
    assert ops.count("ListResourceRecordSets") == 6


def test_record_sets_beyond_route53s_default_page_are_read(aws_sandbox: AwsSandbox, aws_account: Any) -> None:
    seed_failover_zone(aws_sandbox, "big.example", "www", primary="192.0.2.1", secondary="192.0.2.2", extra_records=320)
    inv = AwsAdapter(services=("route53",)).inventory(aws_account())
    assert inv.complete
    assert len([r for r in inv.resources if r.kind == Kind.DNS_RECORD]) == 324
    assert [q.operation for q in aws_sandbox.requests].count("ListResourceRecordSets") >= 2


def test_anonymous_credentials_are_refused_for_a_non_loopback_endpoint() -> None:
    with pytest.raises(pydantic.ValidationError, match="anonymous"):
        Account(
            name="x",
            provider="aws",
            regions=["us-east-1"],
            endpoint_url="https://ec2.example.com",
            credentials="anonymous",
        )
