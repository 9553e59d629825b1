"""Benchmark: the AWS adapter's EC2 inventory vs the raw boto3 calls that fetch the same data.

    .venv/bin/python bench/inventory.py [--instances 2000] [--regions 4] [--repeat 3] [--concurrency 8]

moto's server runs behind the AWS sandbox's middleware (what moto lacks, in botocore's shapes) in a
child process (so it does not share the client's GIL) on a free loopback port, seeded with N instances
spread over R regions. Each repetition times, with the same clients settings (standard retries, the
account's timeout, regions read in parallel):

- raw list:   paginated DescribeInstances + one DescribeInstanceTypes batch per region;
- raw full:   raw list + DescribeInstanceAttribute(disableApiTermination) per instance on a shared
              pool of ``--concurrency`` workers: the same data the adapter returns;
- adapter:    AwsAdapter(services=("ec2",)).inventory(account): same calls plus one
              GetCallerIdentity, normalization into Resources and scope bookkeeping;
- adapter, all services: every service (the other services are empty here), for reference.

The fair comparison is adapter vs raw full: EC2 only reports deletion protection one instance per
call, so "raw list" is cheaper only because it returns less. The goal is adapter within 15% of raw full.

The data tier (``--data``; ``--quick`` for 100 tables and 40 clusters):

    .venv/bin/python bench/inventory.py --data [--tables 500] [--clusters 200] [--regions 4] [--quick]

seeds DynamoDB tables and Aurora clusters over the regions and times raw boto3 (ListTables, then
DescribeTable + ListTagsOfResource per table on the shared pool, ListGlobalTables; DescribeDBInstances and
DescribeDBClusters per region) against ``AwsAdapter(services=("dynamodb", "rds"))``. Goal: the same.

The AWS half of issue 13's estate (``--estate``; ``--workloads 1000``):

    .venv/bin/python bench/inventory.py --estate [--workloads 1000] [--repeat 3] [--concurrency 8]

per workload 2 EC2 instances in us-east-1 and a Route 53 failover pair whose PRIMARY is governed by
an HTTP health check (one zone), on the project's AWS sandbox (moto with its Route 53 additions,
in this process: its request log counts the calls). It times ``AwsAdapter(services=("ec2",
"route53"))``: the first inventory of the account (nothing stored yet: every instance's termination
protection is read) and the next one (the previous inventory handed over as ``Prior``, as
``failover check`` does from the store), and prints the calls by operation. Run from a checkout
without ``Prior`` it measures that code the same way (the figures before the change).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3

from failover.schema import Account
from providers.aws import AwsAdapter
from providers.aws.session import ANONYMOUS_KEYS, botocore_config

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1", "eu-central-1", "us-east-2"]
TYPES = ["t3.micro", "t3.small", "m5.large", "c5.xlarge"]


# moto's server behind the sandbox's middleware, which serves in botocore's shapes what moto lacks (DynamoDB
# global tables among them: plain moto answers ListGlobalTables with a 500, which the adapter would retry).
_SERVE = """
import sys
from failover.sandbox.aws import AwsSandbox
sandbox = AwsSandbox().start()
print(sandbox.endpoint, flush=True)
sys.stdin.read()
"""
ROOT = Path(__file__).resolve().parent.parent


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """The AWS sandbox in a child process (serving does not share the bench's interpreter), and its URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdout is not None
    endpoint = proc.stdout.readline().decode().strip()
    if not endpoint.startswith("http://"):
        proc.kill()
        raise SystemExit("the AWS sandbox did not start")
    return proc, endpoint


def seed(endpoint: str, regions: list[str], instances: int) -> None:
    per_region = instances // len(regions)
    for n, region in enumerate(regions):
        ec2 = boto3.Session(**ANONYMOUS_KEYS).client("ec2", region_name=region, endpoint_url=endpoint)
        left = per_region + (instances % len(regions) if n == 0 else 0)
        batch = 0
        while left:
            count = min(100, left)
            ec2.run_instances(
                ImageId="ami-12345678",
                InstanceType=TYPES[batch % len(TYPES)],
                MinCount=count,
                MaxCount=count,
                TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "app", "Value": f"app{batch}"}]}],
            )
            left -= count
            batch += 1


