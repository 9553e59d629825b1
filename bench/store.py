"""Store benchmark: bulk writes and the hot reads, on SQLite and Postgres. Prints its figures.

    .venv/bin/python bench/store.py                    # 1M observations, both backends
    .venv/bin/python bench/store.py --rows 100000 --backend sqlite
    .venv/bin/python bench/store.py --case growth      # bytes a check cycle adds, 1,000 workloads
    .venv/bin/python bench/store.py --case cli         # `failover validate` / `failover score` wall time

Volume (defaults): 1,000 workloads with 10 probe keys each (2 sites x http direct / http as the
public name / dns / tcp / tls); observations arrive one probe cycle (10,000 rows) per batch, a minute
apart, until --rows. Scores: one per workload per hour for 30 days (720,000 rows: an hourly scoring
job; a score every 15 minutes would be 2.9M and adds nothing to the read path, which is one index
range). Findings: 20 checks per workload for 5 runs (100,000 rows).

Goal: writes >= 20k rows/s; every read < 0.5 s.

``--case growth``: the estate of bench/checks.py (N workloads, an AWS primary and a GCP secondary with
an HTTPS endpoint each, probed directly and as the public name, plus the public name's DNS answer: 5
observations a workload) through the cycle's own store path (``recorded_run``, ``save_observations``,
``runner.judge``: checks, findings, scores). Prints the bytes one cycle adds when nothing changed and
when every secondary starts failing (SQLite file size after a checkpoint; Postgres: the sum of
``pg_total_relation_size`` after a VACUUM FULL). Goal: <= 1 MB per unchanged cycle.

``--case cli``: a SQLite store of that estate with a day of hourly cycles ending now (so the newest
scores, and the what-if matrix stored with them, are fresh), then ``failover validate`` and
``failover score`` run as users run them (a subprocess each, best of 3; wall time and the
child's CPU time, which holds on a busy machine). Goals: 0.5 s and 1 s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from failover.model import Finding, FindingStatus, Inventory, Observation, ObsStatus, Reason, Score, Status
from failover.runner import CycleSteps, judge
from failover.schema import Config
from failover.store import Store

T = TypeVar("T")
START = datetime(2026, 10, 1, tzinfo=UTC)
PROBES = [("http", "direct"), ("http", "as-public-name"), ("dns", "authoritative"), ("tcp", ""), ("tls", "")]
SITES = ["aws-east", "gcp-east"]
CHECKS = [f"check.{i:02d}" for i in range(20)]


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """Result, wall seconds, and this process's CPU seconds (the figure that holds on a busy machine)."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - t0, time.process_time() - c0


class Tally:
    def __init__(self) -> None:
        self.rows, self.wall, self.cpu = 0, 0.0, 0.0

    def add(self, rows: int, wall: float, cpu: float) -> None:
        self.rows += rows
        self.wall += wall
        self.cpu += cpu

    def line(self, name: str) -> str:
        return (
            f"write {name:<15} {self.rows:>10,} rows {self.wall:7.1f} s  {self.rows / self.wall:>9,.0f} rows/s"
            f"   (client CPU {self.cpu:6.1f} s)"
        )


def observation_batches(rows: int, workloads: int, batch: int) -> Iterator[list[Observation]]:
    keys = [(f"wl-{w:04d}", site, probe, label) for w in range(workloads) for site in SITES for probe, label in PROBES]
    made, cycle = 0, 0
    buf: list[Observation] = []
    while made < rows:
        at = START + timedelta(minutes=cycle)
        for i, (wl, site, probe, label) in enumerate(keys):
            if made >= rows:
                break
            failed = (i + cycle) % 50 == 0
            buf.append(
                Observation(
                    probe=probe,
                    target=f"https://{site}.{wl}.example.net/healthz",
                    status=ObsStatus.FAILED if failed else ObsStatus.OK,
                    reason="503 Service Unavailable" if failed else "200 OK",
                    latency_ms=20.0 + (i * 7 + cycle) % 180,
                    observed_at=at,
                    data={"status_code": 503 if failed else 200, "tls_days_left": 80, "bytes": 512},
                    vantage="bench",
                    workload=wl,
                    site=site,
                    label=label,
                )
            )
            made += 1
            if len(buf) >= batch:
                yield buf
                buf = []
        cycle += 1
    if buf:
        yield buf


