"""The daemon: open the store (and its locks), schedule the jobs, serve /healthz and /metrics, and stop
cleanly on SIGTERM or SIGINT.

Stopping: no new job starts; running ones stop at their next checkpoint (probes are cancelled at
once); whatever is still running after ``SHUTDOWN_GRACE`` seconds (a cloud call that will not return)
is abandoned, its run recorded as cancelled, and the process exits 0. A second signal exits at once.
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
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from failover import __version__
from failover.daemon.health import JobBook, health
from failover.daemon.http import StatusServer, parse_listen
from failover.daemon.jobs import Jobs, last_run_at
from failover.daemon.locks import AdvisoryLock, InstanceLock, Leadership, Solo, migration_lock, sqlite_path
from failover.daemon.logs import emit
from failover.daemon.metrics import SINGLETONS, DaemonMetrics
from failover.daemon.scheduler import (
    RETENTION_EVERY,
    check_interval,
    check_slots,
    mail_trigger,
    next_due,
    phased_trigger,
    validate,
)
from failover.model import utcnow
from failover.runner import vantage_of
from failover.schema import Config
from failover.store import Store, display_url, resolve_database_url

__all__ = ["SHUTDOWN_GRACE", "Daemon"]

log = logging.getLogger("failover.daemon")

SHUTDOWN_GRACE = 5.0
HEARTBEAT_MAX = 10.0


class Daemon:
    def __init__(self, config: Config, *, listen: str | None = None) -> None:
        validate(config)
        self.config = config
        self.listen = listen if listen is not None else config.daemon.listen
        parse_listen(self.listen, source="--listen" if listen is not None else "daemon.listen")
        self.vantage = vantage_of(config)
        self.url = resolve_database_url(config.database)
        self.stop = threading.Event()
        self.book = JobBook()
        self.metrics = DaemonMetrics(version=__version__, vantage=self.vantage)
        self.started = time.time()
        self.stale_after = max(3 * max(check_interval(config, w) for w in config.workloads), 60.0)
        self.store: Store | None = None
        self.jobs: Jobs | None = None
        self.leaders: dict[str, Leadership] = {}
        self.scheduler: BackgroundScheduler | None = None
        self.http: StatusServer | None = None
        self._instance: InstanceLock | None = None
        self._signals = 0

    # -- start and stop ----------------------------------------------------------------------

    def open(self) -> Daemon:
        """Take the single-instance lock (SQLite), open and migrate the store, set up leadership."""
        emit(
            log,
            logging.INFO,
            "daemon.starting",
            version=__version__,
            pid=os.getpid(),
            vantage=self.vantage,
            database=display_url(self.url),
            workloads=len(self.config.workloads),
        )
        path = sqlite_path(self.url)
        if path is not None:
            self._instance = InstanceLock(path).acquire()
        with migration_lock(self.url):
            self.store = Store.open(self.url)
        abandoned = self.store.abandon_runs(self.vantage, before=utcnow())
        if abandoned:
            emit(log, logging.WARNING, "daemon.abandoned_runs", count=abandoned, vantage=self.vantage)
        postgres = self.store.engine.dialect.name == "postgresql"
        for name in SINGLETONS:
            if postgres:
                self.leaders[name] = AdvisoryLock(self.url, name, vantage=self.vantage, on_change=self._leadership)
            else:
                self.leaders[name] = Solo(name)
                self.metrics.leader.labels(name).set(1)
        self.jobs = Jobs(
            self.config,
            self.store,
            vantage=self.vantage,
            metrics=self.metrics,
            book=self.book,
            leaders=self.leaders,
            stop=self.stop,
        )
        self.jobs.on_mail_retry = self._schedule_mail_retry
        try:
            self.jobs.load_metrics()
        except Exception as err:  # metrics fill in with the first cycle anyway
            emit(log, logging.WARNING, "metrics.preload_failed", error=str(err))
        return self

    def close(self) -> None:
        for leader in self.leaders.values():
            leader.release()
        if self.store is not None:
            self.store.close()
        if self._instance is not None:
            self._instance.release()

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals > 1:
            emit(log, logging.WARNING, "daemon.forced_exit", signal=signal.Signals(signum).name)
            logging.shutdown()
            os._exit(130)
        emit(log, logging.INFO, "daemon.stopping", signal=signal.Signals(signum).name)
        self.stop.set()

    # -- forever -----------------------------------------------------------------------------

    def serve(self) -> int:
        """Run until a signal; returns the exit code (0)."""
        assert self.jobs is not None and self.store is not None
        self.scheduler = self._build_scheduler()
        for leader in self.leaders.values():
            leader.ensure()  # leadership known before the first tick; a mail catch-up may be queued
        if isinstance(self.leaders["mail"], Solo):
            self._maybe_catch_up_mail()
        self.http = StatusServer(self.listen, self.metrics.registry, self.health).start()
        emit(log, logging.INFO, "http.listening", url=self.http.url, port=self.http.address[1])
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
        return self._shutdown()

    def _shutdown(self) -> int:
        assert self.jobs is not None
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + SHUTDOWN_GRACE
        while self.jobs.active and time.monotonic() < deadline:
            time.sleep(0.05)
        abandoned = self.jobs.inflight_runs() if self.jobs.active else []
        if abandoned:
            emit(log, logging.WARNING, "daemon.abandoned", runs=abandoned, seconds=SHUTDOWN_GRACE)
            done = threading.Thread(target=self.jobs.abandon, args=(abandoned,), daemon=True)
            done.start()
            done.join(2.0)
        if self.http is not None:
            self.http.stop()
        emit(log, logging.INFO, "daemon.stopped", uptime_seconds=time.time() - self.started)
        if self.jobs.active:  # a thread stuck in a call that will not return: do not wait for it
            self.close()
            logging.shutdown()
            os._exit(0)
        return 0

    def health(self) -> tuple[int, dict[str, Any]]:
        running = self.scheduler is not None and self.scheduler.running
        return health(
            now=time.time(),
            started=self.started,
            scheduler_running=running,
            stopping=self.stop.is_set(),
            stale_after=self.stale_after,
            jobs=self.book.snapshot(),
            leader={n: lead.held for n, lead in self.leaders.items()},
            vantage=self.vantage,
            version=__version__,
        )

    def _build_scheduler(self) -> BackgroundScheduler:
        assert self.jobs is not None and self.store is not None
        jobs, cfg = self.jobs, self.config.daemon
        slots = check_slots(self.config)
        workers = min(32, 4 + len(slots))
        sched = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        sched.add_listener(self._on_scheduler_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        now = datetime.now(UTC)
        sched.add_job(
            jobs.guarded("inventory", jobs.inventory, singleton="inventory"),
            **self._continuing("inventory", cfg.inventory_interval, now),
            id="inventory",
            misfire_grace_time=max(1, int(cfg.inventory_interval)),
        )
        for interval, offset, names in slots:
            job_id = f"check:{names[0]}" if len(names) == 1 else f"check:{interval:g}s@{offset:.1f}"

            def check(names: list[str] = names) -> None:
                jobs.check(names)

            sched.add_job(
                jobs.guarded("check", check),
                phased_trigger(interval, offset),
                id=job_id,
                misfire_grace_time=max(1, int(interval)),
            )
        if self.config.mail is not None:
            schedule = self.config.mail.schedule
            sched.add_job(
                jobs.guarded("mail", jobs.mail, singleton="mail"),
                mail_trigger(schedule),
                id="mail",
                misfire_grace_time=max(1, int(schedule.grace)),
            )
        else:
            emit(log, logging.INFO, "mail.off", reason="no mail: section in the config")
        sched.add_job(
            jobs.guarded("retention", jobs.retention, singleton="retention"),
            **self._continuing("retention", RETENTION_EVERY, now),
            id="retention",
            misfire_grace_time=3600,
        )
        if any(isinstance(lead, AdvisoryLock) for lead in self.leaders.values()):
            beat = min(HEARTBEAT_MAX, min(interval for interval, _, _ in slots))
            sched.add_job(
                self._heartbeat,
                IntervalTrigger(seconds=beat, timezone=UTC),
                id="leadership",
                misfire_grace_time=max(1, int(beat)),
            )
        return sched

    def _continuing(self, kind: str, interval: float, now: datetime) -> dict[str, Any]:
        """Trigger and first run time of an interval job that picks up from its last recorded run."""
        assert self.store is not None
        due = next_due(last_run_at(self.store, kind), interval, now)
        return {"trigger": IntervalTrigger(seconds=interval, start_date=due, timezone=UTC), "next_run_time": due}

    # -- leadership and mail catch-up --------------------------------------------------------

    def _heartbeat(self) -> None:
        if self.stop.is_set():
            return
        for leader in self.leaders.values():
            leader.ensure()

    def _leadership(self, name: str, held: bool) -> None:
        self.metrics.leader.labels(name).set(1 if held else 0)
        if name == "mail" and held:
            self._maybe_catch_up_mail()

    def _maybe_catch_up_mail(self) -> None:
        """Send a weekly email missed while no daemon led mail, if still within the grace period."""
        if self.jobs is None or not self.jobs.mail_due_now():
            return
        emit(log, logging.INFO, "mail.catch_up", reason="the week's email is due and may not have been sent")
        self._add_mail_once("mail-catch-up", 0.0)

    def _schedule_mail_retry(self, delay: float) -> None:
        self._add_mail_once("mail-retry", delay)

    def _add_mail_once(self, job_id: str, delay: float) -> None:
        if self.scheduler is None or self.jobs is None or self.stop.is_set():
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
        assert self.jobs is not None
        jobs = self.jobs
        for leader in self.leaders.values():
            leader.ensure()
        results = [jobs.guarded("inventory", jobs.inventory, singleton="inventory")()]
        names = [w.name for w in self.config.workloads]
        results.append(jobs.guarded("check", lambda: jobs.check(names))())
        if jobs.mail_due_now():
            results.append(jobs.guarded("mail", jobs.mail, singleton="mail")())
        elif self.config.mail is not None:
            emit(log, logging.INFO, "mail.not_due")
        results.append(jobs.guarded("retention", jobs.retention, singleton="retention")())
        ok = all(results) and not self.stop.is_set()
        emit(log, logging.INFO, "daemon.once_finished", ok=ok)
        return 0 if ok or self.stop.is_set() else 3
