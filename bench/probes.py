"""Probe throughput, side by side with Prometheus blackbox_exporter (prints figures; not a timed test).

HTTP: ``n`` GETs of distinct paths (/p0 … /p<n-1>) on a local nginx (generated config, free port),
``concurrency`` at a time, each on a fresh connection.

- Ours: ``probes.engine.ParallelEngine`` (2 worker processes, uvloop), ``probe_http`` on each target: the
  same code path and the same Observation as a real run (phase timings included). Also reported: one
  process, and two reference points made with httpx (one shared AsyncClient): fresh connections
  (``max_keepalive_connections=0``) and reused keep-alive connections.
- blackbox_exporter with an ``http_2xx`` module (it opens a fresh connection per probe), driven through
  ``/probe?target=…&module=http_2xx`` by ``concurrency`` keep-alive HTTP/1.1 connections from a minimal
  uvloop client, so the driver costs the exporter as little CPU as we can manage. A probe counts when the
  exporter says ``probe_success 1``.

DNS: ``bench.dns_bench.run_dns_bench`` (Knot, the DNS probe vs blackbox's dns module).

The machine's cores are shared by nginx, the prober under test and (for blackbox) the HTTP driver. Each
side gets a warm-up batch, then ``rounds`` alternating timed runs; the figures are medians. The last line
is ``http_ratio=X dns_ratio=Y`` (ours ÷ blackbox; ``NA`` when a side could not run).

    python -m bench.probes [--n 2000] [--concurrency 100] [--rounds 3] [--no-dns]
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
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from bench._harness import Blackbox, ServerProcess, drive, run_loop, wait_http  # noqa: E402
from failover.model import Observation  # noqa: E402
from probes.engine import Engine, ParallelEngine  # noqa: E402
from probes.targets import HttpTarget  # noqa: E402

WORKERS = 2
HTTP_MODULES = (
    "modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n    http:\n"
    "      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false\n      valid_status_codes: [200]\n"
)


class Nginx(ServerProcess):
    def __init__(self) -> None:
        super().__init__("nginx-bench-")
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
        d = self.dir
        temp = " ".join(f"{k}_temp_path {d}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (d / "nginx.conf").write_text(
            f"worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
            "events { worker_connections 4096; }\n"
            f"http {{ access_log off; {temp}\n"
            f"  server {{ listen 127.0.0.1:{self.port} backlog=4096; location / {{ return 200 'ok\\n'; }} }}\n}}\n"
        )
        self.proc = subprocess.Popen(
            [binary, "-c", str(d / "nginx.conf"), "-p", str(d)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wait_http(self.port, "/p0", self.proc, "nginx")


# --------------------------------------------------------------------------------------------- ours
def _targets(port: int, n: int) -> list[HttpTarget]:
    return [HttpTarget(f"http://127.0.0.1:{port}/p{i}", timeout=10.0) for i in range(n)]


def _ours(targets: list[HttpTarget], concurrency: int, workers: int) -> tuple[float, int]:
    async def go() -> list[Observation]:
        if workers == 1:
            return await Engine(concurrency=concurrency, per_host=concurrency).run(targets)
        return await ParallelEngine(workers=workers, concurrency=concurrency, per_host=concurrency).run(targets)

    started = time.perf_counter()
    observations = run_loop(go())
    return time.perf_counter() - started, sum(1 for o in observations if o.ok)


def _httpx(port: int, n: int, concurrency: int, keepalive: bool) -> tuple[float, int]:
    """Reference points: httpx with one shared AsyncClient, fresh or reused connections."""
    import httpx

    async def go() -> int:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency if keepalive else 0)
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:

            async def one(i: int) -> bool:
                async with gate:
                    try:
                        return (await client.get(f"http://127.0.0.1:{port}/p{i}")).status_code == 200
                    except httpx.HTTPError:
                        return False

            return sum(await asyncio.gather(*(one(i) for i in range(n))))

    started = time.perf_counter()
    ok = run_loop(go())
    return time.perf_counter() - started, ok


# ----------------------------------------------------------------------------------------- blackbox
def _blackbox_requests(target_port: int, n: int) -> list[bytes]:
    target = f"http://127.0.0.1:{target_port}"
    return [Blackbox.probe_request("http_2xx", f"{target}/p{i}") for i in range(n)]


# ------------------------------------------------------------------------------------------- bench
def _rate(measure: Callable[[], tuple[Any, ...]], n: int, failures: list[int]) -> tuple[float, tuple[Any, ...]]:
    out = measure()
    elapsed, ok = out[0], out[1]
    failures.append(n - ok)
    return ok / elapsed, out


def run_http_bench(n: int = 2000, concurrency: int = 100, rounds: int = 3, warmup: int = 200) -> dict[str, Any]:
    """Probes/second for ``n`` HTTP probes at ``concurrency``: ours (fresh connections) vs blackbox_exporter."""
    rates: dict[str, list[float]] = {"ours": [], "blackbox": [], "blackbox_cores": []}
    failures: dict[str, list[int]] = {k: [] for k in ("ours", "ours_1p", "blackbox", "httpx_fresh", "httpx_reused")}
    nginx = Nginx()
    bb: Blackbox | None = None
    try:
        bb = Blackbox(HTTP_MODULES)
        targets = _targets(nginx.port, n)
        requests = _blackbox_requests(nginx.port, n)
        started = time.perf_counter()
        _ours(targets[:warmup], concurrency, WORKERS)  # also starts the forkserver once
        cold_s = time.perf_counter() - started
        run_loop(drive(bb.port, requests[:warmup], concurrency))
        for _ in range(rounds):
            rate, _ = _rate(lambda: _ours(targets, concurrency, WORKERS), n, failures["ours"])
            rates["ours"].append(rate)
            rate, out = _rate(lambda: bb.measure(requests, concurrency), n, failures["blackbox"])  # type: ignore[arg-type]
            rates["blackbox"].append(rate)
            rates["blackbox_cores"].append(out[2] / out[0])
        ours_1p, _ = _rate(lambda: _ours(targets, concurrency, 1), n, failures["ours_1p"])
        httpx_fresh, _ = _rate(lambda: _httpx(nginx.port, n, concurrency, False), n, failures["httpx_fresh"])
        httpx_reused, _ = _rate(lambda: _httpx(nginx.port, n, concurrency, True), n, failures["httpx_reused"])
    finally:
        nginx.stop()
        if bb is not None:
            bb.stop()
    ours = statistics.median(rates["ours"])
    blackbox = statistics.median(rates["blackbox"])
    return {
        "ours_pps": round(ours),
        "ours_rounds": [round(r) for r in rates["ours"]],
        "ours_1p_pps": round(ours_1p),
        "httpx_fresh_pps": round(httpx_fresh),
        "httpx_reused_pps": round(httpx_reused),
        "blackbox_pps": round(blackbox),
        "blackbox_rounds": [round(r) for r in rates["blackbox"]],
        "blackbox_cores": round(statistics.median(rates["blackbox_cores"]), 2),
        "warmup_s": round(cold_s, 2),
        "failures": {k: sum(v) for k, v in failures.items()},
        "ratio": round(ours / blackbox, 2) if blackbox else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=2000, help="probes per run (default 2000)")
    parser.add_argument("--concurrency", type=int, default=100, help="probes in flight (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per side (default 3; medians)")
    parser.add_argument("--no-dns", action="store_true", help="skip the DNS half")
    args = parser.parse_args(argv)
    print(f"cpus={os.cpu_count()} n={args.n} concurrency={args.concurrency} rounds={args.rounds}", flush=True)

    http_ratio: str = "NA"
    try:
        h = run_http_bench(args.n, args.concurrency, args.rounds)
    except RuntimeError as err:
        print(f"http: could not run: {err}")
    else:
        print(
            f"http ours (fresh connection per probe, {WORKERS} processes): {h['ours_pps']} probes/s "
            f"(rounds {h['ours_rounds']}; first {min(200, args.n)}-probe batch incl. worker start {h['warmup_s']} s)"
        )
        print(f"http ours, 1 process: {h['ours_1p_pps']} probes/s")
        print(f"http httpx shared AsyncClient, fresh connections: {h['httpx_fresh_pps']} probes/s")
        print(f"http httpx shared AsyncClient, reused keep-alive connections: {h['httpx_reused_pps']} probes/s")
        print(
            f"http blackbox_exporter http_2xx: {h['blackbox_pps']} probes/s "
            f"(rounds {h['blackbox_rounds']}; {h['blackbox_cores']} cores)"
        )
        print(f"http failures (should all be 0): {h['failures']}")
        print(f"http ratio ours/blackbox: {h['ratio']}")
        http_ratio = str(h["ratio"])

    dns_ratio: str = "NA"
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
                dns_ratio = str(d["ratio"])
    print(f"http_ratio={http_ratio} dns_ratio={dns_ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
