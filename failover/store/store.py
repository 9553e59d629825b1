"""The store: every read and write the application makes, each in one transaction.

Writes are bulk (one executemany per table per call) and update the ``latest_*`` tables in the same
transaction with dialect upserts that only replace a row with a newer one, so two processes writing
at once converge on the newest state. Every database failure surfaces as one ``StoreError`` line
with the URL's password hidden; a failed write rolls back whole.
"""

from __future__ import annotations

import hashlib
import operator
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    CursorResult,
    DateTime,
    Engine,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy import Date as SADate
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import SQLAlchemyError

from failover.errors import ConfigError, StoreError
from failover.model import DRILL_CLOCK_SKEW, Drill, Finding, Inventory, Observation, ObsStatus, Score, utcnow
from failover.store import revision
from failover.store import tables as t
from failover.store.bulk import encode, insert_many, postgres_insert, sqlite_time, upsert_many
from failover.store.engine import IMMEDIATE, error_reason, json_dumps, make_engine
from failover.store.rows import (
    FINDING_FIELDS,
    OBSERVATION_FIELDS,
    SCORE_FIELDS,
    finding_from_row,
    finding_row,
    inventory_from_rows,
    newest_by,
    observation_from_row,
    observation_row,
    resource_row,
    score_from_row,
    score_row,
    utc,
)
from failover.store.runs import FINISHED, RecordedRun, RunCancelled, RunStatus, Unrecorded
from failover.store.urls import display_url, normalize_url

__all__ = ["AlertRecord", "Rollup", "Store", "open_engine"]

_IN_CHUNK = 500  # values per IN (...) list: well under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Rollup:
    """One day of one probe target's observations, kept after the raw rows are pruned."""

    day: date
    workload: str | None
    site: str | None
    probe: str
    target: str
    count: int
    ok_count: int
    latency_avg_ms: float | None
    latency_max_ms: float | None


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One row of the alert delivery log (no URL, secret or key: the destination's name only)."""

    id: int
    destination: str
    workload: str
    event: str
    status: str | None
    readiness: float | None
    outcome: str  # pending | delivered | failed
    attempts: int
    http_status: int | None
    error: str
    vantage: str
    claimed_at: datetime
    finished_at: datetime | None


def open_engine(url: str) -> Engine:
    """An engine for ``url`` whose database answered a first connection, or ``StoreError``."""
    try:
        url = normalize_url(url)
    except ConfigError as err:
        raise StoreError(str(err)) from None
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as err:
        engine.dispose()
        raise StoreError(f"cannot open database {display_url(url)}: {error_reason(err)}") from None
    return engine


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and Postgres spell it the same)."""
    return postgres_insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def _fields(table: Table, names: Sequence[str]) -> Select[Any]:
    return select(*(table.c[n] for n in names))


def _wanted(conn: Connection, when: Mapping[str, datetime]) -> Any:
    """(workload, cutoff) rows from one JSON parameter: portable where a VALUES list is not (SQLite
    cannot name its columns) and bounded by no parameter limit. Cutoffs compare as stored: SQLite's
    text form, Postgres's naive UTC timestamp."""
    pairs = [[name, sqlite_time(at)] for name, at in when.items()]
    doc = bindparam("wanted", json_dumps(pairs), type_=Text())
    workload: Any
    cutoff: Any
    if conn.dialect.name == "sqlite":
        rows = func.json_each(doc).table_valued("value")
        workload, cutoff = func.json_extract(rows.c.value, "$[0]"), func.json_extract(rows.c.value, "$[1]")
    else:
        rows = func.json_array_elements(cast(doc, JSON)).table_valued("value")
        workload = rows.c.value.op("->>")(literal(0))
        cutoff = cast(rows.c.value.op("->>")(literal(1)), DateTime())
    return select(workload.label("workload"), cutoff.label("cutoff")).select_from(rows).subquery("wanted")


def _score_history() -> Select[Any]:
    """``SCORE_FIELDS`` of ``scores`` joined with their payloads."""
    s, p = t.scores, t.score_payloads
    columns = [(p if name in t.SCORE_PAYLOAD else s).c[name] for name in SCORE_FIELDS]
    return select(*columns).join_from(s, p, s.c.payload_id == p.c.id)


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _upsert_newest(
    conn: Connection, latest: Table, rows: Iterable[dict[str, Any]], key: tuple[str, ...], stamp: str
) -> None:
    """Keep ``latest`` at the newest row per ``key``: a row replaces the one there only when its ``stamp``
    is no older, so concurrent runs that finish out of order never roll a newer row back."""
    upsert_many(
        conn,
        latest,
        newest_by(rows, key, stamp),
        lambda ins: ins.on_conflict_do_update(
            index_elements=list(key),
            set_={c.name: ins.excluded[c.name] for c in latest.columns if c.name not in key},
            where=latest.c[stamp] <= ins.excluded[stamp],
        ),
    )


_FINDING_KEY = ("workload", "check", "subject")


