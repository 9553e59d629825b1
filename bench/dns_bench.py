"""DNS probe throughput: our engine against Prometheus blackbox_exporter's ``dns`` module.

Both ask the same Knot server (a zone of ``n`` names, on a free loopback port) for ``n`` distinct A
records, ``concurrency`` at a time, and we count answered probes per second.

- Ours: ``probes.engine.ParallelEngine`` running ``probe_dns`` in 2 worker processes with uvloop
  (the concurrency and the per-server limit are shared between them), plus one process for reference.
- blackbox_exporter: the exporter's dns prober takes the target server from the URL but the query name
  from the module config, so the config holds one module per name (``dns_0`` … ``dns_<n-1>``) and each
  request names its module: both sides query ``n`` distinct names, none answered from a cache. It is
  driven through ``/probe`` by ``concurrency`` keep-alive HTTP/1.1 connections from a minimal uvloop
  client (a few µs per request) so the client takes as little CPU from the exporter as we can manage.

The machine's cores are shared by Knot, the prober under test and (for blackbox) the HTTP client.
Each side gets a warm-up batch, then ``rounds`` alternating timed runs; figures are the medians.

    python bench/dns_bench.py [--n 2000] [--concurrency 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

_ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path and bench/probes.py would shadow the probes package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from bench._harness import Blackbox, drive, run_loop  # noqa: E402

# Only the standard library at import time: worker processes re-import this (the __main__) module
# on every engine run, so what it imports is start-up cost paid per batch.
if TYPE_CHECKING:
    from failover.sandbox.dns import Record
    from probes.dns import DnsTarget

ZONE = "bench.test"
WORKERS = 2


def _names(n: int) -> list[str]:
    return [f"h{i:05d}.{ZONE}" for i in range(n)]


def _records(n: int) -> list[Record]:
    return [(f"h{i:05d}", 300, "A", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}") for i in range(n)]


# --------------------------------------------------------------------------------------------- ours
def _ours(targets: list[DnsTarget], concurrency: int, workers: int) -> tuple[float, int]:
    from probes.engine import Engine, ParallelEngine

    async def go() -> list[Any]:
        if workers == 1:
            return await Engine(concurrency=concurrency, per_host=concurrency).run(targets)
        engine = ParallelEngine(workers=workers, concurrency=concurrency, per_host=concurrency)
        return await engine.run(targets)

    started = time.perf_counter()
    observations = run_loop(go())
    elapsed = time.perf_counter() - started
    return elapsed, sum(1 for o in observations if o.ok)


# ----------------------------------------------------------------------------------------- blackbox
def _blackbox_config(names: list[str]) -> str:
    lines = ["modules:"]
    for i, name in enumerate(names):
        lines += [
            f"  dns_{i}:",
            "    prober: dns",
            "    timeout: 5s",
            "    dns:",
            f"      query_name: {name}",
            "      query_type: A",
            "      transport_protocol: udp",
            "      preferred_ip_protocol: ip4",
            "      ip_protocol_fallback: false",
            "      valid_rcodes: [NOERROR]",
        ]
    return "\n".join(lines) + "\n"


def _blackbox_requests(server: str, indexes: range) -> list[bytes]:
    return [Blackbox.probe_request(f"dns_{i}", server) for i in indexes]


# ------------------------------------------------------------------------------------------- bench
def run_dns_bench(n: int = 2000, concurrency: int = 100, rounds: int = 3, warmup: int = 200) -> dict[str, Any]:
    """Queries/second for ``n`` A queries at ``concurrency``: ours (2 processes, uvloop) vs blackbox_exporter."""
    from failover.sandbox.dnsd import KnotServer
    from probes.dns import DnsTarget

    names = _names(n)
    results: dict[str, list[float]] = {"ours": [], "ours_1p": [], "blackbox": [], "blackbox_cpu": []}
    failures: dict[str, int] = {"ours": 0, "ours_1p": 0, "blackbox": 0}
    with KnotServer({ZONE: _records(n)}) as knot:
        targets = [DnsTarget(name, "A", knot.address, timeout=5.0) for name in names]
        bb = Blackbox(_blackbox_config(names))
        try:
            requests = _blackbox_requests(knot.address, range(n))
            _ours(targets[:warmup], concurrency, WORKERS)
            startup, _ = _ours(targets[:WORKERS], concurrency, WORKERS)
            run_loop(drive(bb.port, requests[:warmup], concurrency))
            for _ in range(rounds):
                elapsed, ok = _ours(targets, concurrency, WORKERS)
                results["ours"].append(ok / elapsed)
                failures["ours"] += n - ok
                elapsed, ok, cpu = bb.measure(requests, concurrency)
                results["blackbox"].append(ok / elapsed)
                results["blackbox_cpu"].append(cpu / elapsed)
                failures["blackbox"] += n - ok
            elapsed, ok = _ours(targets, concurrency, 1)
            results["ours_1p"].append(ok / elapsed)
            failures["ours_1p"] += n - ok
        finally:
            bb.stop()
    ours = statistics.median(results["ours"])
    blackbox = statistics.median(results["blackbox"])
    return {
        "ours_qps": round(ours),
        "blackbox_qps": round(blackbox),
        "ratio": round(ours / blackbox, 2) if blackbox else None,
        "ours_best_qps": round(max(results["ours"])),
        "blackbox_best_qps": round(max(results["blackbox"])),
        "ours_one_process_qps": round(results["ours_1p"][0]),
        "ours_batch_startup_s": round(startup, 3),
        "blackbox_cores": round(statistics.median(results["blackbox_cpu"]), 2),
        "ours_runs_qps": [round(x) for x in results["ours"]],
        "blackbox_runs_qps": [round(x) for x in results["blackbox"]],
        "failures": failures,
        "n": n,
        "concurrency": concurrency,
        "rounds": rounds,
        "engine": f"probes.engine.ParallelEngine, {WORKERS} worker processes with uvloop",
        "fairness": (
            "same Knot server, same n distinct A names, same concurrency; blackbox gets one module per name "
            "(its dns prober fixes query_name per module) and is driven by keep-alive HTTP/1.1 connections"
        ),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the result dict as JSON")
    args = parser.parse_args(argv)
    result = run_dns_bench(args.n, args.concurrency, args.rounds)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"DNS probes: {result['n']} A queries, concurrency {result['concurrency']}, {result['cpus']} CPUs")
    print(f"  ours ({result['engine']}): {result['ours_qps']:>6}/s  runs {result['ours_runs_qps']}")
    print(f"  ours, one process:                                       {result['ours_one_process_qps']:>6}/s")
    print(f"  ours, fixed cost per batch (2 worker processes):         {result['ours_batch_startup_s']:>6}s")
    print(
        f"  blackbox_exporter dns module:                            {result['blackbox_qps']:>6}/s"
        f"  runs {result['blackbox_runs_qps']}, {result['blackbox_cores']} cores"
    )
    best = round(result["ours_best_qps"] / result["blackbox_best_qps"], 2) if result["blackbox_best_qps"] else None
    print(f"  ratio ours/blackbox (medians): {result['ratio']}   best vs best: {best}   failures: {result['failures']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
