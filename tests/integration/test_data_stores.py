"""Declared data stores (``workloads[].data``): found or unknown with where they were looked for, judged
by their own RPO and copy target, ``skip`` when a workload has none, and their failover mechanics in
the RTO. Inventories are shaped like the provider readers' output (failover/attrs.py DataCopy)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from failover.checks import run_checks
from failover.cli import cli
from failover.config import config_from_text
from failover.data_failover import store_failover
from failover.errors import ConfigError
from failover.model import Finding, FindingStatus, Inventory, Kind, Resource
from failover.schema import ScoringConfig
from failover.scoring import estimate_rto, score
from failover.store import Store
from tests import factories as f

PASS, FAIL, UNKNOWN, SKIP = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.UNKNOWN, FindingStatus.SKIP


def _copy(where: str, **kw: Any) -> dict[str, Any]:
    """One DataCopy as a provider reader reports it."""
    base = {
        "where": where,
        "ref": None,
        "mechanism": "global-table",
        "healthy": True,
        "state": "ACTIVE",
        "lag_s": 1.5,
        "lag_source": "ReplicationLatency",
        "estimate": False,
    }
    return {**base, **kw}


def _table(
    name: str = "orders", copies: list[dict[str, Any]] | None = None, tags: dict[str, str] | None = None
) -> Resource:
    """A DynamoDB table in the primary region, not tagged for the site (found only by declaration)."""
    return f.aws(
        Kind.DB_TABLE,
        name,
        state="ACTIVE",
        tags={} if tags is None else tags,
        attrs={"store_kind": "dynamodb", "arn": f"arn:aws:dynamodb:us-east-1:1:table/{name}", "copies": copies or []},
    )


def _with(invs: dict[str, Inventory], account: str, *resources: Resource) -> dict[str, Inventory]:
    inv = invs[account]
    return {**invs, account: dataclasses.replace(inv, resources=[*inv.resources, *resources])}


def _data(ev_data: list[dict[str, Any]], invs: dict[str, Inventory]) -> list[Finding]:
    ev = f.evidence(cfg=f.config(data=ev_data), inventories=invs)
    return run_checks(ev, only={"data.replica", "data.bucket_replication"})


def _one(findings: list[Finding], subject: str) -> Finding:
    [found] = [x for x in findings if x.subject == subject]
    return found


def test_declared_table_with_a_replica_in_another_region_passes():
    invs = _with(f.ready_inventory(), "aws-prod", _table(copies=[_copy("aws:us-west-2")]))
    found = _one(_data([{"name": "orders", "kind": "dynamodb"}], invs), "orders")
    assert (found.status, found.reason) == (PASS, "table orders: global-table aws:us-west-2 2s behind")
    assert found.evidence["declared"] is True and found.evidence["store_kind"] == "dynamodb"


def test_declared_store_matches_its_provider_id():
    invs = _with(f.ready_inventory(), "aws-prod", _table(name="t-1", copies=[_copy("aws:us-west-2")]))
    data = [{"name": "orders", "kind": "dynamodb", "select": {"ids": ["arn:aws:dynamodb:us-east-1:1:table/t-1"]}}]
    assert _one(_data(data, invs), "orders").status == PASS


def test_declared_store_not_in_the_inventory_is_unknown_with_where_it_was_looked_for():
    found = _one(_data([{"name": "orders", "kind": "dynamodb"}], f.ready_inventory()), "orders")
    assert found.status == UNKNOWN
    assert found.reason == (
        "data store orders (dynamodb) not found in account aws-prod (aws) us-east-1, "
        "db.table of kind dynamodb, ids orders"
    )
    assert found.evidence["looked_in"].startswith("account aws-prod")


def test_declared_store_of_another_kind_with_the_same_name_is_not_found():
    invs = _with(f.ready_inventory(), "aws-prod", _table(name="orders"))
    assert _one(_data([{"name": "orders", "kind": "rds"}], invs), "orders").status == UNKNOWN


def test_workload_without_data_stores_skips_data_replica_and_is_not_scored():
    invs = f.drop_resources(f.ready_inventory(), lambda r: r.kind in (Kind.DB_INSTANCE, Kind.STORAGE_BUCKET))
    ev = f.evidence(inventories=invs)
    findings = run_checks(ev)
    [skip] = [x for x in findings if x.check == "data.replica"]
    assert (skip.status, skip.reason) == (SKIP, "no data stores declared or found")
    scored = score(ev, findings)
    without = score(ev, [x for x in findings if x is not skip])
    assert (scored.readiness, scored.status) == (without.readiness, without.status)
    assert scored.details["counts"]["skip"] == 1
    assert all(r.check != "data.replica" for r in scored.reasons)


def test_skip_is_stored_and_shown_by_explain(tmp_path: Path):
    db = tmp_path / "f.db"
    store = Store.open(f"sqlite:///{db}")
    run = store.start_run("check")
    store.save_findings(run, [Finding("data.replica", "checkout", SKIP, "no data stores declared or found", "data")])
    store.close()
    config = tmp_path / "failover.yaml"
    config.write_text(f"database: sqlite:///{db}\n")
    result = CliRunner().invoke(cli, ["explain", "checkout", "-c", str(config), "--format", "json"])
    assert result.exit_code == 0, result.output
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["status"], finding["reason"]) == ("skip", "no data stores declared or found")
    text = CliRunner().invoke(cli, ["explain", "checkout", "-c", str(config)])
    assert "skip data.replica" in text.stdout


def test_incomplete_inventory_without_stores_is_unknown_not_skip():
    invs = f.drop_resources(f.ready_inventory(), lambda r: r.kind in (Kind.DB_INSTANCE, Kind.STORAGE_BUCKET))
    invs = f.incomplete(invs, "aws-prod", "us-east-1/rds")
    assert [x.status for x in run_checks(f.evidence(inventories=invs), only={"data.replica"})] == [UNKNOWN]


def test_store_rpo_overrides_the_workloads():
    invs = _with(f.ready_inventory(), "aws-prod", _table(copies=[_copy("aws:us-west-2", lag_s=120.0)]))
    assert _one(_data([{"name": "orders", "kind": "dynamodb"}], invs), "orders").status == PASS  # workload RPO 5m
    tight = _one(_data([{"name": "orders", "kind": "dynamodb", "rpo": "1m"}], invs), "orders")
    assert (tight.status, tight.reason) == (FAIL, "table orders: global-table aws:us-west-2 is 2m behind (RPO 60s)")
    assert tight.evidence["rpo_s"] == 60.0


@pytest.mark.parametrize(
    ("copy", "status", "text"),
    [
        (_copy("aws:us-west-2", healthy=False, state="CREATING"), FAIL, "is CREATING, not replicating"),
        (_copy("aws:us-west-2", lag_s=None), UNKNOWN, "lag unknown (no recent ReplicationLatency datapoint)"),
        (_copy("aws:us-east-1"), FAIL, "has no replica outside aws:us-east-1"),  # same region: no copy
    ],
)
def test_reported_copy_unhealthy_unread_or_in_the_same_region(copy: dict[str, Any], status: FindingStatus, text: str):
    invs = _with(f.ready_inventory(), "aws-prod", _table(copies=[copy]))
    found = _one(_data([{"name": "orders", "kind": "dynamodb"}], invs), "orders")
    assert found.status == status and text in found.reason


def test_undeclared_cache_found_by_the_primarys_tags_is_still_judged():
    cache = f.aws(Kind.CACHE, "sessions", state="available", attrs={"store_kind": "elasticache", "copies": []})
    invs = _with(f.ready_inventory(), "aws-prod", cache)
    found = _one(_data([], invs), "sessions")
    assert (found.status, found.reason) == (FAIL, "cache sessions has no replica outside aws:us-east-1")
    assert found.evidence["declared"] is False


def test_copy_on_another_provider_is_matched_by_copy_to():
    logical = _copy("gcp:us-central1", mechanism="logical-replication", lag_s=30.0, lag_source="replica_lag")
    invs = _with(f.ready_inventory(), "aws-prod", _table(copies=[logical]))
    found = _one(_data([{"name": "orders", "kind": "dynamodb", "copy_to": "gcp-central"}], invs), "orders")
    assert (found.status, found.reason) == (PASS, "table orders: logical-replication gcp:us-central1 30s behind")
    assert found.evidence["copy_to"] == "gcp-central"


def test_copy_to_with_no_link_found_is_unknown_never_missing():
    """Hand-built logical replication or AWS DMS leaves no link on the store: the copy's lag is unknown."""
    invs = f.drop_resources(f.ready_inventory(), lambda r: r.native_id == "orders-db-replica")
    invs = f.replace_resource(invs, "orders-db", attrs={"deletion_protection": True})
    found = _one(_data([{"name": "orders-db", "kind": "rds", "copy_to": "gcp"}], invs), "orders-db")
    assert found.status == UNKNOWN
    assert "no replication link to gcp (declared copy_to)" in found.reason and "lag is unknown" in found.reason


