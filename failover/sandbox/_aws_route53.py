"""Route 53 behaviour moto lacks, patched into its in-process server (moto's server runs in the test's
process, so its handlers and models can be replaced there).

- ``GetHealthCheckStatus`` always answers Success in moto; ``HEALTH`` (health check id -> healthy?)
  makes it report every checker failing instead.
- Route 53 publishes each health check's ``HealthCheckStatus`` (1 healthy, 0 unhealthy; dimension
  ``HealthCheckId``, namespace ``AWS/Route53``) to CloudWatch in us-east-1 every minute; moto publishes
  nothing. ``_HealthCheckMetrics`` serves it through moto's own hook for service metrics
  (``CloudWatchMetricProvider``): one datapoint a minute old for every health check of the account, from
  ``HEALTH``; a calculated check is healthy while at least ``HealthThreshold`` of its children are.
- Health checks of type ``CLOUDWATCH_METRIC`` and ``RECOVERY_CONTROL``: moto drops ``AlarmIdentifier``,
  ``InsufficientDataHealthStatus`` and ``RoutingControlArn`` and answers them with an endpoint check's
  fields (``Port``, ``RequestInterval``, ``FailureThreshold``). Real Route 53 answers each type with its
  own fields (botocore's ``HealthCheckConfig``: ``RequestInterval`` and ``FailureThreshold`` are "not
  supported" for ``RECOVERY_CONTROL``; ``Port`` is not given for ``CLOUDWATCH_METRIC``) and adds
  ``CloudWatchAlarmConfiguration``, its copy of the alarm's settings, to an alarm check.
- ``GetHostedZone``: moto answers no ``HostedZone.Features``; real Route 53 reports there, among
  others, ``AcceleratedRecoveryStatus`` (enum ``ENABLING | ENABLE_FAILED | ENABLING_HOSTED_ZONE_LOCKED |
  ENABLED | DISABLING | DISABLE_FAILED | DISABLED | DISABLING_HOSTED_ZONE_LOCKED`` in botocore's
  model). ``ACCELERATED_RECOVERY`` (zone id -> status) serves it.
"""

from __future__ import annotations

import threading
from typing import Any

HEALTH: dict[str, bool] = {}
ACCELERATED_RECOVERY: dict[str, str] = {}  # hosted zone id -> HostedZoneFeatures.AcceleratedRecoveryStatus
_LOCK = threading.Lock()
_patched = False
_COMMON = ("Type", "Inverted", "Disabled")


def patch_route53() -> None:
    """Install the patches once per process."""
    global _patched
    with _LOCK:
        if _patched:
            return
        _publish_status_metrics()
        _patch_status()
        _patch_health_check_shapes()
        _patch_zone_features()
        _patched = True


def _patch_status() -> None:
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.route53.responses import Route53

    original = Route53.get_health_check_status

    def get_health_check_status(self: Any) -> Any:
        hc_id = self._get_param("HealthCheckId")
        healthy = HEALTH.get(hc_id)
        if healthy is None or healthy:
            return original(self)
        self.backend.get_health_check(hc_id)
        observations = [
            {
                "Region": region,
                "IPAddress": "127.0.13.37",
                "StatusReport": {"Status": "Failure: Connection timed out.", "CheckedTime": utcnow()},
            }
            for region in ("us-east-1", "eu-west-1", "ap-southeast-1")
        ]
        return ActionResult({"HealthCheckObservations": observations})

    Route53.get_health_check_status = get_health_check_status  # type: ignore[method-assign]


def _healthy(checks: dict[str, Any], hc_id: str, seen: frozenset[str] = frozenset()) -> bool:
    check = checks[hc_id]
    if check.type_ != "CALCULATED":
        return HEALTH.get(hc_id, True)
    children = [c for c in check.children or [] if c in checks and c not in seen]
    healthy = sum(_healthy(checks, c, seen | {hc_id}) for c in children)
    return healthy >= (check.health_threshold if check.health_threshold is not None else len(children))


def _publish_status_metrics() -> None:
    from datetime import timedelta

    from moto.cloudwatch.models import MetricDatum
    from moto.core.common_models import CloudWatchMetricProvider
    from moto.core.utils import utcnow
    from moto.route53.models import route53_backends

    class _HealthCheckMetrics(CloudWatchMetricProvider):
        @staticmethod
        def get_cloudwatch_metrics(account_id: str, region: str) -> list[Any]:
            if region != "us-east-1":
                return []
            checks = dict(route53_backends[account_id]["aws"].health_checks)
            when = utcnow() - timedelta(seconds=1)
            return [
                MetricDatum(
                    "AWS/Route53",
                    "HealthCheckStatus",
                    1.0 if _healthy(checks, hc_id) else 0.0,
                    [{"Name": "HealthCheckId", "Value": hc_id}],
                    when,
                )
                for hc_id in checks
            ]

    _PROVIDERS.append(_HealthCheckMetrics)  # moto finds it among the subclasses; keep it alive


