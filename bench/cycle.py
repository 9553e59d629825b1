"""The production cycle at scale: ``failover check`` (full on an empty database, full again with what
rarely changes carried over, and ``--no-inventory`` on the stored inventory) and the daemon's check
jobs, on an estate of N workloads, printed beside the goals.

    python bench/cycle.py [--workloads 100|1000|10000] [--database sqlite,postgres]
                          [--daemon-seconds 150 (0: no daemon)] [--daemons N (Postgres)] [--code DIR]

Each workload: an AWS primary of 2 instances (moto), a GCP secondary of 2 instances (the GCP
emulator), 2 HTTPS endpoints (one per site) on a local TLS nginx, each probed directly and as the
workload's public name, and a Route 53 failover pair governed by a health check; the public names are
served by Knot (the in-process authoritative DNS server where Knot is not installed: it costs ~0.2 ms
of Python CPU per query on the same two cores). The clouds run in a child process of their own
(``serve``) so they do not share the measured processes' GIL.

What is measured is what users run, as separate processes: ``python -m failover check`` and
``python -m failover daemon`` (``check_interval: 60s``, so one check job per second of the interval).
Daemon figures come from the daemon itself: job durations from its recorded runs, skips and failures
from its /metrics, CPU and RSS from /proc, and /metrics and /healthz timed as a scraper sees them.
``--daemons N`` (Postgres) runs N daemons on the one database, sharing the check work through the
work queue, and reports them together: check jobs and share per daemon, CPU and RSS of each, queue
depth, the latency from a tick's due time to its job's start and end, and whether every tick of every
slot ran exactly once (read from procrastinate's jobs table while the daemons are up).
``--code DIR`` runs another checkout's failover (e.g. the code before a change) on the same estate.
Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._harness import ServerProcess  # noqa: E402

ZONE = "bench.example"
GCP_PROJECT = "bench-dr"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# The issue's goals at 1,000 workloads on this machine (2 cores).
GOALS = {
    "check": "<= 20 s",
    "check (again)": "<= 20 s",
    "start": "",
    "check --no-inventory": "<= 5 s",
    "job p90": "< 60 s, none skipped or failed",
    "per workload": "the same at every N (a sweep linear in N)",
    "cpu per 60 s": "<= 60 s (1 core)",
    "rss": "<= 500 MB, flat",
    "/metrics": "<= 1 MB, <= 100 ms",
    "/healthz": "<= 50 ms",
    "running after SIGTERM": "0",
    "idle in transaction": "0",
    "sweep": "every tick done within its interval (<= 60 s a sweep)",
    "share": "about 1/N each",
    "daemon rss": "<= 1 GB per daemon (10,000 workloads)",
    "depth": "",
    "latency": "",
}


# ------------------------------------------------------------------------------------------- estate
class TlsNginx(ServerProcess):
    """nginx answering 200 on every path over TLS, with a certificate for ``names`` and 127.0.0.1."""

    def __init__(self, cert: Path, key: Path) -> None:
        super().__init__("nginx-cycle-")
        d = self.dir
        temp = " ".join(f"{k}_temp_path {d}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (d / "nginx.conf").write_text(
            f"worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
            "events { worker_connections 4096; }\n"
            f"http {{ access_log off; {temp}\n"
            f"  server {{ listen 127.0.0.1:{self.port} ssl backlog=4096;\n"
            f"    ssl_certificate {cert}; ssl_certificate_key {key};\n"
            '    location / { return 200 \'{"status": "ok"}\'; } }\n}\n'
        )
        self.proc = subprocess.Popen(
            ["/usr/sbin/nginx", "-c", str(d / "nginx.conf"), "-p", str(d)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while not (d / "nginx.pid").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nginx did not start: " + (d / "error.log").read_text()[-500:])
            time.sleep(0.05)


def serve(directory: Path, workloads: int) -> None:
    """The estate's clouds, DNS and HTTPS, seeded; writes ``estate.json`` (the config without a
    database) and runs until stdin closes."""
    import trustme

    from failover.sandbox import aws
    from failover.sandbox.dns import AuthoritativeServer
    from failover.sandbox.dnsd import KnotServer
    from failover.sandbox.gcp import FakeGcp

    with contextlib.ExitStack() as stack:
        ca = trustme.CA(organization_name="failover bench CA")
        ca_file = directory / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        leaf = ca.issue_cert(f"*.{ZONE}", "127.0.0.1")
        cert, key = directory / "leaf.pem", directory / "leaf.key"
        cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        key.write_bytes(leaf.private_key_pem.bytes())
        nginx = TlsNginx(cert, key)
        stack.callback(nginx.stop)

        sandbox = stack.enter_context(aws.AwsSandbox())
        gcp = stack.enter_context(FakeGcp())
        gcp.add_machine_type("n2-standard-2", 2, 8192)
        gcp.add_project(GCP_PROJECT, quotas={"CPUS_ALL_REGIONS": (100_000, 0)})
        gcp.add_region(GCP_PROJECT, "us-central1", zones=["us-central1-a"], quotas={"N2_CPUS": (100_000, 0)})
        zone_id = aws.seed_zone(sandbox, ZONE)
        ec2 = sandbox.client("ec2", "us-east-1")
        records: list[dict[str, Any]] = []
        # The zone is served by Route 53 and Cloud DNS: one provider's outage leaves DNS up.
        ns = ["ns-1536.awsdns-00.co.uk.", "ns-cloud-a1.googledomains.com."]
        zone: list[tuple[str, int, str, str]] = [("@", 3600, "NS", n) for n in ns]

        def seed_workload(i: int) -> list[dict[str, Any]]:
            app = f"w{i:05d}"
            primary, secondary = f"52.{i // 250}.{i % 250}.1", f"34.{i // 250}.{i % 250}.1"
            tags = {"app": app, "version": "1.0"}
            ids = aws.seed_instances(sandbox, "us-east-1", count=2, instance_type="t3.small", tags=tags)
            for iid in ids:
                ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": True})
            for n in range(2):
                gcp.add_instance(
                    GCP_PROJECT,
                    "us-central1-a",
                    f"{app}-{n}",
                    machine_type="n2-standard-2",
                    labels=tags,
                    deletion_protection=True,
                    nat_ip=secondary if n == 0 else f"34.{i // 250}.{i % 250}.2",
                )
            hc = aws.seed_health_check(
                sandbox,
                {"IPAddress": primary, "Port": 443, "Type": "HTTPS", "ResourcePath": "/healthz", "FailureThreshold": 3},
            )
            return aws.failover_pair(f"{app}.{ZONE}", primary, secondary, health_check_id=hc)

        with ThreadPoolExecutor(8) as pool:  # moto answers on threads: overlap the calls' round trips
            for i, pair in enumerate(pool.map(seed_workload, range(workloads))):
                records += pair
                zone.append((f"w{i:05d}", 60, "A", pair[0]["ResourceRecords"][0]["Value"]))
        for start in range(0, len(records), 500):
            aws.seed_records(sandbox, zone_id, records[start : start + 500])
        # a production server answers the public names, as a zone's real servers would: the Python
        # one would spend a core's second of the measured cycle in the estate's own process
        server = KnotServer({ZONE: zone}, workers=1) if KnotServer.available() else AuthoritativeServer({ZONE: zone})
        dns = stack.enter_context(server)
        print(f"dns: {type(server).__name__} at {dns.address}", file=sys.stderr, flush=True)
        config = estate_config(workloads, sandbox.account("aws", regions=["us-east-1"]), gcp.url, nginx.port, dns)
        config["tls"] = {"ca_file": str(ca_file)}
        (directory / "estate.json").write_text(json.dumps(config))
        print("ready", flush=True)
        sys.stdin.read()  # the parent closes stdin when it is done


def estate_config(workloads: int, aws_account: dict[str, Any], gcp_url: str, port: int, dns: Any) -> dict[str, Any]:
    def site(name: str, role: str, account: str, region: str, app: str) -> dict[str, Any]:
        return {
            "name": name,
            "role": role,
            "account": account,
            "regions": [region],
            "select": {"tags": {"app": app}},
            "endpoints": [{"url": f"https://127.0.0.1:{port}/{app}/{name}/healthz", "timeout": "10s"}],
        }

    return {
        "vantage": "bench",
        "accounts": [
            aws_account,
            {"name": "gcp", "provider": "gcp", "project": GCP_PROJECT, "endpoint": gcp_url, "credentials": "anonymous"},
        ],
        "workloads": [
            {
                "name": f"w{i:05d}",
                "owners": [f"team{i % 20}@example.com"],
                "targets": {"rto": "15m", "capacity_ratio": 1.0, "max_dns_ttl": "60s"},
                "dns": {"name": f"w{i:05d}.{ZONE}", "mechanism": "route53-failover", "nameservers": [dns.address]},
                "sites": [
                    site("aws-east", "primary", "aws", "us-east-1", f"w{i:05d}"),
                    site("gcp-central", "secondary", "gcp", "us-central1", f"w{i:05d}"),
                ],
            }
            for i in range(workloads)
        ],
    }


@contextlib.contextmanager
def stored_estate(workloads: int, directory: Path) -> Iterator[dict[str, Any]]:
    """The estate's workloads on an inventory stored directly (``seed_stored_inventory``), probing
    their two HTTPS endpoints on the local TLS nginx: no clouds or DNS to seed, so 10,000 workloads
    start in seconds (moto seeds 20,000 instances in well over half an hour on this machine). What
    it leaves out: the DNS-path probes and the Route 53 pair, so a check job does less than on the
    full estate; the daemons, the queue, the store and the checks are the real ones."""
    import trustme

    ca = trustme.CA(organization_name="failover bench CA")
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    leaf = ca.issue_cert("127.0.0.1")
    cert, key = directory / "leaf.pem", directory / "leaf.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    key.write_bytes(leaf.private_key_pem.bytes())
    nginx = TlsNginx(cert, key)
    try:
        aws = {"name": "aws", "provider": "aws", "regions": ["us-east-1"]}
        config = estate_config(workloads, aws, "http://127.0.0.1:9", nginx.port, SimpleNamespace(address=""))
        for w in config["workloads"]:
            del w["dns"]  # no DNS server in this estate
        config["tls"] = {"ca_file": str(ca_file)}
        print(f"estate: {workloads} workloads on a stored inventory (no clouds, no DNS)", flush=True)
        yield config
    finally:
        nginx.stop()


def seed_stored_inventory(url: str, workloads: int) -> None:
    """Each workload's 2 AWS and 2 GCP instances, stored as ``failover check`` would store them."""
    from failover.model import Capacity, Inventory, Kind, Resource
    from failover.store import Store

    def instances(provider: str, region: str, native_type: str) -> list[Resource]:
        return [
            Resource(
                provider,
                provider,
                region,
                Kind.COMPUTE_INSTANCE,
                native_type,
                f"{provider}-w{i:05d}-{n}",
                f"w{i:05d}-{n}",
                state="running",
                capacity=Capacity(vcpu=2),
                tags={"app": f"w{i:05d}", "version": "1.0"},
                attrs={"deletion_protection": True},
            )
            for i in range(workloads)
            for n in range(2)
        ]

    with Store.open(url) as store, store.recorded_run("inventory", vantage="bench") as run:
        store.save_inventory(
            run.id,
            [
                Inventory("aws", "aws", instances("aws", "us-east-1", "ec2:instance")),
                Inventory("gcp", "gcp", instances("gcp", "us-central1", "gce:instance")),
            ],
        )