def raw(account: Account, *, attributes: bool) -> int:
    """The same reads with plain boto3: regions in parallel, attribute calls on one shared pool."""
    session = boto3.Session(**ANONYMOUS_KEYS)
    config = botocore_config(account, retry_mode="standard", max_attempts=5)
    clients = {
        r: session.client("ec2", region_name=r, endpoint_url=account.endpoint_url, config=config)
        for r in account.regions
    }

    with ThreadPoolExecutor(account.max_concurrency) as detail:

        def region(r: str) -> int:
            ec2 = clients[r]
            found = list(ec2.get_paginator("describe_instances").paginate().search("Reservations[].Instances[]"))
            types = sorted({i["InstanceType"] for i in found})
            specs = {}
            for k in range(0, len(types), 100):
                for t in ec2.describe_instance_types(InstanceTypes=types[k : k + 100])["InstanceTypes"]:
                    specs[t["InstanceType"]] = (t["VCpuInfo"]["DefaultVCpus"], t["MemoryInfo"]["SizeInMiB"])
            if attributes:

                def attr(i: dict[str, Any]) -> bool:
                    a = ec2.describe_instance_attribute(InstanceId=i["InstanceId"], Attribute="disableApiTermination")
                    return bool(a["DisableApiTermination"]["Value"])

                list(detail.map(attr, found))
            return len(found)

        with ThreadPoolExecutor(min(account.max_concurrency, len(account.regions))) as pool:
            return sum(pool.map(region, account.regions))


def seed_data(endpoint: str, regions: list[str], tables: int, clusters: int) -> None:
    session = boto3.Session(**ANONYMOUS_KEYS)
    for n in range(tables):
        region = regions[n % len(regions)]
        session.client("dynamodb", region_name=region, endpoint_url=endpoint).create_table(
            TableName=f"table{n}",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": "app", "Value": f"app{n % 7}"}],
        )
    for n in range(clusters):
        region = regions[n % len(regions)]
        session.client("rds", region_name=region, endpoint_url=endpoint).create_db_cluster(
            DBClusterIdentifier=f"cluster{n}",
            Engine="aurora-postgresql",
            EngineVersion="15.4",
            MasterUsername="admin",
            MasterUserPassword="bench-password",
            Tags=[{"Key": "app", "Value": f"app{n % 7}"}],
        )


def raw_data(account: Account) -> int:
    """The data tier with plain boto3: regions in parallel, per-table calls on one shared pool."""
    session = boto3.Session(**ANONYMOUS_KEYS)
    config = botocore_config(account, retry_mode="standard", max_attempts=5)

    def client(service: str, region: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=account.endpoint_url, config=config)

    dynamo = {r: client("dynamodb", r) for r in account.regions}
    rds = {r: client("rds", r) for r in account.regions}
    with ThreadPoolExecutor(account.max_concurrency) as detail:

        def region(r: str) -> int:
            ddb = dynamo[r]
            names = list(ddb.get_paginator("list_tables").paginate().search("TableNames[]"))

            def one(name: str) -> dict[str, Any]:
                table = ddb.describe_table(TableName=name)["Table"]
                tags = list(
                    ddb.get_paginator("list_tags_of_resource").paginate(ResourceArn=table["TableArn"]).search("Tags[]")
                )
                return {**table, "Tags": tags}

            tables = list(detail.map(one, names))
            ddb.list_global_tables(RegionName=r)  # legacy (2017.11.29) global tables: the adapter reads them too
            instances = list(rds[r].get_paginator("describe_db_instances").paginate().search("DBInstances[]"))
            clusters = list(rds[r].get_paginator("describe_db_clusters").paginate().search("DBClusters[]"))
            return len(tables) + len(instances) + len(clusters)

        with ThreadPoolExecutor(min(account.max_concurrency, len(account.regions))) as pool:
            return sum(pool.map(region, account.regions))


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    n = fn()
    return time.perf_counter() - start, n


