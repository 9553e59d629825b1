"""End to end: the demo estate on the local clouds, one real cycle, and the findings each seeded
defect must produce; then the CLI reads the scores back from SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from failover.cli import cli
from failover.config import config_from_text
from failover.model import FindingStatus, RtoVerdict, Status
from failover.runner import run_cycle
from failover.sandbox import demo
from failover.store import Store
from failover.whatif import ALL_PROVIDERS, Domain, load_evidence, summary, what_if
from tests.factories import undeclared_attrs

FAIL, PASS = FindingStatus.FAIL, FindingStatus.PASS


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One real cycle over the demo estate, then the what-if over what it stored: each workload with
    aws, gcp, azure and aws:us-east-1 down."""
    import yaml

    directory = tmp_path_factory.mktemp("demo")
    with demo.running(directory) as estate:
        config = config_from_text(yaml.safe_dump(estate.config), source="demo.yaml")
        store = Store.open(config.database or f"sqlite:///{directory / 'f.db'}")
        try:
            demo.seed_store(store)
            result = run_cycle(config, store, kind="test")
            stored = store.latest_scores()
            whatif = what_if(config, load_evidence(config, store), [*ALL_PROVIDERS, EAST])
        finally:
            store.close()
        # ``whatif --refresh`` through the CLI while the emulators still run: one more cycle, then the answer.
        path = directory / "failover.yaml"
        path.write_text(
            yaml.safe_dump({**estate.config, "database": config.database or f"sqlite:///{directory / 'f.db'}"})
        )
        args = ["whatif", "-c", str(path), "--refresh", "--down", "gcp", "-w", "storefront", "--format", "json"]
        refresh = CliRunner().invoke(cli, args)
        with Store.open(config.database or f"sqlite:///{directory / 'f.db'}") as again:
            refreshed = {s.workload: s.computed_at for s in again.latest_scores()}
    return result, stored, whatif, (refresh, refreshed)


@pytest.fixture(scope="module")
def cycle(demo_run):
    result, stored, _, _ = demo_run
    return result, stored


EAST = Domain("aws", "us-east-1")


def statuses(result, workload, check):
    return [f.status for f in result.findings if f.workload == workload and f.check == check]


def test_every_workload_gets_the_expected_status(cycle):
    result, stored = cycle
    assert {s.workload: str(s.status) for s in result.scores} == demo.EXPECTED
    assert {s.workload: s.status for s in stored} == {s.workload: s.status for s in result.scores}


def test_inventory_is_complete_on_all_three_clouds_and_cloudflare(cycle):
    result, _ = cycle
    assert {i.provider for i in result.inventories} == {"aws", "gcp", "azure", "cloudflare"}
    assert [i.incomplete for i in result.inventories] == [[], [], [], []]


def test_adapters_fill_only_the_attrs_each_kind_declares(cycle):
    result, _ = cycle
    assert undeclared_attrs(r for i in result.inventories for r in i.resources) == {}


def test_ready_workload_passes_every_check(cycle):
    result, _ = cycle
    bad = [(f.check, f.reason) for f in result.findings if f.workload == "checkout" and f.status != PASS]
    assert bad == []
    checkout = next(s for s in result.scores if s.workload == "checkout")
    assert checkout.status == Status.READY and checkout.rto_estimate_s is not None
    assert checkout.rto_estimate_s <= checkout.rto_target_s


def test_storefront_fails_over_through_cloudflare_and_is_ready(cycle):
    result, _ = cycle
    mine = {f.check: f for f in result.findings if f.workload == "storefront"}
    records = mine["dns.failover_records"]
    assert records.status == PASS and "aws-east fails over to gcp-west after 30s" in records.reason
    assert mine["dns.health_check"].status == PASS and mine["dns.health_check"].evidence["detection_s"] == 30.0
    assert mine["dns.ttl"].status == PASS and "proxied" in mine["dns.ttl"].reason  # 300 s does not delay it
    # Cloudflare only: not on the primary's provider, yet one provider (a warning, not the primary gate)
    assert (mine["dns.delegation"].status, mine["dns.delegation"].evidence["providers"]) == (
        FindingStatus.WARN,
        ["cloudflare"],
    )
    bad = [
        (c, f.reason) for c, f in mine.items() if f.status not in (PASS, FindingStatus.SKIP) and c != "dns.delegation"
    ]
    assert bad == []
    score = next(s for s in result.scores if s.workload == "storefront")
    assert score.status == Status.READY and score.rto_estimate_s == 30.0
    assert score.single_provider_risk.get("aws", 0.0) < 1.0 and score.single_provider_risk.get("cloudflare") == 1.0


