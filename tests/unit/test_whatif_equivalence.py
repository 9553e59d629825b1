"""The fast what-if (only the checks its verdict reads, only where a verdict reads them, the domain's
inventory built once and only when it changes) answers exactly as the exhaustive one: every check of
every workload under every domain over an inventory rebuilt per domain."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from failover.model import Inventory, Kind, Observation, ObsStatus
from failover.schema import Config
from failover.whatif import ALL_PROVIDERS, Domain, StoredEvidence, Survival, what_if
from failover.whatif.evaluate import exhaustive_what_if
from tests.factories import (
    NOW,
    config_data,
    drop_resources,
    ready_inventory,
    ready_observations,
    replace_obs,
    replace_resource,
    scale_secondary,
    without_obs,
)

DOWNS = [*ALL_PROVIDERS, Domain("aws", "us-east-1"), Domain("aws", "us-west-2"), Domain("gcp", "us-central1")]
AWS_ONLY_NS = [{"name": "ns-1.awsdns-01.org", "provider": "aws"}]


def _swapped(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**s, "role": "secondary" if s["role"] == "primary" else "primary"} for s in reversed(workload["sites"])]


def varied_config() -> Config:
    """Workloads over the same resources that differ in what the failed domain touches: the ready one,
    one with its roles swapped (GCP primary), one without a dns: section and a GCP-only dependency,
    one whose secondary is in the primary's provider, and one declaring its data stores."""
    base = config_data()
    ready = base["workloads"][0]
    region_pair = [
        ready["sites"][0],
        {**ready["sites"][0], "name": "aws-west", "role": "secondary", "regions": ["us-west-2"]},
    ]
    base["workloads"] = [
        ready,
        {**ready, "name": "reverse", "sites": _swapped(ready)},
        {
            **ready,
            "name": "nodns",
            "dns": None,
            "dependencies": [{"name": "sso", "kind": "identity", "provider": "gcp"}],
        },
        {**ready, "name": "one-cloud", "sites": region_pair},
        {
            **ready,
            "name": "stateful",
            "data": [
                {
                    "name": "orders",
                    "kind": "rds",
                    "site": "aws-east",
                    "select": {"ids": ["orders-db"]},
                    "copy_to": "gcp",
                },
                {"name": "assets", "kind": "s3", "select": {"ids": ["checkout-assets"]}},
                {"name": "ledger", "kind": "rds", "site": "gcp-central"},
            ],
        },
    ]
    return Config.model_validate(base)


def observations(names: list[str], broken: str) -> list[Observation]:
    """Each workload's probes; ``broken`` says how they differ from the ready ones."""
    ready = ready_observations()
    changed = {
        "ready": ready,
        "no-delegation": without_obs(ready, "delegation"),
        "aws-only-ns": replace_obs(ready, "delegation", data={"zone": "example.com", "nameservers": AWS_ONLY_NS}),
        "secondary-down": replace_obs(ready, "direct", status=ObsStatus.FAILED, reason="503"),
        "none": [],
    }[broken]
    return [dataclasses.replace(o, workload=n) for n in names for o in changed]


def inventories(which: str) -> dict[str, Inventory]:
    return {
        "ready": ready_inventory(),
        "stateless": drop_resources(ready_inventory(), lambda r: r.kind in (Kind.DB_INSTANCE, Kind.STORAGE_BUCKET)),
        "small-secondary": scale_secondary(1, max_size=2),
        "no-health-check": drop_resources(ready_inventory(), lambda r: r.kind == Kind.DNS_HEALTH_CHECK),
        "unhealthy-check": replace_resource(
            ready_inventory(), "hc-1", attrs={"interval_s": 30, "failure_threshold": 3, "status": "unhealthy"}
        ),
        "nothing": {},
    }[which]


@pytest.mark.parametrize("inventory", ["ready", "stateless", "small-secondary", "no-health-check", "unhealthy-check"])
@pytest.mark.parametrize("broken", ["ready", "no-delegation", "aws-only-ns", "secondary-down", "none"])
def test_fast_what_if_answers_exactly_as_the_exhaustive_one(inventory: str, broken: str) -> None:
    cfg = varied_config()
    names = [w.name for w in cfg.workloads]
    evidence = StoredEvidence(
        inventories=list(inventories(inventory).values()), observations=observations(names, broken), now=NOW
    )
    fast = what_if(cfg, evidence, DOWNS)
    assert fast == exhaustive_what_if(cfg, evidence, DOWNS)
    assert [(r.workload, r.down) for r in fast] == [(n, d) for n in names for d in DOWNS]


def test_the_varied_estate_has_every_answer_and_both_paths() -> None:
    """The comparison above is only as good as the estate: it reaches yes, no and unknown, with the
    primary down and up, reasons and RTOs (so every requirement runs on both paths)."""
    cfg = varied_config()
    names = [w.name for w in cfg.workloads]
    seen: set[tuple[Survival, bool]] = set()
    for inventory in ("ready", "small-secondary"):
        for broken in ("ready", "no-delegation", "secondary-down"):
            evidence = StoredEvidence(
                inventories=list(inventories(inventory).values()), observations=observations(names, broken), now=NOW
            )
            seen |= {(r.survives, r.primary_down) for r in what_if(cfg, evidence, DOWNS)}
    assert {s for s, _ in seen} == set(Survival)
    assert {down for _, down in seen} == {True, False}
    assert (Survival.YES, True) in seen and (Survival.YES, False) in seen


def test_a_selection_answers_as_in_the_whole_estate() -> None:
    cfg = varied_config()
    names = [w.name for w in cfg.workloads]
    evidence = StoredEvidence(
        inventories=list(ready_inventory().values()), observations=observations(names, "ready"), now=NOW
    )
    whole = {(r.workload, r.down): r for r in what_if(cfg, evidence, DOWNS)}
    some = [cfg.workloads[1], cfg.workloads[3]]
    assert what_if(cfg, evidence, DOWNS, some) == [whole[(w.name, d)] for w in some for d in DOWNS]