def _changed_findings(conn: Connection, workloads: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``rows`` (in time order) whose (status, reason) differs from the finding before them."""
    latest = t.latest_findings
    before: dict[tuple[Any, ...], tuple[str, str]] = {}
    for chunk in _chunks(workloads):
        query = select(*(latest.c[k] for k in _FINDING_KEY), latest.c.status, latest.c.reason).where(
            latest.c.workload.in_(chunk)
        )
        for r in conn.execute(query):
            before[(r[0], r[1], r[2])] = (r[3], r[4])
    key_of = _getter(_FINDING_KEY)
    changed = []
    for row in rows:
        key, now = key_of(row), (row["status"], row["reason"])
        if before.get(key) != now:
            changed.append(row)
        before[key] = now
    return changed


def _continues(prev: dict[str, Any], row: dict[str, Any], at: datetime) -> bool:
    """Whether an observation adds only a sample to its key's current run: same status, same reason
    unless ok (an ok probe's reason carries its latency), and not older than what the run has."""
    same = prev["status"] == row["status"] and (row["status"] == ObsStatus.OK or prev["reason"] == row["reason"])
    return same and at >= prev["at"]


def _getter(names: Sequence[str]) -> Any:
    return operator.itemgetter(*names)  # a tuple of the values (every key here has several names)


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if not key or key[0] is None:
        raise StoreError("the database did not return the new row's id")
    return int(key[0])


class Store:
    def __init__(self, engine: Engine, *, owner: str | None = None) -> None:
        """``owner``: the token a daemon writes into the runs it starts (``runs.owner``), while it holds
        the advisory lock of that name (``failover.daemon.locks.Liveness``); None elsewhere."""
        self._engine = engine
        self.owner = owner
        # The full resolved URL, password included, to open the same database elsewhere; never print
        # it (use ``display_url``).
        self.url = engine.url.render_as_string(hide_password=False)
        self._unfinished: set[int] = set()  # runs this process started through recorded_run, not yet finished
        self._runs_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True, owner: str | None = None) -> Store:
        """Open ``url``; migrate it to the newest schema first unless ``upgrade`` is False, in which
        case a database behind the code is refused with a hint to run ``failover db upgrade``."""
        engine = open_engine(url)
        try:
            if not revision.at_head(engine):  # a quick look first: Alembic costs 0.2-0.4 s of every command
                cls._migrate(engine, upgrade)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, owner=owner)

    @staticmethod
    def _migrate(engine: Engine, upgrade: bool) -> None:
        """Bring the database to the newest schema with Alembic, or refuse it (see ``open``)."""
        from alembic.util import CommandError

        from failover.store import migrate

        shown = display_url(engine.url)
        try:
            head = migrate.head_revision()
            current = migrate.current_revision(engine)
            if current is not None and current != head and not migrate.is_known(current):
                raise StoreError(
                    f"database {shown} has schema revision {current}, written by a newer failover "
                    f"(this one knows up to {head}): upgrade failover"
                )
            if current != head:
                if not upgrade:
                    at = current or "empty"
                    raise StoreError(
                        f"database {shown} is at schema revision {at}, this version needs {head}: "
                        "run `failover db upgrade`"
                    )
                migrate.upgrade(engine)
        except (SQLAlchemyError, CommandError) as err:
            raise StoreError(f"cannot migrate database {shown}: {error_reason(err)}") from None

    @property
    def display_url(self) -> str:
        """The URL with its password hidden: use this one in messages, logs and reports."""
        return display_url(self._engine.url)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``: several daemons can share only the latter."""
        return str(self._engine.dialect.name)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({display_url(self._engine.url)!r})"

    @contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                conn.execution_options(**{IMMEDIATE: True})
                with conn.begin():
                    yield conn
        except (SQLAlchemyError, ValueError, TypeError) as err:  # the last two: JSON that cannot be encoded
            raise StoreError(
                f"cannot write {what} to database {display_url(self._engine.url)}: {error_reason(err)}"
            ) from None

    @contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn, conn.begin():
                yield conn
        except SQLAlchemyError as err:
            raise StoreError(
                f"cannot read {what} from database {display_url(self._engine.url)}: {error_reason(err)}"
            ) from None

    # -- runs --------------------------------------------------------------------------------

    @contextmanager
    def recorded_run(
        self, kind: str, *, vantage: str = "", config_digest: str = "", on_unrecorded: Unrecorded | None = None
    ) -> Iterator[RecordedRun]:
        """The one run lifecycle: start a run of ``kind``, hand it to the block, and record how it
        ended (statuses in ``failover.store.runs``): ``ok`` or ``incomplete`` (``RecordedRun.rests_on``)
        with the block's ``stats``; ``cancelled`` for ``RunCancelled``; ``error`` for anything else,
        which is re-raised. When that last write fails too, ``on_unrecorded`` (if given) hears of it and
        the block's own error propagates; without it the write's ``StoreError`` does."""
        run = RecordedRun(self.start_run(kind, vantage=vantage, config_digest=config_digest), kind)
        with self._runs_lock:
            self._unfinished.add(run.id)
        try:
            try:
                yield run
            except RunCancelled as err:
                self._finish_failed(run.id, RunStatus.CANCELLED, str(err), on_unrecorded)
                raise
            except BaseException as err:
                self._finish_failed(run.id, RunStatus.ERROR, f"{type(err).__name__}: {err}", on_unrecorded)
                raise
            self.finish_run(run.id, run.status, stats=run.stats)
        finally:
            with self._runs_lock:
                self._unfinished.discard(run.id)

    def _finish_failed(self, run_id: int, status: RunStatus, error: str, on_unrecorded: Unrecorded | None) -> None:
        try:
            self.finish_run(run_id, status, error=error)
        except StoreError as err:  # the database being away is usually why the run failed
            if on_unrecorded is None:
                raise
            on_unrecorded(run_id, status, err)

    def unfinished_runs(self) -> list[int]:
        """Runs this process is still inside ``recorded_run`` for (what a shutdown leaves behind)."""
        with self._runs_lock:
            return sorted(self._unfinished)

    def start_run(self, kind: str, vantage: str = "", config_digest: str = "") -> int:
        """A bare ``running`` row; prefer ``recorded_run``, which also finishes it."""
        with self._write("a run") as conn:
            result = conn.execute(
                t.runs.insert().values(
                    kind=kind,
                    vantage=vantage,
                    config_digest=config_digest,
                    status=RunStatus.RUNNING,
                    started_at=utcnow(),
                    owner=self.owner,
                )
            )
            return _new_id(result)

    def finish_run(
        self, run_id: int, status: str, error: str | None = None, stats: dict[str, Any] | None = None
    ) -> None:
        with self._write("a run") as conn:
            result = conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(status=status, error=error, stats=stats, finished_at=utcnow())
            )
            if result.rowcount == 0:
                raise StoreError(f"cannot finish run {run_id}: no such run in {display_url(self._engine.url)}")

    def abandon_runs(
        self,
        vantage: str | None,
        before: datetime,
        keep: Iterable[int] = (),
        *,
        owner: str | None = None,
        unowned: bool = False,
    ) -> int:
        """Close runs still marked running from before ``before`` (but those in ``keep``): their process
        died (kill -9, power loss) before it could finish them. Which runs: those of ``owner`` (a dead
        daemon's token), else those of ``vantage``, only the ones with no owner if ``unowned``. A run
        whose process is in fact alive still records its own outcome when it finishes."""
        r = t.runs
        where = [r.c.status == RunStatus.RUNNING, r.c.started_at < utc(before)]
        if owner is not None:
            where.append(r.c.owner == owner)
        if vantage is not None:
            where.append(r.c.vantage == vantage)
        if unowned:
            where.append(r.c.owner.is_(None))
        kept = sorted(set(keep))
        if kept:
            where.append(r.c.id.not_in(kept))
        with self._write("a run") as conn:
            stmt = (
                update(r)
                .where(*where)
                .values(
                    status=RunStatus.ABANDONED,
                    error="the process ended before the run finished",
                    finished_at=utcnow(),
                )
            )
            return int(conn.execute(stmt).rowcount)

    def running_owners(self, kinds: Iterable[str], since: datetime) -> list[tuple[str, str | None]]:
        """(vantage, owner) of the runs of these kinds started since ``since`` and still marked
        ``running``: whose processes a daemon checks are alive. The (kind, started_at) index bounds it."""
        r = t.runs
        query = (
            select(r.c.vantage, r.c.owner)
            .where(r.c.kind.in_(sorted(set(kinds))), r.c.started_at >= utc(since), r.c.status == RunStatus.RUNNING)
            .distinct()
        )
        with self._read("runs") as conn:
            rows = [(str(v), None if o is None else str(o)) for v, o in conn.execute(query)]
        return sorted(rows, key=lambda row: (row[0], row[1] or ""))

    def last_run_started(self, kind: str) -> datetime | None:
        """When the newest finished run of ``kind`` (any vantage, ``ok`` or ``incomplete``) started."""
        r = t.runs
        query = select(func.max(r.c.started_at)).where(r.c.kind == kind, r.c.status.in_(FINISHED))
        with self._read("runs") as conn:
            value = conn.execute(query).scalar()
        return None if value is None else utc(value)

    def run(self, run_id: int) -> dict[str, Any] | None:
        """One run as a dict (id, kind, vantage, config_digest, status, started_at, finished_at, error, stats)."""
        with self._read("a run") as conn:
            row = conn.execute(select(t.runs).where(t.runs.c.id == run_id)).first()
        return dict(row._mapping) if row else None

    # -- inventory ---------------------------------------------------------------------------

    def save_inventory(self, run_id: int, inventories: Sequence[Inventory]) -> None:
        """One snapshot per account per run (older snapshots are kept); the latest pointer moves only
        to a snapshot that finished later than the one it points at."""
        with self._write("inventory") as conn:
            pointers = []
            for inv in inventories:
                finished = utc(inv.finished_at)
                snap = conn.execute(
                    t.inventory_snapshots.insert().values(
                        run_id=run_id,
                        provider=inv.provider,
                        account=inv.account,
                        started_at=utc(inv.started_at),
                        finished_at=finished,
                        incomplete=[s.to_dict() for s in inv.incomplete],
                        resource_count=len(inv.resources),
                    )
                )
                snapshot_id = _new_id(snap)
                if inv.resources:
                    rows = encode(conn, t.resources, [resource_row(r, snapshot_id) for r in inv.resources])
                    insert_many(conn, t.resources, rows)
                pointers.append(
                    {
                        "provider": inv.provider,
                        "account": inv.account,
                        "snapshot_id": snapshot_id,
                        "finished_at": finished,
                    }
                )
            if pointers:
                stmt = _insert(conn, t.latest_inventory)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["provider", "account"],
                    set_={"snapshot_id": stmt.excluded.snapshot_id, "finished_at": stmt.excluded.finished_at},
                    where=t.latest_inventory.c.finished_at <= stmt.excluded.finished_at,
                )
                conn.execute(stmt, newest_by(pointers, ("provider", "account"), "finished_at"))

    def latest_inventory(self, accounts: Iterable[str] | None = None) -> list[Inventory]:
        """The newest snapshot of each account (all accounts when ``accounts`` is None)."""
        snap = t.inventory_snapshots
        query = (
            select(snap)
            .join(t.latest_inventory, t.latest_inventory.c.snapshot_id == snap.c.id)
            .order_by(snap.c.provider, snap.c.account)
        )
        if accounts is not None:
            wanted = sorted(set(accounts))
            if not wanted:
                return []
            query = query.where(snap.c.account.in_(wanted))
        with self._read("inventory") as conn:
            snapshots = conn.execute(query).all()
            by_snapshot: dict[int, list[Any]] = {s.id: [] for s in snapshots}
            for ids in _chunks(list(by_snapshot)):
                rows = conn.execute(
                    select(t.resources).where(t.resources.c.snapshot_id.in_(ids)).order_by(t.resources.c.id)
                )
                for r in rows:
                    by_snapshot[r.snapshot_id].append(r)
        return [inventory_from_rows(s, by_snapshot[s.id]) for s in snapshots]

    def inventory_version(self, accounts: Iterable[str]) -> tuple[tuple[str, int], ...]:
        """(account, snapshot id) of the newest snapshot of each of these accounts: one small query
        that says whether ``latest_inventory`` would answer something new (a newer run landed)."""
        latest = t.latest_inventory
        wanted = sorted(set(accounts))
        if not wanted:
            return ()
        query = select(latest.c.account, latest.c.snapshot_id).where(latest.c.account.in_(wanted))
        with self._read("inventory") as conn:
            return tuple(sorted((str(a), int(s)) for a, s in conn.execute(query)))

    # -- observations ------------------------------------------------------------------------

    def save_observations(self, run_id: int, observations: Sequence[Observation]) -> None:
        """Every observation becomes a sample (its time and latency) under the ``observations`` row
        of its key's current run of equal observations; a new row opens that run when the status
        changes (or, when not ok, the reason), or when an observation older than the latest arrives."""
        if not observations:
            return
        with self._write("observations") as conn:
            model = sorted((observation_row(o, run_id) for o in observations), key=lambda r: r["observed_at"])
            rows = encode(conn, t.observations, model)
            key_of = _getter(t.OBSERVATION_KEY)
            current = self._open_segments(conn, sorted({r["workload"] for r in rows}))
            opened: list[dict[str, Any]] = []  # new observations rows (model values), in order
            samples: list[tuple[int | None, int, Any, Any]] = []  # (stored id or None, else index in opened, at, ms)
            for row, plain in zip(rows, model, strict=True):
                key, at = key_of(row), plain["observed_at"]
                prev = current.get(key)
                if prev is not None and _continues(prev, row, at):
                    segment_id, index = prev["segment"]
                else:
                    segment_id, index = None, len(opened)
                    opened.append(plain)
                samples.append((segment_id, index, row["observed_at"], row["latency_ms"]))
                current[key] = {
                    "status": row["status"],
                    "reason": row["reason"],
                    "at": at,
                    "segment": (segment_id, index),
                }
                row["segment"] = (segment_id, index)
            ids: list[int] = []
            if opened:
                result = conn.execute(
                    t.observations.insert().returning(t.observations.c.id, sort_by_parameter_order=True), opened
                )
                ids = [int(i) for i in result.scalars()]
            insert_many(
                conn,
                t.observation_samples,
                [
                    {"observation_id": ids[i] if sid is None else sid, "observed_at": at, "latency_ms": ms}
                    for sid, i, at, ms in samples
                ],
            )
            latest = []
            for row in rows:
                sid, i = row.pop("segment")
                latest.append({**row, "observation_id": ids[i] if sid is None else sid})
            _upsert_newest(conn, t.latest_observations, latest, t.OBSERVATION_KEY, "observed_at")

    @staticmethod
    def _open_segments(conn: Connection, workloads: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
        """The latest observation of every key of ``workloads``: what a new one may continue."""
        latest = t.latest_observations
        found: dict[tuple[Any, ...], dict[str, Any]] = {}
        columns = [latest.c[k] for k in t.OBSERVATION_KEY]
        for chunk in _chunks(workloads):
            query = select(
                *columns, latest.c.status, latest.c.reason, latest.c.observed_at, latest.c.observation_id
            ).where(latest.c.workload.in_(chunk), latest.c.observation_id.is_not(None))
            for r in conn.execute(query):
                *key, status, reason, at, segment = r
                found[tuple(key)] = {"status": status, "reason": reason, "at": utc(at), "segment": (segment, -1)}
        return found

    def latest_observations(
        self, workload: str | None = None, *, workloads: Iterable[str] | None = None
    ) -> list[Observation]:
        """The newest observation per (workload, site, probe, target, label, vantage): of ``workload``,
        of each of ``workloads`` (one query per chunk of names, not one per workload), or of all."""
        latest = t.latest_observations
        query = _fields(latest, OBSERVATION_FIELDS).order_by(*(latest.c[k] for k in t.OBSERVATION_KEY))
        if workload is not None:
            query = query.where(latest.c.workload == workload)
        with self._read("observations") as conn:
            if workloads is None:
                return [observation_from_row(r) for r in conn.execute(query)]
            found: list[Observation] = []
            for chunk in _chunks(sorted(set(workloads))):
                found += [observation_from_row(r) for r in conn.execute(query.where(latest.c.workload.in_(chunk)))]
            return found

    # -- findings ----------------------------------------------------------------------------

    def save_findings(self, run_id: int, findings: Sequence[Finding]) -> None:
        """History keeps a finding when its status or reason differs from the one before it (the
        latest stored, then the batch's own in time order): a cycle in which nothing changed adds no
        row. A workload's latest set belongs to the newest run (highest id) that saved findings for
        it: a newer run replaces the whole set, so a check that stopped yielding a finding does not
        linger; further saves by the same run add to its set."""
        if not findings:
            return
        workloads = sorted({f.workload for f in findings})
        with self._write("findings") as conn:
            model = sorted((finding_row(f, run_id) for f in findings), key=lambda r: r["observed_at"])
            rows = encode(conn, t.findings, model)
            insert_many(conn, t.findings, _changed_findings(conn, workloads, rows))
            owner = t.latest_finding_runs
            now = utcnow()
            claim = _insert(conn, owner)
            claim = claim.on_conflict_do_update(
                index_elements=["workload"],
                set_={"run_id": claim.excluded.run_id, "checked_at": claim.excluded.checked_at},
                where=owner.c.run_id <= claim.excluded.run_id,
            )
            conn.execute(claim, [{"workload": w, "run_id": run_id, "checked_at": now} for w in workloads])
            owned: list[str] = []
            for chunk in _chunks(workloads):
                owned += conn.execute(
                    select(owner.c.workload).where(owner.c.workload.in_(chunk), owner.c.run_id == run_id)
                ).scalars()
            if not owned:
                return  # a newer run already holds these workloads' latest sets
            latest = t.latest_findings
            for chunk in _chunks(owned):
                conn.execute(delete(latest).where(latest.c.workload.in_(chunk), latest.c.run_id != run_id))
            mine = set(owned)
            mine_rows = [r for r in rows if r["workload"] in mine]
            _upsert_newest(conn, latest, mine_rows, ("workload", "check", "subject"), "observed_at")

    def latest_findings(self, workload: str | None = None) -> list[Finding]:
        latest = t.latest_findings
        query = _fields(latest, FINDING_FIELDS).order_by(latest.c.workload, latest.c.check, latest.c.subject)
        if workload is not None:
            query = query.where(latest.c.workload == workload)
        with self._read("findings") as conn:
            return [finding_from_row(r) for r in conn.execute(query)]

    def finding_history(self, workload: str, check: str, since: datetime) -> list[Finding]:
        """Every finding of one check on one workload since ``since``, oldest first (pass rates)."""
        f = t.findings
        query = (
            _fields(f, FINDING_FIELDS)
            .where(f.c.workload == workload, f.c.check == check, f.c.observed_at >= utc(since))
            .order_by(f.c.observed_at, f.c.id)
        )
        with self._read("findings") as conn:
            return [finding_from_row(r) for r in conn.execute(query)]

    # -- scores ------------------------------------------------------------------------------

    def save_scores(self, run_id: int, scores: Sequence[Score], whatif: Mapping[str, Any] | None = None) -> None:
        """Store the scores; ``whatif``: per workload, the what-if document judged on the same evidence
        (kept with the newest score only; a score saved without one clears the one stored before)."""
        if not scores:
            return
        whatif = whatif or {}
        with self._write("scores") as conn:
            rows = encode(
                conn, t.latest_scores, [score_row(s, run_id) | {"whatif": whatif.get(s.workload)} for s in scores]
            )
            matrices = [row.pop("whatif") for row in rows]
            payloads: dict[str, dict[str, Any]] = {}
            for row in rows:
                docs = {name: row.pop(name) for name in t.SCORE_PAYLOAD}
                digest = hashlib.sha256("\n".join(str(d) for d in docs.values()).encode()).hexdigest()
                payloads.setdefault(digest, {"digest": digest, **docs})
                row["payload"] = digest
            p = t.score_payloads
            upsert_many(
                conn, p, list(payloads.values()), lambda ins: ins.on_conflict_do_nothing(index_elements=["digest"])
            )
            ids: dict[str, int] = {}
            for chunk in _chunks(list(payloads)):
                ids.update((d, i) for d, i in conn.execute(select(p.c.digest, p.c.id).where(p.c.digest.in_(chunk))))
            history = [
                {k: v for k, v in row.items() if k != "payload"} | {"payload_id": ids[row["payload"]]} for row in rows
            ]
            insert_many(conn, t.scores, history)
            for row, matrix in zip(rows, matrices, strict=True):
                row.update(payloads[row.pop("payload")])
                del row["digest"]
                row["whatif"] = matrix
            _upsert_newest(conn, t.latest_scores, rows, ("workload",), "computed_at")

    def latest_whatif(self, workloads: Iterable[str] | None = None) -> dict[str, tuple[datetime, Any]]:
        """Per workload, its newest score's time and the what-if document stored with it (None: none
        was), in one query per 500 workloads (all: one query)."""
        latest = t.latest_scores
        query = select(latest.c.workload, latest.c.computed_at, latest.c.whatif)
        found: dict[str, tuple[datetime, Any]] = {}
        with self._read("scores") as conn:
            chunks = [None] if workloads is None else list(_chunks(list(dict.fromkeys(workloads))))
            for chunk in chunks:
                q = query if chunk is None else query.where(latest.c.workload.in_(chunk))
                for name, at, doc in conn.execute(q):
                    found[name] = (utc(at), doc)
        return found

    def latest_scores(self, workload: str | None = None) -> list[Score]:
        latest = t.latest_scores
        query = _fields(latest, SCORE_FIELDS).order_by(latest.c.workload)
        if workload is not None:
            query = query.where(latest.c.workload == workload)
        with self._read("scores") as conn:
            return [score_from_row(r) for r in conn.execute(query)]

    def score_at(self, workload: str, when: datetime) -> Score | None:
        """The newest score at or before ``when`` (one index seek on (workload, computed_at))."""
        s = t.scores
        query = (
            _score_history()
            .where(s.c.workload == workload, s.c.computed_at <= utc(when))
            .order_by(s.c.computed_at.desc(), s.c.id.desc())
            .limit(1)
        )
        with self._read("scores") as conn:
            row = conn.execute(query).first()
        return score_from_row(row) if row else None

    def scores_at(self, when: Mapping[str, datetime]) -> dict[str, Score | None]:
        """``score_at`` for many workloads at once, each at its own time, in one query whatever their
        number (the workloads and times travel as one JSON parameter): a trend over 1,000 workloads
        is one round trip, not 1,000."""
        if not when:
            return {}
        s = t.scores
        with self._read("scores") as conn:
            wanted = _wanted(conn, when)
            newest = (
                select(s.c.id)
                .where(s.c.workload == wanted.c.workload, s.c.computed_at <= wanted.c.cutoff)
                .order_by(s.c.computed_at.desc(), s.c.id.desc())
                .limit(1)
                .correlate(wanted)
                .scalar_subquery()
            )
            query = _score_history().where(s.c.id.in_(select(newest).select_from(wanted)))
            found = {score.workload: score for score in map(score_from_row, conn.execute(query))}
        return {name: found.get(name) for name in when}

    def score_histories(self, workloads: Iterable[str], since: datetime) -> dict[str, list[Score]]:
        """``score_history`` of many workloads, one query per 500 of them."""
        s = t.scores
        found: dict[str, list[Score]] = {name: [] for name in workloads}
        with self._read("scores") as conn:
            for chunk in _chunks(list(found)):
                query = (
                    _score_history()
                    .where(s.c.workload.in_(chunk), s.c.computed_at >= utc(since))
                    .order_by(s.c.computed_at, s.c.id)
                )
                for row in conn.execute(query):
                    found[row[0]].append(score_from_row(row))
        return found

    def score_history(self, workload: str, since: datetime) -> list[Score]:
        s = t.scores
        query = (
            _score_history()
            .where(s.c.workload == workload, s.c.computed_at >= utc(since))
            .order_by(s.c.computed_at, s.c.id)
        )
        with self._read("scores") as conn:
            return [score_from_row(r) for r in conn.execute(query)]

    def daily_readiness(self, since: datetime, workload: str | None = None) -> dict[str, list[tuple[date, float]]]:
        """Workload → (UTC day, readiness of the day's last score) for each day since ``since`` with a
        score, oldest first: one query for every workload (the status page's sparklines), reading only
        the newest row of each day, the way retention keeps one score per day."""
        s = t.scores
        with self._read("scores") as conn:
            day = func.date(s.c.computed_at) if conn.dialect.name == "sqlite" else cast(s.c.computed_at, SADate)
            newest = select(func.max(s.c.id).label("id")).where(s.c.computed_at >= utc(since))
            if workload is not None:
                newest = newest.where(s.c.workload == workload)
            last = newest.group_by(s.c.workload, day).subquery()
            query = (
                select(s.c.workload, s.c.computed_at, s.c.readiness)
                .join(last, s.c.id == last.c.id)
                .order_by(s.c.workload, s.c.computed_at)
            )
            out: dict[str, list[tuple[date, float]]] = {}
            for name, at, readiness in conn.execute(query):
                out.setdefault(name, []).append((utc(at).date(), float(readiness)))
        return out

    # -- mail --------------------------------------------------------------------------------

    def record_delivery(self, owner: str, iso_week: str, message_id: str, vantage: str = "") -> bool:
        """Claim (owner, week): True for the one caller that recorded it, False for everyone after.
        The unique constraint decides, so this holds across processes and daemons."""
        with self._write("a mail delivery") as conn:
            stmt = _insert(conn, t.mail_deliveries).values(
                owner=owner, iso_week=iso_week, message_id=message_id, vantage=vantage, sent_at=utcnow()
            )
            stmt = stmt.on_conflict_do_nothing(index_elements=["owner", "iso_week"]).returning(t.mail_deliveries.c.id)
            return conn.execute(stmt).first() is not None

    def release_delivery(self, owner: str, iso_week: str, message_id: str) -> bool:
        """Undo our own claim after a send that certainly failed, so a later run retries the week.
        The message id guards against releasing another sender's delivery."""
        m = t.mail_deliveries
        with self._write("a mail delivery") as conn:
            stmt = delete(m).where(m.c.owner == owner, m.c.iso_week == iso_week, m.c.message_id == message_id)
            return conn.execute(stmt).rowcount == 1

    def delivered(self, owner: str, iso_week: str) -> bool:
        m = t.mail_deliveries
        with self._read("mail deliveries") as conn:
            return bool(conn.execute(select(exists().where(m.c.owner == owner, m.c.iso_week == iso_week))).scalar())

    # -- alerts ------------------------------------------------------------------------------

    def claim_alert(
        self,
        destination: str,
        workload: str,
        event: str,
        *,
        status: str | None,
        readiness: float | None,
        basis: datetime,
        vantage: str = "",
    ) -> int | None:
        """Claim the alert of ``workload`` to ``destination`` decided from the score at ``basis``:
        the new row's id for the one caller that inserted it, None for everyone after (the unique
        key decides, across processes and daemons). The row starts ``pending``."""
        a = t.alert_deliveries
        with self._write("an alert delivery") as conn:
            stmt = _insert(conn, a).values(
                destination=destination,
                workload=workload,
                event=event,
                status=status,
                readiness=readiness,
                basis=utc(basis),
                outcome="pending",
                attempts=0,
                error="",
                vantage=vantage,
                claimed_at=utcnow(),
            )
            stmt = stmt.on_conflict_do_nothing(index_elements=["destination", "workload", "basis"]).returning(a.c.id)
            row = conn.execute(stmt).first()
            return int(row[0]) if row is not None else None

    def finish_alert(
        self, alert_id: int, *, delivered: bool, attempts: int, http_status: int | None, error: str
    ) -> None:
        a = t.alert_deliveries
        with self._write("an alert delivery") as conn:
            conn.execute(
                update(a)
                .where(a.c.id == alert_id)
                .values(
                    outcome="delivered" if delivered else "failed",
                    attempts=attempts,
                    http_status=http_status,
                    error=error,
                    finished_at=utcnow(),
                )
            )

    def alert_deliveries(
        self, destination: str | None = None, workload: str | None = None, limit: int = 100
    ) -> list[AlertRecord]:
        """The delivery log, newest first."""
        a = t.alert_deliveries
        query = select(*(a.c[f] for f in _ALERT_FIELDS))
        if destination is not None:
            query = query.where(a.c.destination == destination)
        if workload is not None:
            query = query.where(a.c.workload == workload)
        query = query.order_by(a.c.claimed_at.desc(), a.c.id.desc()).limit(limit)
        with self._read("alert deliveries") as conn:
            return [_alert_record(r) for r in conn.execute(query)]

    def last_alerts(self, destination: str, workload: str) -> tuple[AlertRecord | None, AlertRecord | None]:
        """(the newest alert the destination got or is getting, the newest attempt of any outcome)
        for ``workload``; test alerts left out. Two index seeks on (destination, workload, claimed_at)."""
        a = t.alert_deliveries
        base = (
            select(*(a.c[f] for f in _ALERT_FIELDS))
            .where(a.c.destination == destination, a.c.workload == workload, a.c.event != "test")
            .order_by(a.c.claimed_at.desc(), a.c.id.desc())
            .limit(1)
        )
        with self._read("alert deliveries") as conn:
            heard = conn.execute(base.where(a.c.outcome.in_(("pending", "delivered")))).first()
            last = conn.execute(base).first()
        return (_alert_record(heard) if heard else None, _alert_record(last) if last else None)

    # -- drills ------------------------------------------------------------------------------

    def record_drill(self, drill: Drill) -> int:
        with self._write("a drill") as conn:
            row = {**drill.to_dict(), "performed_at": utc(drill.performed_at), "recorded_at": utcnow()}
            return int(conn.execute(t.drills.insert().values(**row).returning(t.drills.c.id)).scalar_one())

    def drills(self, workload: str | None = None, limit: int = 100, *, until: datetime | None = None) -> list[Drill]:
        """Newest first; with ``until``, only drills performed at or before it."""
        d = t.drills
        query = select(d.c.workload, d.c.performed_at, d.c.succeeded, d.c.recovery_s, d.c.notes)
        if workload is not None:
            query = query.where(d.c.workload == workload)
        if until is not None:
            query = query.where(d.c.performed_at <= utc(until))
        query = query.order_by(d.c.performed_at.desc(), d.c.id.desc()).limit(limit)
        with self._read("drills") as conn:
            return [
                Drill(workload=w, performed_at=utc(at), succeeded=bool(ok), recovery_s=rec, notes=notes or "")
                for w, at, ok, rec, notes in conn.execute(query)
            ]

    def latest_drills(self, workloads: Iterable[str], now: datetime | None = None) -> dict[str, Drill]:
        """Each workload's newest drill as of ``now`` (one query per 500 workloads). A drill dated
        beyond ``now`` plus the clock skew is ignored: see ``DRILL_CLOCK_SKEW``."""
        until = utc((now or utcnow()) + DRILL_CLOCK_SKEW)
        d = t.drills
        rank = func.row_number().over(partition_by=d.c.workload, order_by=(d.c.performed_at.desc(), d.c.id.desc()))
        found = {}
        with self._read("drills") as conn:
            for chunk in _chunks(list(dict.fromkeys(workloads))):
                ranked = (
                    select(d.c.workload, d.c.performed_at, d.c.succeeded, d.c.recovery_s, d.c.notes, rank.label("rank"))
                    .where(d.c.workload.in_(chunk), d.c.performed_at <= until)
                    .subquery()
                )
                for w, at, ok, rec, notes, _ in conn.execute(select(ranked).where(ranked.c.rank == 1)):
                    found[w] = Drill(
                        workload=w, performed_at=utc(at), succeeded=bool(ok), recovery_s=rec, notes=notes or ""
                    )
        return found

    # -- retention ---------------------------------------------------------------------------

    def prune(self, before: datetime) -> int:
        """Fold observations older than ``before`` into daily rollups, then delete them (one
        transaction: either both happen or neither). Latest-state rows are kept."""
        o, sample = t.observations, t.observation_samples
        cutoff = utc(before)
        with self._write("observation rollups") as conn:
            at = sample.c.observed_at
            day = func.date(at) if conn.dialect.name == "sqlite" else cast(at, SADate)
            ok = func.sum(case((o.c.status.in_([str(ObsStatus.OK), str(ObsStatus.WARN)]), 1), else_=0))
            group = (day, o.c.workload, o.c.site, o.c.probe, o.c.target)
            agg = conn.execute(
                select(
                    *group,
                    func.count(),
                    ok,
                    func.count(sample.c.latency_ms),
                    func.coalesce(func.sum(sample.c.latency_ms), 0.0),
                    func.max(sample.c.latency_ms),
                )
                .select_from(sample.join(o, sample.c.observation_id == o.c.id))
                .where(at < cutoff)
                .group_by(*group)
            ).all()
            if not agg:
                return 0
            rows = [
                {
                    "day": d if isinstance(d, date) else date.fromisoformat(d),
                    "workload": w,
                    "site": s,
                    "probe": p,
                    "target": tg,
                    "count": n,
                    "ok_count": int(okn or 0),
                    "latency_count": ln,
                    "latency_sum": float(lsum),
                    "latency_max": lmax,
                }
                for d, w, s, p, tg, n, okn, ln, lsum, lmax in agg
            ]
            r = t.observation_rollups
            stmt = _insert(conn, r)
            ex = stmt.excluded
            stmt = stmt.on_conflict_do_update(
                index_elements=["day", "workload", "site", "probe", "target"],
                set_={
                    "count": r.c.count + ex["count"],
                    "ok_count": r.c.ok_count + ex.ok_count,
                    "latency_count": r.c.latency_count + ex.latency_count,
                    "latency_sum": r.c.latency_sum + ex.latency_sum,
                    "latency_max": case(
                        (r.c.latency_max.is_(None), ex.latency_max),
                        (and_(ex.latency_max.is_not(None), ex.latency_max > r.c.latency_max), ex.latency_max),
                        else_=r.c.latency_max,
                    ),
                },
            )
            conn.execute(stmt, rows)
            deleted = conn.execute(delete(sample).where(at < cutoff)).rowcount
            # runs of observations whose every sample is gone, unless a key's next sample may still join one
            open_runs = select(t.latest_observations.c.observation_id).where(
                t.latest_observations.c.observation_id.is_not(None)
            )
            conn.execute(
                delete(o).where(
                    o.c.observed_at < cutoff,
                    ~exists().where(sample.c.observation_id == o.c.id),
                    o.c.id.not_in(open_runs),
                )
            )
            return int(deleted)

    def prune_history(self, before: datetime) -> dict[str, int]:
        """Thin the history older than ``before``: finding history goes (the latest state stays), one
        score per workload per day is kept for trends, and runs nothing refers to any more go with the
        inventory snapshots they took. A daemon scoring every minute otherwise writes 1,440 scores and
        runs per workload per day, forever. The alert delivery log keeps its newest row per destination
        and workload (what the destination last heard, which the next alert is decided against)."""
        cutoff = utc(before)
        f, s, r = t.findings, t.scores, t.runs
        with self._write("history") as conn:
            findings = conn.execute(delete(f).where(f.c.observed_at < cutoff)).rowcount
            day = func.date(s.c.computed_at) if conn.dialect.name == "sqlite" else cast(s.c.computed_at, SADate)
            daily = select(func.max(s.c.id)).where(s.c.computed_at < cutoff).group_by(s.c.workload, day)
            scores = conn.execute(delete(s).where(s.c.computed_at < cutoff, s.c.id.not_in(daily))).rowcount
            payloads = t.score_payloads
            conn.execute(delete(payloads).where(payloads.c.id.not_in(select(s.c.payload_id).distinct())))
            referring = [
                exists().where(table.c.run_id == r.c.id)
                for table in (
                    t.observations,
                    t.latest_observations,
                    t.findings,
                    t.latest_findings,
                    t.latest_finding_runs,
                    t.scores,
                    t.latest_scores,
                )
            ]
            sn, li = t.inventory_snapshots, t.latest_inventory
            referring.append(exists().where(sn.c.run_id == r.c.id, exists().where(li.c.snapshot_id == sn.c.id)))
            stale = and_(r.c.started_at < cutoff, r.c.status != RunStatus.RUNNING, *(~e for e in referring))
            runs = conn.execute(delete(r).where(stale)).rowcount
            a = t.alert_deliveries  # the log thins too, keeping what each destination last heard of each workload
            newest = select(func.max(a.c.id)).group_by(a.c.destination, a.c.workload)
            alerts = conn.execute(delete(a).where(a.c.claimed_at < cutoff, a.c.id.not_in(newest))).rowcount
        return {"findings": int(findings), "scores": int(scores), "runs": int(runs), "alerts": int(alerts)}

    def rollups(self, workload: str | None = None, since: date | None = None) -> list[Rollup]:
        r = t.observation_rollups
        query = select(r).order_by(r.c.day, r.c.workload, r.c.site, r.c.probe, r.c.target)
        conditions = []
        if workload is not None:
            conditions.append(r.c.workload == workload)
        if since is not None:
            conditions.append(r.c.day >= since)
        if conditions:
            query = query.where(and_(*conditions))
        with self._read("observation rollups") as conn:
            rows = conn.execute(query).all()
        return [
            Rollup(
                day=x.day,
                workload=x.workload or None,
                site=x.site or None,
                probe=x.probe,
                target=x.target,
                count=x._mapping["count"],
                ok_count=x.ok_count,
                latency_avg_ms=(x.latency_sum / x.latency_count) if x.latency_count else None,
                latency_max_ms=x.latency_max,
            )
            for x in rows
        ]


_ALERT_FIELDS = [f.name for f in fields(AlertRecord)]


def _alert_record(row: Any) -> AlertRecord:
    values = dict(row._mapping)
    values["claimed_at"] = utc(values["claimed_at"])
    values["finished_at"] = utc(values["finished_at"]) if values["finished_at"] is not None else None
    return AlertRecord(**values)
