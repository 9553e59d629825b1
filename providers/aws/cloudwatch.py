"""Newest CloudWatch datapoints for many metrics at once: one batched GetMetricData per 500 queries.

The data readers (RDS replica lag, DynamoDB ReplicationLatency, ElastiCache global datastore lag) all
ask the same question — the newest value of each of many metrics, in one region — so they share this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
