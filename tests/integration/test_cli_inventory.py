"""``failover inventory`` end to end: config file → local AWS (moto) → store → JSON/table output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from failover.cli import cli
from failover.sandbox.aws import AwsSandbox, seed_auto_scaling_group, seed_instances, seed_rds_with_replica
from failover.store import Store

SHOP = {"app": "shop"}


def write_config(tmp_path: Path, sandbox: AwsSandbox) -> Path:
    path = tmp_path / "failover.yaml"
    path.write_text(
        f"""
database: sqlite:///{tmp_path / "failover.db"}
accounts:
  - name: aws-local
    provider: aws
    regions: [us-east-1, us-west-2]
    endpoint_url: {sandbox.endpoint}
    credentials: anonymous
workloads:
  - name: shop
    owners: [shop-team@example.com]
    sites:
      - name: east
        role: primary
        account: aws-local
        regions: [us-east-1]
        select: {{tags: {{app: shop}}}}
      - name: west
        role: secondary
        account: aws-local
        regions: [us-west-2]
        select: {{tags: {{app: shop}}}}
"""
    )
    return path


@pytest.fixture
def shop(aws_sandbox: AwsSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.delenv("FAILOVER_DATABASE_URL", raising=False)
    monkeypatch.delenv("FAILOVER_CONFIG", raising=False)
    east = seed_instances(aws_sandbox, "us-east-1", count=2, instance_type="m5.large", tags={**SHOP, "Name": "web"})
    other = seed_instances(aws_sandbox, "us-east-1", count=1, tags={"app": "other"})
    seed_auto_scaling_group(aws_sandbox, "us-west-2", "web-dr", desired=1, instance_type="t3.small", tags=SHOP)
    seed_rds_with_replica(aws_sandbox, "us-east-1", "us-west-2", "orders", tags=SHOP)
    return {"config": write_config(tmp_path, aws_sandbox), "east": east, "other": other, "db": tmp_path / "failover.db"}


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["inventory", *args], catch_exceptions=False)


def test_inventory_json_lists_seeded_resources_with_kinds_capacity_tags_and_sites(shop: dict[str, Any]) -> None:
    result = run("-c", str(shop["config"]), "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    by_id = {r["native_id"]: r for r in rows}
    web = by_id[shop["east"][0]]
    assert (web["kind"], web["native_type"], web["region"]) == ("compute.instance", "m5.large", "us-east-1")
    assert web["capacity"] == {"vcpu": 2.0, "memory_mib": 8192, "instances": None}
    assert web["tags"] == {"app": "shop", "Name": "web"}
    assert (web["workload"], web["site"]) == ("shop", "east")
    assert web["assignments"] == [{"workload": "shop", "site": "east", "role": "primary"}]
    asg = by_id["web-dr"]
    assert asg["kind"] == "compute.group" and asg["capacity"]["instances"] == 1 and asg["site"] == "west"
    replica = by_id["orders-replica"]
    assert replica["kind"] == "db.instance" and replica["site"] == "west"
    assert replica["attrs"]["replica_source_region"] == "us-east-1"
    stray = by_id[shop["other"][0]]
    assert stray["workload"] is None and stray["site"] is None and stray["assignments"] == []
    for key in ("provider", "account", "region", "zone", "kind", "native_type", "native_id", "name", "state", "attrs"):
        assert key in web
    assert result.stderr == ""


def test_inventory_is_stored_as_a_run_with_one_snapshot_per_account(shop: dict[str, Any]) -> None:
    result = run("-c", str(shop["config"]), "--format", "json")
    assert result.exit_code == 0, result.stderr
    with Store.open(f"sqlite:///{shop['db']}") as store:
        [inv] = store.latest_inventory()
        assert inv.account == "aws-local" and inv.complete
        assert {r.native_id for r in inv.resources} == {r["native_id"] for r in json.loads(result.stdout)}


def test_incomplete_inventory_exits_1_warns_on_stderr_and_still_shows_the_rest(
    shop: dict[str, Any], aws_sandbox: AwsSandbox
) -> None:
    aws_sandbox.inject("access_denied", region="us-west-2", service="rds")
    result = run("-c", str(shop["config"]))
    assert result.exit_code == 1
    assert "warning: inventory of aws-local incomplete at us-west-2/rds (access_denied)" in result.stderr
    assert "shop / east (primary, aws-local)" in result.stdout
    assert "unassigned" in result.stdout
    assert "aws-local (aws):" in result.stdout and "1 scopes incomplete: us-west-2/rds access_denied" in result.stdout
    as_json = run("-c", str(shop["config"]), "--format", "json", "--no-store")
    assert as_json.exit_code == 1
    names = {r["name"] for r in json.loads(as_json.stdout)}
    assert "orders" in names and "orders-replica" not in names


def test_unknown_account_is_a_config_error(shop: dict[str, Any]) -> None:
    result = run("-c", str(shop["config"]), "--account", "nope")
    assert result.exit_code == 2
    assert "unknown account 'nope' (known: aws-local)" in result.stderr
