"""The daemon's jobs, each one run of one kind, recorded in the store's ``runs`` table.

- ``inventory`` (singleton): read every configured account and store the snapshot.
- ``check`` (every daemon): probe a batch of workloads from this daemon's vantage and store the
  observations; on the scoring leader also run the checks on the newest stored inventory plus these
  observations and store findings and scores (run kind ``check``; elsewhere kind ``probe``).
- ``mail`` (singleton): the weekly email; the store's (owner, week) claim keeps it to one per owner.
- alerts: after the scoring leader scores, each new score goes to the alert workers
  (``failover.alerts``), which send off the scoring path.
- ``retention`` (singleton): raw observations older than ``daemon.retention`` are rolled up daily and
  deleted.

Each job records its run through the store's one lifecycle (``Store.recorded_run``); the check job
is the runner's ``run_cycle``, run with the daemon's ``CycleSteps``. A job's failure is logged,
counted and recorded (run status ``error``), never raised to the scheduler: the next tick tries
again. Cloud errors already arrive as incomplete inventories (so the checks say unknown, and the run
is ``incomplete``) and probe failures as observations; what remains is the database being away or a
bug. On shutdown a job stops at its next checkpoint (probes are cancelled at once) and its run is
recorded as ``cancelled``; each store write is one transaction, so nothing is left half-written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from failover.daemon.cache import InventoryCache
from failover.daemon.health import JobBook
from failover.daemon.locks import Leadership
from failover.daemon.logs import emit
from failover.daemon.metrics import DaemonMetrics
from failover.daemon.scheduler import missed_mail
from failover.errors import FailoverError, MailError, StoreError
from failover.inventory import stats_of, store_inventory
from failover.model import Finding, Score, utcnow
from failover.runner import CycleSteps, config_digest, run_cycle, used_accounts
from failover.schema import Config, Workload
from failover.store import RunCancelled, RunStatus, Store
from probes.loop import run as run_loop

__all__ = ["RUN_KINDS", "Cancelled", "Jobs"]

RUN_KINDS = ("inventory", "check", "probe", "mail", "retention")  # the kinds of run a daemon records

log = logging.getLogger("failover.daemon")
T = TypeVar("T")


class Cancelled(RunCancelled):
    """The daemon is stopping: the job gives up at a checkpoint (its run ends ``cancelled``)."""

    def __init__(self, message: str = "the daemon stopped during the run") -> None:
        super().__init__(message)


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
        on_mail_retry: Callable[[float], None],
        on_scored: Callable[[Mapping[str, Score | None], list[Score]], None] | None = None,
    ) -> None:
        """``on_mail_retry(delay)`` queues one more weekly-mail run ``delay`` seconds from now;
        ``on_scored(previous, scores)`` hears each scoring pass (``previous``: each workload's score
        before it), and must not block (the alert workers' queues)."""
        self.config = config
        self.store = store
        self.vantage = vantage
        self.metrics = metrics
        self.book = book
        self.leaders = leaders
        self.stop = stop
        self.workloads = {w.name: w for w in config.workloads}
        self.inventory_cache = InventoryCache(store, used_accounts(config, list(config.workloads)))
        self.on_mail_retry = on_mail_retry
        self.on_scored = on_scored
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
        return self.store.unfinished_runs()

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

        return run_loop(main())

    def cycle_steps(self, *, scoring: bool) -> CycleSteps:
        """How the check job runs the cycle: cancellable probes, metrics as they come, one workload's
        bug logged without costing the others their scores, and on the scoring leader every
        vantage's newest observations."""
        return CycleSteps(
            run_async=self.run_async,
            checkpoint=self.checkpoint,
            on_observations=self.metrics.observations,
            other_vantages=scoring,
            on_check_error=self._check_error,
            on_unrecorded=self._unrecorded,
            stored_inventory=self.inventory_cache.get,
        )

    def _check_error(self, workload: Workload, err: Exception) -> None:
        error = f"{type(err).__name__}: {err}"
        emit(log, logging.ERROR, "check.error", workload=workload.name, error=error, exc_info=err)

    def _unrecorded(self, run_id: int, status: RunStatus, err: StoreError) -> None:
        emit(log, logging.WARNING, "run.unrecorded", run_id=run_id, status=str(status), error=str(err))

    def abandon(self, run_ids: list[int]) -> None:
        """Record runs still going at shutdown as cancelled (their writes roll back with the process)."""
        for run_id in run_ids:
            try:
                self.store.finish_run(run_id, RunStatus.CANCELLED, error="the daemon stopped before the run finished")
            except StoreError as err:
                self._unrecorded(run_id, RunStatus.CANCELLED, err)

    # -- jobs --------------------------------------------------------------------------------

    def inventory(self, accounts: list[str] | None = None) -> None:
        """Inventory these accounts (default: every account a workload uses) under one run."""
        done = store_inventory(
            self.config,
            self.store,
            used_accounts(self.config, list(self.workloads.values())) if accounts is None else accounts,
            vantage=self.vantage,
            config_digest=config_digest(self.config),
            on_unrecorded=self._unrecorded,
        )
        self.metrics.inventories(done.inventories)
        for inv in done.inventories:
            if inv.incomplete:
                emit(
                    log,
                    logging.WARNING,
                    "inventory.incomplete",
                    account=inv.account,
                    scopes=[f"{e.scope} ({e.error})" for e in inv.incomplete][:20],
                    reason=inv.incomplete[0].reason,
                )
        stats = stats_of(done.inventories)
        counts = {k: stats[k] for k in ("accounts", "resources", "incomplete_scopes")}
        emit(log, logging.INFO, "inventory.finished", run_id=done.run_id, **counts)

    def check(self, names: list[str], *, scoring: bool | None = None) -> None:
        """Probe these workloads; on the scoring leader also check and score them (``run_cycle``).
        ``scoring=True``: score whoever leads (a job of the shared work queue: it is the only one
        running this tick of these workloads for this vantage)."""
        leader = self.leaders["scoring"].ensure() if scoring is None else scoring
        previous = self._previous_scores(names) if leader and self.on_scored is not None else {}
        result = run_cycle(
            self.config,
            self.store,
            workloads=names,
            inventory=False,
            scoring=leader,
            kind="check" if leader else "probe",
            steps=self.cycle_steps(scoring=leader),
        )
        if leader:
            findings = _by_workload(result.findings)
            for s in result.scores:
                self.metrics.workload(s.workload, s, findings.get(s.workload, []))
            if self.on_scored is not None and result.scores:
                self.on_scored(previous, result.scores)
        else:
            self._refresh_from_store(names)
        emit(log, logging.INFO, "check.finished", run_id=result.run_id, scored=leader, **result.stats)
        if result.broken:
            raise FailoverError(f"checks could not run for {', '.join(result.broken)} (see the error logged above)")

    def _previous_scores(self, names: list[str]) -> dict[str, Score | None]:
        """Each workload's latest stored score, the baseline its next alert is decided from."""
        wanted = set(names)
        if len(names) <= 20:
            found = [s for name in names for s in self.store.latest_scores(name)]
        else:
            found = [s for s in self.store.latest_scores() if s.workload in wanted]
        by_name: dict[str, Score | None] = dict.fromkeys(names)
        by_name.update({s.workload: s for s in found})
        return by_name

    def _refresh_from_store(self, names: list[str]) -> None:
        """A daemon that does not score still exports every workload's latest score and findings."""
        for name in names:
            scores = self.store.latest_scores(name)
            self.metrics.workload(name, scores[0] if scores else None, self.store.latest_findings(name))

    def load_metrics(self) -> None:
        """Workload metrics from the store at start, so /metrics is complete before the first cycle."""
        scores = {s.workload: s for s in self.store.latest_scores()}
        findings = _by_workload(self.store.latest_findings())
        for name in self.workloads:
            self.metrics.workload(name, scores.get(name), findings.get(name, []))

    def close_dead_runs(
        self,
        alive: Callable[[str], bool],
        older_than: float,
        owner_alive: Callable[[str], bool] | None = None,
    ) -> int:
        """Close the runs whose process is gone; returns how many.

        A run with an owner (a daemon's token, ``runs.owner``) is closed once ``owner_alive(owner)`` is
        False: that daemon's lock is free, so it died, whatever its vantage and however recently the
        run began; a live daemon sharing its vantage keeps its own runs. A run with no owner
        (``failover check``'s, or one written before runs had owners) is closed when no daemon of its
        vantage is alive (``alive(vantage)`` False) and it started over ``older_than`` seconds ago.
        A process that is in fact still at it records its own outcome when it finishes."""
        now = utcnow()
        before = now - timedelta(seconds=older_than)
        total = 0
        for vantage, owner in self.store.running_owners(RUN_KINDS, since=now - timedelta(days=1)):
            if owner is not None:
                if owner_alive is None or owner == self.store.owner or owner_alive(owner):
                    continue
                closed = self.store.abandon_runs(None, before=now, owner=owner)
            else:
                if vantage == self.vantage or alive(vantage):
                    continue
                closed = self.store.abandon_runs(vantage, before=before, unowned=True)
            if closed:
                total += closed
                emit(log, logging.WARNING, "daemon.dead_runs_closed", vantage=vantage, owner=owner, count=closed)
        return total

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
        mail = self.config.mail
        if mail is None or missed_mail(mail.schedule, now) is None:
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
        with self.store.recorded_run(
            "retention", vantage=self.vantage, config_digest=config_digest(self.config), on_unrecorded=self._unrecorded
        ) as run:
            pruned = self.store.prune(before)
            thinned = self.store.prune_history(before)
            run.stats = {"pruned": pruned, "history": thinned, "before": before.isoformat()}
        emit(log, logging.INFO, "retention.finished", run_id=run.id, pruned=pruned, before=before)


def _by_workload(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.workload, []).append(f)
    return out
