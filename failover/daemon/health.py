"""What ``/healthz`` answers: pure, from the daemon's job bookkeeping and the clock.

Liveness means "the daemon is doing its work": the scheduler runs and a check cycle (probes, and
checks+scoring on the leader) succeeded recently. A database down for a minute fails cycles and, once
the last success is older than ``stale_after``, turns the answer into 503; it recovers by itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["JobBook", "JobRecord", "health"]


@dataclass
class JobRecord:
    last_success: float | None = None
    last_failure: float | None = None
    last_error: str = ""
    failures: int = 0
    running: int = 0


@dataclass
class JobBook:
    """Per-job outcomes, shared by the job threads and the HTTP thread."""

    records: dict[str, JobRecord] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def started(self, job: str) -> None:
        with self.lock:
            self.records.setdefault(job, JobRecord()).running += 1

    def finished(self, job: str, at: float, error: str | None = None) -> None:
        with self.lock:
            rec = self.records.setdefault(job, JobRecord())
            rec.running = max(0, rec.running - 1)
            if error is None:
                rec.last_success = at
            else:
                rec.last_failure, rec.last_error = at, error
                rec.failures += 1

    def snapshot(self) -> dict[str, JobRecord]:
        with self.lock:
            return {k: JobRecord(**vars(v)) for k, v in self.records.items()}


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None


def health(
    *,
    now: float,
    started: float,
    scheduler_running: bool,
    stopping: bool,
    stale_after: float,
    jobs: dict[str, JobRecord],
    leader: dict[str, bool],
    vantage: str,
    version: str,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body). 200: ok or starting (no cycle yet, within ``stale_after`` of start)."""
    cycle = jobs.get("check", JobRecord())
    age = None if cycle.last_success is None else max(0.0, now - cycle.last_success)
    if stopping:
        state, reason = "stopping", "the daemon is shutting down"
    elif not scheduler_running:
        state, reason = "failing", "the scheduler is not running"
    elif age is None:
        if now - started <= stale_after:
            state, reason = "starting", "no check cycle has finished yet"
        else:
            state, reason = "failing", f"no successful check cycle in {now - started:.0f}s since start"
    elif age > stale_after:
        state, reason = "failing", f"last successful check cycle {age:.0f}s ago (limit {stale_after:.0f}s)"
    else:
        state, reason = "ok", ""
    body: dict[str, Any] = {
        "status": state,
        "reason": reason,
        "vantage": vantage,
        "version": version,
        "uptime_seconds": round(now - started, 3),
        "scheduler_running": scheduler_running,
        "last_cycle_success": _iso(cycle.last_success),
        "last_cycle_age_seconds": None if age is None else round(age, 3),
        "stale_after_seconds": stale_after,
        "leader": dict(sorted(leader.items())),
        "jobs": {
            name: {
                "last_success": _iso(rec.last_success),
                "last_failure": _iso(rec.last_failure),
                "last_error": rec.last_error,
                "failures": rec.failures,
                "running": rec.running,
            }
            for name, rec in sorted(jobs.items())
        },
    }
    return (200 if state in ("ok", "starting") else 503), body