def test_copy_to_a_region_is_met_by_a_replica_there():
    found = _one(
        _data([{"name": "orders-db", "kind": "rds", "copy_to": "us-west-2"}], f.ready_inventory()), "orders-db"
    )
    assert (found.status, found.reason) == (
        PASS,
        "database orders-db: replica aws:us-west-2 orders-db-replica 12s behind",
    )


def test_declared_bucket_on_a_secondary_site_judged_by_its_documented_bound():
    bucket = f.gcp(
        Kind.STORAGE_BUCKET,
        "assets",
        region="nam4",
        tags={},
        attrs={
            "store_kind": "gcs",
            "copies": [
                _copy("gcp:nam4", mechanism="dual-region", state=None, healthy=None, lag_s=43200.0, estimate=True)
                | {"lag_source": "Google: most objects within 1 h, all within 12 h (default replication)"}
            ],
        },
    )
    invs = _with(f.ready_inventory(), "gcp-dr", bucket)
    store = {"name": "assets", "kind": "gcs", "site": "gcp-central", "select": {"ids": ["assets"]}}
    found = _one(_data([store], invs), "assets")
    assert (found.status, found.reason) == (
        FAIL,
        "bucket assets: dual-region gcp:nam4 is up to 12h00m behind (estimate) (RPO 5m)",
    )
    assert found.evidence["estimates"][0]["lag_s"] == 43200.0
    relaxed = _one(_data([{**store, "rpo": "1d"}], invs), "assets")
    assert relaxed.status == PASS


