"""The AWS adapter against moto's server: every resource kind, two regions, read-only, IAM coverage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from failover.model import Inventory, Kind, Resource
from failover.sandbox.aws import (
    AwsSandbox,
    WireRequest,
    seed_accelerator,
    seed_alarm,
    seed_aurora_global,
    seed_auto_scaling_group,
    seed_backup_replication,
    seed_buckets,
    seed_dynamodb_table,
    seed_elasticache_global,
    seed_failover_zone,
    seed_global_datastore_lag,
    seed_health_check,
    seed_instances,
    seed_legacy_global_table,
    seed_load_balancer,
    seed_metric,
    seed_rds_with_replica,
    seed_replica_lag,
    seed_replication_latency,
    seed_warm_pool,
)
from failover.schema import Account
from providers.aws import AwsAdapter
from tests.factories import undeclared_attrs

POLICY = Path(__file__).resolve().parents[2] / "docs" / "permissions" / "aws-iam-policy.json"
SHOP = {"app": "shop"}


@dataclass
class World:
    inventory: Inventory
    requests: list[WireRequest]
    ids: dict[str, object]

    def of(self, kind: str, region: str | None = None) -> list[Resource]:
        return [r for r in self.inventory.resources if r.kind == kind and (region is None or r.region == region)]

    def one(self, kind: str, name: str) -> Resource:
        matches = [r for r in self.inventory.resources if r.kind == kind and r.name == name]
        assert len(matches) == 1, (kind, name, matches)
        return matches[0]


@pytest.fixture(scope="module")
def world(_aws_server: AwsSandbox) -> World:
    """One seeded account over two regions, inventoried once; tests assert on the captured result."""
    sb = _aws_server
    sb.reset()
    east = seed_instances(sb, "us-east-1", count=2, instance_type="t3.micro", tags={**SHOP, "Name": "web"})
    protected = seed_instances(
        sb, "us-east-1", instance_type="m5.large", tags={"Name": "admin"}, deletion_protection=True
    )
    west = seed_instances(sb, "us-west-2", count=3, instance_type="m5.large", tags={**SHOP, "Name": "web-dr"})
    seed_auto_scaling_group(
        sb,
        "us-west-2",
        "web-dr-asg",
        desired=2,
        max_size=6,
        instance_type="t3.small",
        tags=SHOP,
        deletion_protection="prevent-all-deletion",
    )
    warm = seed_warm_pool(sb, "us-west-2", "web-dr-asg", min_size=1)
    lb = seed_load_balancer(sb, "us-east-1", "web-lb", instance_ids=east, tags=SHOP)
    zone = seed_failover_zone(sb, "shop.example", "www", primary="192.0.2.1", secondary="192.0.2.2", tags=SHOP)
    sb.set_health_check_status(zone["health_check_id"], healthy=False)
    seed_alarm(sb, "eu-west-1", "web-hosts", period=60, evaluation_periods=3, datapoints_to_alarm=2)
    alarm_check = seed_health_check(
        sb,
        {
            "Type": "CLOUDWATCH_METRIC",
            "AlarmIdentifier": {"Region": "eu-west-1", "Name": "web-hosts"},
            "InsufficientDataHealthStatus": "Unhealthy",
        },
        tags={"Name": "web-alarm"},
    )
    db = seed_rds_with_replica(sb, "us-east-1", "us-west-2", "orders", tags=SHOP)
    seed_replica_lag(sb, "us-west-2", {"orders-replica": 42.0})
    backups = seed_backup_replication(sb, "us-east-1", "us-west-2", "orders")
    ledger = seed_aurora_global(sb, "us-east-1", "us-west-2", "ledger", tags=SHOP)
    seed_metric(
        sb, "us-west-2", "AuroraGlobalDBRPOLag", "DBClusterIdentifier", {"ledger-secondary": 800}, unit="Milliseconds"
    )
    seed_buckets(sb, "shop-assets", "us-east-1", replica="shop-assets-dr", replica_region="us-west-2", tags=SHOP)
    seed_dynamodb_table(sb, "us-east-1", "carts", replicas=["us-west-2"], tags=SHOP)
    seed_replication_latency(sb, "us-east-1", "carts", {"us-west-2": 700})
    seed_legacy_global_table(sb, ["us-east-1", "us-west-2"], "baskets", tags=SHOP)  # version 2017.11.29
    cache = seed_elasticache_global(sb, "us-east-1", "us-west-2", "sessions", tags=SHOP)
    seed_global_datastore_lag(sb, "us-west-2", {c: 0.2 for c in cache["secondary_clusters"].split(",")})
    ec2 = sb.client("ec2", "us-west-2")
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=eip, InstanceId=west[0])
    accelerator = seed_accelerator(
        sb,
        "web",
        tags=SHOP,
        groups=[
            {"EndpointGroupRegion": "us-east-1", "EndpointConfigurations": [{"EndpointId": lb["arn"]}]},
            {
                "EndpointGroupRegion": "us-west-2",
                "TrafficDialPercentage": 0,
                "EndpointConfigurations": [{"EndpointId": eip}],
            },
        ],
    )
    sb.clear_requests()
    account = Account(**sb.account("aws-local", ["us-east-1", "us-west-2"]))
    inventory = AwsAdapter().inventory(account)
    ids = {
        "east": east,
        "protected": protected,
        "west": west,
        "lb": lb,
        "zone": zone,
        "db": db,
        "alarm": alarm_check,
        "warm": warm,
        "backups": backups,
        "ledger": ledger,
        "accelerator": accelerator,
        "eip": eip,
    }
    return World(inventory=inventory, requests=sb.requests, ids=ids)


def test_full_inventory_is_complete(world: World) -> None:
    assert world.inventory.incomplete == []
    assert {r.account for r in world.inventory.resources} == {"aws-local"}
    assert {r.provider for r in world.inventory.resources} == {"aws"}
    assert {r.attrs["account_id"] for r in world.inventory.resources} == {"123456789012"}


def test_adapter_fills_only_the_attrs_each_kind_declares(world: World) -> None:
    assert undeclared_attrs(world.inventory.resources) == {}


def test_instances_in_both_regions_carry_capacity_image_ips_and_tags(world: World) -> None:
    east = {r.native_id: r for r in world.of(Kind.COMPUTE_INSTANCE, "us-east-1")}
    west = {r.native_id: r for r in world.of(Kind.COMPUTE_INSTANCE, "us-west-2")}
    assert set(world.ids["east"]) | set(world.ids["protected"]) <= set(east)  # type: ignore[arg-type]
    assert set(world.ids["west"]) <= set(west)  # type: ignore[arg-type]
    web = east[world.ids["east"][0]]  # type: ignore[index]
    assert web.native_type == "t3.micro" and web.state == "running" and web.name == "web"
    assert (web.capacity.vcpu, web.capacity.memory_mib) == (2.0, 1024)
    assert west[world.ids["west"][0]].capacity.memory_mib == 8192  # type: ignore[index]
    assert web.tags == {"app": "shop", "Name": "web"}
    assert web.attrs["image"] == "ami-12345678"
    assert web.attrs["private_ip"] and web.attrs["public_ip"] and web.attrs["private_dns"]
    assert web.attrs["vpc_id"].startswith("vpc-") and web.attrs["subnet_id"].startswith("subnet-")
    assert web.zone.startswith("us-east-1")


def test_deletion_protection_is_read_per_instance(world: World) -> None:
    admin = world.one(Kind.COMPUTE_INSTANCE, "admin")
    assert admin.attrs["deletion_protection"] is True
    assert all(
        r.attrs["deletion_protection"] is False for r in world.of(Kind.COMPUTE_INSTANCE) if r.name in ("web", "web-dr")
    )
    calls = [q for q in world.requests if q.operation == "DescribeInstanceAttribute"]
    assert len(calls) == len(world.of(Kind.COMPUTE_INSTANCE))


def test_instance_types_are_described_in_batches_per_region(world: World) -> None:
    calls = [q.region for q in world.requests if q.operation == "DescribeInstanceTypes"]
    assert calls.count("us-east-1") == 1  # t3.micro and m5.large in one call
    assert calls.count("us-west-2") <= 2  # instances (m5.large) and the group (t3.small) ask separately


def test_auto_scaling_group_counts_in_service_capacity(world: World) -> None:
    asg = world.one(Kind.COMPUTE_GROUP, "web-dr-asg")
    assert asg.region == "us-west-2"
    assert (asg.attrs["desired"], asg.attrs["min_size"], asg.attrs["max_size"]) == (2, 1, 6)
    assert asg.attrs["in_service"] == 2 and asg.attrs["unhealthy"] == 0
    assert asg.capacity.instances == 2 and asg.capacity.vcpu == 4.0  # 2 x t3.small
    assert {m["lifecycle_state"] for m in asg.attrs["instances"]} == {"InService"}
    assert asg.tags == SHOP
    assert (asg.attrs["capacity_unit"], asg.attrs["running_units"]) == ("instances", 2.0)
    assert (asg.attrs["deletion_protection"], asg.attrs["deletion_protection_level"]) == (True, "prevent-all-deletion")


def test_warm_pool_members_are_read_once_per_group_that_has_a_pool(world: World) -> None:
    asg = world.one(Kind.COMPUTE_GROUP, "web-dr-asg")
    assert (asg.attrs["warm_instances"], asg.attrs["warm_pool_state"]) == (4, "Stopped")  # max 6 - desired 2
    assert len(world.ids["warm"]) == 4  # type: ignore[arg-type]
    assert asg.capacity.instances == 2  # warm members are not running capacity
    assert len([q for q in world.requests if q.operation == "DescribeWarmPool"]) == 1


def test_load_balancer_and_target_group_are_linked_with_target_health(world: World) -> None:
    lb = world.one(Kind.LB, "web-lb")
    tg = world.one(Kind.LB_TARGET_GROUP, "web-lb-tg")
    assert lb.attrs["dns_name"] == world.ids["lb"]["dns_name"]  # type: ignore[index]
    assert lb.attrs["scheme"] == "internet-facing" and lb.state == "active" and lb.tags == SHOP
    assert lb.attrs["target_groups"] == [tg.native_id]
    assert tg.attrs["load_balancers"] == [lb.native_id]
    assert {t["id"] for t in tg.attrs["targets"]} == set(world.ids["east"])  # type: ignore[arg-type]
    assert tg.attrs["healthy"] == 2 and tg.attrs["unhealthy"] == 0 and tg.capacity.instances == 2
    assert tg.attrs["health_check"]["path"] == "/healthz"


def test_route53_zone_records_and_health_check(world: World) -> None:
    zone = world.one(Kind.DNS_ZONE, "shop.example")
    assert zone.region == "" and zone.attrs["private"] is False and zone.tags == SHOP
    assert len(zone.attrs["nameservers"]) == 4
    www = [r for r in world.of(Kind.DNS_RECORD) if r.name == "www.shop.example"]
    by_role = {r.attrs["failover"]: r for r in www}
    assert set(by_role) == {"PRIMARY", "SECONDARY"}
    primary, secondary = by_role["PRIMARY"], by_role["SECONDARY"]
    assert primary.attrs["values"] == ["192.0.2.1"] and primary.attrs["ttl"] == 60
    assert primary.attrs["health_check_id"] == world.ids["zone"]["health_check_id"]  # type: ignore[index]
    assert secondary.attrs["set_identifier"] == "secondary" and secondary.attrs["health_check_id"] is None
    hc = [r for r in world.of(Kind.DNS_HEALTH_CHECK) if r.native_id == world.ids["zone"]["health_check_id"]]  # type: ignore[index]
    assert len(hc) == 1
    assert hc[0].attrs["type"] == "HTTP" and hc[0].attrs["path"] == "/healthz"
    assert (hc[0].attrs["interval_s"], hc[0].attrs["failure_threshold"]) == (30, 3)
    assert hc[0].attrs["status"] == "unhealthy" and hc[0].state == "unhealthy"


def test_alarm_health_check_carries_its_alarm_read_in_the_alarm_region(world: World) -> None:
    hc = world.one(Kind.DNS_HEALTH_CHECK, "web-alarm")
    assert hc.native_id == world.ids["alarm"] and hc.native_type == "route53:health-check:CLOUDWATCH_METRIC"
    # Real Route 53 answers an alarm check with its own fields only: no interval or threshold.
    assert (hc.attrs["interval_s"], hc.attrs["failure_threshold"], hc.attrs["port"]) == (None, None, None)
    assert hc.attrs["insufficient_data_status"] == "Unhealthy"
    assert hc.attrs["alarm"] == {
        "region": "eu-west-1",
        "name": "web-hosts",
        "found": True,
        "period_s": 60,
        "evaluation_periods": 3,
        "datapoints_to_alarm": 2,
        "treat_missing_data": "breaching",
        "state": "OK",
    }
    calls = [
        (q.region, q.operation) for q in world.requests if q.service == "cloudwatch" and q.operation == "DescribeAlarms"
    ]
    assert calls == [("eu-west-1", "DescribeAlarms")]


def test_route53_is_read_once_per_account_not_per_region(world: World) -> None:
    assert len([q for q in world.requests if q.operation == "ListHostedZones"]) == 1
    assert len([q for q in world.requests if q.operation == "ListBuckets"]) == 1


def test_rds_cross_region_replica_links(world: World) -> None:
    source = world.one(Kind.DB_INSTANCE, "orders")
    replica = world.one(Kind.DB_INSTANCE, "orders-replica")
    assert (source.region, replica.region) == ("us-east-1", "us-west-2")
    assert source.attrs["engine"] == "postgres" and source.attrs["deletion_protection"] is True
    assert source.attrs["replicas"] == [world.ids["db"]["replica_arn"]]  # type: ignore[index]
    assert replica.attrs["replica_source"] == world.ids["db"]["source_arn"]  # type: ignore[index]
    assert replica.attrs["replica_source_region"] == "us-east-1"
    assert replica.attrs["replica_lag_s"] == 42.0  # from CloudWatch ReplicaLag, the only place RDS reports it
    assert source.attrs["replica_lag_s"] is None
    assert source.attrs["backup_retention_days"] == 7 and source.native_type == "db.t3.medium"
    assert source.tags == SHOP
    assert (replica.attrs["replication_status"], replica.attrs["replication_healthy"]) == ("replicating", True)
    assert replica.attrs["replica_lag_metric"] == "ReplicaLag"


def test_rds_backups_replicated_to_another_region_are_read_there(world: World) -> None:
    [copy] = world.one(Kind.DB_INSTANCE, "orders").attrs["backup_copies"]
    assert (copy["region"], copy["arn"], copy["status"]) == ("us-west-2", world.ids["backups"], "replicating")
    assert copy["latest_restorable_time"] and copy["retention_days"] == 7
    calls = [q.region for q in world.requests if q.operation == "DescribeDBInstanceAutomatedBackups"]
    assert calls == ["us-west-2"]  # only the destination region, once


def test_aurora_global_database_links_the_secondary_to_the_writer_with_its_lag(world: World) -> None:
    writer = world.one(Kind.DB_CLUSTER, "ledger")
    secondary = world.one(Kind.DB_CLUSTER, "ledger-secondary")
    assert writer.attrs["replicas"] == [world.ids["ledger"]["secondary_arn"]]  # type: ignore[index]
    assert secondary.attrs["replica_source"] == world.ids["ledger"]["primary_arn"]  # type: ignore[index]
    assert secondary.attrs["replica_source_region"] == "us-east-1"
    assert (secondary.attrs["replica_lag_metric"], secondary.attrs["replica_lag_s"]) == ("AuroraGlobalDBRPOLag", 0.8)
    assert secondary.attrs["replication_status"] == "connected"
    assert writer.attrs["global_cluster"] == "ledger-global"


def test_s3_buckets_with_region_versioning_and_replication(world: World) -> None:
    src = world.one(Kind.STORAGE_BUCKET, "shop-assets")
    dst = world.one(Kind.STORAGE_BUCKET, "shop-assets-dr")
    assert (src.region, dst.region) == ("us-east-1", "us-west-2")
    assert src.attrs["versioning"] == "Enabled" and src.tags == SHOP
    [rule] = src.attrs["replication"]["rules"]
    assert (rule["destination_bucket"], rule["destination_region"], rule["status"]) == (
        "shop-assets-dr",
        "us-west-2",
        "Enabled",
    )
    assert dst.attrs["replication"] == {"role": None, "rules": []}  # read, none configured: not an error


def test_data_stores_carry_their_config_kind_and_copies(world: World) -> None:
    kinds = {(r.kind, r.name): r.attrs.get("store_kind") for r in world.inventory.resources if r.region == "us-east-1"}
    assert kinds[(Kind.DB_INSTANCE, "orders")] == "rds" and kinds[(Kind.DB_CLUSTER, "ledger")] == "aurora"
    assert kinds[(Kind.STORAGE_BUCKET, "shop-assets")] == "s3" and kinds[(Kind.DB_TABLE, "carts")] == "dynamodb"
    assert kinds[(Kind.CACHE, "sessions")] == "elasticache"
    [carts] = [r for r in world.of(Kind.DB_TABLE, "us-east-1") if r.name == "carts"]
    [table_copy] = carts.attrs["copies"]
    assert (table_copy["where"], table_copy["lag_s"]) == ("aws:us-west-2", 0.7)
    [cache_copy] = world.one(Kind.CACHE, "sessions").attrs["copies"]
    assert (cache_copy["ref"], cache_copy["lag_s"]) == ("sessions-secondary", 0.2)


def test_global_accelerator_is_read_once_with_its_endpoints_resolved(world: World) -> None:
    acc = world.one(Kind.ROUTING, "web")
    assert acc.tags == SHOP and acc.attrs["mechanism"] == "global-accelerator"
    east, west = acc.attrs["targets"]
    assert [o["kind"] for o in east["origins"]] == ["alb"]
    [eip] = west["origins"]
    public = world.of(Kind.COMPUTE_INSTANCE, "us-west-2")
    ip = next(r.attrs["public_ip"] for r in public if r.native_id == world.ids["west"][0])  # type: ignore[index]
    assert (eip["kind"], eip["instance"], eip["address"]) == ("elastic-ip", world.ids["west"][0], ip)  # type: ignore[index]
    listed = [q for q in world.requests if q.operation == "ListAccelerators"]
    assert [q.region for q in listed] == ["us-west-2"]  # once per account, from the only API region


def test_inventory_only_reads(world: World) -> None:
    assert world.requests, "the request log recorded nothing"
    assert all(q.operation for q in world.requests), [q for q in world.requests if not q.operation]
    writes = sorted({q.operation for q in world.requests if not q.read_only})
    assert writes == []


def test_iam_policy_covers_exactly_the_calls_made(world: World) -> None:
    policy = json.loads(POLICY.read_text())
    allowed = {a for s in policy["Statement"] if s["Effect"] == "Allow" for a in s["Action"]}
    called = {q.iam_action for q in world.requests}
    assert called - allowed == set(), "the adapter calls actions the policy does not allow"
    assert allowed - called == set(), "the policy allows actions the adapter never calls"
    assert all(":" in a and "*" not in a for a in allowed)
