"""GCP data tier end to end: the real adapter reads Cloud SQL, Cloud Monitoring and Cloud Storage from
the emulator (shaped like the real APIs) and the public checks judge the result.

The workload's primary site is project acme in us-central1, selecting its stores by the label
app=ledger; the secondary is the same project in us-east1. RPO 15 minutes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from failover.attrs import attrs_of
from failover.checks import run_checks
from failover.model import FindingStatus, Inventory, Kind
from failover.sandbox.gcp import FakeGcp
from failover.schema import Account, Config
from providers.gcp import GcpAdapter
from tests import factories as f

PASS, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.UNKNOWN
P = "acme"
LEDGER = {"app": "ledger"}
LAG = "cloudsql.googleapis.com/database/replication/replica_lag"


def config(rpo: str = "15m", data: list[dict[str, Any]] | None = None) -> Config:
    site = {"account": "gcp", "select": {"tags": LEDGER}, "endpoints": [{"url": "https://ledger.example.net/h"}]}
    return Config.model_validate(
        {
            "accounts": [{"name": "gcp", "provider": "gcp", "project": P}],
            "workloads": [
                {
                    "name": "ledger",
                    "owners": ["ledger@example.com"],
                    "tier": 1,
                    "targets": {"rto": "15m", "rpo": rpo, "capacity_ratio": 1.0, "max_dns_ttl": "60s"},
                    "dns": {"name": "ledger.example.com", "mechanism": "route53-failover"},
                    "sites": [
                        {**site, "name": "central", "role": "primary", "regions": ["us-central1"]},
                        {**site, "name": "east", "role": "secondary", "regions": ["us-east1"]},
                    ],
                    "data": data or [],
                }
            ],
        }
    )


def inventory(fake: FakeGcp) -> Inventory:
    account = Account(name="gcp", provider="gcp", project=P, endpoint=fake.url, credentials="anonymous")
    return GcpAdapter(base_delay=0.01).inventory(account)


def judge(
    fake: FakeGcp, check: str, rpo: str = "15m", data: list[dict[str, Any]] | None = None
) -> tuple[list[FindingStatus], str, list[Any]]:
    inv = dataclasses.replace(inventory(fake), finished_at=f.NOW)
    findings = run_checks(f.evidence(config(rpo, data), inventories={"gcp": inv}), only={check})
    estimates = [e for x in findings for e in x.evidence.get("estimates", [])]
    return [x.status for x in findings], " | ".join(x.reason for x in findings), estimates


def primary_with_replica(fake: FakeGcp, *, replica_region: str = "us-east1", **replica: Any) -> None:
    fake.add_region(P, "us-central1")
    fake.add_sql_instance(P, "ledger-db", region="us-central1", labels=LEDGER)
    fake.add_sql_instance(P, "ledger-dr", region=replica_region, master="ledger-db", dr_replica=True, **replica)


def test_cloudsql_replica_in_another_region_within_the_rpo_passes(gcp_fake: FakeGcp) -> None:
    primary_with_replica(gcp_fake)
    gcp_fake.add_replica_lag(P, "ledger-dr", [400, 12])
    assert judge(gcp_fake, "data.replica")[:2] == (
        [PASS],
        "database ledger-db: replica gcp:us-east1 ledger-dr 12s behind",
    )


def test_cloudsql_primary_without_a_replica_fails(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_sql_instance(P, "ledger-db", region="us-central1", labels=LEDGER)
    gcp_fake.add_sql_instance(P, "ledger-read", region="us-central1", master="ledger-db")  # same region: no copy
    statuses, reason, _ = judge(gcp_fake, "data.replica")
    assert statuses == [FAIL]
    assert reason == "database ledger-db has no replica outside gcp:us-central1"


def test_cloudsql_replica_lagging_past_the_rpo_fails(gcp_fake: FakeGcp) -> None:
    primary_with_replica(gcp_fake)
    gcp_fake.add_replica_lag(P, "ledger-dr", [5, 1800])  # the newest point counts
    statuses, reason, _ = judge(gcp_fake, "data.replica")
    assert statuses == [FAIL]
    assert "replica gcp:us-east1 ledger-dr is 30m behind (RPO 15m)" in reason


def test_cloudsql_replica_without_a_lag_point_is_unknown_not_healthy(gcp_fake: FakeGcp) -> None:
    primary_with_replica(gcp_fake)
    statuses, reason, _ = judge(gcp_fake, "data.replica")
    assert statuses == [UNKNOWN]
    assert f"replica gcp:us-east1 ledger-dr lag unknown (no recent {LAG} datapoint)" in reason


def test_cloudsql_lag_unreadable_is_unknown_and_the_scope_incomplete(gcp_fake: FakeGcp) -> None:
    primary_with_replica(gcp_fake)
    gcp_fake.add_replica_lag(P, "ledger-dr", [3])
    gcp_fake.fail(403, collection="timeSeries", message="Permission monitoring.timeSeries.list denied")
    inv = inventory(gcp_fake)
    assert {(e.scope, e.error) for e in inv.incomplete} == {("acme/monitoring", "access_denied")}
    statuses, reason, _ = judge(gcp_fake, "data.replica")
    assert statuses == [UNKNOWN]
    assert "ledger-dr lag unknown" in reason


def test_cloudsql_replica_not_runnable_fails(gcp_fake: FakeGcp) -> None:
    primary_with_replica(gcp_fake, state="FAILED")
    gcp_fake.add_replica_lag(P, "ledger-dr", [1])
    statuses, reason, _ = judge(gcp_fake, "data.replica")
    assert statuses == [FAIL]
    assert "replica gcp:us-east1 ledger-dr is FAILED" in reason


def test_stopped_replica_and_stopped_replication_fail(gcp_fake: FakeGcp) -> None:
    primary_with_replica(gcp_fake, activation_policy="NEVER")
    gcp_fake.add_replica_lag(P, "ledger-dr", [1])
    assert "ledger-dr is STOPPED" in judge(gcp_fake, "data.replica")[1]
    with FakeGcp() as other:
        primary_with_replica(other, replication_enabled=False)
        other.add_replica_lag(P, "ledger-dr", [1])
        statuses, reason, _ = judge(other, "data.replica")
        assert statuses == [FAIL]
        assert "replication stopped: settings.databaseReplicationEnabled is false" in reason


def test_replica_of_an_external_primary_is_judged_by_its_lag(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_sql_instance(
        P,
        "onprem-src",
        region="us-central1",
        database_version="MYSQL_8_0",
        external_host="203.0.113.7:3306",
        labels=LEDGER,
    )
    gcp_fake.add_sql_instance(P, "onprem-copy", region="us-east1", database_version="MYSQL_8_0", master="onprem-src")
    gcp_fake.add_replica_lag(P, "onprem-copy", [2400])
    statuses, reason, _ = judge(gcp_fake, "data.replica")
    assert statuses == [FAIL]
    assert reason == "database onprem-src: replica gcp:us-east1 onprem-copy is 40m behind (RPO 15m)"
    src = next(r for r in inventory(gcp_fake).resources if r.name == "onprem-src")
    assert attrs_of(src, Kind.DB_INSTANCE)["instance_type"] == "ON_PREMISES_INSTANCE"
    assert attrs_of(src, Kind.DB_INSTANCE)["external_host"] == "203.0.113.7:3306"


def test_postgres_replica_records_byte_lag_beside_the_judged_apply_lag(gcp_fake: FakeGcp) -> None:
    primary_with_replica(gcp_fake)
    gcp_fake.add_replica_lag(P, "ledger-dr", [7])
    gcp_fake.add_replica_byte_lag(P, "ledger-db", "ledger-dr", [4096], lag_type="sent_location")
    gcp_fake.add_replica_byte_lag(P, "ledger-db", "ledger-dr", [1 << 20], lag_type="replay_location")
    dbs = {r.name: attrs_of(r, Kind.DB_INSTANCE) for r in inventory(gcp_fake).resources if r.kind == "db.instance"}
    replica = dbs["ledger-dr"]
    assert (replica["replica_lag_s"], replica["replica_byte_lag"], replica["replica_lag_metric"]) == (
        7.0,
        1048576.0,
        LAG,
    )
    assert (replica["store_kind"], replica["replica_source"], replica["dr_replica"]) == (
        "cloudsql",
        "acme:ledger-db",
        True,
    )
    assert (dbs["ledger-db"]["replica_names"], dbs["ledger-db"]["failover_dr_replica"]) == (["ledger-dr"], "ledger-dr")
    # one timeSeries.list per metric for the whole project, not one per replica
    assert len([r for r in gcp_fake.requests if r.path.endswith("/timeSeries")]) == 2


def test_unreachable_cloudsql_region_is_an_incomplete_scope(gcp_fake: FakeGcp) -> None:
    primary_with_replica(gcp_fake)
    gcp_fake.set_sql_region_unreachable(P, "us-east1")
    inv = inventory(gcp_fake)
    assert [(e.scope, e.error) for e in inv.incomplete] == [("acme/us-east1/sqlInstances", "unreachable")]
    assert "ledger-dr" not in {r.name for r in inv.resources}


def test_gcs_turbo_dual_region_within_the_rpo_passes_with_the_estimate_labelled(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_bucket(
        P,
        "ledger-docs",
        location="US",
        location_type="dual-region",
        rpo="ASYNC_TURBO",
        data_locations=["US-CENTRAL1", "US-EAST1"],
        labels=LEDGER,
    )
    statuses, reason, estimates = judge(gcp_fake, "data.bucket_replication")
    assert statuses == [PASS]
    assert reason == "bucket ledger-docs: dual-region gcp:us-east1 up to 15m behind (estimate)"
    assert estimates and estimates[0]["lag_s"] == 900.0
    assert "cloud.google.com/storage/docs/availability-durability" in estimates[0]["source"]


def test_gcs_default_replication_bound_past_the_rpo_fails(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_bucket(P, "ledger-docs", location="NAM4", location_type="dual-region", labels=LEDGER)
    statuses, reason, estimates = judge(gcp_fake, "data.bucket_replication")
    assert statuses == [FAIL]
    assert reason == "bucket ledger-docs: dual-region gcp:us-east1 is up to 12h00m behind (estimate) (RPO 15m)"
    assert estimates[0]["lag_s"] == 43200.0
    assert judge(gcp_fake, "data.bucket_replication", rpo="24h")[0] == [PASS]


def test_gcs_single_region_bucket_fails(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_bucket(P, "ledger-docs", location="US-CENTRAL1", location_type="region", labels=LEDGER)
    statuses, reason, _ = judge(gcp_fake, "data.bucket_replication")
    assert statuses == [FAIL]
    assert reason == "bucket ledger-docs exists only in gcp:us-central1"


def test_gcs_multi_region_bucket_is_one_copy_elsewhere_in_the_multi_region(gcp_fake: FakeGcp) -> None:
    b = gcp_fake.add_bucket(P, "ledger-docs", location="US", location_type="multi-region", labels=LEDGER)
    assert b["rpo"] == "DEFAULT"
    statuses, reason, _ = judge(gcp_fake, "data.bucket_replication", rpo="12h")
    assert statuses == [PASS]
    assert reason == "bucket ledger-docs: multi-region gcp:us up to 12h00m behind (estimate)"


def test_unreachable_bucket_is_an_incomplete_scope(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_bucket(P, "fine", location="US-EAST1", location_type="region")
    gcp_fake.add_bucket(P, "hidden", location="US-EAST1", location_type="region")
    gcp_fake.set_bucket_unreachable(P, "hidden")
    inv = inventory(gcp_fake)
    assert [(e.scope, e.error) for e in inv.incomplete] == [("acme/buckets/hidden", "unreachable")]
    assert {r.name for r in inv.resources if r.kind == "storage.bucket"} == {"fine"}


def test_declared_cloudsql_instance_not_in_the_inventory_is_unknown(gcp_fake: FakeGcp) -> None:
    primary_with_replica(gcp_fake)
    gcp_fake.add_replica_lag(P, "ledger-dr", [3])
    statuses, reason, _ = judge(gcp_fake, "data.replica", data=[{"name": "billing-db", "kind": "cloudsql"}])
    # the undeclared ledger-db (found by the primary's labels) is still judged, and passes
    assert sorted(statuses) == sorted([UNKNOWN, PASS])
    assert (
        "data store billing-db (cloudsql) not found in account gcp (gcp) us-central1, db.instance of kind cloudsql, "
        "ids billing-db" in reason
    )


def test_declared_bucket_not_in_the_inventory_is_unknown(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_bucket(P, "ledger-docs", location="NAM4", location_type="dual-region", rpo="ASYNC_TURBO")
    statuses, reason, _ = judge(gcp_fake, "data.bucket_replication", data=[{"name": "ledger-archive", "kind": "gcs"}])
    assert statuses == [UNKNOWN]
    assert reason == (
        "data store ledger-archive (gcs) not found in account gcp (gcp) us-central1, storage.bucket of kind gcs, "
        "ids ledger-archive"
    )


def test_declared_bucket_the_listing_could_not_read_is_unknown_with_the_gap(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_bucket(P, "ledger-docs", location="NAM4", location_type="dual-region")
    gcp_fake.set_bucket_unreachable(P, "ledger-docs")
    statuses, reason, _ = judge(gcp_fake, "data.bucket_replication", data=[{"name": "ledger-docs", "kind": "gcs"}])
    assert statuses == [UNKNOWN]
    assert "data store ledger-docs (gcs) not found" in reason
    assert "; inventory incomplete: " in reason and "acme/buckets/ledger-docs" in reason