_PROVIDERS: list[type] = []


def _alarm_configuration(account_id: str, identifier: dict[str, Any] | None) -> dict[str, Any] | None:
    """Route 53's copy of the alarm's settings (``CloudWatchAlarmConfiguration``), from moto's CloudWatch."""
    from moto.cloudwatch.models import cloudwatch_backends

    if not identifier or not identifier.get("Region") or not identifier.get("Name"):
        return None
    alarm = cloudwatch_backends[account_id][identifier["Region"]].alarms.get(identifier["Name"])
    if alarm is None:
        return None
    return {
        "EvaluationPeriods": int(alarm.evaluation_periods),
        "Threshold": float(alarm.threshold),
        "ComparisonOperator": alarm.comparison_operator,
        "Period": int(alarm.period),
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "Statistic": alarm.statistic,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions],
    }


def _remember(self: Any, health_check: Any, config: dict[str, Any]) -> None:
    """Keep the type-specific fields moto ignores on its model object."""
    for key, attr in (
        ("AlarmIdentifier", "alarm_identifier"),
        ("InsufficientDataHealthStatus", "insufficient_data_health_status"),
        ("RoutingControlArn", "routing_control_arn"),
    ):
        if config.get(key) is not None:
            setattr(health_check, attr, config[key])
    if config.get("AlarmIdentifier") is not None:
        health_check.cloud_watch_alarm_configuration = _alarm_configuration(
            self.current_account, config["AlarmIdentifier"]
        )


def _patch_health_check_shapes() -> None:
    from moto.route53.models import HealthCheck
    from moto.route53.responses import Route53

    HealthCheck.alarm_identifier = None  # type: ignore[attr-defined]
    HealthCheck.insufficient_data_health_status = None  # type: ignore[attr-defined]
    HealthCheck.routing_control_arn = None  # type: ignore[attr-defined]
    HealthCheck.cloud_watch_alarm_configuration = None  # type: ignore[attr-defined]
    moto_config = HealthCheck.health_check_config

    def health_check_config(self: Any) -> dict[str, Any]:
        config: dict[str, Any] = moto_config.fget(self)  # type: ignore[attr-defined]
        if self.type_ == "CLOUDWATCH_METRIC":
            config = {k: config[k] for k in _COMMON} | {
                "AlarmIdentifier": self.alarm_identifier,
                "InsufficientDataHealthStatus": self.insufficient_data_health_status,
            }
        elif self.type_ == "RECOVERY_CONTROL":
            config = {k: config[k] for k in _COMMON} | {"RoutingControlArn": self.routing_control_arn}
        return {k: v for k, v in config.items() if v is not None}

    HealthCheck.health_check_config = property(health_check_config)  # type: ignore[method-assign,assignment]

    create, update = Route53.create_health_check, Route53.update_health_check

    def create_health_check(self: Any) -> Any:
        result = create(self)
        _remember(self, result.result["HealthCheck"], self._get_param("HealthCheckConfig") or {})  # type: ignore[index]
        return result

    def update_health_check(self: Any) -> Any:
        result = update(self)
        params = {k: self._get_param(k) for k in ("AlarmIdentifier", "InsufficientDataHealthStatus")}
        _remember(self, result.result["HealthCheck"], params)  # type: ignore[index]
        return result

    Route53.create_health_check = create_health_check  # type: ignore[method-assign]
    Route53.update_health_check = update_health_check  # type: ignore[method-assign]


def _patch_zone_features() -> None:
    from moto.route53.responses import Route53

    original = Route53.get_hosted_zone

    def get_hosted_zone(self: Any) -> Any:
        result = original(self)
        zone = result.result["HostedZone"]  # type: ignore[index]
        status = ACCELERATED_RECOVERY.get(str(zone.id).rsplit("/", 1)[-1])
        if status is not None:
            result.result["HostedZone"] = {  # type: ignore[index]
                "Id": zone.id,
                "Name": zone.name,
                "CallerReference": zone.caller_reference,
                "Config": zone.config,
                "ResourceRecordSetCount": zone.resource_record_set_count,
                "Features": {"AcceleratedRecoveryStatus": status},
            }
        return result

    Route53.get_hosted_zone = get_hosted_zone  # type: ignore[method-assign]