@contextlib.contextmanager
def estate(workloads: int, directory: Path) -> Iterator[dict[str, Any]]:
    began = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "serve", "--dir", str(directory), "--workloads", str(workloads)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if line.strip() != b"ready":
            raise SystemExit(f"the estate did not start (exit {child.wait()})")
        print(f"estate: {workloads} workloads seeded in {time.perf_counter() - began:.0f} s", flush=True)
        yield json.loads((directory / "estate.json").read_text())
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)


# -------------------------------------------------------------------------------------- databases
@contextlib.contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text

    name = f"failover_bench_{os.getpid()}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


# ------------------------------------------------------------------------------------ measurements
def failover_env(code: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FAILOVER_DATABASE_URL", "FAILOVER_CONFIG")}
    env["PYTHONPATH"] = str(code)
    return env


def timed_cli(args: list[str], code: Path, cwd: Path) -> dict[str, float]:
    """Wall time, CPU seconds and peak RSS of one ``python -m failover`` run."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "failover", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=failover_env(code),
        cwd=cwd,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    code_ = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if code_ not in (0, 1, 2):  # 1/2: workloads not ready; anything else is the benchmark failing
        raise SystemExit(f"failover {' '.join(args)} exited {code_}: {err[-800:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fetch(url: str) -> tuple[float, bytes]:
    """(seconds, body) of one GET as a scraper sees it; a 503 is an answer too."""
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            body = resp.read()
    except urllib.error.HTTPError as err:
        body = err.read()
    return time.perf_counter() - began, body


def metric_sum(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def skipped_by(texts: list[str]) -> str:
    """``failover_job_skipped_total`` per job and reason, summed over the daemons' /metrics: which
    runs did not start, and why (overrun, missed, not_leader)."""
    counts: dict[str, float] = {}
    for text in texts:
        for line in text.splitlines():
            if line.startswith("failover_job_skipped_total{"):
                labels, value = line.rsplit(" ", 1)
                if float(value):
                    key = labels[len("failover_job_skipped_total") :]
                    counts[key] = counts.get(key, 0.0) + float(value)
    return ", ".join(f"{k} {v:.0f}" for k, v in sorted(counts.items())) or "none"


def run_daemon(config_path: Path, url: str, code: Path, cwd: Path, seconds: float) -> dict[str, Any]:
    from failover.sandbox.dns import free_port

    port = free_port()
    log = (cwd / "daemon.log").open("wb")
    began_at = datetime.now(UTC)
    proc = subprocess.Popen(
        [sys.executable, "-m", "failover", "daemon", "-c", str(config_path), "--listen", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=failover_env(code),
        cwd=cwd,
    )
    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {"metrics_s": [], "metrics_bytes": [], "healthz_s": [], "rss_mb": [], "idle_in_tx": [0]}
    try:
        out["start_s"] = wait_listening(base + "/healthz", proc)
        warm = time.monotonic() + 30  # start-up (config load, first jobs) is not the steady state
        while time.monotonic() < warm:
            time.sleep(1)
        cpu0, t0 = proc_cpu(proc.pid), time.monotonic()
        while time.monotonic() - t0 < seconds:
            time.sleep(10)
            out["rss_mb"].append(proc_rss_mb(proc.pid))
            out["healthz_s"].append(fetch(base + "/healthz")[0])
            took, body = fetch(base + "/metrics")
            out["metrics_s"].append(took)
            out["metrics_bytes"].append(len(body))
            out["metrics_text"] = body.decode()
            if url.startswith("postgresql"):
                out["idle_in_tx"].append(idle_in_transaction(url))
        out["cpu_per_60s"] = (proc_cpu(proc.pid) - cpu0) / (time.monotonic() - t0) * 60
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    text = out.pop("metrics_text", "")
    out["skipped"] = metric_sum(text, "failover_job_skipped_total")
    out["skipped_by"] = skipped_by([text])
    out["failed"] = metric_sum(text, 'failover_job_failures_total{job="check"}')
    out["series"] = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    runs = _runs_since(url, began_at)
    checks = [r for r in runs if r["kind"] in ("check", "probe") and r["finished_at"] is not None]
    out["jobs"] = len(checks)
    out["job_s"] = sorted((r["finished_at"] - r["started_at"]).total_seconds() for r in checks)
    checked = sum(int((r["stats"] or {}).get("workloads", 0)) for r in checks)
    out["ms_per_workload"] = sum(out["job_s"]) / checked * 1000 if checked else float("nan")
    out["running_after_sigterm"] = sum(1 for r in runs if r["status"] == "running")
    out["job_errors"] = sum(1 for r in checks if r["status"] == "error")
    return out


def run_daemons(config_path: Path, url: str, code: Path, cwd: Path, seconds: float, n: int) -> dict[str, Any]:
    """``n`` daemons on one Postgres database, watched together for ``seconds`` after a warm-up."""
    from failover.sandbox.dns import free_port

    ports = [free_port() for _ in range(n)]
    logs = [(cwd / f"daemon-{i}.log").open("wb") for i in range(n)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "failover", "daemon", "-c", str(config_path), "--listen", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=failover_env(code),
            cwd=cwd,
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    out: dict[str, Any] = {"rss_mb": [[] for _ in procs], "depth": [], "idle_in_tx": [0]}
    try:
        out["start_s"] = max(wait_listening(b + "/healthz", p) for b, p in zip(bases, procs, strict=True))
        time.sleep(30)  # start-up (config load, first jobs) is not the steady state
        cpu0, t0 = [proc_cpu(p.pid) for p in procs], time.monotonic()
        since = time.time()
        texts = [""] * n
        while time.monotonic() - t0 < seconds:
            time.sleep(10)
            for i, (b, p) in enumerate(zip(bases, procs, strict=True)):
                out["rss_mb"][i].append(proc_rss_mb(p.pid))
                texts[i] = fetch(b + "/metrics")[1].decode()
            # every check queue's todo + doing, as the first daemon last read it from the jobs table
            depth = [line for line in texts[0].splitlines() if line.startswith('failover_queue_jobs{queue="check:')]
            out["depth"].append(sum(float(line.rsplit(" ", 1)[1]) for line in depth))
            out["idle_in_tx"].append(idle_in_transaction(url))
        elapsed = time.monotonic() - t0
        out["cpu_per_60s"] = [(proc_cpu(p.pid) - c) / elapsed * 60 for p, c in zip(procs, cpu0, strict=True)]
        out["ran"] = [metric_sum(t, 'failover_queue_jobs_run_total{outcome="ok",task="failover.check"}') for t in texts]
        out["share"] = [metric_sum(t, 'failover_queue_share{task="failover.check"}') for t in texts]
        out["skipped"] = sum(metric_sum(t, "failover_job_skipped_total") for t in texts)
        out["skipped_by"] = skipped_by(texts)
        # ticks due in the window and done by now (a check job at 10,000 workloads takes up to ~25 s)
        out["jobs"] = _queue_jobs(url, since, time.time() - 40)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()
    runs = _runs_since(url, datetime.fromtimestamp(since, UTC))
    out["running_after_sigterm"] = sum(1 for r in runs if r["status"] == "running")
    return out


def _queue_jobs(url: str, since: float, until: float) -> dict[str, Any]:
    """The check jobs due in [since, until] from procrastinate's tables: per daemon (worker), due ->
    start and due -> end, and how many ticks ran once, twice or not at all."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    query = text(
        "SELECT j.queueing_lock, j.status::text AS status, j.worker_id, (j.args->>'due')::float AS due, "
        "extract(epoch FROM min(e.at) FILTER (WHERE e.type = 'started')) AS started, "
        "extract(epoch FROM max(e.at) FILTER (WHERE e.type IN ('succeeded', 'failed'))) AS finished "
        "FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id "
        "WHERE j.task_name = 'failover.check' AND (j.args->>'due')::float BETWEEN :since AND :until "
        "GROUP BY j.id"
    )
    try:
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query, {"since": since, "until": until})]
    finally:
        engine.dispose()
    done = [r for r in rows if r["status"] == "succeeded"]
    per_tick: dict[str, int] = {}
    for r in done:
        per_tick[r["queueing_lock"]] = per_tick.get(r["queueing_lock"], 0) + 1
    ticks = {r["queueing_lock"] for r in rows}
    return {
        "done": len(done),
        "per_worker": dict(sorted(_count(r["worker_id"] for r in done).items(), key=lambda kv: str(kv[0]))),
        "start_s": sorted(float(r["started"]) - r["due"] for r in done if r["started"] is not None),
        "end_s": sorted(float(r["finished"]) - r["due"] for r in done if r["finished"] is not None),
        "ticks": len(ticks),
        "twice": sum(1 for n in per_tick.values() if n > 1),
        "not_done": len(ticks - set(per_tick)),
        "duplicates_aborted": sum(1 for r in rows if r["status"] == "aborted"),
    }


