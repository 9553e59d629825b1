"""The DNS TTL verdict (a check's decision, in ``failover.checks.ttl``), on data."""

from __future__ import annotations

import pytest

from failover.checks.ttl import compare_ttl
from failover.model import FindingStatus


@pytest.mark.parametrize(
    ("ttl", "target", "status"),
    [
        (60, 60, FindingStatus.PASS),
        (30, 60, FindingStatus.PASS),
        (0, 60, FindingStatus.PASS),
        (61, 60, FindingStatus.FAIL),
    ],
)
def test_ttl_is_compared_with_the_target(ttl: int, target: float, status: FindingStatus) -> None:
    result = compare_ttl(ttl, target)
    assert result.status == status
    assert (result.excess_s is not None) == (status == FindingStatus.FAIL)


def test_ttl_above_target_says_by_how_much() -> None:
    result = compare_ttl(300, 60)
    assert result.excess_s == 240
    assert "300s exceeds the 60s target" in result.reason


def test_missing_ttl_is_unknown_never_a_pass() -> None:
    assert compare_ttl(None, 60).status == FindingStatus.UNKNOWN
