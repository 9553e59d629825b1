"""What-if throughput: each of N workloads with aws, gcp and azure down (``failover whatif
--all-providers``, the score JSON's ``whatif``, the weekly email's matrix), over the same estate as
bench/checks.py. Prints its figures; not a test.

    python bench/whatif.py [--workloads 1000] [--per-site 10] [--no-reference]

Also times ``exhaustive_what_if``, the evaluation ``what_if`` ran before it was made cheap (every check
of every workload under every domain), which stays in the code as the reference the fast one must
equal; the two results are compared. Each figure is the best of ``--repeat`` runs (wall and CPU).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.checks import estate
from failover.model import utcnow
from failover.whatif import ALL_PROVIDERS, StoredEvidence, WhatIf, what_if
from failover.whatif.evaluate import exhaustive_what_if


def timed(fn: Callable[[], list[WhatIf]], repeat: int) -> tuple[list[WhatIf], float, float, float]:
    """The result, the best wall and CPU seconds of ``repeat`` runs, and the first run's wall seconds
    (what one ``failover score`` pays: its caches are cold)."""
    walls, cpus, result = [], [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return result, min(walls), min(cpus), walls[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--per-site", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true", help="skip timing the exhaustive evaluation")
    args = parser.parse_args()
    config, inventories = estate(args.workloads, args.per_site)
    resources = sum(len(i.resources) for i in inventories)
    evidence = StoredEvidence(inventories=inventories, now=utcnow())
    results, wall, cpu, first = timed(lambda: what_if(config, evidence, ALL_PROVIDERS), args.repeat)
    print(f"{args.workloads} workloads x {len(ALL_PROVIDERS)} providers, {resources} resources: {len(results)} results")
    print(
        f"what_if:            {wall:5.2f} s wall, {cpu:5.2f} s CPU, first run {first:5.2f} s "
        f"({len(results) / wall:,.0f} workload-domains/s)"
    )
    if args.no_reference:
        return
    reference, ref_wall, ref_cpu, ref_first = timed(
        lambda: exhaustive_what_if(config, evidence, ALL_PROVIDERS), args.repeat
    )
    same = "identical results" if reference == results else "RESULTS DIFFER"
    print(
        f"exhaustive_what_if: {ref_wall:5.2f} s wall, {ref_cpu:5.2f} s CPU, first run {ref_first:5.2f} s "
        "(the evaluation before); "
        f"{ref_cpu / cpu:.1f}x less CPU, {same}"
    )


if __name__ == "__main__":
    main()
