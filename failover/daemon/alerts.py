"""The daemon's alert workers: sending alerts beside the daemon's scoring, never in its way.

The scoring leader hands each pass's scores to ``Alerter.scored`` (a queue put per destination: it
never waits on the network or the database). Each destination has its own worker thread and queue,
so a destination that hangs or keeps failing only delays itself. For each new score the worker reads
what the destination last heard (the delivery log), asks ``decide`` what is due, **claims** it in the
store (a unique row per destination, workload and baseline score: two daemons deciding from the
same baseline make the same key, and only one inserts it), then POSTs with retries and records the
outcome on the same row. Claim first, then send, as the weekly email does: a crash mid-send loses
at most that alert, never doubles it.

Every outcome is a metric (``failover_alert_deliveries_total{destination,outcome}``) and a log
line; nothing raised here reaches the scheduler.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import httpx

from failover.alerts.deliver import client_for, deliver, scrub, shown_url
from failover.alerts.events import Heard, decide
from failover.daemon.logs import emit
from failover.model import Score, Status, utcnow
from failover.schema import AlertDestination, Config
from failover.store import Store

__all__ = ["FIRST_SCORE", "QUEUE_SIZE", "RETRY_FAILED_AFTER", "Alerter", "OutcomeHook"]

log = logging.getLogger("failover.alerts")

QUEUE_SIZE = 10_000  # scores waiting per destination; beyond it they are dropped (the next pass decides again)
# An alert that failed all its attempts is decided again on the first pass at least this much later:
# a dead destination costs one try per workload a minute, not one per pass.
RETRY_FAILED_AFTER = timedelta(seconds=60)
# The baseline of a workload's first score: every daemon uses the same one, so the claim still dedups.
FIRST_SCORE = datetime(1970, 1, 1, tzinfo=UTC)

OutcomeHook = Callable[[str, str], None]  # (destination, outcome): delivered | failed | duplicate | dropped | error


class _Worker:
    """One destination's queue and thread."""

    def __init__(self, alerter: Alerter, dest: AlertDestination) -> None:
        self.alerter = alerter
        self.dest = dest
        self.queue: queue.Queue[tuple[Score | None, Score] | None] = queue.Queue(QUEUE_SIZE)
        self.failures = 0
        self.thread = threading.Thread(target=self._run, name=f"alerts:{dest.name}", daemon=True)

    def _run(self) -> None:
        with client_for(self.alerter.config) as client:
            while True:
                item = self.queue.get()
                try:
                    if item is None:
                        return
                    if not self.alerter.stop.is_set():
                        self._handle(client, *item)
                except Exception as err:  # a bug or the database away: log it, keep serving
                    error = scrub(f"{type(err).__name__}: {err}", self.dest.hidden)
                    self.alerter.hook(self.dest.name, "error")
                    emit(log, logging.WARNING, "alert.error", destination=self.dest.name, error=error)
                finally:
                    self.queue.task_done()

    def _handle(self, client: httpx.Client, previous: Score | None, current: Score) -> None:
        a, dest, config = self.alerter, self.dest, self.alerter.config
        workload = a.workloads.get(current.workload)
        if workload is None:
            return
        heard_row, last_row = a.store.last_alerts(dest.name, current.workload)
        now = utcnow()
        if last_row is not None and last_row.outcome == "failed" and now - last_row.claimed_at < RETRY_FAILED_AFTER:
            return
        heard = None
        if heard_row is not None and heard_row.status is not None and last_row is not None:
            heard = Heard(Status(heard_row.status), heard_row.readiness, last_row.claimed_at)
        event = decide(dest, config.alert_policy, workload, previous, current, heard, now)
        if event is None:
            return
        basis = previous.computed_at if previous is not None else FIRST_SCORE
        status = str(event.status) if event.status is not None else None
        alert_id = a.store.claim_alert(
            dest.name,
            event.workload,
            str(event.event),
            status=status,
            readiness=event.readiness,
            basis=basis,
            vantage=a.vantage,
        )
        if alert_id is None:
            a.hook(dest.name, "duplicate")
            emit(
                log,
                logging.INFO,
                "alert.duplicate",
                destination=dest.name,
                workload=event.workload,
                event=str(event.event),
                reason="another daemon claimed this alert",
            )
            return
        outcome = deliver(config, a.store, dest, event, alert_id, client=client, stop=a.stop)
        fields = {
            "destination": dest.name,
            "type": dest.type,
            "host": shown_url(dest.endpoint),
            "workload": event.workload,
            "event": str(event.event),
            "status": status,
            "attempts": outcome.attempts,
            "http_status": outcome.http_status,
        }
        if outcome.ok:
            self.failures = 0
            a.hook(dest.name, "delivered")
            emit(log, logging.INFO, "alert.delivered", **fields)
        else:
            self.failures += 1
            a.hook(dest.name, "failed")
            emit(log, logging.WARNING, "alert.failed", **fields, error=outcome.error, consecutive=self.failures)
        a.on_failures(dest.name, self.failures)


class Alerter:
    """The daemon's alert senders: ``scored`` after each scoring pass, ``close`` on the way out."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        vantage: str = "",
        hook: OutcomeHook | None = None,
        on_failures: Callable[[str, int], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.vantage = vantage
        self.hook: OutcomeHook = hook or (lambda _d, _o: None)
        self.on_failures = on_failures or (lambda _d, _n: None)
        self.stop = stop or threading.Event()
        self.workloads = {w.name: w for w in config.workloads}
        self._workers = {d.name: _Worker(self, d) for d in config.alerts}
        for worker in self._workers.values():
            worker.thread.start()

    def scored(self, previous: Mapping[str, Score | None], scores: list[Score]) -> None:
        """Queue this pass's scores (``previous``: each workload's score before the pass) for every
        destination. Never blocks: a full queue drops the score (the next pass decides again)."""
        for worker in self._workers.values():
            for s in scores:
                try:
                    worker.queue.put_nowait((previous.get(s.workload), s))
                except queue.Full:
                    self.hook(worker.dest.name, "dropped")
                    emit(
                        log,
                        logging.WARNING,
                        "alert.dropped",
                        destination=worker.dest.name,
                        workload=s.workload,
                        reason=f"{QUEUE_SIZE} scores already waiting for this destination",
                    )

    def drain(self, timeout: float) -> bool:
        """Wait until every queued score is handled (``--once`` and tests); False on timeout."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            for worker in self._workers.values():
                while worker.queue.unfinished_tasks and not deadline.is_set():
                    deadline.wait(0.02)
            return not deadline.is_set()
        finally:
            timer.cancel()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the workers: a send in progress gives up its retries; the threads are daemons, waited on
        for ``timeout`` seconds in all (a request in flight may take up to ``alert_policy.timeout``)."""
        self.stop.set()
        for worker in self._workers.values():
            with contextlib.suppress(queue.Full):
                worker.queue.put_nowait(None)
        deadline = time.monotonic() + timeout
        for worker in self._workers.values():
            worker.thread.join(max(0.0, deadline - time.monotonic()))
