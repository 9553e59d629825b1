"""The daemon's jobs, each one run of one kind, recorded in the store's ``runs`` table.

- ``inventory`` (singleton): read every configured account and store the snapshot.
- ``check`` (every daemon): probe a batch of workloads from this daemon's vantage and store the
  observations; on the scoring leader also run the checks on the newest stored inventory plus these
  observations and store findings and scores (run kind ``check``; elsewhere kind ``probe``).
- ``mail`` (singleton): the weekly email; the store's (owner, week) claim keeps it to one per owner.
- ``retention`` (singleton): raw observations older than ``daemon.retention`` are rolled up daily and
  deleted.

A job's failure is logged, counted and recorded (run status ``error``), never raised to the
scheduler: the next tick tries again. Cloud errors already arrive as incomplete inventories (so the
checks say unknown) and probe failures as observations; what remains is the database being away or a
bug. On shutdown a job stops at its next checkpoint (probes are cancelled at once) and its run is
recorded as ``cancelled``; each store write is one transaction, so nothing is left half-written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from failover.daemon.health import JobBook
from failover.daemon.locks import Leadership
from failover.daemon.logs import emit
from failover.daemon.metrics import DaemonMetrics
from failover.daemon.scheduler import missed_mail
from failover.errors import FailoverError, MailError, StoreError
from failover.model import Finding, Inventory, Score, utcnow
from failover.probing import probe_workloads
from failover.runner import config_digest, evaluate, run_inventory, secondary_targets
from failover.schema import Config, Workload
from failover.store import Store
from failover.store import tables as t

__all__ = ["Cancelled", "Jobs", "last_run_at"]

log = logging.getLogger("failover.daemon")
T = TypeVar("T")


class Cancelled(Exception):
    """The daemon is stopping: the job gives up at a checkpoint."""


@dataclass
class _Run:
    id: int
    kind: str
    stats: dict[str, Any] = field(default_factory=dict)


def last_run_at(store: Store, kind: str) -> datetime | None:
    """When the newest successful run of ``kind`` started (any vantage), or None."""
    runs = t.runs
    query = select(func.max(runs.c.started_at)).where(runs.c.kind == kind, runs.c.status == "ok")
    try:
        with store.engine.connect() as conn:
            value = conn.execute(query).scalar()
    except SQLAlchemyError:
        return None
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Jobs:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        vantage: str,
        metrics: DaemonMetrics,
        book: JobBook,
        leaders: Mapping[str, Leadership],
        stop: threading.Event,
    ) -> None:
        self.config = config
        self.store = store
        self.vantage = vantage
        self.metrics = metrics
        self.book = book
        self.leaders = leaders
        self.stop = stop
        self.workloads = {w.name: w for w in config.workloads}
        self.digest = config_digest(config)
        self.on_mail_retry: Callable[[float], None] | None = None  # set by the daemon (adds a one-shot job)
        self._inflight: set[int] = set()
        self._active = 0
        self._lock = threading.Lock()
        self._mail_busy = threading.Lock()
        self._mail_attempt = 0

    # -- bookkeeping -------------------------------------------------------------------------

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    def inflight_runs(self) -> list[int]:
        with self._lock:
            return sorted(self._inflight)

    def guarded(self, job: str, fn: Callable[[], None], *, singleton: str | None = None) -> Callable[[], bool]:
        """``fn`` as a scheduler job: never raises; True unless it failed (skips are not failures)."""

        def run() -> bool:
            if self.stop.is_set():
                return True
            if singleton is not None and not self.leaders[singleton].ensure():
                self.metrics.skipped.labels(job, "not_leader").inc()
                emit(log, logging.DEBUG, "job.skipped", job=job, reason="another daemon leads it")
                return True
            with self._lock:
                self._active += 1
            self.book.started(job)
            began, ok, error = time.monotonic(), False, None
            try:
                fn()
                ok = True
            except Cancelled:
                error = "cancelled: the daemon is stopping"
                emit(log, logging.INFO, "job.cancelled", job=job)
            except FailoverError as err:
                error = str(err)
                emit(log, logging.WARNING, "job.failed", job=job, error=error, error_type=type(err).__name__)
            except Exception as err:  # a bug: keep the daemon alive, show the traceback
                error = f"{type(err).__name__}: {err}"
                emit(log, logging.ERROR, "job.failed", job=job, error=error, exc_info=True)
            finally:
                seconds = time.monotonic() - began
                now = time.time()
                self.metrics.job_finished(job, seconds, ok=ok, at=now)
                self.book.finished(job, now, error)
                with self._lock:
                    self._active -= 1
            if ok:
                emit(log, logging.DEBUG, "job.finished", job=job, seconds=seconds)
            return ok

        return run

    def checkpoint(self) -> None:
        if self.stop.is_set():
            raise Cancelled

    def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine to completion on a fresh loop, cancelling it if the daemon stops."""

        async def main() -> T:
            task = asyncio.ensure_future(coro)
            while True:
                done, _ = await asyncio.wait({task}, timeout=0.1)
                if done:
                    return task.result()
                if self.stop.is_set():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
                    raise Cancelled

        return asyncio.run(main())

    @contextlib.contextmanager
    def _record(self, kind: str) -> Iterator[_Run]:
        run = _Run(self.store.start_run(kind, vantage=self.vantage, config_digest=self.digest), kind)
        with self._lock:
            self._inflight.add(run.id)
        try:
            yield run
        except Cancelled:
            self._finish_quietly(run.id, "cancelled", "the daemon stopped during the run")
            raise
        except BaseException as err:
            self._finish_quietly(run.id, "error", f"{type(err).__name__}: {err}")
            raise
        else:
            self.store.finish_run(run.id, "ok", stats=run.stats)
        finally:
            with self._lock:
                self._inflight.discard(run.id)

    def _finish_quietly(self, run_id: int, status: str, error: str) -> None:
        try:
            self.store.finish_run(run_id, status, error=error)
        except StoreError as err:  # the database being away is usually why we are here
            emit(log, logging.WARNING, "run.unrecorded", run_id=run_id, status=status, error=str(err))

    def abandon(self, run_ids: list[int]) -> None:
        """Record runs still going at shutdown as cancelled (their writes roll back with the process)."""
        for run_id in run_ids:
            self._finish_quietly(run_id, "cancelled", "the daemon stopped before the run finished")

    # -- jobs --------------------------------------------------------------------------------

    def inventory(self) -> None:
        with self._record("inventory") as run:
            inventories = run_inventory(self.config, self.store, run.id, list(self.workloads.values()))
            self.metrics.inventories(inventories)
            run.stats = {
                "accounts": len(inventories),
                "resources": sum(len(i.resources) for i in inventories),
                "incomplete_scopes": sum(len(i.incomplete) for i in inventories),
            }
        for inv in inventories:
            if inv.incomplete:
                emit(
                    log,
                    logging.WARNING,
                    "inventory.incomplete",
                    account=inv.account,
                    scopes=[f"{e.scope} ({e.error})" for e in inv.incomplete][:20],
                    reason=inv.incomplete[0].reason,
                )
        emit(log, logging.INFO, "inventory.finished", run_id=run.id, **run.stats)

    def check(self, names: list[str]) -> None:
        """Probe these workloads; on the scoring leader also check and score them."""
        workloads = [self.workloads[n] for n in names]
        leader = self.leaders["scoring"].ensure()
        with self._record("check" if leader else "probe") as run:
            accounts = {a for w in workloads for a in self.config.workload_accounts(w)}
            inventories = self.store.latest_inventory(accounts)
            targets = secondary_targets(self.config, workloads, inventories)
            observations = self.run_async(probe_workloads(self.config, workloads, self.vantage, targets))
            self.metrics.observations(observations)
            self.checkpoint()
            self.store.save_observations(run.id, observations)
            run.stats = {"workloads": len(workloads), "observations": len(observations)}
            if leader:
                broken = self._score(run, workloads, observations, inventories)
            else:
                self._refresh_from_store(workloads)
                broken = []
        emit(log, logging.INFO, "check.finished", run_id=run.id, scored=leader, **run.stats)
        if broken:
            raise FailoverError(f"checks could not run for {', '.join(broken)} (see the error logged above)")

    def _score(
        self,
        run: _Run,
        workloads: list[Workload],
        observations: list[Any],
        inventories: list[Inventory] | None = None,
    ) -> list[str]:
        if inventories is None:
            inventories = self.store.latest_inventory({a for w in workloads for a in self.config.workload_accounts(w)})
        # Other daemons probe from their own vantages: their newest observations count too (the checks
        # take the worst fresh view, and stale_after drops a vantage that stopped reporting).
        observations = list(observations) + [
            o for w in workloads for o in self.store.latest_observations(w.name) if o.vantage != self.vantage
        ]
        now = utcnow()
        drills = self.store.latest_drills((w.name for w in workloads), now)
        findings: list[Finding] = []
        scores: list[Score] = []
        broken: list[str] = []
        for w in workloads:  # one workload's bug must not cost the others their scores
            try:
                wf, ws = evaluate(self.config, [w], inventories, observations, now, drills)
            except Exception as err:
                broken.append(w.name)
                emit(
                    log,
                    logging.ERROR,
                    "check.error",
                    workload=w.name,
                    error=f"{type(err).__name__}: {err}",
                    exc_info=True,
                )
                continue
            findings += wf
            scores += ws
        self.checkpoint()
        self.store.save_findings(run.id, findings)
        self.store.save_scores(run.id, scores)
        for s in scores:
            self.metrics.workload(s.workload, s, [f for f in findings if f.workload == s.workload])
        run.stats.update(findings=len(findings), scores=len(scores))
        return broken

    def _refresh_from_store(self, workloads: list[Workload]) -> None:
        """A daemon that does not score still exports every workload's latest score and findings."""
        for w in workloads:
            scores = self.store.latest_scores(w.name)
            self.metrics.workload(w.name, scores[0] if scores else None, self.store.latest_findings(w.name))

    def load_metrics(self) -> None:
        """Workload metrics from the store at start, so /metrics is complete before the first cycle."""
        scores = {s.workload: s for s in self.store.latest_scores()}
        findings = self.store.latest_findings()
        for name in self.workloads:
            self.metrics.workload(name, scores.get(name), [f for f in findings if f.workload == name])

    def mail(self) -> None:
        from failover.mail import send_weekly, week_of
        from failover.mail.digest import owners_of

        if not self._mail_busy.acquire(blocking=False):
            return  # the scheduled run and a catch-up met: one is enough
        try:
            now = utcnow()
            week = week_of(self.config, now)
            owners = sorted(owners_of(self.config.workloads))
            if all(self.store.delivered(o, week) for o in owners):
                emit(log, logging.INFO, "mail.already_sent", week=week, owners=len(owners))
                self._mail_attempt = 0
                return
            result = send_weekly(self.config, self.store, now=now, vantage=self.vantage)
            emit(
                log,
                logging.WARNING if result.failed or result.no_scores else logging.INFO,
                "mail.finished",
                week=week,
                sent=len(result.sent),
                skipped=len(result.skipped),
                failed=len(result.failed),
                no_scores=result.no_scores,
            )
            if result.failed or result.no_scores:
                self._retry_mail(now)
            else:
                self._mail_attempt = 0
            if result.failed:
                raise MailError(f"weekly email {week}: {len(result.failed)} of {len(owners)} owners not sent")
        finally:
            self._mail_busy.release()

    def _retry_mail(self, now: datetime) -> None:
        """Try again with backoff while the week's email is still due (within mail.schedule.grace)."""
        assert self.config.mail is not None
        if missed_mail(self.config.mail.schedule, now) is None or self.on_mail_retry is None:
            emit(log, logging.WARNING, "mail.not_retried", reason="outside mail.schedule.grace")
            return
        base = max(1.0, 2 * min(self.check_intervals()))
        delay = min(3600.0, base * 2**self._mail_attempt)
        self._mail_attempt += 1
        emit(log, logging.INFO, "mail.retry_scheduled", seconds=delay)
        self.on_mail_retry(delay)

    def check_intervals(self) -> list[float]:
        d = self.config.daemon.check_interval
        return [w.check_interval if w.check_interval is not None else d for w in self.workloads.values()]

    def mail_due_now(self) -> bool:
        mail = self.config.mail
        return mail is not None and missed_mail(mail.schedule, utcnow()) is not None

    def retention(self) -> None:
        before = utcnow() - timedelta(seconds=self.config.daemon.retention)
        with self._record("retention") as run:
            pruned = self.store.prune(before)
            thinned = self.store.prune_history(before)
            run.stats = {"pruned": pruned, "history": thinned, "before": before.isoformat()}
        emit(log, logging.INFO, "retention.finished", run_id=run.id, pruned=pruned, before=before)
