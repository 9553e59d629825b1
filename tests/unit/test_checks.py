"""Every check on data: the ready estate passes, and each single defect yields fail or unknown."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from failover.checks import CATALOG, run_checks
from failover.model import Capacity, Drill, FindingStatus, Kind, ObsStatus
from tests import factories as f

PASS, WARN, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.WARN, FindingStatus.FAIL, FindingStatus.UNKNOWN


def statuses(ev, check_id):
    return [x.status for x in run_checks(ev, only={check_id})]


def reasons(ev, check_id):
    return " | ".join(x.reason for x in run_checks(ev, only={check_id}))


def test_ready_estate_passes_every_check():
    findings = run_checks(f.evidence())
    assert {x.check for x in findings} == set(CATALOG)
    assert [x for x in findings if x.status != PASS] == []


def test_every_check_has_id_category_severity_and_doc():
    for info in CATALOG.values():
        assert info.category and info.severity in {"critical", "high", "medium", "low"}
        assert len(info.doc) > 120, info.id
        assert info.id.startswith(info.category + ".") or info.id.split(".")[0] == info.category


# --- secondary.health -------------------------------------------------------------------------


def test_secondary_endpoint_failing_fails_health_check():
    observations = f.replace_obs(f.ready_observations(), "direct", status=ObsStatus.FAILED, reason="HTTP 503")
    ev = f.evidence(observations=observations)
    assert statuses(ev, "secondary.health") == [FAIL]
    assert "HTTP 503" in reasons(ev, "secondary.health")


def test_secondary_not_yet_probed_is_unknown():
    observations = [o for o in f.ready_observations() if o.probe != "http"]
    assert statuses(f.evidence(observations=observations), "secondary.health") == [UNKNOWN]


def test_probe_error_is_unknown_not_healthy():
    observations = f.replace_obs(f.ready_observations(), "as-public-name", status=ObsStatus.ERROR, reason="timeout")
    assert statuses(f.evidence(observations=observations), "secondary.health") == [UNKNOWN]


def test_group_with_no_instances_in_service_fails_health():
    invs = f.replace_resource(f.ready_inventory(), "mig-checkout", attrs={"desired": 4, "in_service": 0})
    assert statuses(f.evidence(inventories=invs), "secondary.health") == [FAIL]


def test_unhealthy_target_group_fails_health():
    invs = f.ready_inventory()
    tg = f.gcp(Kind.LB_TARGET_GROUP, "tg-1", attrs={"healthy": 0, "targets": [{"id": "x", "state": "unhealthy"}]})
    invs["gcp-dr"] = dataclasses.replace(invs["gcp-dr"], resources=[*invs["gcp-dr"].resources, tg])
    assert statuses(f.evidence(inventories=invs), "secondary.health") == [FAIL]


def test_incomplete_secondary_inventory_makes_health_unknown():
    invs = f.incomplete(f.ready_inventory(), "gcp-dr", "acme-dr/instances")
    assert statuses(f.evidence(inventories=invs), "secondary.health") == [UNKNOWN]


# --- secondary.tls ----------------------------------------------------------------------------


def _tls(**tls):
    base = {"verified": True, "covers_name": True, "days_left": 80, "names": [f.PUBLIC]}
    base.update(tls)
    return f.replace_obs(f.ready_observations(), "as-public-name", data={"status_code": 200, "tls": base})


@pytest.mark.parametrize(
    ("tls", "expected", "text"),
    [
        ({"covers_name": False, "names": ["checkout-gcp.example.net"]}, FAIL, "does not cover checkout.example.com"),
        ({"days_left": -3, "verified": False}, FAIL, "expired 3 days ago"),
        ({"days_left": 5}, FAIL, "expires in 5 days"),
        ({"days_left": 20}, WARN, "expires in 20 days"),
        ({"verified": False, "error": "self-signed certificate"}, FAIL, "self-signed"),
    ],
)
def test_secondary_certificate_problems(tls, expected, text):
    ev = f.evidence(observations=_tls(**tls))
    assert statuses(ev, "secondary.tls") == [expected]
    assert text in reasons(ev, "secondary.tls")


def test_secondary_tls_without_handshake_data_is_unknown():
    observations = f.replace_obs(f.ready_observations(), "as-public-name", data={}, status=ObsStatus.ERROR)
    assert statuses(f.evidence(observations=observations), "secondary.tls") == [UNKNOWN]


# --- capacity ---------------------------------------------------------------------------------


def test_secondary_scaled_to_zero_fails_capacity_ratio():
    ev = f.evidence(inventories=f.scale_secondary(0))
    assert statuses(ev, "capacity.ratio") == [FAIL]
    assert "0.00" in reasons(ev, "capacity.ratio")


def test_running_members_the_group_does_not_count_are_not_capacity():
    # four member VMs run, but the group counts two as serving (the others: verifying, failing autohealing)
    invs = f.replace_resource(
        f.ready_inventory(),
        "mig-checkout",
        capacity=Capacity(vcpu=8, instances=2),
        attrs={"desired": 4, "max_size": 10, "vcpu_per_instance": 4, "instance_ids": [f"gce-{n}" for n in range(1, 5)]},
    )
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "capacity.ratio") == [FAIL]
    assert reasons(ev, "capacity.ratio") == (
        "secondary 8 vCPU / primary 16 vCPU = 0.50 (target 1); group mig-checkout runs 2 of 4 desired"
    )


def test_secondary_that_can_scale_passes_headroom_but_fails_ratio():
    ev = f.evidence(inventories=f.scale_secondary(2, max_size=10))
    assert statuses(ev, "capacity.ratio") == [FAIL]
    assert statuses(ev, "capacity.headroom") == [PASS]


def test_group_max_size_too_small_fails_headroom():
    ev = f.evidence(inventories=f.scale_secondary(1, max_size=2))
    assert statuses(ev, "capacity.headroom") == [FAIL]


def test_region_cpu_quota_too_small_fails_headroom():
    invs = f.replace_resource(f.scale_secondary(1), "us-central1", attrs={"quotas": {"CPUS": {"limit": 8, "usage": 4}}})
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "capacity.headroom") == [FAIL]
    assert "quota" in reasons(ev, "capacity.headroom")


def test_unknown_instance_size_makes_capacity_unknown():
    invs = f.replace_resource(f.ready_inventory(), "i-1", capacity=Capacity())
    assert statuses(f.evidence(inventories=invs), "capacity.ratio") == [UNKNOWN]


def test_denied_inventory_makes_capacity_unknown_not_zero():
    invs = f.incomplete(f.ready_inventory(), "aws-prod", "us-east-1/ec2")
    assert statuses(f.evidence(inventories=invs), "capacity.ratio") == [UNKNOWN]


def test_gap_in_another_region_does_not_touch_the_site():
    invs = f.incomplete(f.ready_inventory(), "aws-prod", "us-west-2/ec2")
    assert statuses(f.evidence(inventories=invs), "capacity.ratio") == [PASS]


def test_stale_inventory_is_not_evidence():
    invs = f.ready_inventory()
    invs["gcp-dr"] = dataclasses.replace(invs["gcp-dr"], finished_at=f.NOW - timedelta(days=3))
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "capacity.ratio") == [UNKNOWN]
    assert "inventory of gcp-dr is 72h00m old" in reasons(ev, "capacity.ratio")


def test_stale_probe_result_is_not_evidence():
    observations = f.replace_obs(f.ready_observations(), "direct", observed_at=f.NOW - timedelta(days=2))
    assert statuses(f.evidence(observations=observations), "secondary.health") == [UNKNOWN]


def test_account_never_inventoried_is_unknown():
    invs = {"gcp-dr": f.ready_inventory()["gcp-dr"]}
    assert statuses(f.evidence(inventories=invs), "capacity.ratio") == [UNKNOWN]


# --- dns --------------------------------------------------------------------------------------


def test_dns_only_on_primary_provider_fails_delegation():
    observations = f.replace_obs(
        f.ready_observations(),
        "delegation",
        data={"zone": "example.com", "nameservers": [{"name": "ns-1.awsdns-01.org", "provider": "aws"}] * 2},
    )
    ev = f.evidence(observations=observations)
    assert statuses(ev, "dns.delegation") == [FAIL]
    assert "only by aws" in reasons(ev, "dns.delegation")


def test_dns_delegation_unprobed_is_unknown():
    ev = f.evidence(observations=f.without_obs(f.ready_observations(), "delegation"))
    assert statuses(ev, "dns.delegation") == [UNKNOWN]


def test_workload_without_dns_section_is_unknown_for_dns_checks():
    cfg = f.config(dns=None)
    ev = f.evidence(cfg=cfg)
    for check_id in ("dns.delegation", "dns.ttl", "dns.authoritative", "dns.failover_records", "dns.health_check"):
        assert statuses(ev, check_id) == [UNKNOWN], check_id


def test_authoritative_servers_disagreeing_fails():
    observations = f.replace_obs(
        f.ready_observations(),
        "authoritative",
        data={
            "agree": False,
            "servers": [
                {"server": "a", "answered": True, "answers": ["1.1.1.1"]},
                {"server": "b", "answered": True, "answers": ["2.2.2.2"]},
            ],
        },
    )
    assert statuses(f.evidence(observations=observations), "dns.authoritative") == [FAIL]


def test_silent_authoritative_server_warns():
    observations = f.replace_obs(
        f.ready_observations(),
        "authoritative",
        data={
            "agree": True,
            "servers": [
                {"server": "a", "answered": True, "answers": ["1.1.1.1"]},
                {"server": "b", "answered": False, "answers": []},
            ],
        },
    )
    assert statuses(f.evidence(observations=observations), "dns.authoritative") == [WARN]


def test_long_ttl_fails_dns_ttl():
    observations = f.replace_obs(f.ready_observations(), "chain", data={"effective_ttl": 3600, "chain": []})
    ev = f.evidence(observations=observations)
    assert statuses(ev, "dns.ttl") == [FAIL]
    assert "effective TTL 3600s exceeds the 60s target" in reasons(ev, "dns.ttl")


def test_resolver_handing_out_longer_ttl_warns():
    observations = [*f.ready_observations(), f.obs("dns", "resolver", ttl=300, resolver="127.0.0.1:53")]
    assert statuses(f.evidence(observations=observations), "dns.ttl") == [WARN]


def test_missing_secondary_record_fails_failover_records():
    invs = f.drop_resources(f.ready_inventory(), lambda r: r.attrs.get("failover") == "SECONDARY")
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "dns.failover_records") == [FAIL]
    assert "no SECONDARY" in reasons(ev, "dns.failover_records")


def test_primary_record_without_health_check_fails():
    invs = f.replace_resource(
        f.ready_inventory(), "Z1/checkout.example.com/A/primary", attrs={"failover": "PRIMARY", "ttl": 60}
    )
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "dns.failover_records") == [FAIL]
    assert statuses(ev, "dns.health_check") == [FAIL]


def test_secondary_record_pointing_elsewhere_fails():
    invs = f.replace_resource(
        f.ready_inventory(),
        "Z1/checkout.example.com/A/secondary",
        attrs={"failover": "SECONDARY", "values": ["203.0.113.9"]},
    )
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "dns.failover_records") == [FAIL]
    assert "203.0.113.9" in reasons(ev, "dns.failover_records")


def test_failover_records_unknown_when_route53_unreadable():
    invs = f.drop_resources(f.ready_inventory(), lambda r: r.kind == Kind.DNS_RECORD)
    invs = f.incomplete(invs, "aws-prod", "route53")
    assert statuses(f.evidence(inventories=invs), "dns.failover_records") == [UNKNOWN]


def test_slow_health_check_fails_against_rto():
    invs = f.replace_resource(f.ready_inventory(), "hc-1", attrs={"interval_s": 30, "failure_threshold": 10})
    ev = f.evidence(cfg=f.config(targets={"rto": "4m"}), inventories=invs)
    assert statuses(ev, "dns.health_check") == [FAIL]


@pytest.mark.parametrize(
    ("threshold", "expected", "text"),
    [
        (0, FAIL, "HealthThreshold 0: Route 53 always considers it healthy"),
        (1, PASS, "detects in 90s (2 of 2 children unhealthy)"),
        (2, PASS, "detects in 30s (1 of 2 children unhealthy)"),
        (3, WARN, "failover forced: calculated health check hc-1 needs 3 healthy of 2 children"),
    ],
)
def test_calculated_health_check_follows_its_threshold(threshold, expected, text):
    invs = f.replace_resource(
        f.ready_inventory(),
        "hc-1",
        attrs={"type": "CALCULATED", "children": ["hc-fast", "hc-slow"], "health_threshold": threshold},
    )
    children = [
        f.aws(Kind.DNS_HEALTH_CHECK, hc, region="", tags={}, attrs={"interval_s": i, "failure_threshold": 3})
        for hc, i in (("hc-fast", 10), ("hc-slow", 30))
    ]
    invs["aws-prod"] = dataclasses.replace(invs["aws-prod"], resources=[*invs["aws-prod"].resources, *children])
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "dns.health_check") == [expected]
    assert text in reasons(ev, "dns.health_check")


# --- drift, data, guardrails, dependencies -----------------------------------------------------


def test_secondary_on_older_version_fails_drift():
    invs = f.replace_resource(f.ready_inventory(), "gce-1", tags={"app": "checkout", "version": "1.3.0"})
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "drift.version") == [FAIL]
    assert "1.3.0" in reasons(ev, "drift.version")


def test_missing_version_tags_is_unknown_drift():
    invs = {
        n: dataclasses.replace(i, resources=[dataclasses.replace(r, tags={"app": "checkout"}) for r in i.resources])
        for n, i in f.ready_inventory().items()
    }
    assert statuses(f.evidence(inventories=invs), "drift.version") == [UNKNOWN]


def test_database_without_replica_fails():
    invs = f.drop_resources(f.ready_inventory(), lambda r: r.native_id == "orders-db-replica")
    invs = f.replace_resource(invs, "orders-db", attrs={"deletion_protection": True})
    assert statuses(f.evidence(inventories=invs), "data.replica") == [FAIL]


def test_stale_replica_fails_against_rpo():
    invs = f.replace_resource(
        f.ready_inventory(), "orders-db-replica", attrs={"replica_source": "orders-db", "replica_lag_s": 3600}
    )
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "data.replica") == [FAIL]
    assert "behind (RPO 5m)" in reasons(ev, "data.replica")


def test_replica_lag_unknown_is_unknown():
    invs = f.replace_resource(f.ready_inventory(), "orders-db-replica", attrs={"replica_source": "orders-db"})
    assert statuses(f.evidence(inventories=invs), "data.replica") == [UNKNOWN]


@pytest.mark.parametrize(
    ("attrs", "expected", "text"),
    [
        ({"replication": {"rules": []}}, FAIL, "exists only in aws:us-east-1"),
        ({"replication": {"rules": [{"status": "Enabled", "destination_region": "us-east-1"}]}}, FAIL, "only in"),
        ({"replication": {"rules": [{"status": "Disabled", "destination_region": "us-west-2"}]}}, FAIL, "only in"),
        ({"replication": None}, UNKNOWN, "replication unknown"),
        ({"replication": {"rules": [{"status": "Enabled", "destination_bucket": "x"}]}}, UNKNOWN, "region unknown"),
        (
            {"replication": {"rules": [{"status": "Enabled", "destination_region": "us-west-2", "prefix": "logs/"}]}},
            WARN,
            "only objects with prefix logs/ to us-west-2 are copied; the rest exist only in aws:us-east-1",
        ),
    ],
)
def test_bucket_replication_outside_the_region(attrs, expected, text):
    ev = f.evidence(inventories=f.replace_resource(f.ready_inventory(), "checkout-assets", attrs=attrs))
    assert statuses(ev, "data.bucket_replication") == [expected]
    assert text in reasons(ev, "data.bucket_replication")


@pytest.mark.parametrize(("geo", "expected"), [(True, PASS), (False, FAIL), (None, UNKNOWN)])
def test_azure_storage_account_counts_geo_redundancy(geo, expected):
    from failover.equivalence import bucket_copies

    account = f.res(
        "azure", "az", "westus2", Kind.STORAGE_BUCKET, "st", attrs={"replication": "LRS", "geo_redundant": geo}
    )
    copies = bucket_copies(account)
    assert (PASS if copies else (UNKNOWN if copies is None else FAIL)) == expected


def test_capacity_headroom_unknown_when_group_max_size_unreadable():
    invs = f.scale_secondary(1)
    invs = f.replace_resource(
        invs,
        "mig-checkout",
        attrs={"desired": 1, "max_size": None, "vcpu_per_instance": 4, "instance_ids": ["gce-1"]},
    )
    assert statuses(f.evidence(inventories=invs), "capacity.headroom") == [UNKNOWN]


def test_unprotected_instance_fails_deletion_protection():
    invs = f.replace_resource(f.ready_inventory(), "gce-2", attrs={"deletion_protection": False})
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "guardrails.deletion_protection") == [PASS, FAIL]
    assert "gce-2" in reasons(ev, "guardrails.deletion_protection")


def test_protection_unreadable_is_unknown():
    invs = f.replace_resource(f.ready_inventory(), "i-1", attrs={"deletion_protection": None})
    assert statuses(f.evidence(inventories=invs), "guardrails.deletion_protection") == [UNKNOWN, PASS]


def _protection_read(native_id: str, protected: bool, age: timedelta) -> dict[str, object]:
    attrs = {"deletion_protection": protected, "deletion_protection_read_at": (f.NOW - age).isoformat()}
    return f.replace_resource(f.ready_inventory(), native_id, attrs=attrs)


def test_protection_carried_over_past_stale_after_is_unknown_with_its_age():
    ev = f.evidence(inventories=_protection_read("i-1", True, timedelta(days=2)))  # stale_after: 24 h
    assert statuses(ev, "guardrails.deletion_protection") == [UNKNOWN, PASS]
    assert "i-1 (read 48h00m ago)" in reasons(ev, "guardrails.deletion_protection")


def test_an_unprotected_reading_past_stale_after_is_unknown_not_a_failure():
    ev = f.evidence(inventories=_protection_read("i-1", False, timedelta(days=2)))
    assert statuses(ev, "guardrails.deletion_protection") == [UNKNOWN, PASS]


def test_protection_carried_over_within_stale_after_still_counts():
    ev = f.evidence(inventories=_protection_read("i-1", False, timedelta(hours=5)))
    assert statuses(ev, "guardrails.deletion_protection") == [FAIL, PASS]


def test_sites_in_one_project_fail_blast_radius():
    cfg = f.config()
    wl = cfg.workloads[0]
    sec = wl.sites[1].model_copy(update={"account": "aws-prod", "regions": ["us-west-2"]})
    cfg = cfg.model_copy(update={"workloads": [wl.model_copy(update={"sites": [wl.sites[0], sec]})]})
    assert statuses(f.evidence(cfg=cfg), "guardrails.blast_radius") == [FAIL]


def test_dependency_only_on_primary_provider_fails():
    cfg = f.config(dependencies=[{"name": "sso", "kind": "identity", "provider": "aws"}])
    ev = f.evidence(cfg=cfg)
    assert statuses(ev, "dependencies.single_provider") == [FAIL]
    assert "identity sso lives only on aws" in reasons(ev, "dependencies.single_provider")


def test_a_check_that_crashes_reports_unknown():
    ev = f.evidence(
        inventories=f.replace_resource(f.ready_inventory(), "hc-1", attrs={"interval_s": "x", "failure_threshold": 3})
    )
    assert statuses(ev, "dns.health_check") == [UNKNOWN]


def test_committed_check_docs_match_the_catalogue():
    from pathlib import Path

    from failover.checks.catalog_doc import render

    committed = (Path(__file__).parents[2] / "docs" / "checks.md").read_text()
    assert committed == render(), "run: python -m failover.checks.catalog_doc > docs/checks.md"


# --- traffic manager ----------------------------------------------------------------------------

TM_FQDN = "checkout-tm.trafficmanager.net"


def _tm_case(**profile_attrs):
    cfg = f.config(
        dns={"name": f.PUBLIC, "mechanism": "traffic-manager"},
        sites=[
            {
                "name": "aws-east",
                "role": "primary",
                "account": "aws-prod",
                "regions": ["us-east-1"],
                "select": {"tags": {"app": "checkout"}},
            },
            {
                "name": "azure-west",
                "role": "secondary",
                "account": "az-dr",
                "regions": ["westus2"],
                "select": {"tags": {"app": "checkout"}},
                "failover_targets": ["20.1.1.1"],
            },
        ],
    )
    cfg = cfg.model_copy(
        update={
            "accounts": [
                *cfg.accounts,
                cfg.accounts[0].model_validate({"name": "az-dr", "provider": "azure", "subscription": "sub-1"}),
            ]
        }
    )
    attrs = {
        "routing_method": "Priority",
        "profile_status": "Enabled",
        "fqdn": TM_FQDN,
        "interval_s": 10,
        "failure_threshold": 3,
        "monitor_status": "Online",
        "endpoints": [
            {"name": "east", "target": "checkout-east.example.net", "priority": 1, "status": "Enabled"},
            {"name": "west", "target": "20.1.1.1", "priority": 2, "status": "Enabled"},
        ],
    }
    attrs.update(profile_attrs)
    profile = f.res(
        "azure",
        "az-dr",
        "global",
        Kind.DNS_HEALTH_CHECK,
        "/subscriptions/sub-1/tm/checkout-tm",
        name="checkout-tm",
        tags={},
        attrs=attrs,
    )
    invs = f.ready_inventory()
    invs["az-dr"] = dataclasses.replace(invs["gcp-dr"], account="az-dr", provider="azure", resources=[profile])
    observations = f.replace_obs(
        f.ready_observations(),
        "chain",
        data={
            "effective_ttl": 60,
            "chain": [
                {"name": f.PUBLIC, "rdtype": "CNAME", "ttl": 60, "values": [TM_FQDN + "."]},
                {"name": TM_FQDN, "rdtype": "A", "ttl": 60, "values": ["52.0.0.1"]},
            ],
        },
    )
    return f.evidence(cfg=cfg, inventories=invs, observations=observations)


def test_traffic_manager_priority_profile_with_secondary_endpoint_passes():
    ev = _tm_case()
    assert statuses(ev, "dns.failover_records") == [PASS]
    assert statuses(ev, "dns.health_check") == [PASS]
    assert "detects in 30s" in reasons(ev, "dns.health_check")


def test_traffic_manager_profile_not_pointing_at_secondary_fails():
    ev = _tm_case(
        endpoints=[
            {"name": "east", "target": "checkout-east.example.net", "priority": 1, "status": "Enabled"},
            {"name": "old", "target": "203.0.113.5", "priority": 2, "status": "Enabled"},
        ]
    )
    assert statuses(ev, "dns.failover_records") == [FAIL]
    assert "203.0.113.5" in reasons(ev, "dns.failover_records")


def test_traffic_manager_endpoint_name_resolving_to_the_secondary_points_at_it():
    endpoints = [
        {"name": "east", "target": "checkout-east.example.net", "priority": 1, "status": "Enabled"},
        {"name": "west", "target": "dr.example.net", "priority": 2, "status": "Enabled"},
    ]
    ev = _tm_case(endpoints=endpoints)
    assert statuses(ev, "dns.failover_records") == [UNKNOWN]
    assert "dr.example.net: not resolved yet" in reasons(ev, "dns.failover_records")
    from failover.checks.dns import names_to_resolve

    assert names_to_resolve(ev) == {TM_FQDN: ["dr.example.net"]}  # the standby endpoints, not the first
    for answer, expected in (("20.1.1.1", PASS), ("198.51.100.1", FAIL)):
        resolved = f.obs(
            "dns",
            "secondary-target",
            target="dr.example.net",
            names=["dr.example.net", "dr-lb.example.net"],
            answers=[answer],
        )
        ev2 = f.evidence(cfg=ev.config, inventories=dict(ev.inventories), observations=[*ev.observations, resolved])
        assert statuses(ev2, "dns.failover_records") == [expected], reasons(ev2, "dns.failover_records")


def test_traffic_manager_weighted_or_unmonitored_profile_fails():
    ev = _tm_case(routing_method="Weighted", interval_s=None)
    text = reasons(ev, "dns.failover_records")
    assert statuses(ev, "dns.failover_records") == [FAIL]
    assert "not Priority" in text and "no endpoint monitoring" in text


def test_traffic_manager_profile_hidden_by_denied_inventory_is_unknown():
    ev = _tm_case()
    invs = dict(ev.inventories)
    invs["az-dr"] = dataclasses.replace(invs["az-dr"], resources=[])
    invs = f.incomplete(invs, "az-dr", "subscriptions/sub-1/resources")
    ev = f.evidence(cfg=ev.config, inventories=invs, observations=ev.observations)
    assert statuses(ev, "dns.failover_records") == [UNKNOWN]
    assert statuses(ev, "dns.health_check") == [UNKNOWN]


def test_traffic_manager_detection_counts_in_the_rto_estimate():
    from failover.scoring import estimate_rto

    ev = _tm_case()
    rto = estimate_rto(ev, ev.config.scoring)
    assert (rto.detection_s, rto.decision_s) == (30.0, 0.0)


# --- several vantages ---------------------------------------------------------------------------


def _from(vantage, **changes):
    return [
        dataclasses.replace(o, vantage=vantage, **changes) if o.probe == "http" else o for o in f.ready_observations()
    ]


def test_a_failure_seen_from_any_vantage_fails_the_secondary():
    observations = _from("eu-1") + [
        o for o in _from("us-1", status=ObsStatus.FAILED, reason="connection refused") if o.probe == "http"
    ]
    ev = f.evidence(observations=observations)
    assert statuses(ev, "secondary.health") == [FAIL]
    assert "from us-1: connection refused" in reasons(ev, "secondary.health")


def test_one_vantage_that_cannot_probe_does_not_hide_another_vantage_answer():
    observations = _from("eu-1") + [
        o for o in _from("us-1", status=ObsStatus.ERROR, reason="network unreachable") if o.probe == "http"
    ]
    assert statuses(f.evidence(observations=observations), "secondary.health") == [PASS]


# --- drills -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drill", "expected", "text"),
    [
        (None, WARN, "no failover drill recorded"),
        (Drill("checkout", f.NOW - timedelta(days=200), True, 300.0), WARN, "older than"),
        (Drill("checkout", f.NOW - timedelta(days=5), False, None, "DNS never moved"), FAIL, "DNS never moved"),
        (Drill("checkout", f.NOW - timedelta(days=5), True, 3600.0), FAIL, "over the RTO 15m"),
        (Drill("checkout", f.NOW - timedelta(days=5), True, 420.0), PASS, "recovered in 7m"),
        (Drill("checkout", f.NOW + timedelta(minutes=4), True, 420.0), PASS, "recovered in 7m"),  # clock skew
        (Drill("checkout", f.NOW + timedelta(days=365 * 973), True, 60.0), WARN, "dated in the future"),
    ],
)
def test_failover_drill_evidence(drill, expected, text):
    ev = f.evidence(drill=drill)
    assert statuses(ev, "evidence.drill") == [expected]
    assert text in reasons(ev, "evidence.drill")


def test_group_running_fewer_members_than_desired_counts_only_running_capacity():
    invs = f.replace_resource(
        f.scale_secondary(4),
        "mig-checkout",
        capacity=Capacity(vcpu=4, instances=1),
        attrs={"desired": 4, "max_size": 10, "stable": False, "vcpu_per_instance": 4, "instance_ids": []},
    )
    invs = f.drop_resources(invs, lambda r: r.kind == Kind.COMPUTE_INSTANCE and r.provider == "gcp")
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "capacity.ratio") == [FAIL]
    assert "mig-checkout runs 1 of 4 desired" in reasons(ev, "capacity.ratio")


def test_group_whose_running_members_are_unknown_makes_capacity_unknown():
    invs = f.replace_resource(
        f.scale_secondary(0),
        "mig-checkout",
        capacity=Capacity(),
        attrs={"desired": 4, "max_size": 10, "vcpu_per_instance": 4},
    )
    ev = f.evidence(inventories=invs)
    assert statuses(ev, "capacity.ratio") == [UNKNOWN]
    assert "running members unknown" in reasons(ev, "capacity.ratio")


def test_weighted_group_short_of_its_desired_units_reports_the_gap_in_units():
    # An ASG wanting 24 units runs 2 members of weight 4 (8 units, 16 vCPU): short in units, not in members.
    invs = f.replace_resource(
        f.scale_secondary(4),
        "mig-checkout",
        capacity=Capacity(vcpu=16, instances=2),
        attrs={"desired": 24, "max_size": 32, "capacity_unit": "units", "running_units": 8, "in_service": 2},
    )
    invs = f.drop_resources(invs, lambda r: r.kind == Kind.COMPUTE_INSTANCE and r.provider == "gcp")
    ev = f.evidence(inventories=invs)
    assert "group mig-checkout runs 8 of 24 desired units" in reasons(ev, "capacity.ratio")
    assert statuses(ev, "secondary.health") == [WARN]
    assert "group mig-checkout: 8 of 24 units in service" in reasons(ev, "secondary.health")
    # Headroom in units: (32 - 8) units x 2 vCPU per unit on top of the 16 running.
    from failover.equivalence import site_capacity

    assert site_capacity(ev.resources(ev.workload.secondaries[0])).max_vcpu == 64
