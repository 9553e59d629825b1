"""Probe throughput of the engine ``failover check`` and the daemon run, side by side with Prometheus
blackbox_exporter (prints figures; not a timed test).

HTTP and HTTPS: ``n`` GETs of distinct paths (/p0 … /p<n-1>) on a local nginx (generated config, free
port; for HTTPS a certificate from a trustme CA, session cache and tickets off), ``concurrency`` at a
time, each on a fresh connection: for HTTPS a full verified TLS handshake per probe.

- ours: ``failover.probing.probe_engine`` (what ``run_cycle`` probes with: one process per core once the
  plan is large, uvloop, cached certificate parsing), ``probe_http`` on each target, the same
  Observations as a real run. The config's ``per_host`` is set to the concurrency: every path is on one
  host, and blackbox_exporter has no per-host limit. Also measured in the same run: ``before``, this
  code on the engine as it was configured before issue 13 (one process, asyncio's loop, every chain
  re-parsed); ours with the default ``per_host`` for reference; and with ``--baseline REF``, the
  production engine of the code at git REF (``git archive`` into a temp dir, run in its own Python
  process on the same targets, in the same rounds): the before/after ratio of the code itself.
- blackbox_exporter with an ``http_2xx`` module (a fresh connection per probe; the trustme CA as its
  ``tls_config.ca_file``), driven through ``/probe?target=…&module=http_2xx`` by ``concurrency``
  keep-alive HTTP/1.1 connections from a minimal uvloop client. A probe counts when the exporter says
  ``probe_success 1``.

CPU per probe: ours is this process plus the probe workers (the live ones, kept between runs, and any
the forkserver reaped); blackbox's is the exporter's own (the driver's excluded). nginx's is printed
beside.

DNS: ``bench.dns_bench.run_dns_bench`` (Knot, the DNS probe vs blackbox's dns module).

Each side gets a warm-up batch, then ``rounds`` alternating timed runs; figures are medians, and a ratio
is the median over rounds of the two sides' rates within a round (the sides of a round run back to back,
so the shared machine's load changes between rounds cancel out; the ratio of the medians is printed
too). The last line is ``http_ratio=X https_ratio=Y dns_ratio=Z`` (ours ÷ blackbox; ``NA`` when a side
could not run).
Needs nginx and prometheus-blackbox-exporter (``apt-get install -y nginx-light
prometheus-blackbox-exporter``) and trustme.

    python -m bench.probes [--n 2000] [--concurrency 100] [--rounds 3] [--no-dns] [--no-http] [--baseline REF]
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's directory would shadow the ``probes`` package with this module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import multiprocessing.forkserver  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import ssl  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from bench._harness import Blackbox, ServerProcess, drive, run_loop, wait_http  # noqa: E402
from failover.probing import probe_engine  # noqa: E402
from failover.schema import Config, Probes  # noqa: E402
from probes import tls  # noqa: E402
from probes.engine import Engine, worker_pids  # noqa: E402
from probes.targets import HttpTarget  # noqa: E402

MODULES = (
    "modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n    http:\n"
    "      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false\n      valid_status_codes: [200]\n"
)


class Nginx(ServerProcess):
    """nginx on a free loopback port answering 200 everywhere; with ``cert``/``key`` over TLS only,
    without session resumption (every probe pays a full handshake)."""

    def __init__(self, cert: Path | None = None, key: Path | None = None) -> None:
        super().__init__("nginx-bench-")
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise RuntimeError("nginx is not installed (apt-get install -y nginx-light)")
        d = self.dir
        temp = " ".join(f"{k}_temp_path {d}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        listen = f"listen 127.0.0.1:{self.port} backlog=4096"
        if cert is not None:
            listen += (
                f" ssl; ssl_certificate {cert}; ssl_certificate_key {key};"
                " ssl_session_cache off; ssl_session_tickets off"
            )
        (d / "nginx.conf").write_text(
            "worker_processes 1;\nmaster_process off;\ndaemon off;\n"
            f"pid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
            "events { worker_connections 4096; }\n"
            f"http {{ access_log off; {temp}\n"
            f"  server {{ {listen}; location / {{ return 200 'ok\\n'; }} }}\n}}\n"
        )
        self.proc = subprocess.Popen(
            [binary, "-c", str(d / "nginx.conf"), "-p", str(d)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if cert is None:
            wait_http(self.port, "/p0", self.proc, "nginx")
        else:
            _wait_tls(self.port, self.proc)


def _wait_tls(port: int, proc: subprocess.Popen[bytes]) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"nginx exited: {err.strip()[-500:]}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock,
            ctx.wrap_socket(sock),
        ):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nginx (TLS) not ready on port {port}")


@dataclass
class Case:
    """One target set: the nginx serving it, our targets, blackbox's requests."""

    name: str
    nginx: Nginx
    targets: list[HttpTarget]
    requests: list[bytes]


