"""Scoring on data: statuses, gates, points to gain, single-provider risk and the RTO estimate."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from failover.checks import CATALOG, run_checks
from failover.model import Finding, FindingStatus, Kind, ObsStatus, Status
from failover.scoring import estimate_rto, score
from tests import factories as f


def scored(ev):
    return score(ev, run_checks(ev))


def test_ready_estate_scores_ready_with_no_reasons():
    s = scored(f.evidence())
    assert s.status == Status.READY
    assert s.readiness == 100.0
    assert s.reasons == []
    assert s.single_provider_risk == {"aws": 0.0, "gcp": 0.0}


def test_rto_estimate_adds_detection_dns_and_data_promotion():
    ev = f.evidence()
    rto = estimate_rto(ev, ev.config.scoring)
    # 10 s x 3 detection, automatic decision, 60 s TTL, no scale-up, 300 s replica promotion
    assert (rto.detection_s, rto.decision_s, rto.dns_s, rto.scale_s, rto.data_s) == (30.0, 0.0, 60.0, 0.0, 300.0)
    assert rto.total_s == 390.0
    assert scored(ev).rto_estimate_s == 390.0


def test_scale_up_time_counts_batches_of_provisioning():

    ev = f.evidence(inventories=f.scale_secondary(1, max_size=10))
    rto = estimate_rto(ev, ev.config.scoring)
    assert rto.scale_s == 60.0  # 3 instances, one parallel batch of 60 s
    assert scored(ev).status != Status.READY  # capacity.ratio is a critical failure


def test_secondary_scaled_to_zero_and_dns_on_route53_only_is_not_ready():

    observations = f.replace_obs(
        f.ready_observations(),
        "delegation",
        data={"zone": "example.com", "nameservers": [{"name": "ns-1.awsdns-01.org", "provider": "aws"}]},
    )
    ev = f.evidence(inventories=f.scale_secondary(0, max_size=0), observations=observations)
    s = scored(ev)
    assert s.status == Status.NOT_READY
    assert s.single_provider_risk["aws"] == 1.0
    assert "secondary cannot reach the required capacity" in s.details["gates"]
    assert any(r.check == "capacity.ratio" for r in s.reasons)


def test_reasons_hold_every_non_pass_ranked_by_points():
    observations = f.replace_obs(f.ready_observations(), "chain", data={"effective_ttl": 3600})
    invs = f.replace_resource(f.ready_inventory(), "gce-2", attrs={"deletion_protection": False})
    s = scored(f.evidence(inventories=invs, observations=observations))
    assert [r.check for r in s.reasons] == ["dns.ttl", "guardrails.deletion_protection"]
    # The long TTL pushes the RTO over target (a cap at 79); fixing it lifts the cap, while
    # protecting gce-2 gains only its own weight.
    assert s.reasons[0].points > 15
    assert 0 < s.reasons[1].points < 10
    assert s.status == Status.AT_RISK


def test_failing_secondary_caps_readiness_and_blocks_ready():
    observations = f.replace_obs(f.ready_observations(), "direct", status=ObsStatus.FAILED, reason="HTTP 503")
    s = scored(f.evidence(observations=observations))
    assert s.readiness <= 40.0
    assert s.status == Status.NOT_READY
    assert s.single_provider_risk["aws"] == 1.0


def test_mostly_missing_evidence_is_unknown():
    s = scored(f.evidence(inventories={}, observations=[]))
    assert s.status == Status.UNKNOWN


def test_fixing_the_gating_finding_gains_the_most_points():
    observations = f.replace_obs(f.ready_observations(), "direct", status=ObsStatus.FAILED, reason="HTTP 503")
    invs = f.replace_resource(f.ready_inventory(), "gce-2", attrs={"deletion_protection": False})
    s = scored(f.evidence(inventories=invs, observations=observations))
    assert s.reasons[0].check == "secondary.health"
    # Fixing health lifts the 40-point cap: it gains far more than its own weight.
    assert s.reasons[0].points > 40
    assert s.reasons[-1].points >= 0


def test_points_of_a_single_fix_match_the_rescored_readiness():
    invs = f.replace_resource(f.ready_inventory(), "gce-2", attrs={"deletion_protection": False})
    s = scored(f.evidence(inventories=invs))
    assert len(s.reasons) == 1
    assert abs(100 - s.readiness - s.reasons[0].points) < 0.2


STATUSES = st.sampled_from(list(FindingStatus))


@st.composite
def finding_sets(draw):
    ev = f.evidence()
    findings = []
    for check_id, meta in CATALOG.items():
        for subject in draw(st.lists(st.sampled_from(["gcp-central", "aws-east", "x"]), min_size=1, max_size=2)):
            findings.append(
                Finding(
                    check=check_id,
                    workload="checkout",
                    status=draw(STATUSES),
                    reason="r",
                    category=meta.category,
                    severity=meta.severity,
                    subject=subject,
                )
            )
    return ev, findings


@settings(max_examples=300, deadline=None)
@given(finding_sets())
def test_unknown_or_failed_secondary_never_scores_ready(case):
    ev, findings = case
    s = score(ev, findings)
    has_unknown = any(x.status == FindingStatus.UNKNOWN for x in findings)
    secondary_failed = any(x.check == "secondary.health" and x.status == FindingStatus.FAIL for x in findings)
    no_healthy = not any(
        x.check == "secondary.health" and x.status in (FindingStatus.PASS, FindingStatus.WARN) for x in findings
    )
    if has_unknown or no_healthy or (secondary_failed and no_healthy):
        assert s.status != Status.READY
    assert 0.0 <= s.readiness <= 100.0
    assert all(r.status != "pass" for r in s.reasons)


@settings(max_examples=60, deadline=None)
@given(
    account=st.sampled_from(["aws-prod", "gcp-dr"]),
    scope=st.sampled_from(["us-east-1/ec2", "route53", "acme-dr/instances", "*", "zones/us-central1-a"]),
    error=st.sampled_from(["access_denied", "throttled", "unreachable", "error"]),
    probe_fails=st.booleans(),
)
def test_incomplete_inventory_or_failed_probe_never_ready(account, scope, error, probe_fails):
    invs = f.incomplete(f.ready_inventory(), account, scope, error)
    observations = f.ready_observations()
    if probe_fails:
        observations = f.replace_obs(observations, "direct", status=ObsStatus.FAILED, reason="refused")
        invs = f.ready_inventory()
    assert scored(f.evidence(inventories=invs, observations=observations)).status != Status.READY


def test_region_resources_never_count_as_compute():
    invs = f.ready_inventory()
    assert any(r.kind == Kind.REGION for r in invs["gcp-dr"].resources)
    assert scored(f.evidence(inventories=invs)).status == Status.READY


def test_secondary_that_can_never_reach_capacity_reports_rto_lower_bound_and_exceeds():

    ev = f.evidence(inventories=f.scale_secondary(1, max_size=1))
    s = scored(ev)
    assert s.rto_estimate_s is None  # keeps its meaning: not fully known
    assert s.rto_lower_bound_s == 390.0  # detection 30 + DNS 60 + promotion 300 are known
    assert s.rto_verdict == "exceeds"
    assert s.to_dict()["rto_verdict"] == "exceeds" and s.to_dict()["rto_lower_bound_s"] == 390.0
    assert any("exceeds target" in g for g in s.details["gates"])


def test_unknown_ttl_with_known_part_over_target_exceeds():
    cfg = f.config(targets={"rto": "5m", "rpo": "5m", "capacity_ratio": 1.0, "max_dns_ttl": "60s"})
    ev = f.evidence(cfg=cfg, observations=f.without_obs(f.ready_observations(), "chain"))
    s = scored(ev)
    assert s.rto_estimate_s is None
    assert s.rto_lower_bound_s == 330.0  # 30 s detection + 300 s promotion > 5 min, whatever the TTL
    assert s.rto_verdict == "exceeds"
    assert s.status != Status.READY


def test_unknown_ttl_with_known_part_inside_target_is_unknown_verdict():
    ev = f.evidence(observations=f.without_obs(f.ready_observations(), "chain"))
    s = scored(ev)
    assert s.rto_estimate_s is None and s.rto_lower_bound_s == 330.0
    assert s.rto_verdict == "unknown"
    assert s.status != Status.READY


def test_rto_verdict_within_when_the_estimate_is_known():
    s = scored(f.evidence())
    assert (s.rto_estimate_s, s.rto_lower_bound_s, s.rto_verdict) == (390.0, 390.0, "within")


def test_score_table_shows_lower_bound_against_target():
    from rich.console import Console

    from failover.cli.render.table import score_table

    s = scored(f.evidence(inventories=f.scale_secondary(1, max_size=1)))
    console = Console(width=250, record=True)
    console.print(score_table([s]))
    assert "> 6m30s (target 15m)" in console.export_text()
