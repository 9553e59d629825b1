"""Cloud Monitoring API (v3) time series for the GCP emulator (served by ``failover.sandbox.gcp``).

``GET /v3/projects/{project}/timeSeries?filter=…&interval.startTime=…&interval.endTime=…`` answers a
``ListTimeSeriesResponse``: each ``TimeSeries`` carries its metric (type, labels), monitored resource
(type, labels), ``metricKind``, ``valueType`` and its points newest first, as the monitoring v3
discovery document and ``google.cloud.monitoring_v3`` types describe them (the conformance test parses
every body into those types, unknown fields refused).

The filter language is modelled for what a conjunction of equalities can say
(``metric.type = "…" AND resource.type = "…" AND resource.labels.region = "…"``), and like the real
API a filter must name exactly one ``metric.type``; anything else is refused with 400, never guessed.

Cloud SQL writes its metrics on the ``cloudsql_database`` resource (labels ``project_id``,
``database_id`` = ``project:instance``, ``region``): ``database/replication/replica_lag`` (GAUGE,
DOUBLE, seconds) on each replica; ``database/postgresql/replication/replica_byte_lag`` (GAUGE, INT64,
bytes) on the primary, one series per replica (``replica_name``) and position (``replica_lag_type``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

REPLICA_LAG = "cloudsql.googleapis.com/database/replication/replica_lag"
REPLICA_BYTE_LAG = "cloudsql.googleapis.com/database/postgresql/replication/replica_byte_lag"
# replica_lag_type label values of replica_byte_lag (pg_stat_replication's positions)
BYTE_LAG_TYPES = ("sent_location", "write_location", "flush_location", "replay_location")
# metric type -> (metricKind, valueType, unit), from Google's Cloud SQL metrics list
METRICS = {
    REPLICA_LAG: ("GAUGE", "DOUBLE", "s"),
    REPLICA_BYTE_LAG: ("GAUGE", "INT64", "By"),
}
_TERM = re.compile(r'^\s*([a-z_.]+)\s*=\s*"([^"]*)"\s*$')


class FilterError(ValueError):
    """A filter the emulator cannot (and the API would not) accept."""


def timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cloudsql_series(
    project: str,
    instance: str,
    region: str,
    metric: str,
    values: list[float],
    *,
    labels: dict[str, str] | None = None,
    newest: datetime | None = None,
) -> dict[str, Any]:
    """One ``TimeSeries`` of a Cloud SQL metric; ``values`` oldest first, one point a minute ending at ``newest``."""
    kind, value_type, unit = METRICS[metric]
    resource_labels = {"project_id": project, "database_id": f"{project}:{instance}", "region": region}
    return series(
        metric,
        "cloudsql_database",
        resource_labels,
        values,
        labels=labels,
        newest=newest,
        kind=kind,
        value_type=value_type,
        unit=unit,
    )


def series(
    metric: str,
    resource_type: str,
    resource_labels: dict[str, str],
    values: list[float],
    *,
    labels: dict[str, str] | None = None,
    newest: datetime | None = None,
    kind: str = "GAUGE",
    value_type: str = "DOUBLE",
    unit: str = "s",
) -> dict[str, Any]:
    """One ``TimeSeries`` of any metric on any monitored resource (a custom metric, Datastream's
    ``stream/freshness``…); ``values`` oldest first, one point a minute ending at ``newest``."""
    end = (newest or datetime.now(UTC)).replace(microsecond=0)
    points = []
    for age, value in enumerate(reversed(values)):  # newest first, as the API returns them
        at = timestamp(end - timedelta(minutes=age))
        typed = {"doubleValue": float(value)} if value_type == "DOUBLE" else {"int64Value": str(int(value))}
        points.append({"interval": {"startTime": at, "endTime": at}, "value": typed})
    return {
        "metric": {"type": metric, "labels": dict(labels or {})},
        "resource": {"type": resource_type, "labels": dict(resource_labels)},
        "metricKind": kind,
        "valueType": value_type,
        "points": points,
        "unit": unit,
    }


def parse_filter(text: str) -> dict[str, str]:
    """``a = "x" AND b = "y"`` -> {a: x, b: y}; exactly one ``metric.type`` is required."""
    terms: dict[str, str] = {}
    for part in re.split(r"\s+AND\s+", text.strip()):
        m = _TERM.match(part)
        if not m:
            raise FilterError(f"unsupported filter term {part.strip()!r}")
        terms[m.group(1)] = m.group(2)
    if "metric.type" not in terms:
        raise FilterError('filter must specify a single metric type (metric.type = "…")')
    return terms


def _value_of(series: dict[str, Any], key: str) -> str | None:
    if key == "metric.type":
        return str(series["metric"]["type"])
    if key == "resource.type":
        return str(series["resource"]["type"])
    for prefix, where in (("metric.labels.", "metric"), ("resource.labels.", "resource")):
        if key.startswith(prefix):
            return (series[where].get("labels") or {}).get(key.removeprefix(prefix))
    raise FilterError(f"unsupported filter field {key!r}")


def select(series: list[dict[str, Any]], terms: dict[str, str], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The series matching every term, each with only its points inside ``(start, end]``; none left: dropped."""
    out = []
    for s in series:
        if all(_value_of(s, k) == v for k, v in terms.items()):
            points = [p for p in s["points"] if start < parse_time(p["interval"]["endTime"]) <= end]
            if points:
                out.append({**s, "points": points})
    return out


def series_list(items: list[dict[str, Any]], token: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if items:
        out["timeSeries"] = items
    if token:
        out["nextPageToken"] = token
    return out
