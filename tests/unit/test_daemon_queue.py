"""The work queue's pure parts: which tick a firing belongs to, and the lock names that make one job per
tick per slot per vantage (and per account per inventory interval)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from failover.daemon.queue import (
    MAX_QUEUE_NAME,
    QueueTiming,
    Slot,
    check_locks,
    inventory_locks,
    queue_name,
    tick_of,
    tick_time,
)


def test_a_slot_is_named_as_its_scheduler_job() -> None:
    assert Slot(60.0, 12.3, ("shop",)).id == "check:shop"
    assert Slot(60.0, 12.0, ("a", "b")).id == "check:60s@12.0"


@given(
    interval=st.floats(1, 3600),
    fraction=st.floats(0, 0.999),
    tick=st.integers(0, 10**7),
    late=st.floats(-0.4, 0.4),
)
def test_daemons_firing_a_little_apart_agree_on_the_tick(
    interval: float, fraction: float, tick: int, late: float
) -> None:
    offset = fraction * interval
    due = tick_time(interval, offset, tick)
    assert tick_of(interval, offset, due + late * interval) == tick


def test_consecutive_firings_are_consecutive_ticks() -> None:
    due = tick_time(60.0, 7.5, 1000)
    assert [tick_of(60.0, 7.5, due + k * 60.0 + 0.2) for k in range(3)] == [1000, 1001, 1002]


def test_the_queueing_lock_holds_slot_vantage_and_tick_and_the_lock_only_slot_and_vantage() -> None:
    lock, queued = check_locks("eu", "check:shop", 42)
    assert lock == "check:shop@eu"
    assert queued == "check:shop@eu#42"
    assert check_locks("eu", "check:shop", 43)[0] == lock  # one run of a slot at a time, whatever the tick
    assert check_locks("eu", "check:shop", 43)[1] != queued  # the next tick is a new job
    assert check_locks("us", "check:shop", 42)[1] != queued  # every vantage probes for itself
    assert check_locks("eu", "check:cart", 42)[0] != lock


def test_inventory_locks_are_per_account_and_interval() -> None:
    assert inventory_locks("aws-prod", 7) == ("inventory:aws-prod", "inventory:aws-prod#7")
    assert inventory_locks("aws-prod", 8)[0] == inventory_locks("aws-prod", 7)[0]


def test_queue_names_fit_a_listen_channel_and_stay_distinct() -> None:
    assert queue_name("check", "eu") == "check:eu"
    long_a, long_b = queue_name("check", "x" * 80 + "a"), queue_name("check", "x" * 80 + "b")
    assert len(long_a) <= MAX_QUEUE_NAME and long_a != long_b
    assert queue_name("check", "x" * 80 + "a") == long_a  # the same in every daemon


def test_a_dead_daemon_is_noticed_within_one_interval() -> None:
    for interval in (1.0, 2.0, 6.0, 60.0, 600.0):
        timing = QueueTiming.for_interval(interval)
        # silent for stalled_after, then found by the next housekeeping pass (every heartbeat)
        if interval >= 6.0:
            assert timing.stalled_after + timing.heartbeat <= interval
        assert timing.heartbeat * 3 <= timing.stalled_after  # a live worker misses three beats first
    assert QueueTiming.for_interval(60.0).heartbeat == 5.0