@contextlib.contextmanager
def _case(name: str, n: int, tmp: Path) -> Iterator[tuple[Case, str]]:
    """The HTTP or HTTPS target set and blackbox_exporter's module config for it."""
    ca_file: Path | None = None
    if name == "https":
        import trustme

        ca = trustme.CA()
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        ca_file, cert, key = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        leaf.private_key_pem.write_to_path(str(key))
        leaf.cert_chain_pems[0].write_to_path(str(cert))
        nginx = Nginx(cert, key)
    else:
        nginx = Nginx()
    try:
        base = f"{name}://127.0.0.1:{nginx.port}"
        cas = (str(ca_file),) if ca_file else ()
        targets = [HttpTarget(f"{base}/p{i}", timeout=10.0, ca_files=cas) for i in range(n)]
        requests = [Blackbox.probe_request("http_2xx", f"{base}/p{i}") for i in range(n)]
        modules = MODULES + (f"      tls_config:\n        ca_file: {ca_file}\n" if ca_file else "")
        yield Case(name, nginx, targets, requests), modules
    finally:
        nginx.stop()


# --------------------------------------------------------------------------------------------- ours
def _proc_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of ``pid`` (``children``: of its reaped children instead)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    first = 13 if children else 11
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def _our_cpu() -> float:
    """This process's CPU plus the probe workers': the live ones (kept between runs) and any the
    forkserver has reaped."""
    server = getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)
    total = _proc_cpu(os.getpid()) + (_proc_cpu(server, children=True) if server else 0.0)
    for pid in worker_pids():
        with contextlib.suppress(OSError):
            total += _proc_cpu(pid)
    return total


def production(concurrency: int, per_host: int | None = None) -> Callable[[list[HttpTarget]], Any]:
    """The engine ``run_cycle`` probes with, configured as a ``probes:`` section would."""
    engine = probe_engine(Config(probes=Probes(concurrency=concurrency, per_host=per_host or concurrency)))
    return lambda targets: run_loop(engine.run(targets))


def before(concurrency: int) -> Callable[[list[HttpTarget]], Any]:
    """The engine the cycle ran before: one process, asyncio's own loop, every chain parsed again."""

    def go(targets: list[HttpTarget]) -> Any:
        cached = tls.describe_certificate
        tls.describe_certificate = cached.__wrapped__  # type: ignore[attr-defined]
        try:
            return asyncio.run(Engine(concurrency=concurrency, per_host=concurrency).run(targets))
        finally:
            tls.describe_certificate = cached  # type: ignore[assignment]

    return go


def _ours(run: Callable[[list[HttpTarget]], Any], targets: list[HttpTarget]) -> tuple[float, int, float]:
    cpu0 = _our_cpu()
    started = time.perf_counter()
    observations = run(targets)
    elapsed = time.perf_counter() - started
    return elapsed, sum(1 for o in observations if o.ok), _our_cpu() - cpu0


# A subprocess that runs ``failover.probing.probe_engine`` from another checkout of this repository (the
# code as it was at a git ref) on the same targets: one JSON line per "go" on stdin.
_BASELINE_DRIVER = r"""
import asyncio, json, os, sys, time
import multiprocessing.forkserver

def cpu():
    def stat(pid, children=False):
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        i = 13 if children else 11
        return (int(f[i]) + int(f[i + 1])) / os.sysconf("SC_CLK_TCK")
    total = stat(os.getpid())
    server = getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)
    if server:
        total += stat(server, children=True)
    try:
        from probes.engine import worker_pids
    except ImportError:
        worker_pids = list
    for pid in worker_pids():
        try:
            total += stat(pid)
        except OSError:
            pass
    return total

def main():
    args = json.loads(sys.argv[1])
    from failover.probing import probe_engine
    from failover.schema import Config, Probes
    from probes.targets import HttpTarget
    try:
        from probes.loop import run
    except ImportError:
        run = asyncio.run
    c = args["concurrency"]
    engine = probe_engine(Config(probes=Probes(concurrency=c, per_host=c)))
    cas = tuple(args["ca_files"])
    targets = [HttpTarget(u, timeout=10.0, ca_files=cas) for u in args["urls"]]
    run(engine.run(targets[: args["warmup"]]))
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "go":
            break
        cpu0, started = cpu(), time.perf_counter()
        observations = run(engine.run(targets))
        elapsed = time.perf_counter() - started
        ok = sum(1 for o in observations if o.ok)
        print(json.dumps({"elapsed": elapsed, "ok": ok, "cpu": cpu() - cpu0}), flush=True)

if __name__ == "__main__":
    main()
"""


