"""Slow clouds cannot hold a cycle: each account's inventory has a total deadline
(``inventory_deadline``); scopes not read by then are recorded incomplete with the reason, no retry
starts past it, and a ``Retry-After`` is honoured only when it fits before it. Against the local
emulators' fault injection (moto behind the fault middleware, the GCP and ARM fakes)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from failover.errors import DeadlineExceeded
from failover.model import Inventory, Kind
from failover.sandbox.aws import AwsSandbox, seed_instances
from failover.sandbox.azure import FakeArm
from failover.sandbox.gcp import FakeGcp
from failover.schema import Account, Config
from providers.aws import AwsAdapter
from providers.aws.session import open_clients
from providers.base import Deadline
from tests.fixtures.azure import SleepRecorder

SUB = "sub-1"


def scopes(inv: Inventory) -> dict[str, str]:
    return {e.scope: e.error for e in inv.incomplete}


def reasons(inv: Inventory) -> str:
    return " | ".join(e.reason for e in inv.incomplete)


# ---------------------------------------------------------------------------------------- config
def test_default_deadline_is_half_the_inventory_interval_at_least_a_minute_and_the_key_overrides_it() -> None:
    base = {"name": "a", "provider": "aws", "regions": ["us-east-1"]}
    config = Config.model_validate({"accounts": [base], "daemon": {"inventory_interval": "10m"}})
    assert config.inventory_deadline(config.accounts[0]) == 300.0
    config = Config.model_validate({"accounts": [{**base, "inventory_deadline": "90s"}]})
    assert config.inventory_deadline(config.accounts[0]) == 90.0
    config = Config.model_validate({"accounts": [base], "daemon": {"inventory_interval": "2s"}})
    assert config.inventory_deadline(config.accounts[0]) == 60.0  # a short interval does not cut reads short


@pytest.mark.parametrize("value", ["0s", "-5s"])
def test_deadline_must_be_positive(value: str) -> None:
    with pytest.raises(ValidationError, match="inventory_deadline"):
        Account(name="a", provider="aws", regions=["us-east-1"], inventory_deadline=value)


# ----------------------------------------------------------------------------------------- Azure
def seed_azure(fake_arm: FakeArm) -> None:
    fake_arm.add_resource_group(SUB, "rg", location="eastus")
    fake_arm.add_vm(SUB, "rg", "web-1", size="Standard_D2s_v3", tags={"app": "shop"})


def test_azure_retry_after_beyond_the_deadline_gives_up_at_once(
    fake_arm: FakeArm, azure_account: Callable[..., Account], azure_adapter: Any, retry_sleeps: SleepRecorder
) -> None:
    seed_azure(fake_arm)
    fake_arm.fail(429, collection="resources", retry_after=3600)
    inv = azure_adapter.inventory(azure_account(SUB, inventory_deadline="60s"))
    assert scopes(inv) == {f"subscriptions/{SUB}/resources": "throttled"}
    assert "retry after 3600s, past the 60s inventory deadline" in reasons(inv)
    # it did not wait out a request it could not honour (short jittered retries of other reads on a
    # loaded machine are not that)
    assert max(retry_sleeps.waits, default=0.0) < 1.0
    assert any(r.kind == Kind.RESOURCE_GROUP for r in inv.resources)  # the rest is still read


def test_azure_retry_after_within_the_deadline_is_honoured_in_full(
    fake_arm: FakeArm, azure_account: Callable[..., Account], azure_adapter: Any, retry_sleeps: SleepRecorder
) -> None:
    seed_azure(fake_arm)
    fake_arm.fail(429, collection="resources", retry_after=8, times=1)  # above the adapter's 5s max_delay
    inv = azure_adapter.inventory(azure_account(SUB, inventory_deadline="60s"))
    assert inv.complete, inv.incomplete
    assert 8.0 in retry_sleeps.waits


def test_azure_hanging_collection_is_recorded_incomplete_at_the_deadline(
    fake_arm: FakeArm, azure_account: Callable[..., Account], azure_adapter: Any
) -> None:
    seed_azure(fake_arm)
    fake_arm.slow(12.0, collection="resources")  # longer than the deadline, shorter than the call timeout
    inv = azure_adapter.inventory(azure_account(SUB, timeout="30s", inventory_deadline="4s"))
    assert scopes(inv) == {f"subscriptions/{SUB}/resources": "deadline"}
    assert "not finished within the 4s inventory deadline" in reasons(inv)
    assert any(r.kind == Kind.RESOURCE_GROUP for r in inv.resources)


# ------------------------------------------------------------------------------------------- GCP
def seed_gcp(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region("p1", "us-central1", quotas={"CPUS": (24, 0)})
    importlib.import_module("google.cloud.compute_v1")  # seconds to import: not on the deadline's clock


def test_gcp_retry_after_beyond_the_deadline_gives_up_at_once(
    gcp_fake: FakeGcp, gcp_account: Callable[..., Account]
) -> None:
    from providers.gcp import GcpAdapter

    seed_gcp(gcp_fake)
    sleeps = SleepRecorder()
    gcp_fake.fail(429, project="p1", collection="instances", retry_after=3600)
    inv = GcpAdapter(base_delay=0.01, sleep=sleeps).inventory(gcp_account("p1", inventory_deadline="60s"))
    assert scopes(inv) == {"p1/instances": "throttled"}
    assert "past the 60s inventory deadline" in reasons(inv)
    assert sleeps.waits == []


def test_gcp_hanging_part_is_recorded_incomplete_at_the_deadline(
    gcp_fake: FakeGcp, gcp_account: Callable[..., Account], gcp_adapter: Any
) -> None:
    seed_gcp(gcp_fake)
    gcp_fake.slow(12.0, project="p1", collection="instances")
    inv = gcp_adapter.inventory(gcp_account("p1", timeout="30s", inventory_deadline="4s"))
    assert scopes(inv) == {"p1/instances": "deadline"}
    assert any(r.kind == Kind.REGION for r in inv.resources)


# ------------------------------------------------------------------------------------------- AWS
def test_aws_hanging_service_is_recorded_incomplete_at_the_deadline(
    aws_sandbox: AwsSandbox, aws_account: Callable[..., Account]
) -> None:
    seed_instances(aws_sandbox, "us-east-1", count=1)
    aws_sandbox.inject("slow", service="rds", delay=12.0)
    account = aws_account(timeout="30s", inventory_deadline="4s")
    inv = AwsAdapter(services=("ec2", "rds")).inventory(account)
    assert scopes(inv) == {"us-east-1/rds": "deadline"}
    assert len([r for r in inv.resources if r.kind == Kind.COMPUTE_INSTANCE]) == 1


def test_aws_protection_reads_past_the_deadline_are_unknown_and_the_instances_kept(
    aws_sandbox: AwsSandbox, aws_account: Callable[..., Account]
) -> None:
    """Thousands of per-instance reads cannot sink the instance listing: what is not read by the deadline
    is unknown (never unprotected), in a located ``deadline`` scope, and the instances are inventoried."""
    seed_instances(aws_sandbox, "us-east-1", count=3, deletion_protection=True)
    aws_sandbox.inject("slow", operation="DescribeInstanceAttribute", delay=12.0)
    inv = AwsAdapter(services=("ec2",)).inventory(aws_account(timeout="30s", inventory_deadline="4s"))
    assert inv.finished_at is not None and (inv.finished_at - inv.started_at).total_seconds() < 12.0  # not waited for
    assert scopes(inv) == {"us-east-1/ec2/instance-attributes": "deadline"}
    assert "deletion protection unknown for 3 of 3 instances" in reasons(inv)
    instances = [r for r in inv.resources if r.kind == Kind.COMPUTE_INSTANCE]
    assert len(instances) == 3
    assert [r.attrs["deletion_protection"] for r in instances] == [None, None, None]


def test_aws_stops_retrying_a_timed_out_call_once_the_deadline_has_passed(
    aws_sandbox: AwsSandbox, aws_account: Callable[..., Account]
) -> None:
    """Without the deadline, botocore tries a hanging call 5 times (5x the timeout); past it, once."""
    seed_instances(aws_sandbox, "us-east-1", count=1)  # (also warms moto's EC2 backend up)
    aws_sandbox.inject("slow", service="rds", delay=10.0)
    clients = open_clients(aws_account(timeout="3s"), max_attempts=5, deadline=Deadline.after(0.0))
    ec2 = clients("ec2", "us-east-1")
    assert len(ec2.describe_instances()["Reservations"]) == 1  # a successful answer passes untouched
    aws_sandbox.clear_requests()
    with pytest.raises(DeadlineExceeded, match="not retried: the 0s inventory deadline came first"):
        clients("rds", "us-east-1").describe_db_instances()
    assert len([r for r in aws_sandbox.requests if r.service == "rds"]) == 1
