"""Azure Monitor's metrics API for the fake ARM: ``GET {resourceId}/providers/Microsoft.Insights/metrics``.

Shapes from azure-mgmt-monitor's models (``Response``, ``Metric``, ``TimeSeriesElement``, ``MetricValue``)
and the REST reference (Metrics - List, api-version 2023-10-01): the answer covers every ``interval`` of
the ``timespan``, and an interval with no sample carries only its ``timeStamp`` (no aggregation key,
never zero). Without ``$filter`` the series of a metric are aggregated into one; with it, one series per
combination of the filtered dimensions' values (``'*'`` matches any), named in ``metadatavalues``; this
fake parses ``eq`` terms joined by ``and`` (Azure also takes ``or``, ``ne``, ``sw``) and answers 400 to
the rest, so a test never passes on a filter it did not apply. An
unknown metric name is ``400 BadRequest`` as Azure answers it; the caller answers ``404`` for an
unknown resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

AGGREGATIONS = ("average", "count", "maximum", "minimum", "total")
_FILTER_TERM = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s+eq\s+'([^']*)'\s*$", re.I)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$|^P(\d+)D$", re.I)


@dataclass
class MetricSeries:
    """One seeded series: a metric of a resource, its dimension values, and its samples (time, value)."""

    name: str
    namespace: str
    unit: str
    dimensions: dict[str, str] = field(default_factory=dict)
    points: list[tuple[datetime, float]] = field(default_factory=list)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _duration(text: str) -> timedelta | None:
    m = _DURATION.match(text.strip())
    if not m or not any(m.groups()):
        return None
    hours, minutes, days = (int(g) if g else 0 for g in m.groups())
    step = timedelta(days=days, hours=hours, minutes=minutes)
    return step if step >= timedelta(minutes=1) else None


def _filter_terms(text: str) -> list[tuple[str, str]] | None:
    """``A eq 'x' and B eq '*'`` as [(A, x), (B, *)]; None for what this fake does not parse."""
    terms = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.I):
        m = _FILTER_TERM.match(part)
        if not m:
            return None
        terms.append((m.group(1), m.group(2)))
    return terms


def _value(values: list[float], aggregation: str) -> float:
    if aggregation == "average":
        return sum(values) / len(values)
    if aggregation == "minimum":
        return min(values)
    if aggregation == "maximum":
        return max(values)
    if aggregation == "total":
        return sum(values)
    return float(len(values))


def _bad(message: str) -> tuple[int, str, str]:
    return 400, "BadRequest", message


def metrics_response(
    resource: dict[str, Any], series: list[MetricSeries], query: dict[str, str], now: datetime | None = None
) -> dict[str, Any] | tuple[int, str, str]:
    """The ``Response`` body for ``query`` over ``resource``'s seeded ``series``, or (status, code, message)."""
    now = now or datetime.now(UTC)
    rtype = str(resource["type"])
    namespace = query.get("metricnamespace") or rtype
    try:
        if "timespan" in query:
            start_text, _, end_text = query["timespan"].partition("/")
            start, end = _parse_time(start_text), _parse_time(end_text)
        else:
            start, end = now - timedelta(hours=1), now
    except ValueError:
        return _bad(f"Invalid timespan '{query.get('timespan')}': expected startDateTime_ISO/endDateTime_ISO")
    if end <= start:
        return _bad(f"Invalid timespan '{query.get('timespan')}': the end precedes the start")
    step = _duration(query.get("interval") or "PT1M")
    if step is None:
        return _bad(f"Invalid interval '{query.get('interval')}': expected an ISO 8601 duration of at least PT1M")
    aggregations = [a.strip().lower() for a in (query.get("aggregation") or "average").split(",") if a.strip()]
    if unknown := [a for a in aggregations if a not in AGGREGATIONS]:
        return _bad(f"Invalid aggregation '{','.join(unknown)}'. Valid values: Average,Count,Maximum,Minimum,Total")
    mine = [s for s in series if s.namespace.lower() == namespace.lower()]
    defined = list(dict.fromkeys(s.name for s in mine))
    names = [n.strip() for n in (query.get("metricnames") or ",".join(defined[:1])).split(",") if n.strip()]
    provider, _, kind = rtype.partition("/")
    for name in names:
        if name.lower() not in {d.lower() for d in defined}:
            return _bad(
                f"Failed to find metric configuration for provider: {provider}, resource Type: {kind}, "
                f"metric: {name}, Valid metrics: {', '.join(defined)}"
            )
    terms = _filter_terms(query["$filter"]) if query.get("$filter") else []
    if terms is None:
        return _bad(f"Invalid $filter '{query['$filter']}': expected dimension eq 'value' terms joined by and")
    value = []
    for name in names:
        of_metric = [s for s in mine if s.name.lower() == name.lower()]
        dims = {k.lower() for s in of_metric for k in s.dimensions}
        if missing := [k for k, _ in terms if k.lower() not in dims]:
            return _bad(f"Metric: {name} does not support requested dimension combination: {', '.join(missing)}")
        value.append(_metric(resource, of_metric, terms, start, end, step, aggregations))
    return {
        "cost": int((end - start) / step) * max(1, len(names)),
        "timespan": f"{_iso(start)}/{_iso(end)}",
        "interval": query.get("interval") or "PT1M",
        "value": value,
        "namespace": namespace,
        "resourceregion": resource.get("location"),
    }


def _metric(
    resource: dict[str, Any],
    series: list[MetricSeries],
    terms: list[tuple[str, str]],
    start: datetime,
    end: datetime,
    step: timedelta,
    aggregations: list[str],
) -> dict[str, Any]:
    groups: dict[tuple[str, ...], list[MetricSeries]] = {}
    for s in series:
        lowered = {k.lower(): v for k, v in s.dimensions.items()}
        wanted = [lowered.get(k.lower(), "") for k, _ in terms]
        if all(v == "*" or got.lower() == v.lower() for (_, v), got in zip(terms, wanted, strict=True)):
            groups.setdefault(tuple(wanted), []).append(s)
    timeseries = []
    for key, members in groups.items():
        data = []
        at = _EPOCH + ((start - _EPOCH) // step) * step  # intervals align to the grain, as Azure's do
        while at < end:
            samples = [v for s in members for when, v in s.points if at <= when < at + step]
            point: dict[str, Any] = {"timeStamp": _iso(at)}
            if samples:
                point |= {a: _value(samples, a) for a in aggregations}
            data.append(point)
            at += step
        metadata = [
            {"name": {"value": k, "localizedValue": k}, "value": v} for (k, _), v in zip(terms, key, strict=True)
        ]
        timeseries.append({"metadatavalues": metadata, "data": data})
    name = series[0].name
    return {
        "id": f"{resource['id']}/providers/Microsoft.Insights/metrics/{name}",
        "type": "Microsoft.Insights/metrics",
        "name": {"value": name, "localizedValue": name},
        "displayDescription": "",
        "unit": series[0].unit,
        "timeseries": timeseries,
        "errorCode": "Success",
    }
