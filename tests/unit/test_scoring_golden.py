"""Scores of the factory estate, ready and broken one way at a time, match the recorded ones exactly.

The recording (tests/fixtures/scores_golden.json) was taken before scoring read gates, RTO credit and
category weights from the check registrations instead of check ids; it pins every readiness, status,
gate text, reason and point. Regenerate it only for an intended change of scoring:
``PYTHONPATH=$PWD python -m tests.unit.test_scoring_golden > tests/fixtures/scores_golden.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from failover.checks import Evidence, run_checks
from failover.model import Kind, ObsStatus
from failover.scoring import score
from tests import factories as f

GOLDEN = Path(__file__).parents[1] / "fixtures" / "scores_golden.json"


def _scaled(instances: int, max_size: int) -> dict[str, Any]:
    """Recorded on a group that names no CPU quota metric (so quota headroom is not read)."""
    return f.scale_secondary(instances, max_size, cpu_quota_metric=None)


def _aws_only_ns() -> list[Any]:
    return f.replace_obs(
        f.ready_observations(),
        "delegation",
        data={"zone": "example.com", "nameservers": [{"name": "ns-1.awsdns-01.org", "provider": "aws"}]},
    )


def _same_provider_secondary() -> Evidence:
    cfg = f.config()
    sites = [dict(s) for s in cfg.workloads[0].model_dump(mode="json")["sites"]]
    sites[1] = {**sites[1], "account": "aws-prod", "regions": ["us-east-1"]}
    return f.evidence(cfg=f.config(sites=sites))


SCENARIOS: dict[str, Callable[[], Evidence]] = {
    "ready": f.evidence,
    "long_ttl_and_unprotected_vm": lambda: f.evidence(
        inventories=f.replace_resource(f.ready_inventory(), "gce-2", attrs={"deletion_protection": False}),
        observations=f.replace_obs(f.ready_observations(), "chain", data={"effective_ttl": 3600}),
    ),
    "secondary_fails_direct": lambda: f.evidence(
        observations=f.replace_obs(f.ready_observations(), "direct", status=ObsStatus.FAILED, reason="HTTP 503")
    ),
    "secondary_fails_both": lambda: f.evidence(
        observations=f.replace_obs(
            f.replace_obs(f.ready_observations(), "direct", status=ObsStatus.FAILED, reason="HTTP 503"),
            "as-public-name",
            status=ObsStatus.FAILED,
            reason="HTTP 503",
        )
    ),
    "secondary_unprobed": lambda: f.evidence(
        observations=f.without_obs(f.without_obs(f.ready_observations(), "direct"), "as-public-name")
    ),
    "dns_only_on_aws": lambda: f.evidence(observations=_aws_only_ns()),
    "scaled_to_zero_aws_only_dns": lambda: f.evidence(inventories=_scaled(0, 0), observations=_aws_only_ns()),
    "scaled_to_zero_can_grow": lambda: f.evidence(inventories=_scaled(0, 10)),
    "scaled_to_one_can_grow": lambda: f.evidence(inventories=_scaled(1, 10)),
    "scaled_to_two_capped_at_two": lambda: f.evidence(inventories=_scaled(2, 2)),
    "no_effective_ttl": lambda: f.evidence(observations=f.without_obs(f.ready_observations(), "chain")),
    "no_health_check": lambda: f.evidence(
        inventories=f.drop_resources(f.ready_inventory(), lambda r: r.kind == Kind.DNS_HEALTH_CHECK)
    ),
    "no_failover_records": lambda: f.evidence(
        inventories=f.drop_resources(f.ready_inventory(), lambda r: r.kind == Kind.DNS_RECORD)
    ),
    "slow_health_check": lambda: f.evidence(
        inventories=f.replace_resource(
            f.ready_inventory(), "hc-1", attrs={"interval_s": 30, "failure_threshold": 10, "status": "healthy"}
        )
    ),
    "stale_replica": lambda: f.evidence(
        inventories=f.replace_resource(
            f.ready_inventory(),
            "orders-db-replica",
            attrs={"replica_source": "orders-db", "replica_lag_s": 3600, "deletion_protection": True},
        )
    ),
    "no_replica": lambda: f.evidence(
        inventories=f.drop_resources(f.ready_inventory(), lambda r: r.native_id == "orders-db-replica")
    ),
    "gcp_inventory_incomplete": lambda: f.evidence(
        inventories=f.incomplete(f.ready_inventory(), "gcp-dr", "us-central1")
    ),
    "no_drill": lambda: f.evidence(drill=None),
    "secondary_on_primary_provider": _same_provider_secondary,
    "nothing_observed": lambda: f.evidence(observations=[]),
    "custom_weights": lambda: f.evidence(
        cfg=f.config().model_copy(
            update={
                "scoring": f.config().scoring.model_copy(update={"weights": {"dns": 0.0, "drift": 5.0, "other": 2.0}})
            }
        ),
        observations=f.replace_obs(f.ready_observations(), "chain", data={"effective_ttl": 3600}),
    ),
}


def scored(name: str) -> dict[str, Any]:
    ev = SCENARIOS[name]()
    out = score(ev, run_checks(ev)).to_dict()
    out.pop("computed_at")
    return json.loads(json.dumps(out))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_score_matches_the_recorded_one(name):
    assert scored(name) == json.loads(GOLDEN.read_text())[name]


def test_recording_covers_every_scenario():
    assert sorted(json.loads(GOLDEN.read_text())) == sorted(SCENARIOS)


if __name__ == "__main__":
    print(json.dumps({name: scored(name) for name in sorted(SCENARIOS)}, indent=1, sort_keys=True))