@pytest.mark.parametrize(
    ("store", "field", "message"),
    [
        ({"name": "x", "kind": "cloudsql"}, "kind", "a cloudsql store lives on gcp, but site 'aws-east' is on aws"),
        ({"name": "x", "kind": "rds", "site": "nowhere"}, "site", "unknown site 'nowhere'"),
        ({"name": "x", "kind": "rds", "copy_to": "oracle:x"}, "copy_to", "expected a site name"),
        (
            {"name": "x", "kind": "rds", "lag_metric": {"namespace": "AWS/DMS", "name": "CDCLatencyTarget"}},
            "lag_metric",
            "lag_metric measures the copy at copy_to: set copy_to",
        ),
        (
            {"name": "x", "kind": "rds", "copy_to": "gcp", "lag_metric": {"name": "CDCLatencyTarget"}},
            "lag_metric.namespace",
            "a CloudWatch lag metric (account 'aws-prod' is aws) needs namespace",
        ),
        (
            {
                "name": "x",
                "kind": "rds",
                "copy_to": "gcp",
                "lag_metric": {"account": "gcp-dr", "type": "t", "region": "r"},
            },
            "lag_metric.region",
            "region is not a Cloud Monitoring setting (account 'gcp-dr' is gcp)",
        ),
        (
            {
                "name": "x",
                "kind": "rds",
                "copy_to": "gcp",
                "lag_metric": {"account": "dms", "namespace": "n", "name": "m"},
            },
            "lag_metric.account",
            "unknown account 'dms' (known: aws-prod, gcp-dr)",
        ),
        (
            {
                "name": "x",
                "kind": "rds",
                "copy_to": "gcp",
                "lag_metric": {"namespace": "n", "name": "m", "unit": "min"},
            },
            "lag_metric.unit",
            "expected one of seconds, milliseconds, got 'min'",
        ),
    ],
)
def test_bad_data_store_is_a_located_error(store: dict[str, Any], field: str, message: str):
    text = _config_text(store)
    with pytest.raises(ConfigError) as err:
        config_from_text(text, "cfg.yaml", env={})
    [problem] = err.value.problems
    assert problem.startswith("cfg.yaml:") and field in problem and message in problem


