"""Who may run what: one daemon per SQLite file, one leader per singleton job on Postgres.

SQLite: ``InstanceLock`` takes an OS lock (``flock``) on ``<db>.daemon.lock`` for the life of the
process; a second daemon on the same file is refused with a clear message. The kernel drops the lock
when the process dies however it dies, so there is no stale-lock cleanup.

Postgres: each singleton job (weekly mail, retention; inventory and scoring are work of the shared
queue there, see ``daemon.queue``) has a **session-level advisory lock held for leadership**. A
daemon that wins ``pg_try_advisory_lock`` keeps it on a dedicated connection for as long as that
connection lives and runs the job on every tick; the others try again on each tick (and on a
heartbeat) and run nothing. When the leader dies, however it dies, Postgres ends its session and
frees the lock, so another daemon takes over at its next tick: within one interval. Before each run
the leader checks its lock connection still answers (a live session still holds its locks), so a
leader whose database connection broke steps down instead of running beside a new leader.

Rejected: taking the lock only while a job runs. Two daemons would then both run every job, one
after the other, whenever their ticks did not overlap: it prevents concurrency, not duplication.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url

from failover.daemon.logs import emit
from failover.errors import DaemonError
from failover.store import display_url

__all__ = [
    "AdvisoryLock",
    "InstanceLock",
    "Leadership",
    "Liveness",
    "Solo",
    "lock_key",
    "migration_lock",
    "owner_token",
    "sqlite_path",
]

log = logging.getLogger("failover.daemon.locks")

Transition = Callable[[str, bool], None]  # (lock name, now held)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``failover:<name>`` (same in every daemon)."""
    digest = hashlib.sha256(f"failover:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def owner_token() -> str:
    """A token naming this daemon process in the runs it starts (``runs.owner``, at most 64
    characters): pid and host to read, random bits so a recycled pid is not mistaken for it."""
    import secrets
    import socket

    return f"{os.getpid()}@{socket.gethostname()[:40]}:{secrets.token_hex(6)}"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for in-memory databases and other backends."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    db = parsed.database or ""
    if db in ("", ":memory:") or db.startswith("file:"):
        return None
    return Path(db)


class InstanceLock:
    """An exclusive ``flock`` on ``<db>.daemon.lock``, held until ``release`` or process exit."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".daemon.lock")
        self._fd: int | None = None

    def acquire(self) -> InstanceLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise DaemonError(f"cannot create the daemon lock file {self.path}: {err.strerror or err}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (pid {holder})" if holder else ""
            db = self.path.with_name(self.path.name.removesuffix(".daemon.lock"))
            raise DaemonError(
                f"another failover daemon is already running on {db}{who}; lock file {self.path}. "
                "Stop it first, or use Postgres to run several daemons."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        return ""


class Leadership(Protocol):
    name: str

    @property
    def held(self) -> bool: ...

    def ensure(self) -> bool:
        """True if this daemon leads ``name`` now (verifying or trying to take the lock)."""
        ...

    def release(self) -> None: ...


class Solo:
    """Leadership on SQLite: the instance lock already makes this daemon the only one."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def held(self) -> bool:
        return True

    def ensure(self) -> bool:
        return True

    def release(self) -> None:
        pass


def libpq_dsn(url: str) -> str:
    """psycopg wants a libpq URL: SQLAlchemy's ``postgresql+psycopg://`` without the driver."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


KEEPALIVE: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,  # ms: a silent network path fails a query instead of hanging
}


class AdvisoryLock:
    """Leadership of one singleton job via ``pg_try_advisory_lock`` on a dedicated session."""

    def __init__(self, url: str, name: str, *, vantage: str, on_change: Transition | None = None) -> None:
        self.name = name
        self.key = lock_key(name)
        self._dsn = libpq_dsn(url)
        self._shown = display_url(url)
        self._app = f"failover-daemon {vantage} {name}"[:63]
        self._on_change = on_change
        self._conn: Any = None
        self._held = False
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        return self._held

    def ensure(self) -> bool:
        import psycopg

        with self._mutex:
            was = self._held
            try:
                if self._held:
                    self._conn.execute("SELECT 1").fetchone()  # a live session still holds its locks
                else:
                    if self._conn is None or self._conn.closed:
                        self._conn = psycopg.connect(
                            self._dsn, autocommit=True, connect_timeout=5, application_name=self._app, **KEEPALIVE
                        )
                    row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
                    self._held = bool(row and row[0])
            except psycopg.Error as err:
                self._close()
                reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                emit(log, logging.WARNING, "leadership.error", lock=self.name, database=self._shown, error=reason)
            now = self._held
        if now != was:
            emit(log, logging.INFO, "leadership.acquired" if now else "leadership.lost", lock=self.name)
            if self._on_change is not None:
                self._on_change(self.name, now)
        return now

    def _close(self) -> None:
        self._held = False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    def release(self) -> None:
        """Unlock, then close the session. Closing alone frees the lock only once the server backend
        has exited, which is asynchronous: another daemon could briefly still find it taken."""
        with self._mutex:
            if self._held and self._conn is not None and not self._conn.closed:
                with contextlib.suppress(Exception):
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            self._close()


@contextlib.contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Serialize schema migrations of daemons starting together on one Postgres database.

    Best effort: if the server cannot be reached here, ``Store.open`` reports it properly next.
    """
    if make_url(url).get_backend_name() != "postgresql":
        yield
        return
    import psycopg

    try:
        conn = psycopg.connect(libpq_dsn(url), autocommit=True, connect_timeout=5, application_name="failover-migrate")
    except psycopg.Error:
        yield
        return
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_key("migrate"),))
        yield
    finally:
        with contextlib.suppress(Exception):
            conn.close()


