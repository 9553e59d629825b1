"""The lag metrics the config names for copies no replication link shows, read from Azure Monitor.

One ``GET {resource_id}/providers/Microsoft.Insights/metrics`` per declared metric (the API reads one
resource per call), at one-minute grain over the same 10-minute window the AWS and GCP readers use. Only
the newest minute with a value counts: Azure Monitor answers every minute of the window, and a minute
with no sample carries no aggregation value at all (never zero), so a window with none leaves the lag
unknown. Several series (a ``filter`` with a ``*`` dimension) count by their largest newest value.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from failover.model import Kind, Resource, ScopeError
from failover.schema import LagMetric, LagMetricRead
from providers.base import lag_seconds, read_lag_metrics_each

if TYPE_CHECKING:
    from providers.azure.clients import ArmReader

LAG_METRICS = "lag_metrics"  # the scope (``subscriptions/<id>/lag_metrics``) reading a subscription's lag metrics
# The window the other clouds' lag readers use: an older point is not a current lag.
LAG_WINDOW = timedelta(minutes=10)
# the aggregation as the metrics API names it in ``aggregation=`` and as a data point's key
_POINT_KEYS = {"Average": "average", "Maximum": "maximum", "Minimum": "minimum", "Total": "total", "Count": "count"}


def timespan(now: datetime) -> str:
    """``start/end`` of the read window, ISO 8601 as the API takes it."""
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return f"{(now - LAG_WINDOW).astimezone(UTC).strftime(fmt)}/{now.astimezone(UTC).strftime(fmt)}"


def newest_value(response: dict[str, Any], metric: LagMetric) -> float | None:
    """The newest value (seconds, via the metric's unit) of ``metric`` in a metrics ``Response``; None
    when no minute of the window carries one."""
    key = _POINT_KEYS[metric.aggregation]
    wanted = str(metric.name).lower()
    values: list[float] = []
    for m in response.get("value") or []:
        if str((m.get("name") or {}).get("value") or "").lower() != wanted:
            continue
        for series in m.get("timeseries") or []:
            points = [p for p in series.get("data") or [] if isinstance(p.get(key), int | float)]
            if points:
                newest = max(points, key=lambda p: _when(p.get("timeStamp")))
                values.append(float(newest[key]))
    return lag_seconds(values, metric.per_s)


def _when(stamp: Any) -> datetime:
    try:
        when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def read_lag_metrics(
    reader: ArmReader, subscription: str, reads: list[LagMetricRead], now: datetime | None = None
) -> tuple[list[Resource], list[ScopeError]]:
    """Each declared store's ``lag_metric`` whose resource is in ``subscription``, as a ``metric`` resource;
    one that cannot be read is a ``ScopeError`` (and no resource: the check says it was not read, and why)."""
    now = now or datetime.now(UTC)

    def read(one: LagMetricRead) -> Resource:
        m = one.metric
        response = reader.metrics(
            subscription,
            str(m.resource_id),
            names=str(m.name),
            timespan=timespan(now),
            aggregation=m.aggregation,
            namespace=m.namespace,
            filter=m.filter,
        )
        return Resource(
            provider="azure",
            account=subscription,  # the adapter names the config account and keeps this in attrs
            region=str(response.get("resourceregion") or ""),
            kind=Kind.METRIC,
            native_type="Microsoft.Insights/metrics",
            native_id=one.key,
            name=one.key,
            attrs={"metric": m.label(), "value_s": newest_value(response, m)},
        )

    return read_lag_metrics_each(reads, f"subscriptions/{subscription}/{LAG_METRICS}", read)
