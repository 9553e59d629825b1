"""Pure parts of the AWS adapter, on the SDK's own response shapes: no server needed."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from failover.errors import AccessDenied, ProviderError, Throttled, Unreachable
from providers.aws.route53 import dns_name, governing, metric_status, reading_of
from providers.aws.s3 import bucket_region
from providers.aws.session import classify


def client_error(code: str, status: int, op: str = "DescribeInstances") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, op)


def test_route53_escaped_names_become_plain_lowercase_names() -> None:
    assert dns_name("\\052.Example.COM.") == "*.example.com"
    assert dns_name("www.example.com.") == "www.example.com"


def test_health_check_status_is_read_from_the_newest_healthcheckstatus_minimum() -> None:
    assert metric_status(1.0) == ("healthy", None)
    assert metric_status(0.0) == ("unhealthy", None)  # a minute with any unhealthy report
    status, why = metric_status(None)
    assert status == "unknown" and why and "no HealthCheckStatus datapoint" in why


def test_status_is_read_for_the_checks_records_name_and_their_children_only() -> None:
    def hc(i: str, *children: str) -> dict[str, object]:
        cfg = {"Type": "CALCULATED", "ChildHealthChecks": list(children)} if children else {"Type": "HTTP"}
        return {"Id": i, "HealthCheckConfig": cfg}

    checks = [hc("calc", "a", "b"), hc("a"), hc("b"), hc("orphan"), hc("direct")]
    assert governing(checks, {"calc", "direct", "deleted"}) == {"calc", "a", "b", "direct"}
    assert governing(checks, None) == {"calc", "a", "b", "orphan", "direct"}  # records unread: any may govern
    assert reading_of("orphan", {"a"}, {})[0] == "unknown"
    assert reading_of("a", {"a"}, ProviderError("denied")) == ("unknown", "status could not be read: denied")


def test_legacy_bucket_locations() -> None:
    assert bucket_region(None) == "us-east-1"
    assert bucket_region("") == "us-east-1"
    assert bucket_region("EU") == "eu-west-1"
    assert bucket_region("ap-south-1") == "ap-south-1"


def test_sdk_errors_map_to_access_denied_throttled_unreachable() -> None:
    assert isinstance(classify(client_error("UnauthorizedOperation", 403)), AccessDenied)
    assert isinstance(classify(client_error("AuthFailure", 401)), AccessDenied)
    assert isinstance(classify(client_error("AccessDenied", 403, "ListBuckets")), AccessDenied)
    for code in ("Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "SlowDown"):
        assert isinstance(classify(client_error(code, 400)), Throttled), code
    assert isinstance(classify(client_error("InternalError", 500)), Unreachable)
    assert isinstance(classify(EndpointConnectionError(endpoint_url="http://127.0.0.1:1")), Unreachable)
    assert isinstance(classify(NoCredentialsError()), AccessDenied)
    other = classify(client_error("InvalidParameterValue", 400))
    assert type(other) is ProviderError and "InvalidParameterValue" in str(other)
    assert classify(ValueError("a bug")) is None  # bugs are not turned into scope errors here


def test_aurora_global_lag_metric_follows_the_engine_version_aws_documents() -> None:
    from providers.aws.rds import global_lag_metric

    assert global_lag_metric("aurora-postgresql", "11.9") == "AuroraGlobalDBRPOLag"
    assert global_lag_metric("aurora-mysql", "8.0.mysql_aurora.3.04.0") == "AuroraGlobalDBRPOLag"
    assert global_lag_metric("aurora-mysql", "8.0.mysql_aurora.3.03.1") == "AuroraGlobalDBReplicationLag"
    assert global_lag_metric("aurora-mysql", "5.7.mysql_aurora.2.12.0") == "AuroraGlobalDBRPOLag"
    assert global_lag_metric("aurora-mysql", "5.7.mysql_aurora.2.11.2") == "AuroraGlobalDBReplicationLag"
    assert global_lag_metric("aurora-mysql", None) == "AuroraGlobalDBReplicationLag"


def test_replication_rule_scope_from_filter_and_legacy_prefix() -> None:
    from providers.aws.s3 import rule_scope

    assert rule_scope({"Filter": {}}) == ("", {})
    assert rule_scope({"Filter": {"Prefix": "logs/"}}) == ("logs/", {})
    assert rule_scope({"Filter": {"Tag": {"Key": "k", "Value": "v"}}}) == ("", {"k": "v"})
    both = {"Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}, {"Key": "j", "Value": "w"}]}}}
    assert rule_scope(both) == ("a/", {"k": "v", "j": "w"})
    assert rule_scope({"Prefix": "old/"}) == ("old/", {})  # a V1 rule without Filter


def test_attribute_based_group_counts_vcpu_and_a_missing_weight_is_unknown() -> None:
    from providers.aws.autoscaling import capacity_unit, running_units

    members = [{"InstanceType": "m5.large", "LifecycleState": "InService"}] * 2
    types: dict[str, tuple[float | None, int | None]] = {"m5.large": (2.0, 8192)}
    assert capacity_unit({"DesiredCapacityType": "vcpu"}) == "vcpu"
    assert running_units("vcpu", members, types) == 4.0
    assert running_units("memory-mib", members, types) == 16384.0
    assert running_units("instances", members, types) == 2.0
    assert running_units("units", members, types) is None


def test_group_deletion_protection_levels_and_an_sdk_that_cannot_read_them() -> None:
    from types import SimpleNamespace
    from typing import Any, cast

    from providers.aws.autoscaling import normalize_group

    ctx = cast(Any, SimpleNamespace(resource=lambda **kw: SimpleNamespace(**kw)))
    group = {"AutoScalingGroupName": "web", "DesiredCapacity": 1, "Instances": []}
    levels = {}
    for level in ("prevent-all-deletion", "prevent-force-deletion", "none", None):
        g = group | ({"DeletionProtection": level} if level else {})
        levels[level] = normalize_group(ctx, "us-east-1", g, {}).attrs["deletion_protection"]
    assert levels == {"prevent-all-deletion": True, "prevent-force-deletion": True, "none": False, None: False}
    old_sdk = normalize_group(ctx, "us-east-1", group, {}, knows_protection=False).attrs
    assert old_sdk["deletion_protection"] is None and "deletion protection unknown" in old_sdk["notes"][0]


def test_global_accelerator_endpoint_ids_name_their_kind() -> None:
    from providers.aws.globalaccelerator import endpoint_kind

    assert endpoint_kind("i-0123456789abcdef0") == "ec2-instance"
    assert endpoint_kind("eipalloc-0123456789abcdef0") == "elastic-ip"
    lb = "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/{}/web/50dc6c495c0c9188"
    assert (endpoint_kind(lb.format("app")), endpoint_kind(lb.format("net"))) == ("alb", "nlb")
    assert endpoint_kind("arn:aws:ec2:us-west-2:123456789012:instance/i-1") == "unknown"


def test_global_accelerator_endpoint_group_detection_and_health() -> None:
    from providers.aws.globalaccelerator import normalize_group

    group = {  # an EndpointGroup as the API answers it
        "EndpointGroupArn": "arn:aws:globalaccelerator::123456789012:accelerator/a/listener/l/endpoint-group/g",
        "EndpointGroupRegion": "us-east-1",
        "EndpointDescriptions": [
            {"EndpointId": "i-0123456789abcdef0", "Weight": 128, "HealthState": "UNHEALTHY"},
            {"EndpointId": "eipalloc-0123456789abcdef0", "Weight": 0, "HealthState": "INITIAL"},
        ],
        "TrafficDialPercentage": 0.0,
        "HealthCheckProtocol": "TCP",
        "HealthCheckPort": 443,
        "HealthCheckIntervalSeconds": 10,
        "ThresholdCount": 3,
    }
    eip = {"AllocationId": "eipalloc-0123456789abcdef0", "PublicIp": "203.0.113.9", "InstanceId": "i-1"}
    g = normalize_group(group, "listener", {"eipalloc-0123456789abcdef0": eip})
    assert (g["detection_s"], g["traffic_dial"], g["healthy"]) == (30.0, 0.0, None)
    unhealthy, initial = g["origins"]
    assert (unhealthy["healthy"], unhealthy["weight"]) == (False, 128.0)
    assert (initial["healthy"], initial["address"], initial["instance"]) == (None, "203.0.113.9", "i-1")
    missing = normalize_group(group, "listener", {})["origins"][1]
    assert "not found" in missing["note"]
