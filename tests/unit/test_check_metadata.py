"""What scoring knows about a check comes from its registration: a new check's gate, RTO credit and
category weight take effect without touching scoring, and scoring names no check id. Also: every
enum of the model spells its members one way."""

from __future__ import annotations

import ast
import inspect
from enum import StrEnum

import pytest

import failover.checks.registry as registry
import failover.model as model
import failover.scoring as scoring
from failover.checks import CATALOG, run_checks
from failover.checks.registry import Category, CheckInfo, Gate, RiskInput, RtoPart, Severity, Trip
from failover.model import FindingStatus, ObsStatus, Status
from failover.scoring import score
from tests import factories as f


def _register(monkeypatch, status: FindingStatus, **meta) -> None:
    """A check no module declares, registered for one test, that judges every workload ``status``."""

    def synthetic(ev):
        return [CATALOG["guardrails.synthetic"].finding(ev, status, "synthetic verdict", subject="s", level=0.1)]

    info = CheckInfo(
        id="guardrails.synthetic",
        title="Synthetic",
        category=Category.GUARDRAILS,
        severity=Severity.LOW,
        doc="A check registered by a test.",
        fn=synthetic,
        **meta,
    )
    monkeypatch.setitem(CATALOG, info.id, info)


def _scored(ev=None):
    ev = ev or f.evidence()
    return score(ev, run_checks(ev))


def test_failing_check_with_a_declared_gate_caps_readiness_in_its_words(monkeypatch):
    _register(monkeypatch, FindingStatus.FAIL, gates=(Gate(cap=55.0, text="synthetic gate on {primary_provider}"),))
    s = _scored()
    assert s.readiness == 55.0
    assert s.details["gates"] == ["synthetic gate on aws"]
    # Fixing it lifts the cap: its points are the gap to the uncapped score, not its small weight.
    assert s.reasons[0].check == "guardrails.synthetic" and s.reasons[0].points > 40


def test_gate_narrowed_by_evidence_holds_only_under_its_limit(monkeypatch):
    _register(monkeypatch, FindingStatus.FAIL, gates=(Gate(cap=55.0, text="under {limit:.0%}", below=("level", 0.05)),))
    assert _scored().details["gates"] == []  # level 0.1 is not under 0.05
    _register(monkeypatch, FindingStatus.FAIL, gates=(Gate(cap=55.0, text="under {limit:.0%}", below=("level", 0.5)),))
    assert _scored().details["gates"] == ["under 50%"]


def test_gate_over_a_check_holds_when_none_of_its_findings_is_ok(monkeypatch):
    gate = Gate(cap=45.0, text="nothing synthetic is ok", when=Trip.NONE_OK)
    _register(monkeypatch, FindingStatus.UNKNOWN, gates=(gate,))
    assert "nothing synthetic is ok" in _scored().details["gates"]
    _register(monkeypatch, FindingStatus.WARN, gates=(gate,))
    assert _scored().details["gates"] == []


def test_declared_rto_part_credits_the_fix_with_the_rto_gate(monkeypatch):
    long_ttl = f.evidence(observations=f.replace_obs(f.ready_observations(), "chain", data={"effective_ttl": 3600}))

    def points(**meta) -> float:
        _register(monkeypatch, FindingStatus.FAIL, **meta)
        return next(r.points for r in _scored(long_ttl).reasons if r.check == "guardrails.synthetic")

    # The 1 h TTL holds the score at 79; a check whose fix shortens the DNS part lifts that cap.
    assert points(rto_part=RtoPart.DNS) > points() + 10


def test_declared_risk_input_feeds_single_provider_risk(monkeypatch):
    _register(monkeypatch, FindingStatus.FAIL, risk=RiskInput.DATA_COPY)
    assert _scored().single_provider_risk["aws"] == 1.0  # primary data lost with aws


def test_category_weights_are_the_documented_defaults():
    documented = {"secondary": 3, "capacity": 2, "dns": 3, "data": 2, "guardrails": 1.5, "dependencies": 1.5}
    assert {str(c): c.weight for c in Category} == {**documented, "drift": 1, "evidence": 1}


def test_new_check_shares_its_category_weight_which_config_overrides(monkeypatch):
    _register(monkeypatch, FindingStatus.FAIL)
    assert _scored().readiness < 100.0
    cfg = f.config()
    cfg = cfg.model_copy(update={"scoring": cfg.scoring.model_copy(update={"weights": {"guardrails": 0.0}})})
    assert _scored(f.evidence(cfg=cfg)).readiness == 100.0


def test_scoring_names_no_check_id():
    literals = {n.value for n in ast.walk(ast.parse(inspect.getsource(scoring))) if isinstance(n, ast.Constant)}
    assert not literals & set(CATALOG)


@pytest.mark.parametrize("module", [model, registry], ids=lambda m: m.__name__)
def test_enum_members_are_named_after_their_values(module):
    enums = [e for _, e in inspect.getmembers(module, inspect.isclass) if issubclass(e, StrEnum) and e is not StrEnum]
    assert enums
    for enum in enums:
        for member in enum:
            assert member.name == member.value.upper().replace(".", "_"), f"{enum.__name__}.{member.name}"


def test_status_values_are_the_public_spellings():
    assert [s.value for s in FindingStatus] == ["pass", "warn", "fail", "unknown", "skip"]
    assert [s.value for s in ObsStatus] == ["ok", "warn", "failed", "error"]
    assert [s.value for s in Status] == ["READY", "AT_RISK", "NOT_READY", "UNKNOWN"]