def _config_text(store: dict[str, Any]) -> str:
    flow = "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in store.items()) + "}"
    return f"""accounts:
  - {{name: aws-prod, provider: aws, regions: [us-east-1]}}
  - {{name: gcp-dr, provider: gcp, project: acme}}
workloads:
  - name: w
    owners: [a@example.com]
    sites:
      - {{name: aws-east, role: primary, account: aws-prod, select: {{tags: {{app: w}}}}}}
      - {{name: gcp-central, role: secondary, account: gcp-dr, select: {{tags: {{app: w}}}}}}
    data:
      - {flow}
"""


def _azure(attrs: dict[str, Any], kind: Kind = Kind.DB_INSTANCE, store_kind: str = "azure-sql") -> Resource:
    return f.res("azure", "az", "eastus", kind, "orders", tags={}, attrs={"store_kind": store_kind, **attrs})


@pytest.mark.parametrize(
    ("resource", "seconds"),
    [
        (_azure({"failover_policy": "Automatic", "grace_period_s": 7200.0}), 7200.0),
        (_azure({"failover_policy": "Automatic", "grace_period_s": None}), 3600.0),  # at least 60 min
        (_azure({"failover_policy": "Manual"}), 60.0 + 600.0),  # decision + geo-failover
        (_azure({}), 300.0),  # policy unknown: scoring.data_promotion
        (_azure({"multi_region_writes": True}, Kind.DB_TABLE, "cosmosdb"), 0.0),
        (_azure({"automatic_failover": True}, Kind.DB_TABLE, "cosmosdb"), 900.0),
        (_azure({"automatic_failover": False}, Kind.DB_TABLE, "cosmosdb"), 900.0 + 600.0),
        (_table(), 0.0),  # global table: nothing to promote
    ],
)
def test_each_store_fails_over_with_its_own_mechanics(resource: Resource, seconds: float):
    store_kind = resource.attrs["store_kind"]
    assert store_failover(resource, store_kind, ScoringConfig()).seconds == seconds


def test_rto_data_part_is_the_slowest_stores_failover():
    # only a global table: nothing to promote, the data part is 0 (it was a flat 5 min for any database)
    invs = f.drop_resources(f.ready_inventory(), lambda r: r.kind == Kind.DB_INSTANCE)
    invs = _with(invs, "aws-prod", _table(copies=[_copy("aws:us-west-2")]))
    ev = f.evidence(cfg=f.config(data=[{"name": "orders", "kind": "dynamodb"}]), inventories=invs)
    assert estimate_rto(ev, ev.config.scoring).data_s == 0.0
    # an RDS primary beside it: replica promotion has no documented figure, scoring.data_promotion counts
    ev = f.evidence(cfg=f.config(data=[{"name": "orders", "kind": "dynamodb"}]))
    rto = estimate_rto(ev, ev.config.scoring)
    assert rto.data_s == 300.0 and any(n.startswith("data failover: orders-db:") for n in rto.notes)
