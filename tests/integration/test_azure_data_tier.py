"""The Azure data tier read through the adapter from the local ARM emulator, and judged by
``failover.checks.run_checks`` on a workload whose primary site selects the store by tags.

Azure SQL: failover groups and geo-replication links (ARM reports no lag: a secondary in CATCH_UP, the
state Microsoft documents as "transactionally consistent and constantly synchronized", gets the
documented RPO of 5 s as an estimate; PENDING, SEEDING and SUSPENDED are no usable copy), and the
geo-backup's ``lastAvailableBackupDate``. Cosmos DB: each region with failover priority > 0. Storage:
the secondary region of a geo-redundant SKU, behind by ``geoReplicationStats.lastSyncTime``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from failover.checks import run_checks
from failover.model import Finding, FindingStatus, Inventory, Kind
from failover.sandbox.azure import FakeArm
from providers.azure.data import COSMOS_SOURCE, GEO_STORAGE_SKUS, SQL_GEO_REPLICATION_SOURCE
from tests import factories as f

SUB = "sub-1"
SHOP = {"app": "shop"}
DATA_CHECKS = {"data.replica", "data.bucket_replication"}


def _ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _read(azure_account: Any, azure_adapter: Any) -> tuple[Any, Inventory]:
    account = azure_account(SUB)
    return account, azure_adapter.inventory(account)


def _judge(
    account: Any, inv: Inventory, subject: str, *, data: list[dict[str, Any]] | None = None, **targets: Any
) -> list[Finding]:
    """The data findings about ``subject`` for a workload: primary eastus, secondary westus, by tags."""
    sites = [
        f.site("east", "primary", account.name, "eastus", SHOP),
        f.site("west", "secondary", account.name, "westus", SHOP),
    ]
    accounts = [account.model_dump(mode="json", exclude_none=True)]
    found = run_checks(f.live_evidence(accounts, [inv], sites, data=data, **targets), only=DATA_CHECKS)
    return [x for x in found if x.subject == subject]


def _store(inv: Inventory, name: str) -> Any:
    return next(r for r in inv.resources if r.name == name)


# -- Azure SQL ------------------------------------------------------------------------------------------
def _sql_pair(arm: FakeArm, *, state: str = "CATCH_UP", partner: bool = True, geo_backup: str | None = None) -> None:
    arm.add_subscription(SUB)
    arm.add_resource_group(SUB, "east", location="eastus")
    arm.add_resource_group(SUB, "west", location="westus")
    east = arm.add_sql_server(SUB, "east", "sql-east", location="eastus", tags=SHOP)
    db = arm.add_sql_database(
        SUB, "east", "sql-east", "orders", location="eastus", tags=SHOP, last_geo_backup=geo_backup
    )
    if not partner:
        return
    west = arm.add_sql_server(SUB, "west", "sql-west", location="westus", tags=SHOP)
    secondary = arm.add_sql_database(SUB, "west", "sql-west", "orders", location="westus", tags=SHOP)
    arm.add_failover_group(
        east["id"],
        "shop-fg",
        location="East US",
        partners=[(west["id"], "West US")],
        databases=[db["id"]],
        policy="Automatic",
        grace_minutes=60,
        state=state,
    )
    arm.add_failover_group(
        west["id"],
        "shop-fg",
        location="West US",
        partners=[(east["id"], "East US")],
        databases=[db["id"]],
        role="Secondary",
        policy="Automatic",
        grace_minutes=60,
        state=state,
    )
    arm.add_replication_link(
        db["id"],
        partner_server="sql-west",
        partner_location="West US",
        state=state,
        partner_database_id=secondary["id"],
    )
    arm.add_replication_link(
        secondary["id"],
        partner_server="sql-east",
        partner_location="East US",
        role="Secondary",
        state=state,
        partner_database_id=db["id"],
    )


def test_failover_group_secondary_in_another_region_is_a_copy_at_microsofts_documented_bound(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _sql_pair(fake_arm)
    account, inv = _read(azure_account, azure_adapter)
    assert inv.complete, inv.incomplete
    db = _store(inv, "sql-east/orders")
    west_db = "/subscriptions/sub-1/resourceGroups/west/providers/Microsoft.Sql/servers/sql-west/databases/orders"
    assert db.attrs["store_kind"] == "azure-sql" and db.attrs["replicas_unknown_reason"] is None
    assert db.attrs["copies"] == [
        {
            "where": "azure:westus",
            "ref": west_db,
            "mechanism": "failover-group",
            "healthy": True,
            "state": "CATCH_UP",
            "lag_s": 5.0,
            "lag_source": SQL_GEO_REPLICATION_SOURCE,
            "estimate": True,
        }
    ]
    assert (db.attrs["failover_policy"], db.attrs["grace_period_s"]) == ("Automatic", 3600)
    assert _store(inv, "sql-west/orders").attrs["replica_source"] == db.native_id
    [finding] = _judge(account, inv, "sql-east/orders", rpo="1m")
    assert finding.status == FindingStatus.PASS, finding.reason
    assert "azure:westus" in finding.reason


def test_sql_database_without_a_partner_has_no_copy(fake_arm: FakeArm, azure_account: Any, azure_adapter: Any) -> None:
    _sql_pair(fake_arm, partner=False)
    account, inv = _read(azure_account, azure_adapter)
    assert inv.complete and _store(inv, "sql-east/orders").attrs["copies"] == []
    [finding] = _judge(account, inv, "sql-east/orders")
    assert (finding.status, finding.reason) == (
        FindingStatus.FAIL,
        "database sql-east/orders has no replica outside azure:eastus",
    )


@pytest.mark.parametrize("state", ["PENDING", "SEEDING", "SUSPENDED"])
def test_a_secondary_that_is_not_caught_up_is_no_copy(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any, state: str
) -> None:
    _sql_pair(fake_arm, state=state)
    account, inv = _read(azure_account, azure_adapter)
    [copy] = _store(inv, "sql-east/orders").attrs["copies"]
    assert (copy["healthy"], copy["state"], copy["lag_s"], copy["estimate"]) == (False, state, None, False)
    [finding] = _judge(account, inv, "sql-east/orders")
    assert finding.status == FindingStatus.FAIL, finding.reason
    assert state in finding.reason


def test_sql_reads_denied_leave_the_database_unknown(fake_arm: FakeArm, azure_account: Any, azure_adapter: Any) -> None:
    _sql_pair(fake_arm)
    for route in ("sql_failover_groups", "sql_replication_links", "sql_recoverable_databases"):
        fake_arm.fail(403, collection=route)
    account, inv = _read(azure_account, azure_adapter)
    assert {e.scope: e.error for e in inv.incomplete} == {
        f"subscriptions/{SUB}/{what}": "access_denied"
        for what in ("failoverGroups", "replicationLinks", "recoverableDatabases")
    }
    db = _store(inv, "sql-east/orders")
    assert db.attrs["copies"] == [] and "could not be read" in db.attrs["replicas_unknown_reason"]
    [finding] = _judge(account, inv, "sql-east/orders")
    assert finding.status == FindingStatus.UNKNOWN, finding.reason


def test_geo_backup_is_a_copy_as_old_as_its_last_available_backup(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _sql_pair(fake_arm, partner=False, geo_backup=_ago(7200))
    _, inv = _read(azure_account, azure_adapter)
    [copy] = _store(inv, "sql-east/orders").attrs["copies"]
    assert (copy["mechanism"], copy["where"], copy["estimate"], copy["healthy"]) == (
        "geo-backup",
        "azure:paired region of eastus",
        False,
        True,
    )
    assert 7200 <= copy["lag_s"] < 7200 + 3600  # measured from lastAvailableBackupDate, not a bound


def test_geo_backup_older_than_the_rpo_fails(fake_arm: FakeArm, azure_account: Any, azure_adapter: Any) -> None:
    _sql_pair(fake_arm, partner=False, geo_backup=_ago(7200))
    account, inv = _read(azure_account, azure_adapter)
    [finding] = _judge(account, inv, "sql-east/orders", rpo="1h")
    assert finding.status == FindingStatus.FAIL, finding.reason
    assert "geo-backup azure:paired region of eastus" in finding.reason and "(RPO 60m)" in finding.reason


def test_failover_group_bound_tighter_than_the_rpo_allows_fails(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    # Microsoft documents 5 s for geo-replication: an RPO under that is not met by the estimate.
    _sql_pair(fake_arm)
    account, inv = _read(azure_account, azure_adapter)
    [finding] = _judge(account, inv, "sql-east/orders", rpo="2s")
    assert finding.status == FindingStatus.FAIL, finding.reason
    assert "up to 5s behind (estimate) (RPO 2s)" in finding.reason


# -- Cosmos DB ---------------------------------------------------------------------------------------
def _cosmos(arm: FakeArm, locations: list[tuple[str, int]], **kw: Any) -> None:
    arm.add_subscription(SUB)
    arm.add_resource_group(SUB, "east", location="eastus")
    arm.add_cosmos_account(SUB, "east", "carts", locations=locations, tags=SHOP, **kw)


def test_cosmos_second_region_is_a_copy_at_the_consistency_levels_bound(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _cosmos(fake_arm, [("East US", 0), ("West US", 1)], consistency="Session")
    _, inv = _read(azure_account, azure_adapter)
    assert inv.complete, inv.incomplete
    carts = _store(inv, "carts")
    assert carts.kind == Kind.DB_TABLE and carts.attrs["store_kind"] == "cosmosdb"
    assert (carts.attrs["automatic_failover"], carts.attrs["multi_region_writes"]) == (True, False)
    assert carts.attrs["copies"] == [
        {
            "where": "azure:westus",
            "ref": "carts-westus",
            "mechanism": "geo-replication",
            "healthy": True,
            "state": "Succeeded",
            "lag_s": 900.0,
            "lag_source": COSMOS_SOURCE,
            "estimate": True,
        }
    ]


@pytest.mark.parametrize(("level", "bound"), [("Strong", 0.0), ("BoundedStaleness", 300.0), ("Eventual", 900.0)])
def test_cosmos_bound_follows_the_consistency_level(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any, level: str, bound: float
) -> None:
    _cosmos(fake_arm, [("East US", 0), ("West US", 1)], consistency=level, max_interval_s=300)
    _, inv = _read(azure_account, azure_adapter)
    assert [c["lag_s"] for c in _store(inv, "carts").attrs["copies"]] == [bound]


def test_cosmos_with_a_second_region_passes(fake_arm: FakeArm, azure_account: Any, azure_adapter: Any) -> None:
    _cosmos(fake_arm, [("East US", 0), ("West US", 1)])
    account, inv = _read(azure_account, azure_adapter)
    statuses = {x.status for x in _judge(account, inv, "carts", rpo="1h")}
    assert statuses == {FindingStatus.PASS}


def test_cosmos_region_whose_documented_bound_exceeds_the_rpo_fails(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _cosmos(fake_arm, [("East US", 0), ("West US", 1)], consistency="Eventual")
    account, inv = _read(azure_account, azure_adapter)
    [finding] = _judge(account, inv, "carts", rpo="5m")
    assert finding.status == FindingStatus.FAIL, finding.reason
    assert "up to 15m behind (estimate) (RPO 5m)" in finding.reason
    assert [e["source"] for e in finding.evidence["estimates"]] == [COSMOS_SOURCE]


def test_cosmos_in_one_region_fails(fake_arm: FakeArm, azure_account: Any, azure_adapter: Any) -> None:
    _cosmos(fake_arm, [("East US", 0)])
    account, inv = _read(azure_account, azure_adapter)
    assert _store(inv, "carts").attrs["copies"] == []
    assert FindingStatus.FAIL in {x.status for x in _judge(account, inv, "carts")}


def test_cosmos_list_denied_leaves_the_account_unknown(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _cosmos(fake_arm, [("East US", 0), ("West US", 1)])
    fake_arm.fail(403, collection="cosmos_accounts")
    _, inv = _read(azure_account, azure_adapter)
    assert {e.scope: e.error for e in inv.incomplete} == {f"subscriptions/{SUB}/databaseAccounts": "access_denied"}
    carts = _store(inv, "carts")
    assert carts.attrs["copies"] == [] and "could not be read" in carts.attrs["replicas_unknown_reason"]
    [finding] = _judge(azure_account(SUB), inv, "carts")
    assert finding.status == FindingStatus.UNKNOWN, finding.reason


# -- storage accounts --------------------------------------------------------------------------------
def _storage(arm: FakeArm, **kw: Any) -> None:
    arm.add_subscription(SUB)
    arm.add_resource_group(SUB, "east", location="eastus")
    arm.add_storage_account(SUB, "east", "assets", location="eastus", secondary_location="westus", tags=SHOP, **kw)


def test_every_geo_redundant_sku_the_sdk_lists_is_geo_redundant() -> None:
    from azure.mgmt.storage.models import SkuName

    geo = {s.value.lower() for s in SkuName if s.value.upper().endswith(("GRS", "GZRS"))}
    assert geo == GEO_STORAGE_SKUS and {"standardv2_grs", "standardv2_gzrs"} <= geo


def test_geo_redundant_storage_synced_within_the_rpo_passes(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _storage(fake_arm, sku="StandardV2_GZRS", last_sync_time=_ago(60))
    account, inv = _read(azure_account, azure_adapter)
    assert inv.complete, inv.incomplete
    assets = _store(inv, "assets")
    assert (assets.attrs["store_kind"], assets.attrs["geo_redundant"], assets.attrs["replication"]) == (
        "azure-storage",
        True,
        "GZRS",
    )
    [copy] = assets.attrs["copies"]
    assert (copy["where"], copy["mechanism"], copy["healthy"], copy["state"], copy["estimate"]) == (
        "azure:westus",
        "geo-redundant",
        True,
        "Live",
        False,
    )
    assert 60 <= copy["lag_s"] < 60 + 3600
    assert {x.status for x in _judge(account, inv, "assets", rpo="1h")} == {FindingStatus.PASS}


def test_geo_redundant_storage_synced_past_the_rpo_fails(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _storage(fake_arm, sku="Standard_RAGRS", last_sync_time=_ago(3 * 3600))
    account, inv = _read(azure_account, azure_adapter)
    assert FindingStatus.FAIL in {x.status for x in _judge(account, inv, "assets", rpo="1h")}


def test_geo_redundant_storage_without_stats_is_unknown(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _storage(fake_arm, sku="Standard_GRS", geo_status=None)
    account, inv = _read(azure_account, azure_adapter)
    [copy] = _store(inv, "assets").attrs["copies"]
    assert (copy["lag_s"], copy["healthy"]) == (None, None)
    statuses = {x.status for x in _judge(account, inv, "assets")}
    assert FindingStatus.UNKNOWN in statuses and FindingStatus.PASS not in statuses


def test_storage_stats_read_denied_is_an_incomplete_scope_and_an_unknown_lag(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _storage(fake_arm, sku="Standard_GRS")
    fake_arm.fail(403, collection="storage_account")
    _, inv = _read(azure_account, azure_adapter)
    [error] = inv.incomplete
    assert error.scope.endswith("/storageAccounts/assets/geoReplicationStats") and error.error == "access_denied"
    [copy] = _store(inv, "assets").attrs["copies"]
    assert copy["lag_s"] is None


def test_locally_redundant_storage_has_no_copy_and_needs_no_extra_read(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _storage(fake_arm, sku="Standard_ZRS")
    _, inv = _read(azure_account, azure_adapter)
    assert _store(inv, "assets").attrs["copies"] == []
    assert not [q for q in fake_arm.requests if q.collection == "storage_account"]


# -- flexible servers and the read-only proof --------------------------------------------------------
@pytest.mark.parametrize(
    ("native_type", "store_kind"),
    [
        ("Microsoft.DBforPostgreSQL/flexibleServers", "postgres-flexible"),
        ("Microsoft.DBforMySQL/flexibleServers", "mysql-flexible"),
    ],
)
def test_flexible_servers_carry_their_store_kind(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any, native_type: str, store_kind: str
) -> None:
    fake_arm.add_subscription(SUB)
    fake_arm.add_resource_group(SUB, "east")
    fake_arm.add_resource(SUB, "east", native_type, "db", properties={"version": "16", "state": "Ready"})
    _, inv = _read(azure_account, azure_adapter)
    assert _store(inv, "db").attrs["store_kind"] == store_kind


def test_data_tier_reads_are_gets_one_listing_per_server_or_subscription(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any
) -> None:
    _sql_pair(fake_arm)
    fake_arm.add_cosmos_account(SUB, "east", "carts", locations=[("East US", 0)])
    fake_arm.add_cosmos_account(SUB, "east", "sessions", locations=[("East US", 0), ("West US", 1)])
    fake_arm.add_storage_account(SUB, "east", "assets", sku="Standard_GRS")
    fake_arm.add_storage_account(SUB, "east", "logs", sku="Standard_LRS")
    _, inv = _read(azure_account, azure_adapter)
    assert inv.complete, inv.incomplete
    assert {q.method for q in fake_arm.requests} == {"GET"}
    counts: dict[str, int] = {}
    for q in fake_arm.requests:
        counts[q.collection or ""] = counts.get(q.collection or "", 0) + 1
    # two SQL servers: three listings each; one Cosmos listing for the subscription; one GRS account read
    assert (counts["sql_failover_groups"], counts["sql_replication_links"], counts["sql_recoverable_databases"]) == (
        2,
        2,
        2,
    )
    assert (counts["cosmos_accounts"], counts["storage_account"]) == (1, 1)
    expand = [q.query.get("$expand") for q in fake_arm.requests if q.collection == "storage_account"]
    assert expand == ["geoReplicationStats"]


# -- declared but not found ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "noun", "check"),
    [
        ("azure-sql", "db.instance", "data.replica"),
        ("cosmosdb", "db.table", "data.replica"),
        ("azure-storage", "storage.bucket", "data.bucket_replication"),
    ],
)
def test_declared_store_not_in_the_inventory_is_unknown(
    fake_arm: FakeArm, azure_account: Any, azure_adapter: Any, kind: str, noun: str, check: str
) -> None:
    # The subscription holds a replicated database, account and storage account, but not the declared one.
    _sql_pair(fake_arm)
    fake_arm.add_cosmos_account(SUB, "east", "carts", locations=[("East US", 0), ("West US", 1)], tags=SHOP)
    fake_arm.add_storage_account(SUB, "east", "assets", location="eastus", tags=SHOP)
    account, inv = _read(azure_account, azure_adapter)
    findings = _judge(account, inv, "ledger", data=[{"name": "ledger", "kind": kind}])
    assert [(x.check, x.status) for x in findings] == [(check, FindingStatus.UNKNOWN)]
    assert findings[0].reason == (
        f"data store ledger ({kind}) not found in account {account.name} (azure) eastus, {noun} of kind {kind}, "
        "ids ledger"
    )