class Baseline:
    """The production engine of the code at git ``ref`` (``git archive`` into a temp dir), in its own
    Python process on the same targets; ``measure`` runs one timed batch there."""

    def __init__(self, ref: str, tmp: Path, targets: list[HttpTarget], concurrency: int, warmup: int) -> None:
        tree = tmp / "baseline"
        tree.mkdir()
        archive = subprocess.run(["git", "-C", str(_ROOT), "archive", ref], capture_output=True, check=False)
        if archive.returncode != 0:
            raise RuntimeError(f"git archive {ref}: {archive.stderr.decode(errors='replace').strip()}")
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        (tree / "baseline_driver.py").write_text(_BASELINE_DRIVER)
        args = {
            "urls": [t.url for t in targets],
            "ca_files": list(targets[0].ca_files) if targets else [],
            "concurrency": concurrency,
            "warmup": warmup,
        }
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.proc = subprocess.Popen(
            [sys.executable, "baseline_driver.py", json.dumps(args)],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the baseline at {ref} did not start")

    def measure(self) -> tuple[float, int, float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        result = json.loads(self.proc.stdout.readline())
        return result["elapsed"], result["ok"], result["cpu"]

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


# ------------------------------------------------------------------------------------------- bench
def run_http_bench(
    name: str = "http",
    n: int = 2000,
    concurrency: int = 100,
    rounds: int = 3,
    warmup: int = 200,
    baseline: str | None = None,
) -> dict[str, Any]:
    """Probes/second and CPU per probe for ``n`` probes at ``concurrency`` on the ``name`` (http or https)
    target set: ours (production engine, the engine before, default per_host; with ``baseline``, the
    production engine of the code at that git ref) vs blackbox_exporter."""
    import tempfile

    sides: tuple[str, ...] = ("ours", "before", "ours_default_per_host", "blackbox")
    if baseline:
        sides = ("ours", "baseline", "before", "ours_default_per_host", "blackbox")
    figures: dict[str, list[tuple[float, float]]] = {k: [] for k in sides}  # (probes/s, CPU ms per probe)
    failures: dict[str, int] = dict.fromkeys(sides, 0)
    nginx_cpu_ms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-probes-") as tmp, _case(name, n, Path(tmp)) as (case, modules):
        bb = Blackbox(modules)
        base = Baseline(baseline, Path(tmp), case.targets, concurrency, warmup) if baseline else None
        try:
            runners: dict[str, Callable[[], tuple[float, int, float]]] = {
                "ours": lambda: _ours(production(concurrency), case.targets),
                "before": lambda: _ours(before(concurrency), case.targets),
                "ours_default_per_host": lambda: _ours(production(concurrency, Probes().per_host), case.targets),
                "blackbox": lambda: bb.measure(case.requests, concurrency),
            }
            if base is not None:
                runners["baseline"] = base.measure
            started = time.perf_counter()
            _ours(production(concurrency), case.targets[:warmup])  # also starts the forkserver once
            cold_s = time.perf_counter() - started
            _ours(before(concurrency), case.targets[:warmup])
            run_loop(drive(bb.port, case.requests[:warmup], concurrency))
            for _ in range(rounds):
                for side in sides:
                    nginx0 = case.nginx.cpu_s()
                    elapsed, ok, cpu = runners[side]()
                    failures[side] += n - ok
                    figures[side].append((ok / elapsed, cpu * 1000 / max(ok, 1)))
                    if side == "ours":
                        nginx_cpu_ms.append((case.nginx.cpu_s() - nginx0) * 1000 / max(ok, 1))
        finally:
            bb.stop()
            if base is not None:
                base.stop()

    def median(side: str, i: int) -> float:
        return statistics.median(f[i] for f in figures[side])

    out: dict[str, Any] = {"warmup_s": round(cold_s, 2), "failures": failures, "baseline_ref": baseline}
    for side in sides:
        out[f"{side}_pps"] = round(median(side, 0))
        out[f"{side}_rounds"] = [round(f[0]) for f in figures[side]]
        out[f"{side}_cpu_ms"] = round(median(side, 1), 3)
    out["nginx_cpu_ms"] = round(statistics.median(nginx_cpu_ms), 3)

    def paired(side: str, other: str = "blackbox") -> float | None:
        """Median over rounds of side ÷ other within the round: the sides of a round run back to back,
        so a load change between rounds cancels out (the ratio of the medians does not)."""
        pairs = [a[0] / b[0] for a, b in zip(figures[side], figures[other], strict=True) if b[0]]
        return round(statistics.median(pairs), 2) if pairs else None

    blackbox = median("blackbox", 0)
    out["ratio"] = paired("ours")
    out["ratio_of_medians"] = round(median("ours", 0) / blackbox, 2) if blackbox else None
    out["ratio_rounds"] = [round(a[0] / b[0], 2) for a, b in zip(figures["ours"], figures["blackbox"], strict=True)]
    out["before_ratio"] = paired("before")
    out["speedup"] = paired("ours", "before")
    if baseline:
        out["baseline_ratio"] = paired("baseline")
        out["baseline_speedup"] = paired("ours", "baseline")
    return out


GOAL = 1.5  # issue 13: HTTPS probes at >= 1.5x blackbox_exporter's rate


def _report(name: str, h: dict[str, Any], n: int, concurrency: int) -> None:
    workers = probe_engine(Config()).workers_for(n)
    print(
        f"{name} ours (run_cycle's engine, {workers} processes, per_host={concurrency}): {h['ours_pps']} probes/s, "
        f"{h['ours_cpu_ms']} ms CPU/probe (rounds {h['ours_rounds']}; first batch incl. worker start {h['warmup_s']} s)"
    )
    print(
        f"{name} before (1 process, asyncio loop, chains re-parsed): {h['before_pps']} probes/s, "
        f"{h['before_cpu_ms']} ms CPU/probe (rounds {h['before_rounds']})"
    )
    print(
        f"{name} ours with the default per_host={Probes().per_host}: {h['ours_default_per_host_pps']} probes/s, "
        f"{h['ours_default_per_host_cpu_ms']} ms CPU/probe"
    )
    print(
        f"{name} blackbox_exporter http_2xx: {h['blackbox_pps']} probes/s, {h['blackbox_cpu_ms']} ms CPU/probe "
        f"(rounds {h['blackbox_rounds']})"
    )
    if "baseline_pps" in h:
        print(
            f"{name} baseline (the production engine at {h['baseline_ref']}): {h['baseline_pps']} probes/s, "
            f"{h['baseline_cpu_ms']} ms CPU/probe (rounds {h['baseline_rounds']})"
        )
    print(f"{name} nginx: {h['nginx_cpu_ms']} ms CPU/probe; failures (should all be 0): {h['failures']}")
    goal = f" (goal >= {GOAL}x: {'met' if h['ratio'] and h['ratio'] >= GOAL else 'NOT met'})" if name == "https" else ""
    print(
        f"{name} ratio ours/blackbox (median of per-round ratios {h['ratio_rounds']}): {h['ratio']}{goal}; "
        f"ratio of the medians {h['ratio_of_medians']}; before/blackbox: {h['before_ratio']}; "
        f"ours/before: {h['speedup']}"
    )
    if "baseline_pps" in h:
        print(
            f"{name} baseline/blackbox: {h['baseline_ratio']}; ours/baseline: {h['baseline_speedup']}; "
            f"CPU per probe ours/baseline: {round(h['ours_cpu_ms'] / h['baseline_cpu_ms'], 2)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=2000, help="probes per run (default 2000)")
    parser.add_argument("--concurrency", type=int, default=100, help="probes in flight (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per side (default 3; medians)")
    parser.add_argument("--no-dns", action="store_true", help="skip the DNS case")
    parser.add_argument("--no-http", action="store_true", help="skip the plain HTTP case")
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also measure the production engine of the code at git REF (e.g. main), in its own process",
    )
    args = parser.parse_args(argv)
    print(f"cpus={os.cpu_count()} n={args.n} concurrency={args.concurrency} rounds={args.rounds}", flush=True)

    ratios = {"http": "NA", "https": "NA", "dns": "NA"}
    for name in ("http", "https"):
        if name == "http" and args.no_http:
            continue
        try:
            h = run_http_bench(name, args.n, args.concurrency, args.rounds, baseline=args.baseline)
        except RuntimeError as err:
            print(f"{name}: could not run: {err}")
            continue
        _report(name, h, args.n, args.concurrency)
        ratios[name] = str(h["ratio"])

    if not args.no_dns:
        try:
            from bench.dns_bench import run_dns_bench
        except ImportError as err:
            print(f"dns: bench.dns_bench unavailable ({err})")
        else:
            try:
                d = run_dns_bench(n=args.n, concurrency=args.concurrency)
            except RuntimeError as err:
                print(f"dns: could not run: {err}")
            else:
                print(f"dns ours: {d['ours_qps']} queries/s; blackbox_exporter dns: {d['blackbox_qps']} queries/s")
                print(f"dns ratio ours/blackbox: {d['ratio']}")
                ratios["dns"] = str(d["ratio"])
    print(" ".join(f"{k}_ratio={v}" for k, v in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
