"""Name an AWS request from its wire form: service and region from the SigV4 credential scope, the
operation from the ``Action`` parameter (query protocols) or by matching botocore's own HTTP bindings
(REST protocols: Route 53, S3). The IAM action follows from the operation."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.session

_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_ELB_VERSIONS = {"2015-12-01": "elbv2", "2012-06-01": "elb"}
# S3 operation -> IAM action where the two differ (everything else: s3:<Operation>).
_S3_IAM = {
    "ListBuckets": "ListAllMyBuckets",
    "GetBucketReplication": "GetReplicationConfiguration",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "HeadObject": "GetObject",
}


@dataclass(frozen=True, slots=True)
class WireRequest:
    service: str  # botocore service name (ec2, elbv2, route53, s3…)
    signing_name: str  # SigV4 service (ec2, elasticloadbalancing, …), also the IAM prefix
    region: str
    operation: str  # API operation name, "" if it could not be named
    method: str
    path: str
    access_key: str = ""  # the signing key id: which credentials made the call

    @property
    def iam_action(self) -> str:
        op = _S3_IAM.get(self.operation, self.operation) if self.signing_name == "s3" else self.operation
        prefix = _IAM_PREFIX.get(self.signing_name, self.signing_name)
        return f"{prefix}:{op or '?'}"

    @property
    def read_only(self) -> bool:
        return self.operation.startswith(("Describe", "List", "Get"))


# Where an IAM action prefix differs from the SigV4 signing name.
_IAM_PREFIX = {"monitoring": "cloudwatch"}
_RPC_V2 = re.compile(r"/service/[^/]+/operation/([^/]+)$")


@functools.cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def _uri_pattern(uri: str) -> re.Pattern[str]:
    pattern = ""
    for piece in re.split(r"(\{[^}]+\})", uri.rstrip("/") or "/"):
        if piece.startswith("{"):
            pattern += "(.+)" if piece.endswith("+}") else "([^/]+)"
        else:
            pattern += re.escape(piece)
    return re.compile(pattern)


@functools.cache
def _rest_routes(service: str) -> list[tuple[str, re.Pattern[str], dict[str, str | None], str]]:
    """(method, path regex, required query, operation) per operation, most specific first."""
    model = _model(service)
    ranked = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri, _, query = http["requestUri"].partition("?")
        required: dict[str, str | None] = {}
        for part in filter(None, query.split("&")):
            key, eq, value = part.partition("=")
            required[key] = value if eq else None
        literal = len(re.sub(r"\{[^}]+\}", "", uri))
        ranked.append(((-len(required), -literal), (http["method"], _uri_pattern(uri), required, name)))
    ranked.sort(key=lambda r: r[0])
    return [route for _, route in ranked]


def _rest_operation(service: str, method: str, path: str, query: str) -> str:
    params = parse_qs(query, keep_blank_values=True)
    path = unquote(path).rstrip("/") or "/"
    for verb, pattern, required, name in _rest_routes(service):
        if verb != method or not pattern.fullmatch(path):
            continue
        if all(k in params and (v is None or v in params[k]) for k, v in required.items()):
            return name
    return ""


def identify(*, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> WireRequest | None:
    """Name a signed AWS request, or ``None`` for anything else (moto's own API, unsigned calls)."""
    m = _SCOPE.search(headers.get("authorization", "")) or _SCOPE.search(unquote(query))
    if not m:
        return None
    access_key, region, signing = m.group(1), m.group(2), m.group(3)
    params: dict[str, list[str]] = parse_qs(query)
    if "x-www-form-urlencoded" in headers.get("content-type", "") and body:
        params.update(parse_qs(body.decode("utf-8", "replace")))
    service = signing
    if signing == "elasticloadbalancing":
        service = _ELB_VERSIONS.get((params.get("Version") or [""])[0], "elbv2")
    elif signing == "monitoring":
        service = "cloudwatch"
    rpc = _RPC_V2.search(path)
    if "Action" in params:  # query protocol (EC2, RDS, ELB, Auto Scaling)
        operation = params["Action"][0]
    elif headers.get("x-amz-target"):  # JSON protocol
        operation = headers["x-amz-target"].rsplit(".", 1)[-1]
    elif rpc:  # Smithy RPC v2 CBOR (CloudWatch in current botocore)
        operation = rpc.group(1)
    else:
        try:
            operation = _rest_operation(service, method, path, query)
        except Exception:  # an unknown service: still logged, as an unnamed operation
            operation = ""
    return WireRequest(
        service=service,
        signing_name=signing,
        region=region,
        operation=operation,
        method=method,
        path=path,
        access_key=access_key,
    )