@pytest.mark.parametrize(
    "check",
    ["capacity.ratio", "capacity.headroom", "dns.delegation", "dns.ttl", "secondary.health"],
)
def test_scaled_to_zero_secondary_with_route53_only_dns_fails(cycle, check):
    result, _ = cycle
    assert statuses(result, "search", check) == [FAIL]


def test_disabled_route53_health_check_never_fails_over(cycle):
    result, _ = cycle
    for check in ("dns.health_check", "dns.failover_records"):
        [finding] = [f for f in result.findings if f.workload == "search" and f.check == check]
        assert finding.status == FAIL, (check, finding.reason)
        assert "is disabled: Route 53 treats it as always healthy" in finding.reason
    search = next(s for s in result.scores if s.workload == "search")
    assert search.details["rto"]["decision_s"] == 600.0  # no automatic failover: a person must decide


def test_scaled_to_zero_workload_depends_on_one_provider(cycle):
    result, _ = cycle
    search = next(s for s in result.scores if s.workload == "search")
    assert search.single_provider_risk["aws"] == 1.0
    assert "secondary cannot reach the required capacity" in search.details["gates"]


def test_secondary_with_certificate_for_wrong_name_fails_tls_and_health(cycle):
    result, _ = cycle
    tls = [f for f in result.findings if f.workload == "payments" and f.check == "secondary.tls"]
    assert [f.status for f in tls] == [FAIL]
    assert "does not cover payments.example.net" in tls[0].reason
    assert statuses(result, "payments", "secondary.health") == [FAIL]


def test_replicated_bucket_passes_for_the_ready_workload(cycle):
    result, _ = cycle
    buckets = [f for f in result.findings if f.check == "data.bucket_replication"]
    assert [(f.workload, f.subject, f.status) for f in buckets] == [("checkout", "checkout-assets", PASS)]
    assert "us-west-2" in buckets[0].reason


def test_drills_are_evidence(cycle):
    result, _ = cycle
    assert statuses(result, "checkout", "evidence.drill") == [PASS]
    assert statuses(result, "search", "evidence.drill") == [FindingStatus.WARN]
    assert statuses(result, "payments", "evidence.drill") == [FAIL]


def test_deallocated_azure_vm_is_not_counted_as_capacity(cycle):
    result, _ = cycle
    ratio = [f for f in result.findings if f.workload == "payments" and f.check == "capacity.ratio"]
    assert [(f.status, f.reason) for f in ratio] == [(FAIL, "secondary 8 vCPU / primary 16 vCPU = 0.50 (target 1)")]
    (azure,) = [i for i in result.inventories if i.provider == "azure"]
    states = {r.name: r.state for r in azure.resources if r.kind in ("compute.instance", "compute.group")}
    assert states["payments-worker"] == "deallocated"
    headroom = [f for f in result.findings if f.workload == "payments" and f.check == "capacity.headroom"]
    assert [(f.status, f.reason) for f in headroom] == [(PASS, "secondary can scale from 8 to 32 vCPU (needs 16)")]


def test_gcp_group_with_a_member_stuck_booting_fails_capacity_on_what_runs(cycle):
    # catalog-mig's target size (2 x n2-standard-4) equals the primary's 8 vCPU: read as capacity, it
    # would pass. One member is RUNNING, the other STAGING/CREATING: the secondary carries half the load.
    result, _ = cycle
    ratio = [f for f in result.findings if f.workload == "catalog" and f.check == "capacity.ratio"]
    assert [f.status for f in ratio] == [FAIL]
    assert ratio[0].reason == (
        "secondary 4 vCPU / primary 8 vCPU = 0.50 (target 1); group catalog-mig runs 1 of 2 desired"
    )
    health = [f for f in result.findings if f.workload == "catalog" and f.check == "secondary.health"]
    assert [f.status for f in health] == [FindingStatus.WARN]
    assert "group catalog-mig: 1 of 2 instances in service" in health[0].reason
    assert statuses(result, "catalog", "capacity.headroom") == [PASS]  # its autoscaler and N2 quota can reach 16
    catalog = next(s for s in result.scores if s.workload == "catalog")
    assert catalog.status == Status.AT_RISK


def data_findings(result, workload):
    return {f.subject: f for f in result.findings if f.workload == workload and f.check == "data.replica"}


def test_stale_replica_fails_data_check(cycle):
    result, _ = cycle
    replica = data_findings(result, "payments")["payments-db"]
    assert replica.status == FAIL
    assert "behind (RPO 5m)" in replica.reason


def test_dynamodb_table_without_a_replica_outside_its_region_fails(cycle):
    # AWS: search declares its DynamoDB table in data:; it was never made a global table.
    result, _ = cycle
    table = data_findings(result, "search")["search-index"]
    assert (table.status, table.reason) == (FAIL, "table search-index has no replica outside aws:us-east-1")
    assert table.evidence["declared"] is True and table.evidence["store_kind"] == "dynamodb"