class Liveness:
    """Which daemons are alive on a shared Postgres: each holds, for its whole life, the session
    advisory lock ``failover:owner:<token>`` of its own token (the ``runs.owner`` of the runs it
    starts) and tries to hold ``failover:vantage:<its vantage>``; Postgres frees them the moment the
    daemon's session ends, however it ends. ``owner_alive(token)`` asks whether the process that
    started a run is still there; ``alive(vantage)`` whether any daemon of a vantage is (for runs
    with no owner: ``failover check``'s, or those written before runs had one). No heartbeat table to
    keep: the session is the heartbeat."""

    def __init__(self, url: str, vantage: str, owner: str) -> None:
        self.vantage = vantage
        self.owner = owner
        self._self = AdvisoryLock(url, f"owner:{owner}", vantage=vantage)
        self._own = AdvisoryLock(url, f"vantage:{vantage}", vantage=vantage)
        self._dsn = libpq_dsn(url)
        self._shown = display_url(url)

    def ensure(self) -> bool:
        """Hold this daemon's own locks; False when another live daemon holds the vantage's (normal
        where daemons of one vantage share its work)."""
        self._self.ensure()
        return self._own.ensure()

    def owner_alive(self, owner: str) -> bool:
        """True unless the owner's lock is free; in doubt (the database away) True."""
        return owner == self.owner or self._taken(f"owner:{owner}")

    def alive(self, vantage: str) -> bool:
        """True unless the vantage's liveness lock is free; in doubt (the database away) True."""
        return self._taken(f"vantage:{vantage}")

    def _taken(self, name: str) -> bool:
        import psycopg

        key = lock_key(name)
        try:
            with psycopg.connect(
                self._dsn, autocommit=True, connect_timeout=5, application_name="failover-daemon liveness"
            ) as conn:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                free = bool(row and row[0])
                if free:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
                return not free
        except psycopg.Error as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            emit(log, logging.WARNING, "liveness.error", database=self._shown, error=reason)
            return True

    def release(self) -> None:
        self._own.release()
        self._self.release()