def _account(endpoint: str, regions: list[str], concurrency: int) -> Account:
    return Account(
        name="bench",
        provider="aws",
        regions=regions,
        endpoint_url=endpoint,
        credentials="anonymous",
        max_concurrency=concurrency,
    )


def _interleaved(
    args: argparse.Namespace, variants: dict[str, Callable[[], int]], expected: int, what: str, *, header: bool
) -> dict[str, list[float]]:
    """Each variant ``args.repeat`` times, interleaved so drift hits all alike, after one warm-up run each
    (moto's lazily loaded backends, botocore's model cache); every run must count ``expected``. Prints the
    table and returns the times."""
    times: dict[str, list[float]] = {k: [] for k in variants}
    for fn in variants.values():
        fn()
    for _ in range(args.repeat):
        for name, fn in variants.items():
            seconds, n = timed(fn)
            if n != expected:
                raise SystemExit(f"{name}: expected {expected} {what}, got {n}")
            times[name].append(seconds)
    print(f"{args.repeat} runs each, interleaved; concurrency {args.concurrency}; cpus {os.cpu_count()}")
    if header:
        print(f"  {'':38s} {'min':>7s} {'median':>7s}   runs")
    for name, ts in times.items():
        runs = ", ".join(f"{t:.2f}" for t in ts)
        print(f"  {name:38s} {min(ts):6.2f}s {statistics.median(ts):6.2f}s   {runs}")
    return times


def _overhead(adapter: list[float], base: list[float], base_name: str) -> None:
    for label, pick in (("min", min), ("median", statistics.median)):
        print(
            f"adapter overhead vs {base_name} ({label}): {100 * (pick(adapter) / pick(base) - 1):+.1f}% (goal: <= 15%)"
        )


def seed_estate(sandbox: Any, workloads: int) -> None:
    from failover.sandbox.aws import seed_health_check, seed_records, seed_zone

    ec2 = sandbox.client("ec2", "us-east-1")
    for start in range(0, 2 * workloads, 100):
        count = min(100, 2 * workloads - start)
        ec2.run_instances(ImageId="ami-12345678", InstanceType="m5.large", MinCount=count, MaxCount=count)
    zone = seed_zone(sandbox, "estate.example")
    records: list[dict[str, Any]] = []
    for n in range(workloads):
        hc = seed_health_check(
            sandbox, {"Type": "HTTP", "IPAddress": "192.0.2.10", "Port": 80, "ResourcePath": f"/w{n}/healthz"}
        )
        name = f"w{n}.estate.example."
        common = {"Name": name, "Type": "A", "TTL": 60}
        records += [
            {**common, "SetIdentifier": "primary", "Failover": "PRIMARY", "HealthCheckId": hc,
             "ResourceRecords": [{"Value": "192.0.2.1"}]},
            {**common, "SetIdentifier": "secondary", "Failover": "SECONDARY",
             "ResourceRecords": [{"Value": "198.51.100.1"}]},
        ]  # fmt: skip
    seed_records(sandbox, zone, records)


