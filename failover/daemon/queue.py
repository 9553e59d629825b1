"""Where the daemon's check and inventory work runs: in this process (SQLite, one daemon per file) or
as jobs of procrastinate's Postgres queue that every daemon on the database works on.

APScheduler stays the schedule. At each tick every daemon *defers* the tick's job; procrastinate's
``queueing_lock`` (``check:<vantage>:<slot>:<tick>``) lets only one of those defers land while the job
waits, and its ``lock`` (``check:<vantage>:<slot>``) keeps two jobs of one slot from running at
once. A queueing lock only holds while a job is ``todo``: a daemon whose tick fires after another's
job was already taken still lands a second job, so a job first asks the table whether its tick
already ran (a job with the same queueing lock that succeeded) and then does nothing. Together: no
workload is probed twice per tick per vantage, and the work goes to whichever daemon is free, so
adding a daemon adds capacity for probing and scoring alike. Check work is queued per vantage (each
vantage probes from where it stands); inventory per account on one shared queue.

A daemon that dies (SIGKILL, power loss) leaves its ``doing`` jobs behind. Each worker beats a
heartbeat into ``procrastinate_workers``; ``housekeeping`` (on the daemon's housekeeping thread,
never behind work) retries the jobs of workers whose heartbeat stopped (``get_stalled_jobs``), so
another daemon picks them up within one check interval.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from failover.daemon.locks import KEEPALIVE, libpq_dsn
from failover.daemon.logs import emit
from failover.daemon.scheduler import ANCHOR
from failover.errors import DaemonError

if TYPE_CHECKING:
    from procrastinate import App, JobContext
    from procrastinate.worker import Worker

    from failover.daemon.jobs import Jobs
    from failover.daemon.metrics import DaemonMetrics

__all__ = [
    "InProcess",
    "QueueTiming",
    "SharedQueue",
    "Slot",
    "WorkQueue",
    "check_locks",
    "inventory_locks",
    "queue_name",
    "tick_of",
]

log = logging.getLogger("failover.daemon.queue")
T = TypeVar("T")

CHECK_TASK = "failover.check"
INVENTORY_TASK = "failover.inventory"
INVENTORY_QUEUE = "inventory"
SHARE_WINDOW_S = 300.0  # a daemon's share: of the jobs finished in the last five minutes
PRUNE_EVERY_S = 600.0  # finished jobs older than an hour are deleted this often
KEEP_JOBS_HOURS = 1
DEFER_TIMEOUT_S = 10.0
# queue names become LISTEN channels (``procrastinate_queue_v1#<queue>``): at most 63 bytes in all
MAX_QUEUE_NAME = 40


@dataclass(frozen=True)
class Slot:
    """One check job of the schedule: the workloads sharing a one-second slot of their interval."""

    interval: float
    offset: float
    names: tuple[str, ...]

    @property
    def id(self) -> str:
        """Stable across daemons and restarts (the APScheduler job id and the queue's lock names)."""
        if len(self.names) == 1:
            return f"check:{self.names[0]}"
        return f"check:{self.interval:g}s@{self.offset:.1f}"


def tick_of(interval: float, offset: float, at: float) -> int:
    """Which tick of a slot's phased schedule ``at`` (Unix time) belongs to: the nearest one, so two
    daemons whose clocks or threads fire a little apart agree on it."""
    start = ANCHOR.timestamp() + offset
    return round((at - start) / interval)


def tick_time(interval: float, offset: float, tick: int) -> float:
    """When tick ``tick`` of the slot is due (Unix time): the start of its job's latency."""
    return ANCHOR.timestamp() + offset + tick * interval


def queue_name(kind: str, vantage: str) -> str:
    """``<kind>:<vantage>``, or with a digest of the vantage where that would be too long a channel."""
    name = f"{kind}:{vantage}"
    if len(name) <= MAX_QUEUE_NAME:
        return name
    return f"{kind}:{hashlib.sha256(vantage.encode()).hexdigest()[:16]}"


def check_locks(vantage: str, slot: str, tick: int) -> tuple[str, str]:
    """(lock, queueing lock) of a slot's check job: one run of the slot at a time per vantage; one job
    per tick per vantage."""
    lock = f"{slot}@{vantage}"
    return lock, f"{lock}#{tick}"


def inventory_locks(account: str, tick: int) -> tuple[str, str]:
    """(lock, queueing lock) of an account's inventory job: one at a time; one per inventory interval."""
    lock = f"inventory:{account}"
    return lock, f"{lock}#{tick}"


class WorkQueue(Protocol):
    """What the schedule hands its work to."""

    def start(self) -> None: ...

    def check(self, slot: Slot) -> None:
        """Run (or queue) this tick's check of the slot's workloads."""
        ...

    def inventory(self) -> None:
        """Run (or queue) this inventory tick's work."""
        ...

    def housekeeping(self) -> list[str]:
        """Recover what dead daemons left; returns the vantages whose jobs were taken over."""
        ...

    def stop(self) -> None:
        """Take no more work; what runs finishes or is cancelled by the daemon's stop flag."""
        ...


class InProcess:
    """Today's direct call: the scheduler's thread runs the work (SQLite, and ``--once``)."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs

    def start(self) -> None:
        pass

    def check(self, slot: Slot) -> None:
        names = list(slot.names)
        self.jobs.guarded("check", lambda: self.jobs.check(names))()

    def inventory(self) -> None:
        self.jobs.guarded("inventory", self.jobs.inventory, singleton="inventory")()

    def housekeeping(self) -> list[str]:
        return []

    def stop(self) -> None:
        pass


@dataclass(frozen=True)
class QueueTiming:
    """How fast a dead daemon is noticed: its worker's heartbeat stops, and after ``stalled_after``
    seconds without one its jobs are retried by the next housekeeping pass (every ``heartbeat``).
    From the shortest check interval: a dead daemon's work is taken over within one interval."""

    heartbeat: float
    stalled_after: float
    polling: float

    @classmethod
    def for_interval(cls, interval: float) -> QueueTiming:
        heartbeat = min(5.0, max(0.5, interval / 12))
        return cls(heartbeat=heartbeat, stalled_after=max(4.0, 4 * heartbeat), polling=min(5.0, max(0.5, interval / 4)))


class SharedQueue:
    """procrastinate on the daemons' Postgres: a worker on this daemon's vantage's check queue and the
    inventory queue, on its own event loop thread; the work itself on thread pools (it is blocking)."""

    def __init__(
        self,
        url: str,
        jobs: Jobs,
        *,
        vantage: str,
        metrics: DaemonMetrics,
        concurrency: int,
        timing: QueueTiming,
        grace: float,
        inventory_interval: float,
        accounts: list[str],
    ) -> None:
        self.jobs = jobs
        self.vantage = vantage
        self.metrics = metrics
        self.timing = timing
        self.grace = grace
        self.inventory_interval = inventory_interval
        self.accounts = list(accounts)
        self.check_queue = queue_name("check", vantage)
        self._dsn = libpq_dsn(url)
        self._checks = ThreadPoolExecutor(concurrency, thread_name_prefix="check")
        self._inventories = ThreadPoolExecutor(1, thread_name_prefix="inventory")
        self._concurrency = concurrency + 1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._app: App | None = None
        self._worker: Worker | None = None
        self._error: BaseException | None = None
        self._pruned = 0.0
        self._stopping = threading.Event()
        logging.getLogger("procrastinate").setLevel(logging.WARNING)  # a line per job otherwise

    # -- the worker's thread -------------------------------------------------------------------

    def start(self) -> None:
        """Open the queue and start the worker; raises if the database cannot be reached."""
        self._thread = threading.Thread(target=self._serve, name="work-queue", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise DaemonError(f"cannot start the work queue: {type(self._error).__name__}: {self._error}") from None
        emit(log, logging.INFO, "queue.started", queues=[self.check_queue, INVENTORY_QUEUE], worker=self.worker_id)

    @property
    def worker_id(self) -> int | None:
        return self._worker.worker_id if self._worker is not None else None

    def _serve(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as err:  # reported by start() or logged
            self._error = err
            emit(log, logging.ERROR, "queue.stopped", error=f"{type(err).__name__}: {err}")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        """Open the queue and run the worker until ``stop``; a worker that stops on its own (its
        LISTEN connection or heartbeat failed: the database went away) is started again."""
        from procrastinate import App, PsycopgConnector

        self._loop = asyncio.get_running_loop()
        # keepalives as the leadership sessions: a silent network path fails a query, never hangs the worker
        connector = PsycopgConnector(conninfo=self._dsn, min_size=2, max_size=6, kwargs=dict(KEEPALIVE))
        app = App(connector=connector)
        app.task(name=CHECK_TASK, pass_context=True)(self._check_task)
        app.task(name=INVENTORY_TASK, pass_context=True)(self._inventory_task)
        async with app.open_async():
            self._app = app
            while not self._stopping.is_set():
                try:
                    await self._work(app)
                except Exception as err:
                    emit(log, logging.WARNING, "queue.worker_failed", error=f"{type(err).__name__}: {err}")
                if not self._stopping.is_set():
                    emit(log, logging.WARNING, "queue.worker_restarting", seconds=self.timing.heartbeat)
                    await asyncio.sleep(self.timing.heartbeat)

    async def _work(self, app: App) -> None:
        from procrastinate.worker import Worker

        worker = Worker(
            app,
            queues=[self.check_queue, INVENTORY_QUEUE],
            name=f"failover {self.vantage}"[:60],
            concurrency=self._concurrency,
            fetch_job_polling_interval=self.timing.polling,
            abort_job_polling_interval=max(self.timing.polling, 1.0),
            shutdown_graceful_timeout=self.grace,
            install_signal_handlers=False,
            update_heartbeat_interval=self.timing.heartbeat,
            stalled_worker_timeout=self.timing.stalled_after,
        )
        self._worker = worker
        run = asyncio.create_task(worker.run())
        while worker.worker_id is None and not run.done():
            await asyncio.sleep(0.01)
        self._ready.set()
        if self._stopping.is_set():
            worker.stop()
        await run

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = DEFER_TIMEOUT_S) -> T:
        """Run ``coro`` on the worker's loop from a scheduler thread."""
        if self._loop is None or self._loop.is_closed():
            coro.close()
            raise RuntimeError("the work queue is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        """The worker takes no more jobs; running ones see the daemon's stop flag and end (or are
        abandoned after ``grace``); then the worker unregisters and the pool closes."""
        self._stopping.set()
        worker, thread = self._worker, self._thread
        if worker is not None:
            worker.stop()
        if thread is not None:
            thread.join(self.grace + 5)
        self._checks.shutdown(wait=False, cancel_futures=True)
        self._inventories.shutdown(wait=False, cancel_futures=True)

    # -- deferring (from the scheduler's threads) ----------------------------------------------

    def check(self, slot: Slot) -> None:
        now = time.time()
        tick = tick_of(slot.interval, slot.offset, now)
        lock, queueing_lock = check_locks(self.vantage, slot.id, tick)
        kwargs = {
            "slot": slot.id,
            "names": list(slot.names),
            "tick": tick,
            "due": tick_time(slot.interval, slot.offset, tick),
            "vantage": self.vantage,
        }
        self._defer(CHECK_TASK, self.check_queue, lock, queueing_lock, kwargs)

    def inventory(self) -> None:
        now = time.time()
        tick = int((now - ANCHOR.timestamp()) // self.inventory_interval)
        for account in self.accounts:
            lock, queueing_lock = inventory_locks(account, tick)
            kwargs = {"account": account, "tick": tick, "due": now, "vantage": self.vantage}
            self._defer(INVENTORY_TASK, INVENTORY_QUEUE, lock, queueing_lock, kwargs)

    def _defer(self, task: str, queue: str, lock: str, queueing_lock: str, kwargs: dict[str, Any]) -> None:
        from procrastinate.exceptions import AlreadyEnqueued

        app = self._app
        if app is None:
            self.metrics.queue_defers.labels(task, "error").inc()
            return
        job = app.tasks[task].configure(queue=queue, lock=lock, queueing_lock=queueing_lock)
        try:
            self._call(job.defer_async(**kwargs))
        except AlreadyEnqueued:  # another daemon deferred this tick first: the normal case
            self.metrics.queue_defers.labels(task, "already_enqueued").inc()
            return
        except Exception as err:
            self.metrics.queue_defers.labels(task, "error").inc()
            emit(log, logging.WARNING, "queue.defer_failed", task=task, lock=queueing_lock, error=str(err))
            return
        self.metrics.queue_defers.labels(task, "deferred").inc()

    # -- the jobs (on the worker's loop) -------------------------------------------------------

    async def _check_task(self, context: JobContext, **kw: Any) -> str:
        names: list[str] = kw["names"]
        jobs = self.jobs
        return await self._run(
            context, CHECK_TASK, kw["due"], self._checks, jobs.guarded("check", lambda: jobs.check(names, scoring=True))
        )

    async def _inventory_task(self, context: JobContext, **kw: Any) -> str:
        accounts = [kw["account"]]
        jobs = self.jobs
        return await self._run(
            context,
            INVENTORY_TASK,
            kw["due"],
            self._inventories,
            jobs.guarded("inventory", lambda: jobs.inventory(accounts)),
        )

    async def _run(
        self, context: JobContext, task: str, due: float, pool: ThreadPoolExecutor, work: Callable[[], bool]
    ) -> str:
        """One job: the work on ``pool``, ``succeeded`` whatever its outcome (a failure is logged and
        recorded on its run, not retried). ``aborted`` when its tick already ran (a duplicate defer)
        or this daemon stopped under it, so that a job of the same tick still waiting does the work."""
        from procrastinate.exceptions import JobAborted

        job = context.job
        if await self._already_ran(job.id, job.queueing_lock, job.lock, due):
            self.metrics.queue_jobs_run.labels(task, "duplicate").inc()
            raise JobAborted("its tick already ran")  # ``aborted``: only a succeeded job counts as done
        self.metrics.queue_latency.labels(task).observe(max(0.0, time.time() - due))
        ok = await asyncio.get_running_loop().run_in_executor(pool, work)
        if not ok and self.jobs.stop.is_set():
            self.metrics.queue_jobs_run.labels(task, "cancelled").inc()
            raise JobAborted("the daemon stopped during the job")
        outcome = "ok" if ok else "failed"
        self.metrics.queue_jobs_run.labels(task, outcome).inc()
        return outcome

    async def _already_ran(self, job_id: int | None, queueing_lock: str | None, lock: str | None, due: float) -> bool:
        """Whether another job did this one's work: the same tick (queueing lock) succeeded, or, for an
        inventory, the same account's inventory due within the last half interval did (daemons whose
        inventory ticks straddle an interval boundary defer it twice). Each daemon's inventory runs on
        its own phase (one interval after the last run it knew of at start), so two daemons may defer
        one tick more than half an interval apart: the same tick having succeeded is enough."""
        if self._app is None or queueing_lock is None:
            return False
        query = (
            "SELECT EXISTS (SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = %(queueing_lock)s "
            "AND id <> %(id)s AND status = 'succeeded') AS ran"
        )
        if queueing_lock.startswith("inventory:"):
            query = (
                "SELECT EXISTS (SELECT 1 FROM procrastinate_jobs WHERE task_name = %(task)s AND id <> %(id)s "
                "AND status = 'succeeded' AND (queueing_lock = %(queueing_lock)s "
                "OR (lock = %(lock)s AND (args->>'due')::float > %(since)s))) AS ran"
            )
        row = await self._app.connector.execute_query_one_async(
            query,  # type: ignore[arg-type]
            id=job_id,
            queueing_lock=queueing_lock,
            task=INVENTORY_TASK,
            lock=lock,
            since=due - self.inventory_interval / 2,
        )
        return bool(row["ran"])

    # -- housekeeping (from the housekeeping thread) --------------------------------------------

    def housekeeping(self) -> list[str]:
        """Retry dead workers' jobs, refresh the queue gauges, prune old jobs; never raises."""
        try:
            return self._call(self._housekeep(), timeout=max(DEFER_TIMEOUT_S, self.timing.stalled_after))
        except Exception as err:
            emit(log, logging.WARNING, "queue.housekeeping_failed", error=f"{type(err).__name__}: {err}")
            return []

    async def _housekeep(self) -> list[str]:
        taken = await self._retry_stalled()
        await self._refresh_gauges()
        if time.monotonic() - self._pruned > PRUNE_EVERY_S and self._app is not None:
            self._pruned = time.monotonic()
            await self._app.job_manager.delete_old_jobs(
                nb_hours=KEEP_JOBS_HOURS, include_failed=True, include_cancelled=True, include_aborted=True
            )
        return taken

    async def _retry_stalled(self) -> list[str]:
        """Put the jobs of workers silent for ``stalled_after`` back to ``todo``. When the same tick was
        deferred again meanwhile (a waiting job holds its queueing lock), that job does the work and the
        stalled one is closed as aborted instead."""
        from procrastinate.exceptions import ConnectorException
        from procrastinate.jobs import Status

        app = self._app
        if app is None:
            return []
        manager = app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=self.timing.stalled_after))
        vantages: set[str] = set()
        for job in stalled:
            if job.id is None or job.id in self._running_ids():
                continue
            try:
                await manager.retry_job_by_id_async(job.id, retry_at=datetime.now(UTC))
                outcome = "retried"
            except ConnectorException:
                try:
                    await manager.finish_job_by_id_async(job.id, Status.ABORTED, delete_job=False)
                except ConnectorException:
                    continue  # taken care of by another daemon meanwhile
                outcome = "superseded"
            self.metrics.queue_stalled.labels(outcome).inc()
            vantages.add(str(job.task_kwargs.get("vantage", "")))
            emit(
                log,
                logging.WARNING,
                "queue.stalled_job",
                job=job.id,
                task=job.task_name,
                lock=job.queueing_lock,
                outcome=outcome,
            )
        if stalled:
            await manager.prune_stalled_workers(self.timing.stalled_after)
        return sorted(v for v in vantages if v)

    def _running_ids(self) -> set[int]:
        """This daemon's own running jobs (never stalled, whatever a slow heartbeat says)."""
        worker = self._worker
        if worker is None:
            return set()
        return {c.job.id for c in list(worker._running_jobs.values()) if c.job.id is not None}

    async def _refresh_gauges(self) -> None:
        """Queue depth (waiting and running jobs per queue) and this daemon's share of the jobs
        finished in the last ``SHARE_WINDOW_S`` seconds, both read from procrastinate's tables."""
        app = self._app
        if app is None:
            return
        rows = await app.connector.execute_query_all_async(
            "SELECT queue_name, status::text AS status, count(*) AS n FROM procrastinate_jobs "
            "WHERE status IN ('todo', 'doing') GROUP BY queue_name, status"
        )
        depth = {(r["queue_name"], r["status"]): int(r["n"]) for r in rows}
        for queue in (self.check_queue, INVENTORY_QUEUE):
            for status in ("todo", "doing"):
                depth.setdefault((queue, status), 0)
        self.metrics.queue_depth(depth)
        rows = await app.connector.execute_query_all_async(
            "SELECT j.task_name, count(*) AS total, count(*) FILTER (WHERE j.worker_id = %(me)s) AS mine "
            "FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id = e.job_id "
            "WHERE e.type IN ('succeeded', 'failed') AND e.at > now() - make_interval(secs => %(window)s) "
            "GROUP BY j.task_name",
            me=self.worker_id,
            window=SHARE_WINDOW_S,
        )
        shares = {r["task_name"]: (int(r["mine"]) / int(r["total"]) if r["total"] else 0.0) for r in rows}
        for task in (CHECK_TASK, INVENTORY_TASK):
            self.metrics.queue_share.labels(task).set(shares.get(task, 0.0))
