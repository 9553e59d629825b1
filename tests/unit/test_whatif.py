"""The what-if on factory data: the ready estate (AWS us-east-1 primary, GCP secondary, Route 53
failover records health-checked, DNS on Route 53 and Cloud DNS), each test taking one domain down."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from failover.model import Inventory, Kind, Observation, ObsStatus, Resource, RtoVerdict
from failover.whatif import ALL_PROVIDERS, Domain, Survival, WhatIf, summary, what_if
from providers.cloudflare.normalize import normalize_load_balancer
from tests.factories import (
    NOW,
    PUBLIC,
    config,
    drop_resources,
    obs,
    ready_inventory,
    ready_observations,
    replace_resource,
    stored,
    without_obs,
)

EAST = Domain("aws", "us-east-1")
DATA = (Kind.DB_INSTANCE, Kind.STORAGE_BUCKET)


def one(
    cfg: Any = None, inventories: dict[str, Inventory] | None = None, observations: Any = None, *, down: Domain
) -> WhatIf:
    [result] = what_if(cfg or config(), stored(inventories, observations), [down])
    return result


def checks(r: WhatIf) -> list[str]:
    return [x.check for x in r.reasons]


def stateless() -> dict[str, Inventory]:
    return drop_resources(ready_inventory(), lambda r: r.kind in DATA)


def test_region_down_kills_the_primary_and_the_healthy_secondary_takes_over_within_target() -> None:
    r = one(inventories=stateless(), down=EAST)
    assert (r.survives, r.serving_site, r.rto_verdict, r.primary_down) == (
        Survival.YES,
        "gcp-central",
        RtoVerdict.WITHIN,
        True,
    )
    # health check 10 s x 3 + TTL 60 s; nothing to scale, no data to promote
    assert r.rto_estimate_s == 90.0
    assert r.rpo_exposure_s == 0.0 and r.reasons == ()


def test_rpo_exposure_is_the_lag_of_the_replica_outside_the_failed_region() -> None:
    invs = drop_resources(ready_inventory(), lambda r: r.kind == Kind.STORAGE_BUCKET)
    r = one(inventories=invs, down=EAST)
    assert r.survives == Survival.YES and r.rpo_exposure_s == 12.0  # orders-db-replica in us-west-2


def test_bucket_copy_without_a_reported_lag_leaves_the_exposure_unknown_and_says_why() -> None:
    r = one(down=EAST)
    assert r.survives == Survival.YES and r.rpo_exposure_s is None
    assert "data.bucket_replication" in checks(r)


def test_whole_provider_down_takes_route53_answers_and_health_checks_with_it() -> None:
    r = one(inventories=stateless(), down=Domain("aws"))
    assert r.survives == Survival.NO and r.serving_site is None and r.rto_estimate_s is None
    assert r.rto_verdict == RtoVerdict.EXCEEDS
    assert any(x.check == "dns.failover_records" and "route53-failover" in x.message for x in r.reasons)


def test_replica_on_the_failed_provider_is_no_copy_and_the_workload_does_not_survive() -> None:
    invs = drop_resources(ready_inventory(), lambda r: r.kind == Kind.STORAGE_BUCKET)
    r = one(cloudflare_config(), with_cloudflare(invs), cloudflare_observations(), down=Domain("aws"))
    assert r.survives == Survival.NO and r.rpo_exposure_s is None
    assert any(x.check == "data.replica" and "no copy outside aws" in x.message for x in r.reasons)


def test_secondary_in_the_failed_domain_cannot_take_over() -> None:
    cfg = config()
    w = cfg.workloads[0]
    secondary = w.sites[1].model_copy(update={"account": "aws-prod", "regions": ["us-east-1"]})
    cfg = cfg.model_copy(update={"workloads": [w.model_copy(update={"sites": [w.sites[0], secondary]})]})
    r = one(cfg, stateless(), down=EAST)
    assert r.survives == Survival.NO and r.serving_site is None
    assert any(x.check == "secondary.health" and "in the failed domain too" in x.message for x in r.reasons)


def test_secondary_down_leaves_the_primary_serving() -> None:
    r = one(inventories=stateless(), down=Domain("gcp"))
    assert (r.survives, r.serving_site, r.rto_estimate_s, r.primary_down) == (Survival.YES, "aws-east", 0.0, False)


def test_missing_secondary_probes_make_survival_unknown_never_yes() -> None:
    observations = [o for o in ready_observations() if o.probe != "http"]
    r = one(inventories=stateless(), observations=observations, down=EAST)
    assert r.survives == Survival.UNKNOWN and "secondary.health" in checks(r)
    assert not r.within_target


def test_missing_delegation_makes_even_an_untouched_workload_unknown() -> None:
    r = one(inventories=stateless(), observations=without_obs(ready_observations(), "delegation"), down=Domain("gcp"))
    assert r.survives == Survival.UNKNOWN and "dns.delegation" in checks(r)


def test_failing_secondary_health_is_no() -> None:
    observations = [
        dataclasses.replace(o, status=ObsStatus.FAILED, reason="HTTP 503") if o.probe == "http" else o
        for o in ready_observations()
    ]
    r = one(inventories=stateless(), observations=observations, down=EAST)
    assert r.survives == Survival.NO and "secondary.health" in checks(r)


def test_name_servers_all_on_the_failed_provider_take_the_name_down() -> None:
    observations = [
        obs("dns", "delegation", zone="example.com", nameservers=[{"name": "ns-1.awsdns-01.org", "provider": "aws"}])
        if o.label == "delegation"
        else o
        for o in ready_observations()
    ]
    r = one(cloudflare_config(), with_cloudflare(stateless()), observations, down=Domain("aws"))
    assert r.survives == Survival.NO
    assert any(x.check == "dns.delegation" and "on aws, which is down" in x.message for x in r.reasons)


def test_dependency_only_on_the_failed_provider_breaks_the_workload() -> None:
    cfg = config(dependencies=[{"name": "sso", "kind": "identity", "provider": "gcp"}])
    r = one(cfg, stateless(), down=Domain("gcp"))
    assert r.survives == Survival.NO and checks(r) == ["dependencies.single_provider"]
    regional = one(cfg, stateless(), down=Domain("gcp", "us-central1"))
    assert regional.survives == Survival.UNKNOWN and "declares no region" in regional.reasons[0].message


# ----------------------------------------------------------------------------- Route 53's control plane
def unhealth_checked(accelerated: str | None) -> dict[str, Inventory]:
    """The primary record with no health check (failover is a record change), in a zone whose
    accelerated recovery is ``accelerated``."""
    invs = replace_resource(
        stateless(),
        "Z1/checkout.example.com/A/primary",
        attrs={"failover": "PRIMARY", "set_identifier": "primary", "ttl": 60, "values": ["52.0.0.1"]},
    )
    return replace_resource(invs, "Z1", attrs={"accelerated_recovery": accelerated})


def test_record_change_waits_while_us_east_1_is_down() -> None:
    r = one(inventories=unhealth_checked(None), down=EAST)
    assert r.survives == Survival.NO
    assert any("waits until aws us-east-1 recovers" in x.message for x in r.reasons)


def test_accelerated_recovery_resumes_the_record_change_through_us_west_2_after_about_an_hour() -> None:
    r = one(inventories=unhealth_checked("ENABLED"), down=EAST)
    assert r.survives == Survival.YES and r.serving_site == "gcp-central"
    assert r.rto_estimate_s is not None and r.rto_estimate_s >= 3600.0
    assert r.rto_verdict == RtoVerdict.EXCEEDS  # an hour is past the 15 m target
    assert any("us-west-2" in x.message and "accelerated recovery" in x.message for x in r.reasons)


def test_accelerated_recovery_does_not_help_when_us_west_2_is_down_too() -> None:
    r = one(inventories=unhealth_checked("ENABLED"), down=Domain("aws"))
    assert r.survives == Survival.NO


def test_health_checked_failover_needs_no_control_plane_when_us_east_1_is_down() -> None:
    r = one(inventories=stateless(), down=EAST)
    assert not any("configuration change" in x.message for x in r.reasons)


# ----------------------------------------------------------------------------- other routing services
def test_azure_down_takes_a_traffic_manager_path_down_even_with_the_primary_on_aws() -> None:
    cfg = config(dns={"name": PUBLIC, "mechanism": "traffic-manager"})
    r = one(cfg, stateless(), down=Domain("azure"))
    assert r.survives == Survival.NO and r.primary_down is False
    assert any(x.check == "dns.failover_records" and "traffic-manager" in x.message for x in r.reasons)


CF_SECONDARY = "34.1.2.3"  # the GCP secondary's address (nat_ips of its instances)
CF_ZONE = "0123456789abcdef0123456789abcdef"


def with_cloudflare(invs: dict[str, Inventory]) -> dict[str, Inventory]:
    monitor = {"id": "m1", "type": "https", "interval": 10, "retries": 0, "consecutive_down": 3}
    pools = {
        "east": {"id": "east", "name": "east", "enabled": True, "minimum_origins": 1, "monitor": "m1",
                 "origins": [{"name": "e", "address": "checkout-east.example.net", "enabled": True, "weight": 1}]},
        "west": {"id": "west", "name": "west", "enabled": True, "minimum_origins": 1, "monitor": "m1",
                 "origins": [{"name": "w", "address": CF_SECONDARY, "enabled": True, "weight": 1}]},
    }  # fmt: skip
    body = {
        "id": "lb1",
        "name": PUBLIC,
        "enabled": True,
        "proxied": True,
        "ttl": 30,
        "steering_policy": "off",
        "default_pools": ["east", "west"],
        "fallback_pool": "west",
    }
    lb: Resource = normalize_load_balancer(
        body,
        account="cf",
        zone={"id": CF_ZONE, "name": "example.com"},
        cloudflare_account="a1",
        pools=pools,
        monitors={"m1": monitor},
        health={},
    )
    out = dict(invs)
    out["cf"] = Inventory(account="cf", provider="cloudflare", resources=[lb], started_at=NOW, finished_at=NOW)
    return out


def cloudflare_observations() -> list[Observation]:
    cf = [{"name": "bob.ns.cloudflare.com", "provider": "other:cloudflare.com"}]
    return [
        obs("dns", "delegation", zone="example.com", nameservers=cf) if o.label == "delegation" else o
        for o in ready_observations()
    ]


def cloudflare_config() -> Any:
    cfg = config(dns={"name": PUBLIC, "mechanism": "cloudflare-lb"})
    accounts = [
        *cfg.accounts,
        cfg.accounts[0].model_validate({"name": "cf", "provider": "cloudflare", "zones": [CF_ZONE]}),
    ]
    return cfg.model_copy(update={"accounts": accounts})


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure"])
def test_cloudflare_path_survives_any_one_of_the_three_clouds(provider: str) -> None:
    r = one(cloudflare_config(), with_cloudflare(stateless()), cloudflare_observations(), down=Domain(provider))
    assert r.survives == Survival.YES, r.reasons
    assert r.within_target
    assert r.serving_site == ("gcp-central" if provider == "aws" else "aws-east")


def test_cloudflare_down_takes_its_path_down() -> None:
    r = one(cloudflare_config(), with_cloudflare(stateless()), cloudflare_observations(), down=Domain("cloudflare"))
    assert r.survives == Survival.NO


# ----------------------------------------------------------------------------- the matrix
def test_matrix_sentence_counts_workloads_serving_within_target() -> None:
    results = what_if(config(), stored(stateless()), ALL_PROVIDERS)
    assert [(str(r.down), str(r.survives)) for r in results] == [("aws", "no"), ("gcp", "yes"), ("azure", "yes")]
    assert summary(results, Domain("aws")) == "If AWS went down now: 0 of 1 workload would be serving within target"
    assert summary(results, Domain("gcp")) == "If GCP went down now: 1 of 1 workload would be serving within target"


def test_json_shape_has_the_public_keys() -> None:
    [r] = what_if(config(), stored(stateless()), [EAST])
    data = r.to_dict()
    public = [
        "workload",
        "down",
        "survives",
        "serving_site",
        "rto_estimate_s",
        "rto_verdict",
        "rpo_exposure_s",
        "reasons",
    ]
    assert list(data)[: len(public)] == public
    assert data["down"] == "aws:us-east-1" and data["survives"] == "yes" and data["rto_verdict"] == "within"


def test_stale_evidence_is_unknown_never_yes() -> None:
    later = dataclasses.replace(stored(stateless()), now=NOW + timedelta(days=3))
    [r] = what_if(config(), later, [EAST])
    assert r.survives == Survival.UNKNOWN and not r.within_target
