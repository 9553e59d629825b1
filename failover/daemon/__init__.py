"""``failover daemon``: the scheduled jobs (inventory, check, weekly mail, retention), /healthz and
/metrics, leadership on a shared Postgres and a single-instance lock on SQLite.

    app        the Daemon: Daemon.open builds it whole; serve (until a signal) or run_once, then close
    scheduler  when each job runs (pure), APScheduler triggers
    jobs       what each job does (the check job is the runner's run_cycle), recorded as runs
    locks      SQLite instance lock, Postgres advisory-lock leadership
    alerts     the alert workers: one thread per destination, fed by the scoring leader
    metrics    the Prometheus registry
    health     the /healthz answer (pure)
    http       the /healthz and /metrics server
    logs       structured text/JSON logging
"""

from failover.daemon.app import SHUTDOWN_GRACE, Daemon, stop_on_signals

__all__ = ["SHUTDOWN_GRACE", "Daemon", "stop_on_signals"]