def score_batches(workloads: int, days: int, per_day: int) -> Iterator[list[Score]]:
    step = timedelta(hours=24 / per_day)
    for n in range(days * per_day):
        at = START + n * step
        yield [
            Score(
                workload=f"wl-{w:04d}",
                status=Status.READY,
                readiness=60.0 + (w + n) % 40,
                single_provider_risk={"aws": 0.2, "gcp": 0.1},
                rto_estimate_s=420.0,
                rto_target_s=900.0,
                reasons=[Reason("dns.ttl", "warn", "TTL 300s exceeds 60s", 7.5), Reason("capacity", "fail", "50%", 20)],
                computed_at=at,
                details={"rto": {"detection_s": 90, "dns_s": 300, "scale_s": 30}},
            )
            for w in range(workloads)
        ]


def finding_batches(workloads: int, runs: int) -> Iterator[list[Finding]]:
    for r in range(runs):
        at = START + timedelta(hours=r)
        yield [
            Finding(
                check=c,
                workload=f"wl-{w:04d}",
                status=FindingStatus.PASS if (w + r) % 7 else FindingStatus.WARN,
                reason="ok",
                category="health",
                subject="gcp-east",
                evidence={"value": w, "run": r},
                observed_at=at,
            )
            for w in range(workloads)
            for c in CHECKS
        ]


