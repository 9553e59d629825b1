"""Latest-state semantics: what replaces what, and what happens when writers race."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from failover.model import FindingStatus
from failover.store import Store
from tests.fixtures.store_rows import finding, obs, score


def test_a_newer_run_replaces_the_workloads_whole_finding_set(store: Store) -> None:
    r1 = store.start_run("check")
    store.save_findings(r1, [finding("dns.ttl"), finding("capacity.ratio"), finding("dns.ttl", workload="billing")])
    r2 = store.start_run("check")
    store.save_findings(r2, [finding("dns.ttl", minutes=5, status=FindingStatus.FAIL)])
    latest = store.latest_findings("checkout")
    assert [(f.check, f.status) for f in latest] == [("dns.ttl", FindingStatus.FAIL)]  # capacity.ratio is gone
    assert [f.check for f in store.latest_findings("billing")] == ["dns.ttl"]  # other workloads untouched


def test_saves_within_one_run_add_to_its_set(store: Store) -> None:
    run_id = store.start_run("check")
    store.save_findings(run_id, [finding("dns.ttl")])
    store.save_findings(run_id, [finding("capacity.ratio")])
    assert [f.check for f in store.latest_findings("checkout")] == ["capacity.ratio", "dns.ttl"]


def test_an_older_run_saving_late_does_not_replace_a_newer_runs_set(store: Store) -> None:
    slow = store.start_run("check")
    fast = store.start_run("check")
    store.save_findings(fast, [finding("dns.ttl", minutes=5)])
    store.save_findings(slow, [finding("dns.ttl", status=FindingStatus.FAIL), finding("capacity.ratio")])
    assert store.latest_findings("checkout") == [finding("dns.ttl", minutes=5)]
    assert len(store.finding_history("checkout", "dns.ttl", finding().observed_at)) == 2  # history keeps both


def test_one_subject_per_check_keeps_the_newest_of_a_batch(store: Store) -> None:
    run_id = store.start_run("check")
    store.save_findings(
        run_id, [finding("dns.ttl", minutes=5), finding("dns.ttl", minutes=1, status=FindingStatus.FAIL)]
    )
    assert store.latest_findings() == [finding("dns.ttl", minutes=5)]


def test_subjects_of_one_check_are_kept_apart(store: Store) -> None:
    run_id = store.start_run("check")
    fs = [finding("guardrails.deletion", subject="i-1"), finding("guardrails.deletion", subject="i-2")]
    store.save_findings(run_id, fs)
    assert store.latest_findings() == fs


def test_a_failed_write_leaves_what_was_stored_intact(store: Store) -> None:
    import pytest

    from failover.errors import StoreError

    run_id = store.start_run("check")
    store.save_findings(run_id, [finding("dns.ttl")])
    store.save_observations(run_id, [obs(0)])
    newer = store.start_run("check")
    bad = finding("capacity.ratio", minutes=5, evidence={"ratio": float("nan")})  # NaN is not JSON
    with pytest.raises(StoreError, match="cannot write findings"):
        store.save_findings(newer, [finding("dns.ttl", minutes=5), bad])
    assert store.latest_findings() == [finding("dns.ttl")]
    with pytest.raises(StoreError):
        store.save_observations(999_999, [obs(10)])  # unknown run: foreign key
    assert store.latest_observations() == [obs(0)]


def test_two_stores_racing_record_each_delivery_exactly_once(store_factory: Callable[[], Store]) -> None:
    a, b = store_factory(), store_factory()
    weeks = [f"2026-W{w:02d}" for w in range(1, 21)]
    barrier = threading.Barrier(2)

    def claim(s: Store) -> list[bool]:
        barrier.wait()
        return [s.record_delivery("team@example.com", w, f"<{id(s)}-{w}>") for w in weeks]

    with ThreadPoolExecutor(2) as pool:
        wins_a, wins_b = pool.map(claim, [a, b])
    assert all(x != y for x, y in zip(wins_a, wins_b, strict=True))  # exactly one winner per week
    assert all(a.delivered("team@example.com", w) for w in weeks)


def test_concurrent_writers_converge_on_the_newest_latest_state(store_factory: Callable[[], Store]) -> None:
    a, b = store_factory(), store_factory()
    ra, rb = a.start_run("daemon", vantage="eu-1"), b.start_run("daemon", vantage="us-1")

    def write(s: Store, run_id: int, offset: int) -> None:
        for i in range(10):
            minutes = 2 * i + offset
            s.save_observations(run_id, [obs(minutes, latency_ms=float(minutes))])
            s.save_scores(run_id, [score(minutes, readiness=float(minutes))])

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(write, [a, b], [ra, rb], [0, 1]))
    assert [o.latency_ms for o in a.latest_observations()] == [19.0]
    assert [s.readiness for s in b.latest_scores()] == [19.0]
    assert len(a.score_history("checkout", score(0).computed_at)) == 20


def test_replacing_the_finding_sets_of_many_workloads_at_once(store: Store) -> None:
    names = [f"wl-{i:04d}" for i in range(1200)]  # more than one IN (...) chunk
    r1 = store.start_run("check")
    store.save_findings(r1, [finding(c, workload=w) for w in names for c in ("dns.ttl", "capacity.ratio")])
    r2 = store.start_run("check")
    store.save_findings(r2, [finding("dns.ttl", minutes=5, workload=w) for w in names])
    latest = store.latest_findings()
    assert len(latest) == 1200
    assert {f.check for f in latest} == {"dns.ttl"}
