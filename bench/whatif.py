"""What-if throughput: each of N workloads with aws, gcp and azure down (``failover whatif
--all-providers``, the score JSON's ``whatif``, the weekly email's matrix), over the same estate as
bench/checks.py. Prints its figures; not a test.

    python bench/whatif.py [--workloads 1000] [--per-site 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.checks import estate
from failover.model import utcnow
from failover.whatif import ALL_PROVIDERS, StoredEvidence, what_if


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--per-site", type=int, default=10)
    args = parser.parse_args()
    config, inventories = estate(args.workloads, args.per_site)
    resources = sum(len(i.resources) for i in inventories)
    evidence = StoredEvidence(inventories=inventories, now=utcnow())
    started = time.perf_counter()
    results = what_if(config, evidence, ALL_PROVIDERS)
    elapsed = time.perf_counter() - started
    print(f"{args.workloads} workloads x {len(ALL_PROVIDERS)} providers, {resources} resources: {len(results)} results")
    print(f"what_if: {elapsed:.2f} s ({len(results) / elapsed:,.0f} workload-domains/s)")


if __name__ == "__main__":
    main()
