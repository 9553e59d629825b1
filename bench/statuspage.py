"""Status page benchmark: how long the daemon takes to answer ``/`` and ``/workloads/<name>`` for a
big estate, on SQLite. Prints its figures.

    .venv/bin/python bench/statuspage.py                      # 1,000 workloads
    .venv/bin/python bench/statuspage.py --workloads 200 --per-day 96

Volume: --workloads workloads with --per-day scores a day for 30 days (the default 24 is an hourly
score; a daemon scoring every minute keeps 1,440 a day until retention thins them), 20 latest
findings each. Each page is rendered the way the daemon does per request (``LivePages``: read the
store, build, render) and once more to show the warm figure; ``write_site`` is ``report --html``.

Goal: the index of 1,000 workloads under 1 s; a workload page under 0.1 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from failover.model import Finding, FindingStatus, Score, Status, utcnow
from failover.schema import Config
from failover.statuspage import LivePages, write_site
from failover.store import Store


def seed(store: Store, workloads: int, per_day: int) -> None:
    now = utcnow()
    run = store.start_run("bench")
    step = timedelta(days=1) / per_day
    for day in range(30):
        batch = []
        for i in range(workloads):
            for k in range(per_day):
                at = now - timedelta(days=29 - day) - k * step
                batch.append(
                    Score(
                        workload=f"wl-{i:04d}",
                        status=Status.READY if i % 3 else Status.AT_RISK,
                        readiness=60.0 + (i + day) % 40,
                        single_provider_risk={"aws": 1.0, "gcp": 0.0},
                        rto_estimate_s=300.0,
                        rto_target_s=900.0,
                        computed_at=at,
                    )
                )
        store.save_scores(run, batch)
    findings = [
        Finding(
            check=f"check.{c:02d}",
            workload=f"wl-{i:04d}",
            status=FindingStatus.PASS if c % 4 else FindingStatus.FAIL,
            reason="a reason of ordinary length for a finding, with a host name or two in it",
            subject=f"site-{c % 2}",
            evidence={"status": 200, "latency_ms": 80.0, "url": f"https://wl-{i}.example.com/healthz"},
        )
        for i in range(workloads)
        for c in range(20)
    ]
    store.save_findings(store.start_run("bench"), findings)


def timed(label: str, fn: object) -> None:
    assert callable(fn)
    began = time.perf_counter()
    out = fn()
    took = time.perf_counter() - began
    size = len(out) if isinstance(out, str) else len(out or [])
    print(f"{label:<44} {took:7.3f} s   {size:>10,} {'bytes' if isinstance(out, str) else 'files'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--per-day", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        with Store.open(url) as store:
            began = time.perf_counter()
            seed(store, args.workloads, args.per_day)
            rows = args.workloads * args.per_day * 30
            print(f"seeded {rows:,} scores and {args.workloads * 20:,} findings in {time.perf_counter() - began:.1f} s")
            pages = LivePages(Config(), store)
            one = f"wl-{args.workloads // 2:04d}"
            timed(f"index, {args.workloads} workloads (first)", pages.index)
            timed(f"index, {args.workloads} workloads (again: trends cached)", pages.index)
            timed("workload page (first: templates compile)", lambda: pages.workload(one))
            timed("workload page (again)", lambda: pages.workload(one))
            timed("daily readiness read alone", lambda: str(store.daily_readiness(utcnow() - timedelta(days=30))))
            timed("report --html (every page)", lambda: write_site(Config(), store, Path(tmp) / "site"))


if __name__ == "__main__":
    main()
