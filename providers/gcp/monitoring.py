"""Cloud SQL replication lag from Cloud Monitoring: one ``timeSeries.list`` per metric per project,
and the lag metrics the config names for copies no replication link shows (one call each).

The filter selects every Cloud SQL database in the project (``resource.type = "cloudsql_database"``),
so the call count does not grow with the number of replicas. The API takes exactly one metric type per
filter, hence one call for ``replica_lag`` and, when the project has PostgreSQL replicas, one for
``replica_byte_lag``. Only the newest point of each series counts; a series with no point in the window
leaves that replica's lag unknown (never zero).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from failover.errors import ProviderError
from failover.model import Kind, Resource, ScopeError
from failover.schema import LagMetric, LagMetricRead
from providers.base import lag_seconds, read_lag_metrics_each
from providers.gcp.clients import GcpSession
from providers.gcp.common import Target

REPLICA_LAG = "cloudsql.googleapis.com/database/replication/replica_lag"
REPLICA_BYTE_LAG = "cloudsql.googleapis.com/database/postgresql/replication/replica_byte_lag"
# Cloud SQL samples these every 60 s and they can take up to 210 s to be visible: 10 minutes holds
# several samples, and an older point is not a current lag.
LAG_WINDOW = timedelta(minutes=10)
# replica_byte_lag positions, most complete first: replay (applied) is the replica's whole lag
BYTE_LAG_ORDER = ("replay_location", "flush_location", "write_location", "sent_location")


def _series(session: GcpSession, scope: str, project: str, where: str, now: datetime) -> Iterator[dict[str, Any]]:
    """Every series ``where`` (a Monitoring filter) selects, with its points of the last ``LAG_WINDOW``."""
    service = session.api("monitoring", "v3")
    series = service.projects().timeSeries()
    request = series.list(
        name=f"projects/{project}",
        filter=where,
        **{
            "interval_startTime": _ts(now - LAG_WINDOW),
            "interval_endTime": _ts(now),
            "view": "FULL",
            "pageSize": 1000,
        },
    )
    seen: set[str] = set()
    while request is not None:
        page = session.execute(scope, request)
        yield from page.get("timeSeries") or []
        token = page.get("nextPageToken")
        if token in seen:
            raise ProviderError(f"error reading {scope}: the API repeated page token {token!r}", scope)
        if token:
            seen.add(token)
        request = series.list_next(request, page)


def _cloudsql(metric: str) -> str:
    return f'metric.type = "{metric}" AND resource.type = "cloudsql_database"'


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def metric_filter(m: LagMetric) -> str:
    """The Monitoring filter selecting a declared lag metric: its type, resource type and labels."""
    parts = [f"metric.type = {_quoted(str(m.type))}"]
    if m.resource_type:
        parts.append(f"resource.type = {_quoted(m.resource_type)}")
    parts += [f"resource.labels.{k} = {_quoted(v)}" for k, v in sorted(m.resource_labels.items())]
    parts += [f"metric.labels.{k} = {_quoted(v)}" for k, v in sorted(m.metric_labels.items())]
    return " AND ".join(parts)


def read_metric(
    session: GcpSession, scope: str, project: str, m: LagMetric, now: datetime | None = None
) -> float | None:
    """The newest value (seconds, via the metric's unit) of a declared lag metric; None without a recent
    point. Several matching series (one per replica, per task…): the largest newest value counts."""
    now = now or datetime.now(UTC)
    values = [n[1] for s in _series(session, scope, project, metric_filter(m), now) if (n := _newest(s))]
    return lag_seconds(values, m.per_s)


def _ts(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _newest(series: dict[str, Any]) -> tuple[str, float] | None:
    points = series.get("points") or []
    if not points:
        return None
    point = max(points, key=lambda p: p["interval"]["endTime"])  # the API sends newest first; do not rely on it
    value = point.get("value") or {}
    if "doubleValue" in value:
        return point["interval"]["endTime"], float(value["doubleValue"])
    if "int64Value" in value:
        return point["interval"]["endTime"], float(int(value["int64Value"]))
    return None


def _instance_of(series: dict[str, Any]) -> str:
    """``database_id`` is ``project:instance``."""
    return str(((series.get("resource") or {}).get("labels") or {}).get("database_id", "")).rsplit(":", 1)[-1]


def read_replica_lag(session: GcpSession, scope: str, project: str, now: datetime | None = None) -> dict[str, float]:
    """Replica instance name -> newest ``replica_lag`` (seconds)."""
    now = now or datetime.now(UTC)
    found: dict[str, tuple[str, float]] = {}
    for s in _series(session, scope, project, _cloudsql(REPLICA_LAG), now):
        newest = _newest(s)
        name = _instance_of(s)
        if newest and name and (name not in found or newest[0] > found[name][0]):
            found[name] = newest
    return {name: value for name, (_at, value) in found.items()}


def read_byte_lag(session: GcpSession, scope: str, project: str, now: datetime | None = None) -> dict[str, float]:
    """Replica instance name -> newest ``replica_byte_lag`` (bytes) at its most complete position.

    The metric is written on the primary, one series per replica (``replica_name``) and position
    (``replica_lag_type``); ``replay_location`` is how far the replica's applied state is behind.
    """
    now = now or datetime.now(UTC)
    by_type: dict[str, dict[str, float]] = {}
    for s in _series(session, scope, project, _cloudsql(REPLICA_BYTE_LAG), now):
        labels = (s.get("metric") or {}).get("labels") or {}
        newest = _newest(s)
        replica = labels.get("replica_name")
        if newest and replica:
            by_type.setdefault(replica, {})[str(labels.get("replica_lag_type", ""))] = newest[1]
    out: dict[str, float] = {}
    for replica, values in by_type.items():
        known = next((values[t] for t in BYTE_LAG_ORDER if t in values), None)
        out[replica] = known if known is not None else max(values.values())
    return out


LAG_METRICS = "lagMetrics"  # the scope reading a project's declared lag metrics


def lag_metric_project(read: LagMetricRead, projects: list[str]) -> str:
    """The project a declared lag metric is read in (``lag_metric.project``, default the account's first)."""
    return read.metric.project or (projects[0] if projects else "")


def read_lag_metrics(
    session: GcpSession, target: Target, reads: list[LagMetricRead]
) -> tuple[list[Resource], list[ScopeError]]:
    """Each declared store's ``lag_metric`` in ``target``'s project, as a ``metric`` resource; one that cannot
    be read is a ``ScopeError`` (and no resource: the check says it was not read, and why)."""
    scope = f"{target.project}/{LAG_METRICS}"

    def read(one: LagMetricRead) -> Resource:
        return Resource(
            provider="gcp",
            account=target.account,
            region="",
            kind=Kind.METRIC,
            native_type="monitoring.googleapis.com/TimeSeries",
            native_id=one.key,
            name=one.key,
            attrs={
                "project": target.project,
                "metric": one.metric.label(),
                "value_s": read_metric(session, scope, target.project, one.metric),
            },
        )

    return read_lag_metrics_each(reads, scope, read)