def test_cloud_sql_replica_lagging_past_the_rpo_fails(cycle):
    # GCP: search's Cloud SQL database, declared on its GCP site, has a us-east1 replica 2 h behind a 1 h RPO.
    result, _ = cycle
    db = data_findings(result, "search")["search-analytics"]
    assert db.status == FAIL
    assert db.reason == "database search-analytics: replica gcp:us-east1 search-analytics-dr is 2h00m behind (RPO 60m)"
    assert db.evidence["store_kind"] == "cloudsql"


def test_microsoft_managed_azure_sql_failover_group_puts_the_rto_past_its_target(cycle):
    # Azure: payments' ledger has a current copy (failover group partner, Microsoft's documented 5 s bound,
    # labelled an estimate), but the Automatic policy fails over only after its 1 h grace period.
    result, _ = cycle
    ledger = data_findings(result, "payments")["payments-ledger"]
    assert ledger.status == PASS and "azure:westcentralus" in ledger.reason
    [estimate] = ledger.evidence["estimates"]
    assert estimate["lag_s"] == 5.0 and "learn.microsoft.com" in estimate["source"]
    payments = next(s for s in result.scores if s.workload == "payments")
    assert payments.details["rto"]["data_s"] == 3600.0
    assert payments.rto_verdict == RtoVerdict.EXCEEDS and payments.rto_estimate_s > payments.rto_target_s
    assert any("payments-ledger: Microsoft-managed failover group" in n for n in payments.details["rto"]["notes"])
    assert any(g.startswith("estimated RTO") and g.endswith("exceeds target 10m") for g in payments.details["gates"])


