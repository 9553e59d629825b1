"""The control- and data-plane facts: one table in the code, the README shows it, and each row agrees
with the planes its mechanisms declare when they read a workload's path."""

from __future__ import annotations

from pathlib import Path

import pytest

from failover.checks.mechanisms import MECHANISMS, routing_path
from failover.whatif.facts import FACTS, facts_of, facts_table
from tests.factories import PUBLIC, config, evidence

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_shows_the_table_as_the_code_has_it() -> None:
    assert facts_table() in README.read_text(encoding="utf-8")


def test_every_row_names_its_sources() -> None:
    assert all(f.sources and all(s.startswith("https://") for s in f.sources) for f in FACTS)


@pytest.mark.parametrize("mechanism", sorted(MECHANISMS))
def test_each_mechanism_has_a_row_agreeing_with_its_declared_planes(mechanism: str) -> None:
    facts = facts_of(mechanism)
    assert facts is not None, f"{mechanism} has no row in failover/whatif/facts.py"
    path = routing_path(evidence(config(dns={"name": PUBLIC, "mechanism": mechanism})))
    assert path is not None
    assert (path.data_plane.provider, path.data_plane.region) == (facts.provider, facts.data_plane)
    assert (path.control_plane.provider, path.control_plane.region) == (facts.provider, facts.control_plane)
    assert MECHANISMS[mechanism].provider == facts.provider


def test_route53_record_changes_resume_through_us_west_2_only_with_accelerated_recovery() -> None:
    route53 = facts_of("route53-failover")
    assert route53 is not None
    assert (route53.control_plane, route53.recovery_region, route53.recovery_s) == ("us-east-1", "us-west-2", 3600.0)
    assert "AcceleratedRecoveryStatus" in route53.recovery_when
