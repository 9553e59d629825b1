"""``failover daemon``: the scheduled jobs (inventory, check, weekly mail, retention), /healthz and
/metrics, leadership on a shared Postgres and a single-instance lock on SQLite.

    app        the Daemon: open, serve (until a signal) or run_once, shut down cleanly
    scheduler  when each job runs (pure), APScheduler triggers
    jobs       what each job does, recorded as runs in the store
    locks      SQLite instance lock, Postgres advisory-lock leadership
    metrics    the Prometheus registry
    health     the /healthz answer (pure)
    http       the /healthz and /metrics server
    logs       structured text/JSON logging
"""

from failover.daemon.app import SHUTDOWN_GRACE, Daemon

__all__ = ["SHUTDOWN_GRACE", "Daemon"]