def _count(values: Any) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def wait_listening(url: str, proc: subprocess.Popen[bytes], limit: float = 900.0) -> float:
    """Seconds from now until the daemon answers ``url`` (it serves once its start-up is done)."""
    began = time.monotonic()
    while time.monotonic() - began < limit:
        if proc.poll() is not None:
            raise SystemExit(f"the daemon exited {proc.returncode} (see its log)")
        try:
            fetch(url)
            return time.monotonic() - began
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the daemon did not answer {url} within {limit:.0f} s")


def idle_in_transaction(url: str) -> int:
    """Connections to the bench database idle inside a transaction for over a second right now (a
    transaction between two of its statements is idle for a moment; one left open stays so)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN)
    try:
        with engine.connect() as conn:
            query = (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND state = 'idle in transaction'"
                " AND now() - state_change > interval '1 second'"
            )
            return int(conn.execute(text(query), {"db": url.rsplit("/", 1)[1]}).scalar() or 0)
    finally:
        engine.dispose()


def _runs_since(url: str, since: datetime) -> list[dict[str, Any]]:
    """The runs table as any schema revision has it (the code measured may be older or newer)."""
    from sqlalchemy import create_engine, select

    from failover.store import tables

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(tables.runs).where(tables.runs.c.started_at >= since)).all()
    finally:
        engine.dispose()
    return [dict(r._mapping) for r in rows]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


# ------------------------------------------------------------------------------------------- report
def _cli_rows(cli: dict[str, dict[str, float]]) -> list[tuple[str, str, str]]:
    return [
        (f"failover {name}", f"{r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, {r['rss_mb']:.0f} MB", name)
        for name, r in cli.items()
    ]


def _print_table(title: str, goal_header: str, rows: list[tuple[str, str, str]]) -> None:
    """Rows of (what, measured, key of its goal in ``GOALS``), aligned, under ``title``."""
    print(f"\n{title}")
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(f"  {'':{width}}  {'measured':{vwidth}}  {goal_header}")
    for name, value, goal in rows:
        print(f"  {name:{width}}  {value:{vwidth}}  {GOALS[goal]}")


def report(n: int, db: str, cli: dict[str, dict[str, float]], daemon: dict[str, Any] | None) -> None:
    rows = _cli_rows(cli)
    if daemon is not None:
        rows += _daemon_rows(db, daemon)
    _print_table(f"{n} workloads, {db}", "goal (1,000 workloads)", rows)


def report_daemons(n: int, db: str, daemons: int, cli: dict[str, dict[str, float]], out: dict[str, Any]) -> None:
    rows = _cli_rows(cli)
    jobs = out["jobs"]
    start, end = jobs["start_s"], jobs["end_s"]
    rows += [
        ("daemons start until all serve /healthz", f"{out['start_s']:.1f} s", "start"),
        (
            "check jobs due -> start p50 / p90 / max",
            f"{pct(start, 0.5):.2f} / {pct(start, 0.9):.2f} / {max(start, default=float('nan')):.2f} s",
            "latency",
        ),
        (
            "check jobs due -> done p50 / p90 / max",
            f"{pct(end, 0.5):.2f} / {pct(end, 0.9):.2f} / {max(end, default=float('nan')):.2f} s "
            f"({jobs['done']} jobs; ticks {jobs['ticks']}: {jobs['twice']} twice, {jobs['not_done']} not done, "
            f"{jobs['duplicates_aborted']} duplicate defers aborted; {out['skipped']:.0f} skipped since start: "
            f"{out['skipped_by']})",
            "sweep",
        ),
        ("check queue depth (todo + doing, max)", f"{max(out['depth'], default=0):.0f}", "depth"),
    ]
    for i in range(daemons):
        rss = out["rss_mb"][i]
        rows += [
            (
                f"daemon {i + 1}: jobs ran / share",
                f"{out['ran'][i]:.0f} ok / {out['share'][i]:.2f} of the last 5 min",
                "share",
            ),
            (f"daemon {i + 1}: CPU per 60 s", f"{out['cpu_per_60s'][i]:.1f} s", "cpu per 60 s"),
            (
                f"daemon {i + 1}: RSS (first / last / max)",
                f"{rss[0]:.0f} / {rss[-1]:.0f} / {max(rss):.0f} MB",
                "daemon rss",
            ),
        ]
    rows += [
        (
            "jobs per worker (from the jobs table)",
            json.dumps({str(k): v for k, v in jobs["per_worker"].items()}),
            "share",
        ),
        ("runs left running after SIGTERM", str(out["running_after_sigterm"]), "running after SIGTERM"),
        ("connections idle in transaction > 1 s (max)", str(max(out["idle_in_tx"])), "idle in transaction"),
    ]
    _print_table(f"{n} workloads, {db}, {daemons} daemons sharing it", "goal", rows)


def _daemon_rows(db: str, daemon: dict[str, Any]) -> list[tuple[str, str, str]]:
    jobs = daemon["job_s"]
    rows = [
        ("daemon start until it serves /healthz", f"{daemon['start_s']:.1f} s", "start"),
        (
            "daemon check job median / p90 / max",
            f"{statistics.median(jobs) if jobs else float('nan'):.2f} / {pct(jobs, 0.9):.2f} / "
            f"{max(jobs) if jobs else float('nan'):.2f} s ({daemon['jobs']} jobs, {daemon['skipped']:.0f} skipped, "
            f"{daemon['failed']:.0f} failed, {daemon['job_errors']} runs in error; skipped since start: "
            f"{daemon['skipped_by']})",
            "job p90",
        ),
        ("daemon job time per workload", f"{daemon['ms_per_workload']:.1f} ms", "per workload"),
        ("daemon CPU per 60 s", f"{daemon['cpu_per_60s']:.1f} s", "cpu per 60 s"),
        (
            "daemon RSS (first / last / max)",
            f"{daemon['rss_mb'][0]:.0f} / {daemon['rss_mb'][-1]:.0f} / {max(daemon['rss_mb']):.0f} MB",
            "rss",
        ),
        (
            "/metrics size, time (max)",
            f"{max(daemon['metrics_bytes']) / 1e6:.2f} MB, {daemon['series']} series, "
            f"{max(daemon['metrics_s']) * 1000:.0f} ms",
            "/metrics",
        ),
        ("/healthz time (max)", f"{max(daemon['healthz_s']) * 1000:.0f} ms", "/healthz"),
        ("runs left running after SIGTERM", str(daemon["running_after_sigterm"]), "running after SIGTERM"),
    ]
    if db == "postgres":
        idle = str(max(daemon["idle_in_tx"]))
        rows.append(("connections idle in transaction > 1 s (max)", idle, "idle in transaction"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    srv = sub.add_parser("serve", help="(internal) run the estate")
    srv.add_argument("--dir", type=Path, required=True)
    srv.add_argument("--workloads", type=int, required=True)
    parser.add_argument("--workloads", type=int, default=100, help="100, 1000 or 10000 (default 100: quick)")
    parser.add_argument("--database", default="sqlite", help="sqlite, postgres or both, comma-separated")
    parser.add_argument(
        "--daemon-seconds", type=float, default=150.0, help="steady-state time the daemon is watched (0: no daemon)"
    )
    parser.add_argument("--no-cli", action="store_true", help="measure the daemon only")
    parser.add_argument("--daemons", type=int, default=1, help="daemons sharing the database (Postgres; default 1)")
    parser.add_argument(
        "--stored-estate",
        action="store_true",
        help="the workloads on an inventory stored directly, probing only their HTTPS endpoints (no clouds, "
        "no DNS: for 10,000 workloads, which moto cannot seed in reasonable time); implies --no-cli",
    )
    parser.add_argument("--code", type=Path, default=REPO, help="the failover checkout to measure (default: this one)")
    args = parser.parse_args()
    if args.daemons > 1 and args.database != "postgres":
        parser.error("--daemons N shares one Postgres database: use it with --database postgres")
    if args.command == "serve":
        serve(args.dir, args.workloads)
        return
    import yaml

    if args.stored_estate:
        args.no_cli = True
    make = stored_estate if args.stored_estate else estate
    with tempfile.TemporaryDirectory(prefix="failover-cycle-") as tmp, make(args.workloads, Path(tmp)) as base:
        for db in args.database.split(","):
            work = Path(tmp) / db
            work.mkdir()
            with database(db, work) as url:
                # a stored estate has no clouds to inventory: its stored inventory stays the fresh one
                every = "24h" if args.stored_estate else "15m"
                config = {**base, "database": url, "daemon": {"check_interval": "60s", "inventory_interval": every}}
                path = work / "failover.yaml"
                path.write_text(yaml.safe_dump(config, sort_keys=False))
                cli: dict[str, dict[str, float]] = {}
                # the first check reads everything; the next carries over what rarely changes (the
                # termination protection read one call per instance) from the stored inventory
                runs = (("check", []), ("check (again)", []), ("check --no-inventory", ["--no-inventory"]))
                if args.stored_estate:
                    seed_stored_inventory(url, args.workloads)
                    runs = ()
                for name, extra in runs:
                    if args.no_cli and name != "check":
                        continue
                    # the daemon needs an inventory stored: with --no-cli it is taken, not timed
                    cli[name] = timed_cli(["check", "-c", str(path), "--format", "json", *extra], args.code, work)
                    print(f"  {db}: failover {name} {cli[name]['wall']:.1f} s", flush=True)
                if args.no_cli:
                    cli.clear()
                if args.daemons > 1:
                    out = run_daemons(path, url, args.code, work, args.daemon_seconds, args.daemons)
                    report_daemons(args.workloads, db, args.daemons, cli, out)
                    continue
                daemon = None
                if args.daemon_seconds > 0:
                    daemon = run_daemon(path, url, args.code, work, args.daemon_seconds)
                report(args.workloads, db, cli, daemon)


if __name__ == "__main__":
    main()
