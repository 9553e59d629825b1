"""Checks and scoring throughput: one evaluation of N workloads over an inventory of N x 20 resources
(what a daemon does every check interval). Prints its figures; not a test.

    python bench/checks.py [--workloads 1000] [--per-site 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from failover.model import Capacity, Inventory, Kind, Resource, utcnow
from failover.runner import evaluate
from failover.schema import Config

SITES = [("aws", "aws", "us-east-1", "primary"), ("gcp", "gcp", "us-central1", "secondary")]


def estate_document(workloads: int, *, endpoints: bool = False) -> dict[str, Any]:
    """The config of ``estate`` as the plain document a failover.yaml holds; with ``endpoints``, each
    site also has an HTTPS health URL probed as the public name (the estate of issue 13)."""

    def site(i: int, acct: str, region: str, role: str) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": role,
            "role": role,
            "account": acct,
            "regions": [region],
            "select": {"tags": {"app": f"w{i}"}},
        }
        if endpoints:
            doc["endpoints"] = [
                {"url": f"https://{role}.w{i}.example.com/healthz", "expect_status": 200, "as_public_name": True}
            ]
        return doc

    return {
        "accounts": [
            {"name": "aws", "provider": "aws", "regions": ["us-east-1"]},
            {"name": "gcp", "provider": "gcp", "project": "p"},
        ],
        "workloads": [
            {
                "name": f"w{i}",
                "owners": ["team@example.com"],
                "dns": {"name": f"w{i}.example.com", "mechanism": "route53-failover"},
                "sites": [site(i, acct, region, role) for acct, _, region, role in SITES],
            }
            for i in range(workloads)
        ],
    }


def estate(workloads: int, per_site: int) -> tuple[Config, list[Inventory]]:
    sites = SITES
    config = Config.model_validate(estate_document(workloads))
    inventories = [
        Inventory(
            account=acct,
            provider=provider,
            resources=[
                Resource(
                    provider,
                    acct,
                    region,
                    Kind.COMPUTE_INSTANCE,
                    "vm",
                    f"{acct}-{i}-{j}",
                    f"{acct}-{i}-{j}",
                    state="running",
                    capacity=Capacity(vcpu=2),
                    tags={"app": f"w{i}", "version": "1"},
                    attrs={"deletion_protection": True},
                )
                for i in range(workloads)
                for j in range(per_site)
            ],
        )
        for acct, provider, region, _ in sites
    ]
    return config, inventories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--per-site", type=int, default=10)
    args = parser.parse_args()
    config, inventories = estate(args.workloads, args.per_site)
    resources = sum(len(i.resources) for i in inventories)
    started = time.perf_counter()
    findings, scores = evaluate(config, list(config.workloads), inventories, [], utcnow())
    elapsed = time.perf_counter() - started
    print(f"{args.workloads} workloads, {resources} resources: {len(findings)} findings, {len(scores)} scores")
    print(f"evaluate: {elapsed:.2f} s ({args.workloads / elapsed:,.0f} workloads/s)")


if __name__ == "__main__":
    main()