def failover_cli(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m failover *args`` as a user runs it: a wide terminal, no database from the environment."""
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("FAILOVER_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "failover", *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd
    )


def test_demo_command_then_score_reads_back_from_sqlite(tmp_path):
    run = failover_cli(tmp_path, "demo", "--dir", str(tmp_path / "d"), timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    for workload in demo.EXPECTED:
        assert workload in run.stdout
    assert "If AWS went down now: 1 of 6 workloads would be serving within target" in run.stdout
    config = tmp_path / "d" / "failover.yaml"
    score = failover_cli(tmp_path, "score", "-c", str(config), "--format", "json")
    assert score.returncode == 0, score.stderr
    data = json.loads(score.stdout)
    assert {d["workload"]: d["status"] for d in data} == demo.EXPECTED
    assert {d["workload"]: [w["survives"] for w in d["whatif"]] for d in data}["boutique"] == ["no", "yes", "no"]
    for d in data:
        assert set(d) >= {
            "workload",
            "status",
            "readiness",
            "single_provider_risk",
            "rto_estimate_s",
            "rto_target_s",
            "reasons",
        }
        for r in d["reasons"]:
            assert set(r) >= {"check", "status", "message", "points"} and r["status"] != "pass"
        assert [r["points"] for r in d["reasons"]] == sorted((r["points"] for r in d["reasons"]), reverse=True)
    gate = failover_cli(tmp_path, "score", "-c", str(config), "--fail-under", "80")
    assert gate.returncode == 1
    assert "search" in gate.stderr and "payments" in gate.stderr
    # The status page carries the same what-if matrix, computed from the same stored evidence.
    html = failover_cli(tmp_path, "report", "-c", str(config), "--html", str(tmp_path / "site"))
    assert html.returncode == 0, html.stderr
    index = (tmp_path / "site" / "index.html").read_text()
    assert "<strong>aws</strong> went down now: 1 of 6 workloads would be serving within target" in index
    assert "<strong>gcp</strong> went down now: 6 of 6 workloads" in index
    assert Path(tmp_path / "d" / "failover.db").exists()


def test_disabled_front_door_secondary_origin_is_the_only_boutique_defect(cycle):
    result, _ = cycle
    assert statuses(result, "boutique", "dns.failover_records") == [FAIL]
    [records] = [f for f in result.findings if f.workload == "boutique" and f.check == "dns.failover_records"]
    assert "origin azure-west (boutique-westus2.example.net)" in records.reason and "is disabled" in records.reason
    assert statuses(result, "boutique", "dns.health_check") == [PASS]  # the probe is fine: nowhere to go
    others = {
        f.check
        for f in result.findings
        if f.workload == "boutique" and f.status == FAIL and f.check != "dns.failover_records"
    }
    assert others == set()


# ----------------------------------------------------------------------------- what if a provider went down
def matrix(demo_run):
    return {(r.workload, str(r.down)): r for r in demo_run[2]}


def test_whatif_aws_down_leaves_only_the_cloudflare_workload_serving(demo_run):
    m = matrix(demo_run)
    # Every primary is on AWS us-east-1. checkout, search, catalog and payments fail over through Route 53,
    # which is AWS: with all of AWS down its answers and health checks go too, whatever the secondaries.
    for name in ("checkout", "search", "catalog", "payments"):
        r = m[(name, "aws")]
        assert (r.survives, r.serving_site) == ("no", None)
        assert any(x.check == "dns.failover_records" and "route53-failover" in x.message for x in r.reasons)
    # search's zone is served only by Route 53, and its identity provider lives only on AWS.
    assert {"dns.delegation", "dependencies.single_provider"} <= {x.check for x in m[("search", "aws")].reasons}
    # checkout's database replica is in us-west-2: on AWS too, so no copy survives.
    assert any(
        "checkout-db" in x.message and "no copy outside aws" in x.message for x in m[("checkout", "aws")].reasons
    )
    # boutique's Front Door (Azure) survives, but its secondary origin is disabled: nowhere to go.
    assert m[("boutique", "aws")].survives == "no"
    assert "disabled" in m[("boutique", "aws")].reasons[0].message
    # storefront fails over through Cloudflare (none of the three) to GCP: monitor 30 s, proxied (no TTL wait).
    store = m[("storefront", "aws")]
    assert (store.survives, store.serving_site, store.rto_estimate_s, store.rto_verdict) == (
        "yes",
        "gcp-central",
        30.0,
        RtoVerdict.WITHIN,
    )
    assert (
        summary(demo_run[2], Domain("aws")) == "If AWS went down now: 1 of 6 workloads would be serving within target"
    )


def test_whatif_gcp_down_touches_no_primary_and_azure_down_takes_front_door(demo_run):
    m = matrix(demo_run)
    for name in demo.EXPECTED:
        r = m[(name, "gcp")]
        assert (r.survives, r.serving_site, r.primary_down) == ("yes", "aws-east", False), (name, r.reasons)
    # Front Door is Azure: with Azure down boutique's public name stops answering though its primary runs.
    boutique = m[("boutique", "azure")]
    assert (boutique.survives, boutique.primary_down) == ("no", False)
    assert any("front-door" in x.message for x in boutique.reasons)
    assert [n for n in demo.EXPECTED if m[(n, "azure")].survives == "yes"] == [
        n for n in demo.EXPECTED if n != "boutique"
    ]
    assert (
        summary(demo_run[2], Domain("azure"))
        == "If Azure went down now: 5 of 6 workloads would be serving within target"
    )


def test_whatif_us_east_1_down_route53_keeps_answering_from_its_global_data_plane(demo_run):
    m = matrix(demo_run)
    # checkout and catalog: health-checked records fail over to GCP within target (catalog's half-booted
    # group still reaches its capacity in time).
    for name in ("checkout", "catalog"):
        r = m[(name, "aws:us-east-1")]
        assert (r.survives, r.serving_site, r.rto_verdict) == ("yes", "gcp-central", RtoVerdict.WITHIN), r.reasons
    # checkout's bucket is replicated to us-west-2 without a reported lag: the exposure is unknown.
    assert m[("checkout", "aws:us-east-1")].rpo_exposure_s is None
    # search: a disabled health check means failover is a record change, through us-east-1, which is down.
    search = m[("search", "aws:us-east-1")]
    assert search.survives == "no"
    assert any("waits until aws us-east-1 recovers" in x.message for x in search.reasons)
    # payments: its Azure secondary's certificate does not cover the public name; the surviving replica in
    # us-west-2 is 30 minutes behind.
    payments = m[("payments", "aws:us-east-1")]
    assert payments.survives == "no" and payments.rpo_exposure_s == 1800.0
    assert any(x.check == "secondary.health" and "certificate" in x.message for x in payments.reasons)
    assert m[("storefront", "aws:us-east-1")].survives == "yes"
    assert (
        summary(demo_run[2], EAST) == "If AWS us-east-1 went down now: 3 of 6 workloads would be serving within target"
    )


def test_whatif_refresh_runs_a_cycle_first_through_the_cli(demo_run):
    """``--refresh`` ran one more cycle (as ``failover check``, for the selected workload only) against the
    running emulators, then answered from what it stored."""
    _, stored, _, (refresh, refreshed) = demo_run
    assert refresh.exit_code == 0, refresh.output
    before = {s.workload: s.computed_at for s in stored}
    assert refreshed["storefront"] > before["storefront"]
    assert all(refreshed[n] == before[n] for n in before if n != "storefront")
    [row] = json.loads(refresh.stdout)
    assert (row["workload"], row["down"], row["survives"], row["serving_site"]) == (
        "storefront",
        "gcp",
        "yes",
        "aws-east",
    )