def bench(label: str, url: str, args: argparse.Namespace) -> None:
    print(f"\n== {label}")
    store = Store.open(url)
    run_id = store.start_run("bench")
    try:
        tally = Tally()
        for batch in observation_batches(args.rows, args.workloads, args.batch):
            tally.add(len(batch), *timed(lambda b=batch: store.save_observations(run_id, b))[1:])  # type: ignore[misc]
        print(tally.line("observations"))

        tally = Tally()
        for sbatch in score_batches(args.workloads, 30, args.scores_per_day):
            tally.add(len(sbatch), *timed(lambda b=sbatch: store.save_scores(run_id, b))[1:])  # type: ignore[misc]
        print(tally.line("scores"))

        tally = Tally()
        for fbatch in finding_batches(args.workloads, 5):
            frun = store.start_run("bench")
            tally.add(len(fbatch), *timed(lambda b=fbatch, r=frun: store.save_findings(r, b))[1:])  # type: ignore[misc]
        print(tally.line("findings"))

        now = START + timedelta(days=30)
        one = f"wl-{args.workloads // 2:04d}"
        reads: list[tuple[str, Callable[[], Any]]] = [
            ("latest observations, every workload", store.latest_observations),
            ("latest findings, every workload", store.latest_findings),
            ("latest scores, every workload", store.latest_scores),
            ("latest observations, one workload", lambda: store.latest_observations(one)),
            ("score history, one workload, 30 days", lambda: store.score_history(one, now - timedelta(days=30))),
            ("score at a time, one workload", lambda: store.score_at(one, now - timedelta(days=7))),
            ("daily readiness, every workload, 30 d", lambda: store.daily_readiness(now - timedelta(days=30))),
        ]
        for name, read in reads:
            result, dt, cpu = timed(read)
            if isinstance(result, dict):  # workload -> daily points
                n = sum(len(v) for v in result.values())
            else:
                n = len(result) if isinstance(result, list) else int(result is not None)
            print(f"read {name:<38} {n:>7,} rows  {dt:6.3f} s   (client CPU {cpu:5.3f} s)")
        cutoff = START + timedelta(minutes=args.rows // (args.workloads * len(SITES) * len(PROBES)) // 2)
        deleted, dt, _ = timed(lambda: store.prune(cutoff))
        print(f"prune (roll up + delete the older half) {deleted:>8,} rows  {dt:6.2f} s")
    finally:
        store.close()


def probed(config: Config, at: datetime, cycle: int, failing: bool) -> list[Observation]:
    """One cycle's observations shaped as the probes make them: timings, a Date header and the
    latency in the reason change every cycle; ``failing`` makes every secondary answer 503."""
    out = []
    for i, w in enumerate(config.workloads):
        for site in w.sites:
            down = failing and site.role == "secondary"
            for label in ("direct", "as-public-name"):
                ms = 8.0 + (i * 7 + cycle * 13 + len(label)) % 40
                code = 503 if down else 200
                out.append(
                    Observation(
                        probe="http",
                        target=str(site.endpoints[0].url),
                        status=ObsStatus.FAILED if down else ObsStatus.OK,
                        reason="HTTP 503 (expected 200)" if down else f"HTTP 200 in {ms:.0f} ms",
                        latency_ms=ms,
                        observed_at=at,
                        data={
                            "url": str(site.endpoints[0].url),
                            "address": f"10.{i // 250}.{i % 250}.{len(site.name)}:443",
                            "public_name": w.dns.name if w.dns and label != "direct" else None,
                            "status_code": code,
                            "http_version": "HTTP/1.1",
                            "expect_status": [200],
                            "headers": {"content-type": "text/plain", "date": at.strftime("%a, %d %b %Y %H:%M:%S GMT")},
                            "body_bytes": 3,
                            "body_truncated": False,
                            "timings_ms": {"dns": 0.1, "connect": ms / 4, "tls": ms / 2, "ttfb": ms / 5, "total": ms},
                            "tls": {"days_left": 80, "covers_name": True, "issuer": "CN=bench CA", "chain_length": 2},
                        },
                        vantage="bench",
                        workload=w.name,
                        site=site.name,
                        label=label,
                    )
                )
        if w.dns is not None:
            out.append(
                Observation(
                    probe="dns",
                    target=w.dns.name,
                    status=ObsStatus.OK,
                    reason="2 answers",
                    latency_ms=1.0 + cycle % 3,
                    observed_at=at,
                    data={"name": w.dns.name, "rdtype": "A", "answers": ["192.0.2.10"], "ttl": 60, "rcode": "NOERROR"},
                    vantage="bench",
                    workload=w.name,
                    label="authoritative",
                )
            )
    return out


def stored_bytes(store: Store) -> int:
    """What the database occupies: SQLite's file after a WAL checkpoint (its free pages are reused in
    place); Postgres's tables with their indexes and TOAST after a VACUUM FULL, i.e. the live rows: the
    dead versions left by updated latest-state rows are bounded (autovacuum reuses their space) and
    would otherwise swing a single cycle's figure by megabytes either way."""
    from sqlalchemy import text

    if store.dialect == "sqlite":
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return Path(store.engine.url.database or "").stat().st_size
    with store.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM FULL")
        query = (
            "SELECT sum(pg_total_relation_size(oid)) FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        )
        return int(conn.execute(text(query)).scalar_one())


def cycle(
    config: Config,
    store: Store,
    inventories: list[Inventory],
    n: int,
    *,
    failing: bool = False,
    start: datetime = START,
) -> None:
    """One check cycle's writes, through the runner's own store path (``n`` minutes after ``start``)."""
    at = start + timedelta(minutes=n)
    with store.recorded_run("check", vantage="bench") as run:
        observations = probed(config, at, n, failing)
        store.save_observations(run.id, observations)
        judge(
            config,
            store,
            run,
            list(config.workloads),
            inventories,
            observations,
            vantage="bench",
            now=at,
            steps=CycleSteps(),
        )


def growth(label: str, url: str, workloads: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from checks import estate, estate_document

    print(f"\n== {label}: bytes per check cycle, {workloads:,} workloads")
    _, inventories = estate(workloads, 2)
    config = Config.model_validate(estate_document(workloads, endpoints=True))
    store = Store.open(url)
    try:
        store.save_inventory(store.start_run("inventory"), inventories)
        for n in range(3):  # the first cycles fill the latest-state tables; then measure
            cycle(config, store, inventories, n)
        size, unchanged = stored_bytes(store), []
        for n in range(3, 6):
            cycle(config, store, inventories, n)
            now = stored_bytes(store)
            unchanged.append(now - size)
            size = now
        cycle(config, store, inventories, 6, failing=True)
        changed = stored_bytes(store) - size
        per = sum(unchanged) / len(unchanged)
        print(
            f"unchanged cycle  {per / 1e6:7.2f} MB   (goal <= 1 MB; cycles: {', '.join(f'{u / 1e6:.2f}' for u in unchanged)})"  # noqa: E501
        )
        print(f"changed cycle    {changed / 1e6:7.2f} MB   (every secondary starts failing)")
        print(f"database now     {size / 1e6:7.1f} MB after 7 cycles")
    finally:
        store.close()


def _children_cpu() -> float:
    """CPU seconds of the finished child processes: the figure that holds on a busy machine."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_times(workloads: int) -> None:
    import subprocess

    import yaml

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from checks import estate, estate_document

    print(f"\n== the CLI at {workloads:,} workloads (SQLite, a day of hourly cycles stored)")
    with tempfile.TemporaryDirectory() as tmp:
        document = {"database": f"sqlite:///{tmp}/failover.db", **estate_document(workloads, endpoints=True)}
        path = Path(tmp) / "failover.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        _, inventories = estate(workloads, 2)
        config = Config.model_validate(document)
        # the day ends now: `failover score` reads the what-if matrix stored with a score that is
        # still fresh, and computes it live from the store past `scoring.stale_after`
        start = datetime.now(UTC) - timedelta(days=1, minutes=1)
        with Store.open(document["database"]) as store:
            store.save_inventory(store.start_run("inventory"), inventories)
            for n in range(0, 24 * 60 + 1, 60):
                cycle(config, store, inventories, n, start=start)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        for command, goal in ((["validate"], 0.5), (["score", "--format", "json"], 1.0)):
            walls, cpus = [], []
            for _ in range(3):
                t0, c0 = time.perf_counter(), _children_cpu()
                done = subprocess.run(
                    [sys.executable, "-m", "failover", *command, "-c", str(path)], env=env, capture_output=True
                )
                walls.append(time.perf_counter() - t0)
                cpus.append(_children_cpu() - c0)
                if done.returncode not in (0, 1):
                    raise SystemExit(f"failover {command[0]} exited {done.returncode}: {done.stderr.decode()[-500:]}")
            print(
                f"failover {command[0]:<9} {min(walls):6.2f} s wall, {min(cpus):5.2f} s CPU   (goal <= {goal} s; "
                f"runs: {', '.join(f'{w:.2f}' for w in walls)})"
            )


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url).set(drivername="postgresql")
    name = f"failover_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="observations to write (default 1,000,000)")
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=10_000, help="observations per save (one transaction)")
    parser.add_argument("--scores-per-day", type=int, default=24, help="scores per workload per day, 30 days")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("FAILOVER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="server to create a throwaway database on",
    )
    parser.add_argument("--case", choices=["rows", "growth", "cli"], default="rows")
    args = parser.parse_args()
    if args.case == "cli":
        cli_times(args.workloads)
        return
    if args.case == "growth":
        if args.backend in ("sqlite", "both"):
            with tempfile.TemporaryDirectory() as tmp:
                growth("SQLite", f"sqlite:///{tmp}/bench.db", args.workloads)
        if args.backend in ("postgres", "both"):
            with postgres_database(args.pg_url) as url:
                growth("PostgreSQL", url, args.workloads)
        return
    print(
        f"{args.rows:,} observations for {args.workloads:,} workloads in batches of {args.batch:,}; "
        f"{args.workloads * 30 * args.scores_per_day:,} scores; {args.workloads * len(CHECKS) * 5:,} findings"
    )
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            bench("SQLite (WAL, synchronous=NORMAL)", f"sqlite:///{tmp}/bench.db", args)
    if args.backend in ("postgres", "both"):
        with postgres_database(args.pg_url) as url:
            bench("PostgreSQL", url, args)


if __name__ == "__main__":
    main()