def main_estate(args: argparse.Namespace) -> None:
    import inspect
    from collections import Counter

    from failover.sandbox.aws import AwsSandbox

    carries = "prior" in inspect.signature(AwsAdapter.inventory).parameters
    with AwsSandbox() as sandbox:
        t0 = time.perf_counter()
        seed_estate(sandbox, args.workloads)
        print(
            f"seeded {args.workloads} workloads ({2 * args.workloads} instances, {args.workloads} health checks, "
            f"{2 * args.workloads} failover records) in {time.perf_counter() - t0:.1f}s"
        )
        # moto renders 2,000 instances in one DescribeInstances answer slowly on a busy machine: a long timeout
        account = Account(**sandbox.account("bench", ["us-east-1"], max_concurrency=args.concurrency, timeout=300))
        adapter = AwsAdapter(services=("ec2", "route53"))
        expected = 5 * args.workloads + 3  # instances, records (and the NS and SOA), checks, the zone
        runs: dict[str, list[float]] = {"first inventory (nothing stored)": [], "next inventory (previous stored)": []}
        counts: dict[str, Counter[str]] = {}
        for _ in range(args.repeat):
            for name in runs:
                previous = adapter.inventory(account) if name.startswith("next") else None
                sandbox.clear_requests()
                started = time.perf_counter()
                if previous is not None and carries:
                    from providers.base import Prior

                    inv = adapter.inventory(account, Prior(previous, reuse_for_s=6 * 3600))  # type: ignore[call-arg]
                else:
                    inv = adapter.inventory(account)
                runs[name].append(time.perf_counter() - started)
                if len(inv.resources) != expected or inv.incomplete:
                    raise SystemExit(f"{name}: {len(inv.resources)} resources (expected {expected}), {inv.incomplete}")
                counts[name] = Counter(q.operation for q in sandbox.requests)
    print(f"AwsAdapter(ec2, route53), {args.repeat} runs each; concurrency {args.concurrency}; cpus {os.cpu_count()}")
    print(f"  {'':36s} {'min':>7s} {'median':>7s}  calls")
    for name, ts in runs.items():
        total = sum(counts[name].values())
        by_op = ", ".join(f"{op} {n}" for op, n in counts[name].most_common())
        print(f"  {name:36s} {min(ts):6.2f}s {statistics.median(ts):6.2f}s  {total}: {by_op}")
    if not carries:
        print("  (this checkout has no Prior: the next inventory reads everything again)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=2000)
    ap.add_argument("--regions", type=int, default=4, choices=range(1, len(REGIONS) + 1))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--data", action="store_true", help="the data tier: DynamoDB tables and Aurora clusters")
    ap.add_argument("--tables", type=int, default=500)
    ap.add_argument("--clusters", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="with --data: 100 tables and 40 clusters")
    ap.add_argument("--estate", action="store_true", help="issue 13's estate: EC2 + Route 53 per workload")
    ap.add_argument("--workloads", type=int, default=1000)
    args = ap.parse_args()
    if args.estate:
        main_estate(args)
        return
    regions = REGIONS[: args.regions]
    if args.data:
        if args.quick:
            args.tables, args.clusters = 100, 40
        main_data(args, regions)
        return
    proc, endpoint = start_moto()
    try:
        t0 = time.perf_counter()
        seed(endpoint, regions, args.instances)
        print(f"seeded {args.instances} instances over {len(regions)} regions in {time.perf_counter() - t0:.1f}s")
        account = _account(endpoint, regions, args.concurrency)
        variants: dict[str, Callable[[], int]] = {
            "raw list (describe + types)": lambda: raw(account, attributes=False),
            "raw full (+ attribute per instance)": lambda: raw(account, attributes=True),
            "adapter, ec2": lambda: len(AwsAdapter(services=("ec2",)).inventory(account).resources),
            "adapter, all services": lambda: len(AwsAdapter().inventory(account).resources),
        }
        times = _interleaved(args, variants, args.instances, "instances", header=True)
        _overhead(times["adapter, ec2"], times["raw full (+ attribute per instance)"], "raw full")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main_data(args: argparse.Namespace, regions: list[str]) -> None:
    proc, endpoint = start_moto()
    try:
        t0 = time.perf_counter()
        seed_data(endpoint, regions, args.tables, args.clusters)
        total = args.tables + args.clusters
        print(
            f"seeded {args.tables} DynamoDB tables and {args.clusters} Aurora clusters over {len(regions)} regions"
            f" in {time.perf_counter() - t0:.1f}s"
        )
        account = _account(endpoint, regions, args.concurrency)
        variants: dict[str, Callable[[], int]] = {
            "raw (list + describe/tags per table)": lambda: raw_data(account),
            "adapter, dynamodb + rds": lambda: len(
                AwsAdapter(services=("dynamodb", "rds")).inventory(account).resources
            ),
        }
        times = _interleaved(args, variants, total, "resources", header=False)
        _overhead(times["adapter, dynamodb + rds"], times["raw (list + describe/tags per table)"], "raw")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
