"""Turning the newest value of each of a lag metric's series into the one lag the checks judge."""

from __future__ import annotations

from providers.base import lag_seconds


def test_the_largest_newest_value_counts_in_seconds() -> None:
    assert lag_seconds([300.0, 700.0], per_s=1000) == 0.7


def test_a_negative_value_is_kept_as_reported_not_scaled() -> None:
    assert lag_seconds([-1.0], per_s=1000) == -1.0


def test_no_value_is_unknown_never_zero() -> None:
    assert lag_seconds([], per_s=1) is None
