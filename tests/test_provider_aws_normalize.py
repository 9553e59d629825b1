"""Pure parts of the AWS adapter, on the SDK's own response shapes: no server needed."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from failover.errors import AccessDenied, ProviderError, Throttled, Unreachable
from providers.aws.route53 import check_status, dns_name
from providers.aws.s3 import bucket_region
from providers.aws.session import classify


def client_error(code: str, status: int, op: str = "DescribeInstances") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, op)


def test_route53_escaped_names_become_plain_lowercase_names() -> None:
    assert dns_name("\\052.Example.COM.") == "*.example.com"
    assert dns_name("www.example.com.") == "www.example.com"


def test_health_check_is_healthy_only_when_more_than_18_percent_of_checkers_succeed() -> None:
    ok = {"StatusReport": {"Status": "Success: HTTP Status Code 200"}}
    bad = {"StatusReport": {"Status": "Failure: Connection timed out"}}
    assert check_status([ok, bad, bad, bad]) == "healthy"  # 25%
    assert check_status([ok] + [bad] * 5) == "unhealthy"  # 16.7%
    assert check_status([]) == "unknown"
    assert check_status(ProviderError("denied")) == "unknown"


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
