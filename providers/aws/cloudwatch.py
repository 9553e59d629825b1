"""Newest CloudWatch datapoints for many metrics at once: one batched GetMetricData per 500 queries.

The data readers (RDS replica lag, DynamoDB ReplicationLatency, ElastiCache global datastore lag, and the
lag metrics the config names for copies no replication link shows) all ask the same question — the
newest value of each of many metrics, in one region — so they share this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from failover.model import Kind, Resource
from failover.schema import Account, LagMetricRead
from providers.aws.context import Ctx
from providers.aws.session import paginate

WINDOW = timedelta(minutes=10)
QUERIES_PER_CALL = 500  # GetMetricData accepts at most 500 queries


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric to read: ``key`` names the answer, ``per_s`` is how many of its units make a second
    (1000 for milliseconds: dividing keeps 700 ms exactly 0.7 s)."""

    key: str
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    per_s: float = 1.0


def newest(ctx: Ctx, region: str, metrics: list[Metric], *, stat: str = "Maximum") -> dict[str, float]:
    """Newest value (in seconds, via ``per_s``) per key over the last minutes.

    A metric with no datapoint in the window is absent: its value stays unknown, never zero. A negative
    value is kept as it is (RDS reports ``ReplicaLag = -1`` when replication is not running). Several
    metrics may share a key: the largest newest value wins (a lag reported per node or per shard).
    """
    cloudwatch = ctx.clients("cloudwatch", region)
    # A window aligned to the 60 s period (CloudWatch's advice for GetMetricData), ending after now so
    # the newest datapoint, however recent, is inside it (EndTime is exclusive).
    end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    found: dict[str, float] = {}
    for start in range(0, len(metrics), QUERIES_PER_CALL):
        batch = metrics[start : start + QUERIES_PER_CALL]
        queries = [
            {
                "Id": f"m{n}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": m.namespace,
                        "MetricName": m.name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in m.dimensions],
                    },
                    "Period": 60,
                    "Stat": stat,
                },
            }
            for n, m in enumerate(batch)
        ]
        pages = paginate(
            cloudwatch,
            "get_metric_data",
            "MetricDataResults[]",
            MetricDataQueries=queries,
            StartTime=end - WINDOW,
            EndTime=end,
            ScanBy="TimestampDescending",
        )
        for result in pages:
            values = result.get("Values") or []
            if values:
                m = batch[int(result["Id"].removeprefix("m"))]
                value = float(values[0])
                value = value if value < 0 else value / m.per_s
                found[m.key] = max(value, found[m.key]) if m.key in found else value
    return found


def lag_metric_regions(account: Account) -> list[str]:
    """The regions holding the account's declared lag metrics (``lag_metric.region``, default its first)."""
    return list(dict.fromkeys(_region_of(r, account) for r in account.lag_metrics))


def _region_of(read: LagMetricRead, account: Account) -> str:
    return read.metric.region or (account.regions[0] if account.regions else "us-east-1")


def read_lag_metrics(ctx: Ctx, region: str) -> list[Resource]:
    """The newest value of each declared store's ``lag_metric`` in ``region`` (AWS DMS ``CDCLatencyTarget``,
    a custom metric…), one batched GetMetricData per statistic; no recent datapoint leaves it None. The
    dimensions go in the config's order (CloudWatch ignores the order; moto 5.2 matches several only in
    the order they were published)."""
    reads = [r for r in ctx.account.lag_metrics if _region_of(r, ctx.account) == region]
    values: dict[str, float] = {}
    for stat in sorted({r.metric.statistic for r in reads}):
        metrics = [
            Metric(
                r.key,
                str(r.metric.namespace),
                str(r.metric.name),
                tuple(r.metric.dimensions.items()),
                r.metric.per_s,
            )
            for r in reads
            if r.metric.statistic == stat
        ]
        values |= newest(ctx, region, metrics, stat=stat)
    return [
        ctx.resource(
            region=region,
            kind=Kind.METRIC,
            native_type="cloudwatch:metric",
            native_id=r.key,
            name=r.key,
            attrs={"metric": r.metric.label(), "value_s": values.get(r.key)},
        )
        for r in reads
    ]
