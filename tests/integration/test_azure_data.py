"""data.replica counts an Azure flexible server's geo-redundant backup as a copy, read through the Azure
adapter from the local ARM emulator: its lag is Azure's documented bound (the API reports no age),
labelled an estimate with its source."""

from __future__ import annotations

from typing import Any

import pytest

from failover.checks import run_checks
from failover.checks.data import GEO_BACKUP_SOURCE
from failover.model import FindingStatus
from failover.sandbox.azure import FakeArm
from tests import factories as f

SHOP = {"app": "shop"}


def _flexible_server(arm: FakeArm, native_type: str, geo: str) -> None:
    arm.add_subscription("sub-1")
    arm.add_resource_group("sub-1", "rg")
    arm.add_resource(
        "sub-1",
        "rg",
        native_type,
        "orders-db",
        location="eastus",
        tags=SHOP,
        properties={
            "version": "16",
            "state": "Ready",
            "replicationRole": "Primary",
            "backup": {"geoRedundantBackup": geo, "backupRetentionDays": 14},
        },
    )


def _judge(fake_arm: FakeArm, azure_account: Any, azure_adapter: Any, **targets: Any) -> Any:
    account = azure_account("sub-1")
    inv = azure_adapter.inventory(account)
    assert inv.complete, inv.incomplete
    sites = [
        f.site("east", "primary", account.name, "eastus", SHOP),
        f.site("west", "secondary", account.name, "westus", SHOP),
    ]
    accounts = [account.model_dump(mode="json", exclude_none=True)]
    [finding] = run_checks(f.live_evidence(accounts, [inv], sites, **targets), only={"data.replica"})
    return finding


@pytest.mark.parametrize(
    "native_type", ["Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.DBforMySQL/flexibleServers"]
)
def test_geo_redundant_backup_is_a_copy_an_hour_behind_by_azures_documented_bound(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any, native_type: str
) -> None:
    _flexible_server(fake_arm, native_type, "Enabled")
    finding = _judge(fake_arm, azure_account, azure_adapter, rpo="1h")
    assert (finding.check, finding.status) == ("data.replica", FindingStatus.PASS)
    assert finding.reason == (
        "database orders-db: geo-redundant backup to azure:paired region of eastus up to 60m behind (estimate)"
    )
    [estimate] = finding.evidence["estimates"]
    assert estimate["lag_s"] == 3600.0 and estimate["source"] == GEO_BACKUP_SOURCE
    assert "concepts-business-continuity" in estimate["source"]


def test_geo_redundant_backup_cannot_meet_a_tighter_rpo(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _flexible_server(fake_arm, "Microsoft.DBforPostgreSQL/flexibleServers", "Enabled")
    finding = _judge(fake_arm, azure_account, azure_adapter, rpo="5m")
    assert (finding.status, finding.reason) == (
        FindingStatus.FAIL,
        "database orders-db: geo-redundant backup to azure:paired region of eastus up to 60m behind (estimate; RPO 5m)",
    )


def test_locally_redundant_backup_is_no_copy(fake_arm: FakeArm, azure_account: Any, azure_adapter: Any) -> None:
    _flexible_server(fake_arm, "Microsoft.DBforPostgreSQL/flexibleServers", "Disabled")
    finding = _judge(fake_arm, azure_account, azure_adapter)
    assert (finding.status, finding.reason) == (
        FindingStatus.FAIL,
        "database orders-db has no replica outside azure:eastus",
    )
