"""The daemon: open the store (and its locks), schedule the jobs, serve /healthz and /metrics, and stop
cleanly on SIGTERM or SIGINT.

``Daemon.open`` takes what must be taken in order (the single-instance lock, the migrated store) and
hands it to the constructor, which builds the rest whole: leadership, jobs and the schedule, each
given its callbacks as it is made. Nothing is attached afterwards. The schedule hands check and
inventory work to a ``WorkQueue`` (``daemon.queue``): run in this process on SQLite, deferred to the
procrastinate queue every daemon on a Postgres database works on, so they share it.

Stopping: no new job starts (the queue's worker takes no more jobs); running ones stop at their next
checkpoint (probes are cancelled at once); whatever is still running after ``SHUTDOWN_GRACE``
seconds (a cloud call that will not return) is abandoned, its run recorded as cancelled, and the
process exits 0. A second signal exits at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any, Self

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from failover import __version__
from failover.daemon.alerts import Alerter
from failover.daemon.health import JobBook, health
from failover.daemon.http import StatusServer, parse_listen
from failover.daemon.jobs import Jobs
from failover.daemon.locks import (
    AdvisoryLock,
    InstanceLock,
    Leadership,
    Liveness,
    Solo,
    migration_lock,
    owner_token,
    sqlite_path,
)
from failover.daemon.logs import emit
from failover.daemon.metrics import SINGLETONS, DaemonMetrics
from failover.daemon.queue import InProcess, QueueTiming, SharedQueue, Slot, WorkQueue
from failover.daemon.scheduler import (
    RETENTION_EVERY,
    check_interval,
    check_slots,
    mail_trigger,
    next_due,
    phased_trigger,
    validate,
)
from failover.errors import StoreError
from failover.model import utcnow
from failover.runner import vantage_of
from failover.schema import Config
from failover.statuspage import LivePages, stored_whatif
from failover.store import Store, display_url, resolve_database_url

__all__ = ["SHUTDOWN_GRACE", "Daemon", "stop_on_signals"]

log = logging.getLogger("failover.daemon")

SHUTDOWN_GRACE = 5.0
ONCE_ALERT_WAIT = 120.0  # --once: how long the alerts of its one pass may take before it exits
HEARTBEAT_MAX = 10.0
DEAD_RUNS_EVERY = 30.0
# Threads per executor. Check jobs share one pool, bounded so that with the singleton jobs and the
# housekeeping thread every thread can hold a database connection at once without waiting on
# SQLAlchemy's default pool (5 + 10 overflow): no "QueuePool limit reached", whatever the estate size.
CHECK_WORKERS = 10
SINGLETON_WORKERS = 3  # inventory, mail, retention: each at most one at a time
QUEUED = ("inventory", "scoring")  # singletons on SQLite; on Postgres, work of the shared queue
HOUSEKEEPING_WORKERS = 1  # leadership and liveness heartbeats: never queued behind work


def stop_on_signals() -> threading.Event:
    """The daemon's stop flag, set by the first SIGTERM or SIGINT; a second one exits at once (130)."""
    stop = threading.Event()
    signals = 0

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal signals
        signals += 1
        if signals > 1:
            emit(log, logging.WARNING, "daemon.forced_exit", signal=signal.Signals(signum).name)
            logging.shutdown()
            os._exit(130)
        emit(log, logging.INFO, "daemon.stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


class Daemon:
    """A daemon with everything it runs on: use ``Daemon.open`` (and ``close``, or ``with``)."""

    @classmethod
    def open(cls, config: Config, *, listen: str | None = None, stop: threading.Event | None = None) -> Daemon:
        """Check the config, take the single-instance lock (SQLite), open and migrate the store, close
        the runs a dead predecessor left ``running``, and build the daemon on them. What was taken is
        given back if a later step fails."""
        validate(config)
        address = listen if listen is not None else config.daemon.listen
        parse_listen(address, source="--listen" if listen is not None else "daemon.listen")
        vantage = vantage_of(config)
        url = resolve_database_url(config.database)
        emit(
            log,
            logging.INFO,
            "daemon.starting",
            version=__version__,
            pid=os.getpid(),
            vantage=vantage,
            database=display_url(url),
            workloads=len(config.workloads),
        )
        resources = contextlib.ExitStack()
        try:
            path = sqlite_path(url)
            if path is not None:
                resources.callback(InstanceLock(path).acquire().release)
            with migration_lock(url):
                store = Store.open(url, owner=owner_token())
            resources.callback(store.close)
            # SQLite: this daemon is the file's only one, so every run of its vantage still marked
            # running is a dead predecessor's. Postgres: only runs with no owner are judged by vantage
            # here; a dead daemon's own runs are closed by the dead-runs job (by owner), as live daemons
            # may share this vantage.
            abandoned = store.abandon_runs(vantage, before=utcnow(), unowned=path is None)
            if abandoned:
                emit(log, logging.WARNING, "daemon.abandoned_runs", count=abandoned, vantage=vantage)
            return cls(
                config,
                listen=address,
                vantage=vantage,
                url=url,
                store=store,
                stop=stop if stop is not None else threading.Event(),
                resources=resources,
            )
        except BaseException:
            resources.close()
            raise

    def __init__(
        self,
        config: Config,
        *,
        listen: str,
        vantage: str,
        url: str,
        store: Store,
        stop: threading.Event,
        resources: contextlib.ExitStack,
    ) -> None:
        """Build the daemon on an open store; ``resources`` is what ``close`` gives back."""
        self.config = config
        self.listen = listen
        self.vantage = vantage
        self.store = store
        self.stop = stop
        self.started = time.time()
        self.stale_after = max(3 * max(check_interval(config, w) for w in config.workloads), 60.0)
        self.book = JobBook()
        self.metrics = DaemonMetrics(version=__version__, vantage=vantage)
        self.leaders = self._leaders(url)
        for leader in self.leaders.values():
            resources.callback(leader.release)
        self.liveness = Liveness(url, vantage, store.owner or owner_token()) if store.dialect == "postgresql" else None
        if self.liveness is not None:
            resources.callback(self.liveness.release)
            self.liveness.ensure()  # the owner lock is held before this daemon starts any run
        self._resources = resources
        self.alerter = self._alerter()
        self.jobs = Jobs(
            config,
            store,
            vantage=vantage,
            metrics=self.metrics,
            book=self.book,
            leaders=self.leaders,
            stop=stop,
            on_mail_retry=self._schedule_mail_retry,
            on_scored=self.alerter.scored if self.alerter is not None else None,
        )
        self._preload_metrics()
        self.queue = self._queue(url)
        self.scheduler = self._build_scheduler()

    def _queue(self, url: str) -> WorkQueue:
        """Where check and inventory work runs: procrastinate's queue shared by every daemon on a
        Postgres database, else this process (see ``daemon.queue``)."""
        if self.store.dialect != "postgresql":
            return InProcess(self.jobs)
        shortest = min(interval for interval, _, _ in check_slots(self.config))
        return SharedQueue(
            url,
            self.jobs,
            vantage=self.vantage,
            metrics=self.metrics,
            concurrency=CHECK_WORKERS,
            timing=QueueTiming.for_interval(shortest),
            grace=SHUTDOWN_GRACE,
            inventory_interval=self.config.daemon.inventory_interval,
            accounts=self.jobs.inventory_cache.accounts,
        )

    def _leaders(self, url: str) -> dict[str, Leadership]:
        """One leadership per singleton job: an advisory lock on a shared Postgres, else this daemon alone.
        On Postgres scoring and inventory are no longer singletons: the work queue shares them out, and
        every daemon scores the check jobs it runs and inventories the accounts whose jobs it takes."""
        leaders: dict[str, Leadership] = {}
        for name in SINGLETONS:
            if self.store.dialect == "postgresql" and name not in QUEUED:
                leaders[name] = AdvisoryLock(url, name, vantage=self.vantage, on_change=self._leadership)
            else:
                leaders[name] = Solo(name)
                self.metrics.leader.labels(name).set(1)
        return leaders

    def _alerter(self) -> Alerter | None:
        """The alert workers (one thread per ``alerts:`` destination), stopped first on close."""
        if not self.config.alerts:
            return None
        self.metrics.alert_destinations(d.name for d in self.config.alerts)
        alerter = Alerter(
            self.config,
            self.store,
            vantage=self.vantage,
            hook=self.metrics.alert_outcome,
            on_failures=self.metrics.alert_failures,
        )
        self._resources.callback(alerter.close)
        return alerter

    def _preload_metrics(self) -> None:
        try:
            self.jobs.load_metrics()
        except Exception as err:  # metrics fill in with the first cycle anyway
            emit(log, logging.WARNING, "metrics.preload_failed", error=str(err))

    # -- start and stop ----------------------------------------------------------------------

    def close(self) -> None:
        """Release leadership, close the store, drop the instance lock (in that order)."""
        self._resources.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- forever -----------------------------------------------------------------------------

    def serve(self) -> int:
        """Run until a signal; returns the exit code (0)."""
        if self.liveness is not None and not self.liveness.ensure():
            emit(
                log,
                logging.INFO,
                "daemon.vantage_shared",
                vantage=self.vantage,
                reason="another live daemon has this vantage: they share its check work through the queue",
            )
        for leader in self.leaders.values():
            leader.ensure()  # leadership known before the first tick; a mail catch-up may be queued
        if isinstance(self.leaders["mail"], Solo):
            self._maybe_catch_up_mail()
        pages = LivePages(self.config, self.store, whatif=lambda: stored_whatif(self.config, self.store))
        http = StatusServer(
            self.listen, self.metrics.exposition, self.health, pages=pages, token=self.config.daemon.status_token
        ).start()
        emit(log, logging.INFO, "http.listening", url=http.url, port=http.address[1])
        self.queue.start()
        self.scheduler.start()
        emit(
            log,
            logging.INFO,
            "daemon.started",
            jobs=sorted(j.id for j in self.scheduler.get_jobs()),
            leader=[n for n, lead in self.leaders.items() if lead.held],
        )
        while not self.stop.wait(0.5):
            pass
        return self._shutdown(http)

    def _shutdown(self, http: StatusServer) -> int:
        self.scheduler.shutdown(wait=False)
        self.queue.stop()  # no new jobs; running ones see the stop flag and end as cancelled
        deadline = time.monotonic() + SHUTDOWN_GRACE
        while self.jobs.active and time.monotonic() < deadline:
            time.sleep(0.05)
        abandoned = self.jobs.inflight_runs() if self.jobs.active else []
        if abandoned:
            emit(log, logging.WARNING, "daemon.abandoned", runs=abandoned, seconds=SHUTDOWN_GRACE)
            done = threading.Thread(target=self.jobs.abandon, args=(abandoned,), daemon=True)
            done.start()
            done.join(SHUTDOWN_GRACE)
        http.stop()
        emit(log, logging.INFO, "daemon.stopped", uptime_seconds=time.time() - self.started)
        if self.jobs.active:  # a thread stuck in a call that will not return: do not wait for it
            self.close()
            logging.shutdown()
            os._exit(0)
        return 0

    def health(self) -> tuple[int, dict[str, Any]]:
        return health(
            now=time.time(),
            started=self.started,
            scheduler_running=self.scheduler.running,
            stopping=self.stop.is_set(),
            stale_after=self.stale_after,
            jobs=self.book.snapshot(),
            leader={n: lead.held for n, lead in self.leaders.items()},
            vantage=self.vantage,
            version=__version__,
        )

    # -- the schedule ------------------------------------------------------------------------

    def _build_scheduler(self) -> BackgroundScheduler:
        """Every job on its trigger (see ``scheduler``); nothing runs until ``serve`` starts it."""
        slots = check_slots(self.config)
        sched = BackgroundScheduler(
            timezone=UTC,
            executors={
                "default": ThreadPoolExecutor(min(CHECK_WORKERS, len(slots))),
                "singletons": ThreadPoolExecutor(SINGLETON_WORKERS),
                "housekeeping": ThreadPoolExecutor(HOUSEKEEPING_WORKERS),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        sched.add_listener(self._on_scheduler_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        now = datetime.now(UTC)
        self._add_inventory_job(sched, now)
        self._add_check_jobs(sched, slots)
        self._add_mail_job(sched)
        self._add_retention_job(sched, now)
        self._add_heartbeat(sched, slots)
        return sched

    def _add_inventory_job(self, sched: BackgroundScheduler, now: datetime) -> None:
        interval = self.config.daemon.inventory_interval
        sched.add_job(
            self.queue.inventory,
            **self._continuing("inventory", interval, now, stored=self._stored_inventory_started()),
            id="inventory",
            executor="singletons",
            misfire_grace_time=max(1, int(interval)),
        )

    def _add_check_jobs(self, sched: BackgroundScheduler, slots: list[tuple[float, float, list[str]]]) -> None:
        """One job per slot: a workload alone at its offset, or the workloads sharing a one-second slot."""
        for interval, offset, names in slots:
            slot = Slot(interval, offset, tuple(names))

            def check(slot: Slot = slot) -> None:
                self.queue.check(slot)

            sched.add_job(
                check,
                phased_trigger(interval, offset),
                id=slot.id,
                misfire_grace_time=max(1, int(interval)),
            )

    def _add_mail_job(self, sched: BackgroundScheduler) -> None:
        if self.config.mail is None:
            emit(log, logging.INFO, "mail.off", reason="no mail: section in the config")
            return
        schedule = self.config.mail.schedule
        sched.add_job(
            self.jobs.guarded("mail", self.jobs.mail, singleton="mail"),
            mail_trigger(schedule),
            id="mail",
            executor="singletons",
            misfire_grace_time=max(1, int(schedule.grace)),
        )

    def _add_retention_job(self, sched: BackgroundScheduler, now: datetime) -> None:
        sched.add_job(
            self.jobs.guarded("retention", self.jobs.retention, singleton="retention"),
            **self._continuing("retention", RETENTION_EVERY, now),
            id="retention",
            executor="singletons",
            misfire_grace_time=3600,
        )

    def _add_heartbeat(self, sched: BackgroundScheduler, slots: list[tuple[float, float, list[str]]]) -> None:
        """On a shared Postgres, leadership and liveness are re-checked at least this often, between
        ticks too, and the runs of dead daemons are closed; on their own thread, never behind work."""
        if self.liveness is None:
            return
        shortest = min(interval for interval, _, _ in slots)
        beat = min(HEARTBEAT_MAX, shortest)
        sched.add_job(
            self._heartbeat,
            IntervalTrigger(seconds=beat, timezone=UTC),
            id="leadership",
            executor="housekeeping",
            misfire_grace_time=max(1, int(beat)),
        )
        sched.add_job(
            self._queue_housekeeping,
            IntervalTrigger(seconds=QueueTiming.for_interval(shortest).heartbeat, timezone=UTC),
            id="queue-housekeeping",
            executor="housekeeping",
            misfire_grace_time=max(1, int(beat)),
        )
        sched.add_job(
            self._close_dead_runs,
            IntervalTrigger(seconds=DEAD_RUNS_EVERY, timezone=UTC),
            id="dead-runs",
            executor="housekeeping",
            next_run_time=datetime.now(UTC),
            misfire_grace_time=int(DEAD_RUNS_EVERY),
        )

    def _stored_inventory_started(self) -> datetime | None:
        """When the oldest of the stored inventories of the accounts in use was started, if every
        account has one (from this daemon, another, or ``failover check``); loading it also fills the
        inventory cache for the first check job."""
        cache = self.jobs.inventory_cache
        try:
            stored = cache.get(cache.accounts)
        except StoreError:
            return None
        if not cache.accounts or set(stored.by_account) != set(cache.accounts):
            return None
        return min(inv.started_at for inv in stored.inventories)

    def _continuing(
        self, kind: str, interval: float, now: datetime, *, stored: datetime | None = None
    ) -> dict[str, Any]:
        """Trigger and first run time of an interval job that picks up from its last recorded run
        (or from ``stored``, when what the job stores is there and newer, whoever stored it)."""
        try:
            last = self.store.last_run_started(kind)
        except StoreError:  # the database is away for now: run at once, the job records the failure
            last = None
        if stored is not None and (last is None or stored > last):
            last = stored
        due = next_due(last, interval, now)
        return {"trigger": IntervalTrigger(seconds=interval, start_date=due, timezone=UTC), "next_run_time": due}

    # -- leadership and mail catch-up --------------------------------------------------------

    def _heartbeat(self) -> None:
        if self.stop.is_set():
            return
        if self.liveness is not None:
            self.liveness.ensure()
        for leader in self.leaders.values():
            leader.ensure()

    def _close_dead_runs(self) -> None:
        if self.stop.is_set() or self.liveness is None:
            return
        try:
            self.jobs.close_dead_runs(
                self.liveness.alive, older_than=self.stale_after, owner_alive=self.liveness.owner_alive
            )
        except StoreError as err:
            emit(log, logging.WARNING, "daemon.dead_runs_unchecked", error=str(err))

    def _queue_housekeeping(self) -> None:
        """Retry the jobs of dead daemons' workers; when there were some, close the runs their daemons
        left ``running`` at once (by owner: a live daemon sharing the vantage keeps its own)."""
        if self.stop.is_set():
            return
        if self.queue.housekeeping():
            self._close_dead_runs()

    def _leadership(self, name: str, held: bool) -> None:
        self.metrics.leader.labels(name).set(1 if held else 0)
        if name == "mail" and held:
            self._maybe_catch_up_mail()

    def _maybe_catch_up_mail(self) -> None:
        """Send a weekly email missed while no daemon led mail, if still within the grace period."""
        if not self.jobs.mail_due_now():
            return
        emit(log, logging.INFO, "mail.catch_up", reason="the week's email is due and may not have been sent")
        self._add_mail_once("mail-catch-up", 0.0)

    def _schedule_mail_retry(self, delay: float) -> None:
        self._add_mail_once("mail-retry", delay)

    def _add_mail_once(self, job_id: str, delay: float) -> None:
        if self.stop.is_set():
            return
        when = datetime.now(UTC) + timedelta(seconds=delay)
        with contextlib.suppress(Exception):  # the scheduler shut down meanwhile
            self.scheduler.add_job(
                self.jobs.guarded("mail", self.jobs.mail, singleton="mail"),
                DateTrigger(when, timezone=UTC),
                id=job_id,
                replace_existing=True,
                misfire_grace_time=None,
            )

    def _on_scheduler_event(self, event: JobEvent) -> None:
        kind = event.job_id.split(":", 1)[0].split("-", 1)[0]
        reason = "overrun" if event.code == EVENT_JOB_MAX_INSTANCES else "missed"
        self.metrics.skipped.labels(kind, reason).inc()
        emit(log, logging.WARNING, f"job.{reason}", job=event.job_id)

    # -- once --------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Each job once, in order: inventory, check (all workloads), mail (if due), retention."""
        jobs = self.jobs
        for leader in self.leaders.values():
            leader.ensure()
        results = [jobs.guarded("inventory", jobs.inventory, singleton="inventory")()]
        names = [w.name for w in self.config.workloads]
        results.append(jobs.guarded("check", lambda: jobs.check(names))())
        if self.alerter is not None and not self.alerter.drain(ONCE_ALERT_WAIT):
            emit(log, logging.WARNING, "alert.unfinished", seconds=ONCE_ALERT_WAIT)
        if jobs.mail_due_now():
            results.append(jobs.guarded("mail", jobs.mail, singleton="mail")())
        elif self.config.mail is not None:
            emit(log, logging.INFO, "mail.not_due")
        results.append(jobs.guarded("retention", jobs.retention, singleton="retention")())
        ok = all(results) and not self.stop.is_set()
        emit(log, logging.INFO, "daemon.once_finished", ok=ok)
        return 0 if ok or self.stop.is_set() else 3
