"""A local AWS for tests and the demo: moto's server on 127.0.0.1, behind a fault-injecting middleware.

The middleware sits between the socket and moto's WSGI app. It names every request (service, region,
operation, as the SDK would) and keeps a log of them, which is how the read-only guarantee and the IAM
policy are tested; it can answer for moto with AccessDenied, throttling, a 500, or a delay,
selected by region/service/operation at run time, which moto cannot do itself; and it serves what
the real services report and moto does not (``_aws_extras``: Auto Scaling deletion protection,
weights and warm pools; RDS replication status and cross-region automated backups; S3 replication
rules' filters; DynamoDB global table replicas; ElastiCache global datastores) and what moto has no
backend for at all (``_aws_globalaccelerator``: Global Accelerator).

    sandbox = AwsSandbox().start()          # sandbox.endpoint == "http://127.0.0.1:PORT"
    sandbox.inject("access_denied", region="us-west-2", service="rds")
    sandbox.inject("throttle", service="ec2", operation="DescribeInstances", times=2)
    seed_instances(sandbox, "us-east-1", count=3, tags={"app": "shop"})
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode
from urllib.request import Request, urlopen

import boto3
from botocore.config import Config as BotoConfig

from failover.sandbox._aws_extras import Exchange, Extras, Reply
from failover.sandbox._aws_globalaccelerator import GlobalAcceleratorService
from failover.sandbox._aws_route53 import ACCELERATED_RECOVERY, HEALTH, patch_route53
from failover.sandbox._aws_wire import WireRequest, identify
from failover.sandbox._aws_wire_xml import model as service_model

__all__ = [
    "AwsSandbox",
    "Fault",
    "FaultKind",
    "WireRequest",
    "seed",
    "seed_accelerator",
    "seed_alarm",
    "seed_aurora_global",
    "seed_auto_scaling_group",
    "seed_backup_replication",
    "seed_buckets",
    "seed_dynamodb_table",
    "seed_elasticache_global",
    "seed_failover_zone",
    "seed_global_datastore_lag",
    "seed_health_check",
    "seed_instances",
    "seed_load_balancer",
    "seed_metric",
    "seed_rds_with_replica",
    "seed_records",
    "seed_replica_lag",
    "seed_replication_latency",
    "seed_warm_pool",
    "seed_zone",
]

FaultKind = Literal["access_denied", "throttle", "error", "slow"]
DUMMY_KEYS = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}
ROLE = "failover-readonly"  # the role ``in_account`` views assume


@dataclass
class Fault:
    """Answer matching requests with ``kind`` instead of moto; ``times=None`` means every time."""

    kind: FaultKind
    region: str | None = None
    service: str | None = None  # botocore name: ec2, autoscaling, elbv2, route53, rds, s3, sts
    operation: str | None = None  # DescribeInstances, GetHealthCheckStatus, …
    times: int | None = None
    delay: float = 0.0  # for "slow": seconds to wait before moto answers
    hits: int = 0

    def matches(self, req: WireRequest) -> bool:
        return (
            (self.region is None or self.region == req.region)
            and (self.service is None or self.service == req.service)
            and (self.operation is None or self.operation == req.operation)
            and (self.times is None or self.hits < self.times)
        )


def _error_response(req: WireRequest, kind: FaultKind) -> tuple[str, str, bytes]:
    """(status line, content type, body) shaped as ``req``'s service would send it, so botocore parses it."""
    ec2, s3 = req.service == "ec2", req.service == "s3"
    if req.service == "globalaccelerator":  # JSON 1.1: its own codes, in a JSON body
        return _json_error_response(req, kind)
    if kind == "access_denied":
        status, code = "403 Forbidden", "UnauthorizedOperation" if ec2 else "AccessDenied"
        message = f"sandbox: not authorized to perform {req.iam_action}"
    elif kind == "throttle":
        if ec2:
            status, code = "503 Service Unavailable", "RequestLimitExceeded"
        elif s3:
            status, code = "503 Slow Down", "SlowDown"
        else:
            status, code = "400 Bad Request", "Throttling"
        message = "sandbox: rate exceeded"
    else:
        status, code, message = "500 Internal Server Error", "InternalError", "sandbox: internal error"
    rid = uuid.uuid4()
    if ec2:
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{rid}</RequestID></Response>"
        )
    elif s3:
        body = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{rid}</RequestId></Error>"
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{rid}</RequestId></ErrorResponse>"
        )
    return status, "text/xml", body.encode()


def _json_error_response(req: WireRequest, kind: FaultKind) -> tuple[str, str, bytes]:
    status, code, message = {
        "access_denied": (
            "400 Bad Request",
            "AccessDeniedException",
            f"sandbox: not authorized to perform {req.iam_action}",
        ),
        "throttle": ("400 Bad Request", "ThrottlingException", "sandbox: rate exceeded"),
    }.get(kind, ("500 Internal Server Error", "InternalServiceErrorException", "sandbox: internal error"))
    return status, "application/x-amz-json-1.1", json.dumps({"__type": code, "Message": message}).encode()


def _run(app: Callable[..., Any], environ: dict[str, Any]) -> Reply:
    """Call a WSGI app and collect its whole answer."""
    got: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        got["status"], got["headers"] = status, list(headers)
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return got["status"], got["headers"], b"".join(chunks)


class FaultMiddleware:
    """WSGI middleware: log every AWS request, answer the ones a ``Fault`` selects, and add to moto's
    answers what the real services report and moto does not (``Extras``)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.faults: list[Fault] = []
        self.requests: list[WireRequest] = []
        self.extras = Extras()
        self.globalaccelerator = GlobalAcceleratorService()
        self._lock = threading.Lock()

    def _moto(self, environ: dict[str, Any]) -> Callable[[str, str, dict[str, str]], tuple[int, bytes]]:
        """A query-protocol call to moto in another region (what a service asks of its own other regions)."""

        def call(service: str, region: str, params: dict[str, str]) -> tuple[int, bytes]:
            meta = service_model(service).metadata
            body = urlencode({**params, "Version": meta["apiVersion"]}).encode()
            signing = meta.get("signingName") or meta.get("endpointPrefix") or service  # elbv2: elasticloadbalancing
            return self._moto_post(environ, signing, region, body, "application/x-www-form-urlencoded; charset=utf-8")

        return call

    def _moto_json(self, environ: dict[str, Any]) -> Callable[[str, str, str, dict[str, Any]], tuple[int, bytes]]:
        """A JSON-protocol call to moto in any region (DynamoDB building a replica table there)."""

        def call(prefix: str, operation: str, region: str, payload: dict[str, Any]) -> tuple[int, bytes]:
            body = json.dumps(payload).encode()
            target = {"HTTP_X_AMZ_TARGET": f"{prefix}.{operation}"}
            return self._moto_post(environ, "dynamodb", region, body, "application/x-amz-json-1.0", target)

        return call

    def _moto_post(
        self,
        environ: dict[str, Any],
        service: str,
        region: str,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """POST ``body`` to moto in process, signed (in form only) for ``service`` in ``region``, on a copy of
        ``environ`` without its own ``X-Amz-*`` headers; (status, body) back."""
        env = {k: v for k, v in environ.items() if not k.startswith("HTTP_X_AMZ")}
        env.update(
            REQUEST_METHOD="POST",
            PATH_INFO="/",
            QUERY_STRING="",
            CONTENT_TYPE=content_type,
            CONTENT_LENGTH=str(len(body)),
            **(headers or {}),
            HTTP_AUTHORIZATION=(
                f"AWS4-HMAC-SHA256 Credential=sandbox/20260101/{region}/{service}/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
        )
        env["wsgi.input"] = io.BytesIO(body)
        status, _, out = _run(self.app, env)
        return int(status.split()[0]), out

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        req = identify(
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", "/"),
            query=environ.get("QUERY_STRING", ""),
            headers={k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
            | {"content-type": environ.get("CONTENT_TYPE", "")},
            body=body,
        )
        if req is None:  # moto's own API (/moto-api/reset) or an unsigned request
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        with self._lock:
            self.requests.append(req)
            fault = next((f for f in self.faults if f.matches(req)), None)
            if fault is not None:
                fault.hits += 1
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        elif fault is not None:
            status, ctype, payload = _error_response(req, fault.kind)
            start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(payload)))])
            return [payload]
        if self.globalaccelerator.handles(req):
            status, headers, payload = self.globalaccelerator.answer(req, body, self._moto(environ))
            start_response(status, headers)
            return [payload]
        if not self.extras.handles(req):
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", "") and body:
            params |= {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        exchange = Exchange(
            req, params, body, lambda: _run(self.app, environ), self._moto(environ), self._moto_json(environ)
        )
        status, headers, payload = self.extras.answer(exchange)
        start_response(status, headers)
        return [payload]


@dataclass
class AwsSandbox:
    """moto's server on a free loopback port with a ``FaultMiddleware`` in front."""

    host: str = "127.0.0.1"
    endpoint: str = ""
    middleware: FaultMiddleware | None = None
    _server: Any = None
    _thread: threading.Thread | None = None
    _health_ids: set[str] = field(default_factory=set)
    _zone_ids: set[str] = field(default_factory=set)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    _clients_lock: threading.Lock = field(default_factory=threading.Lock)
    account_id: str | None = None  # another AWS account than moto's default (see ``in_account``)

    def start(self) -> AwsSandbox:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        # moto >= 5.2.5 ships a handler that keeps underscores in S3 metadata headers; werkzeug's
        # default serves older versions.
        handler: Any = getattr(importlib.import_module("moto.moto_server.werkzeug_app"), "MotoRequestHandler", None)

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        patch_route53()
        self.middleware = FaultMiddleware(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self.host, 0, self.middleware, threaded=True, request_handler=handler)
        port = self._server.server_address[1]
        self.endpoint = f"http://{self.host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> AwsSandbox:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Empty every moto backend and what the middleware adds, drop faults, the request log and health
        overrides."""
        with urlopen(Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=30) as resp:
            resp.read()
        if self.middleware is not None:
            self.middleware.extras.reset()
            self.middleware.globalaccelerator.reset()
        self.clear_faults()
        self.clear_requests()
        for hc_id in self._health_ids:
            HEALTH.pop(hc_id, None)
        self._health_ids.clear()
        for zone_id in self._zone_ids:
            ACCELERATED_RECOVERY.pop(zone_id, None)
        self._zone_ids.clear()

    # ---- faults and the request log
    def inject(
        self,
        kind: FaultKind,
        *,
        region: str | None = None,
        service: str | None = None,
        operation: str | None = None,
        times: int | None = None,
        delay: float = 0.0,
    ) -> Fault:
        fault = Fault(kind, region=region, service=service, operation=operation, times=times, delay=delay)
        assert self.middleware is not None, "start() the sandbox first"
        with self.middleware._lock:
            self.middleware.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        if self.middleware is not None:
            with self.middleware._lock:
                self.middleware.faults.clear()

    @property
    def requests(self) -> list[WireRequest]:
        assert self.middleware is not None, "start() the sandbox first"
        with self.middleware._lock:
            return list(self.middleware.requests)

    def clear_requests(self) -> None:
        if self.middleware is not None:
            with self.middleware._lock:
                self.middleware.requests.clear()

    def set_health_check_status(self, health_check_id: str, healthy: bool) -> None:
        """Make GetHealthCheckStatus report every checker failing (or succeeding again)."""
        HEALTH[health_check_id] = healthy
        self._health_ids.add(health_check_id)

    def set_accelerated_recovery(self, zone_id: str, status: str = "ENABLED") -> None:
        """Report the hosted zone's ``Features.AcceleratedRecoveryStatus`` in GetHostedZone."""
        ACCELERATED_RECOVERY[zone_id] = status
        self._zone_ids.add(zone_id)

    @property
    def extras(self) -> Extras:
        assert self.middleware is not None, "start() the sandbox first"
        return self.middleware.extras

    def set_replication_status(
        self, region: str, instance: str, status: str, *, normal: bool = False, message: str = ""
    ) -> None:
        """What RDS reports in a read replica's ``StatusInfos`` (``read replication``), e.g. ``error`` with
        the replication error, ``stopped``, ``terminated``; a replica is ``replicating`` until then."""
        self.extras.set_replication_status(region, instance, status, normal, message)

    def set_table_replica_status(
        self, region: str, table: str, replica: str, status: str, description: str = ""
    ) -> None:
        """What DynamoDB reports as ``ReplicaStatus`` (and ``ReplicaStatusDescription``) for ``table``'s
        replica in ``replica``: ACTIVE once built, REGION_DISABLED, INACCESSIBLE_ENCRYPTION_CREDENTIALS, …"""
        self.extras.set_table_replica_status(region, table, replica, status, description)

    def set_global_table_status(self, name: str, status: str) -> None:
        """A legacy (2017.11.29) global table's ``GlobalTableStatus``: ACTIVE once built, UPDATING, DELETING."""
        self.extras.set_global_table_status(name, status)

    @property
    def globalaccelerator(self) -> GlobalAcceleratorService:
        assert self.middleware is not None, "start() the sandbox first"
        return self.middleware.globalaccelerator

    def set_accelerator_status(self, arn: str, status: str = "DEPLOYED") -> None:
        """What Global Accelerator reports as the accelerator's ``Status`` (``DEPLOYED`` once a change has
        propagated; every change makes it ``IN_PROGRESS`` again)."""
        self.globalaccelerator.set_accelerator_status(arn, status)

    def set_endpoint_health(self, endpoint_id: str, state: str, *, group_arn: str | None = None) -> None:
        """The ``HealthState`` Global Accelerator's health checks give an endpoint (``INITIAL`` until then):
        ``HEALTHY`` or ``UNHEALTHY``, in every endpoint group holding it or only in ``group_arn``."""
        self.globalaccelerator.set_endpoint_health(endpoint_id, state, group_arn=group_arn)

    # ---- clients and config for the code under test
    def in_account(self, account_id: str) -> AwsSandbox:
        """The same server, seen from another AWS account (moto keeps one backend per account and
        serves a role's credentials from that role's account): seed into it, and ``account()`` gives
        a config entry that reads it by assuming ``ROLE`` there. Do not ``stop()`` the view."""
        return dataclasses.replace(self, _clients={}, _clients_lock=threading.Lock(), account_id=account_id)

    def role_arn(self) -> str | None:
        return f"arn:aws:iam::{self.account_id}:role/{ROLE}" if self.account_id else None

    def client(self, service: str, region: str = "us-east-1") -> Any:
        """A client for seeding and assertions (cached: building one costs more than most calls)."""
        key = (service, region)
        with self._clients_lock:
            if key not in self._clients:
                keys: dict[str, str] = dict(DUMMY_KEYS)
                if self.account_id:
                    sts = boto3.session.Session(**DUMMY_KEYS).client(
                        "sts", region_name=region, endpoint_url=self.endpoint
                    )
                    creds = sts.assume_role(RoleArn=self.role_arn(), RoleSessionName="sandbox")["Credentials"]
                    keys = {
                        "aws_access_key_id": creds["AccessKeyId"],
                        "aws_secret_access_key": creds["SecretAccessKey"],
                        "aws_session_token": creds["SessionToken"],
                    }
                self._clients[key] = boto3.session.Session(**keys).client(
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint,
                    config=BotoConfig(retries={"mode": "standard", "total_max_attempts": 1}),
                )
            return self._clients[key]

    def account(self, name: str = "aws-local", regions: Iterable[str] = ("us-east-1",), **extra: Any) -> dict[str, Any]:
        """An ``accounts:`` entry of the config file pointing at this sandbox."""
        return {
            "name": name,
            "provider": "aws",
            "regions": list(regions),
            "endpoint_url": self.endpoint,
            "credentials": "anonymous",
            **({"role_arn": self.role_arn()} if self.account_id else {}),
            **extra,
        }


# ---- seeding from plain data ------------------------------------------------------------------------


def _tag_list(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in (tags or {}).items()]


def seed_instances(
    sandbox: AwsSandbox,
    region: str,
    *,
    count: int = 1,
    instance_type: str = "t3.micro",
    image: str = "ami-12345678",
    tags: Mapping[str, str] | None = None,
    deletion_protection: bool = False,
    subnet_id: str | None = None,
) -> list[str]:
    """Run ``count`` instances; returns their ids. Deletion protection is set after launch (moto ignores it)."""
    ec2 = sandbox.client("ec2", region)
    params: dict[str, Any] = {"ImageId": image, "InstanceType": instance_type, "MinCount": count, "MaxCount": count}
    if tags:
        params["TagSpecifications"] = [{"ResourceType": "instance", "Tags": _tag_list(tags)}]
    if subnet_id:
        params["SubnetId"] = subnet_id
    ids = [i["InstanceId"] for i in ec2.run_instances(**params)["Instances"]]
    if deletion_protection:
        for iid in ids:
            ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": True})
    return ids


def _default_subnets(sandbox: AwsSandbox, region: str) -> tuple[str, list[str]]:
    ec2 = sandbox.client("ec2", region)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    return vpc, [s["SubnetId"] for s in sorted(subnets, key=lambda s: s["AvailabilityZone"])]


def seed_auto_scaling_group(
    sandbox: AwsSandbox,
    region: str,
    name: str,
    *,
    desired: int = 2,
    min_size: int = 1,
    max_size: int = 4,
    instance_type: str = "t3.small",
    image: str = "ami-12345678",
    tags: Mapping[str, str] | None = None,
    target_group_arns: list[str] | None = None,
    deletion_protection: str | None = None,
    weights: Mapping[str, int] | None = None,
) -> str:
    """An Auto Scaling group launching from a template. ``deletion_protection`` is the group's
    ``DeletionProtection`` (``none``, ``prevent-force-deletion``, ``prevent-all-deletion``). With
    ``weights`` ({instance type: units}) the group uses a mixed instances policy whose overrides carry
    those ``WeightedCapacity`` values and its sizes count units; it launches the first type."""
    ec2 = sandbox.client("ec2", region)
    launch_type = next(iter(weights)) if weights else instance_type
    template = ec2.create_launch_template(
        LaunchTemplateName=f"{name}-lt", LaunchTemplateData={"ImageId": image, "InstanceType": launch_type}
    )["LaunchTemplate"]
    _, subnets = _default_subnets(sandbox, region)
    spec = {"LaunchTemplateId": template["LaunchTemplateId"], "Version": "$Latest"}
    params: dict[str, Any] = {}
    if weights:
        params["MixedInstancesPolicy"] = {
            "LaunchTemplate": {
                "LaunchTemplateSpecification": spec,
                "Overrides": [{"InstanceType": t, "WeightedCapacity": str(w)} for t, w in weights.items()],
            },
            "InstancesDistribution": {"OnDemandAllocationStrategy": "prioritized"},
        }
    else:
        params["LaunchTemplate"] = spec
    if deletion_protection is not None:
        params["DeletionProtection"] = deletion_protection
    sandbox.client("autoscaling", region).create_auto_scaling_group(
        AutoScalingGroupName=name,
        MinSize=min_size,
        MaxSize=max_size,
        DesiredCapacity=desired,
        VPCZoneIdentifier=",".join(subnets[:2]),
        TargetGroupARNs=target_group_arns or [],
        Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": True} for k, v in (tags or {}).items()],
        **params,
    )
    return name


def seed_warm_pool(
    sandbox: AwsSandbox,
    region: str,
    group: str,
    *,
    min_size: int = 0,
    max_prepared: int | None = None,
    pool_state: str = "Stopped",
) -> list[str]:
    """``PutWarmPool`` on ``group``, then what Auto Scaling does next: launch the pool's instances from
    the group's template and leave them ``Warmed:<pool_state>`` (stopped ones stopped in EC2). The pool
    holds max(min_size, max_prepared (default: the group's max size) - desired) instances."""
    client = sandbox.client("autoscaling", region)
    params: dict[str, Any] = {"MinSize": min_size, "PoolState": pool_state}
    if max_prepared is not None:
        params["MaxGroupPreparedCapacity"] = max_prepared
    client.put_warm_pool(AutoScalingGroupName=group, **params)
    g = client.describe_auto_scaling_groups(AutoScalingGroupNames=[group])["AutoScalingGroups"][0]
    size = max(min_size, (max_prepared if max_prepared is not None else g["MaxSize"]) - g["DesiredCapacity"])
    if size <= 0:
        return []
    ec2 = sandbox.client("ec2", region)
    template = g.get("LaunchTemplate") or g["MixedInstancesPolicy"]["LaunchTemplate"]["LaunchTemplateSpecification"]
    tags = [{"Key": t["Key"], "Value": t["Value"]} for t in g.get("Tags", []) if t.get("PropagateAtLaunch")]
    launched = ec2.run_instances(
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]},
        MinCount=size,
        MaxCount=size,
        SubnetId=g["VPCZoneIdentifier"].split(",")[0],
        **({"TagSpecifications": [{"ResourceType": "instance", "Tags": tags}]} if tags else {}),
    )["Instances"]
    ids = [i["InstanceId"] for i in launched]
    if pool_state != "Running":
        ec2.stop_instances(InstanceIds=ids, Hibernate=pool_state == "Hibernated")
    sandbox.extras.add_warm_instances(
        region,
        group,
        [
            {
                "InstanceId": i["InstanceId"],
                "InstanceType": i["InstanceType"],
                "AvailabilityZone": i["Placement"]["AvailabilityZone"],
                "LifecycleState": f"Warmed:{pool_state}",
                "HealthStatus": "Healthy",
                "LaunchTemplate": {"LaunchTemplateId": template["LaunchTemplateId"], "Version": "1"},
                "ProtectedFromScaleIn": False,
            }
            for i in launched
        ],
    )
    return ids


def seed_load_balancer(
    sandbox: AwsSandbox,
    region: str,
    name: str,
    *,
    instance_ids: list[str] | None = None,
    tags: Mapping[str, str] | None = None,
    port: int = 80,
    health_path: str = "/healthz",
) -> dict[str, str]:
    """An internet-facing ALB with one HTTP target group (registered instances) and a listener."""
    elb = sandbox.client("elbv2", region)
    vpc, subnets = _default_subnets(sandbox, region)
    tag_args: dict[str, Any] = {"Tags": _tag_list(tags)} if tags else {}
    lb = elb.create_load_balancer(Name=name, Subnets=subnets[:2], Scheme="internet-facing", **tag_args)
    lb = lb["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name=f"{name}-tg",
        Protocol="HTTP",
        Port=port,
        VpcId=vpc,
        HealthCheckPath=health_path,
        **tag_args,
    )["TargetGroups"][0]
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=port,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )
    if instance_ids:
        elb.register_targets(
            TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": i, "Port": port} for i in instance_ids]
        )
    return {"arn": lb["LoadBalancerArn"], "dns_name": lb["DNSName"], "target_group_arn": tg["TargetGroupArn"]}


def seed_zone(sandbox: AwsSandbox, zone: str, *, tags: Mapping[str, str] | None = None) -> str:
    """A public hosted zone; returns its id (without ``/hostedzone/``)."""
    r53 = sandbox.client("route53")
    zone_id = r53.create_hosted_zone(Name=zone, CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"].split("/")[-1]
    if tags:
        r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id, AddTags=_tag_list(tags))
    return str(zone_id)


def seed_health_check(sandbox: AwsSandbox, config: Mapping[str, Any], *, tags: Mapping[str, str] | None = None) -> str:
    """A Route 53 health check from a ``HealthCheckConfig`` (any type); returns its id."""
    r53 = sandbox.client("route53")
    hc = r53.create_health_check(CallerReference=str(uuid.uuid4()), HealthCheckConfig=dict(config))["HealthCheck"]
    if tags:
        r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=hc["Id"], AddTags=_tag_list(tags))
    return str(hc["Id"])


def seed_records(sandbox: AwsSandbox, zone_id: str, record_sets: Sequence[Mapping[str, Any]]) -> None:
    """Create ``ResourceRecordSet``s (as the API takes them) in a zone, 500 per change batch."""
    changes = [{"Action": "CREATE", "ResourceRecordSet": dict(r)} for r in record_sets]
    for i in range(0, len(changes), 500):
        sandbox.client("route53").change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Changes": changes[i : i + 500]}
        )


def seed_alarm(
    sandbox: AwsSandbox,
    region: str,
    name: str,
    *,
    period: int = 60,
    evaluation_periods: int = 3,
    datapoints_to_alarm: int | None = None,
    treat_missing_data: str = "breaching",
    namespace: str = "AWS/ApplicationELB",
    metric: str = "HealthyHostCount",
    dimensions: Mapping[str, str] | None = None,
) -> str:
    """A CloudWatch metric alarm (fires below 1, e.g. no healthy hosts); returns its name."""
    extra: dict[str, Any] = {"DatapointsToAlarm": datapoints_to_alarm} if datapoints_to_alarm else {}
    sandbox.client("cloudwatch", region).put_metric_alarm(
        AlarmName=name,
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in (dimensions or {}).items()],
        Statistic="Minimum",
        Period=period,
        EvaluationPeriods=evaluation_periods,
        Threshold=1.0,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData=treat_missing_data,
        **extra,
    )
    return name


def failover_pair(
    fqdn: str, primary: str, secondary: str, *, health_check_id: str, ttl: int = 60
) -> list[dict[str, Any]]:
    """A records ``primary``/``secondary`` for ``fqdn`` as a Route 53 PRIMARY/SECONDARY failover pair, the
    primary governed by ``health_check_id``."""
    return [
        {
            "Name": fqdn,
            "Type": "A",
            "SetIdentifier": "primary",
            "Failover": "PRIMARY",
            "TTL": ttl,
            "HealthCheckId": health_check_id,
            "ResourceRecords": [{"Value": primary}],
        },
        {
            "Name": fqdn,
            "Type": "A",
            "SetIdentifier": "secondary",
            "Failover": "SECONDARY",
            "TTL": ttl,
            "ResourceRecords": [{"Value": secondary}],
        },
    ]


def seed_failover_zone(
    sandbox: AwsSandbox,
    zone: str,
    record: str,
    *,
    primary: str,
    secondary: str,
    ttl: int = 60,
    health_check_ip: str = "192.0.2.10",
    health_check_path: str = "/healthz",
    disabled: bool = False,
    inverted: bool = False,
    extra_records: int = 0,
    tags: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A public zone with a PRIMARY/SECONDARY failover pair; the primary is governed by an HTTP health check
    (``disabled``/``inverted`` as given).

    ``primary``/``secondary`` are IPv4 addresses (A records); ``extra_records`` adds that many A records
    (``hostN.zone``), enough to force several pages of ListResourceRecordSets.
    """
    zone_id = seed_zone(sandbox, zone, tags=tags)
    config = {
        "IPAddress": health_check_ip,
        "Port": 80,
        "Type": "HTTP",
        "ResourcePath": health_check_path,
        "RequestInterval": 30,
        "FailureThreshold": 3,
        "Disabled": disabled,
        "Inverted": inverted,
    }
    hc = seed_health_check(sandbox, config, tags=tags)
    fqdn = f"{record}.{zone}".rstrip(".")
    records = failover_pair(fqdn, primary, secondary, health_check_id=hc, ttl=ttl)
    records += [
        {
            "Name": f"host{n}.{zone}".rstrip("."),
            "Type": "A",
            "TTL": 300,
            "ResourceRecords": [{"Value": f"198.51.100.{n % 250 + 1}"}],
        }
        for n in range(extra_records)
    ]
    seed_records(sandbox, zone_id, records)
    return {"zone_id": zone_id, "health_check_id": hc, "record": fqdn}


def seed_rds_with_replica(
    sandbox: AwsSandbox,
    source_region: str,
    replica_region: str,
    name: str,
    *,
    engine: str = "postgres",
    instance_class: str = "db.t3.medium",
    deletion_protection: bool = True,
    tags: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A DB instance and a cross-region read replica of it (``NAME-replica`` in ``replica_region``)."""
    src = sandbox.client("rds", source_region).create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass=instance_class,
        Engine=engine,
        MasterUsername="admin",
        MasterUserPassword="sandbox-password",
        AllocatedStorage=20,
        BackupRetentionPeriod=7,
        DeletionProtection=deletion_protection,
        Tags=_tag_list(tags) or [],
    )["DBInstance"]
    replica = sandbox.client("rds", replica_region).create_db_instance_read_replica(
        DBInstanceIdentifier=f"{name}-replica",
        SourceDBInstanceIdentifier=src["DBInstanceArn"],
        DBInstanceClass=instance_class,
        AvailabilityZone=f"{replica_region}a",  # moto would copy the source's zone
        Tags=_tag_list(tags) or [],
    )["DBInstance"]
    return {"source_arn": src["DBInstanceArn"], "replica_arn": replica["DBInstanceArn"]}


def seed_replica_lag(sandbox: AwsSandbox, region: str, lags: Mapping[str, float]) -> None:
    """Publish a current ``AWS/RDS ReplicaLag`` datapoint (seconds) per replica, as RDS does every minute
    (``-1``: replication is not running)."""
    seed_metric(sandbox, region, "ReplicaLag", "DBInstanceIdentifier", lags, unit="Seconds")


def seed_metric(
    sandbox: AwsSandbox,
    region: str,
    metric: str,
    dimension: str,
    values: Mapping[str, float],
    *,
    unit: str,
    namespace: str = "AWS/RDS",
    dimensions: Mapping[str, str] | None = None,
) -> None:
    """Publish one current ``namespace`` datapoint of ``metric`` per ``{dimension value: value}`` (plus
    the fixed ``dimensions``, e.g. DynamoDB's ``ReceivingRegion``).

    Stamped as AWS stamps its one-minute datapoints: at the start of the last complete minute, never
    "now". GetMetricData's EndTime is exclusive (and moto truncates it to the second), so a datapoint
    stamped at the reading's own second would be missed by a reader that runs in that same second.
    """
    stamp = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    fixed = [{"Name": k, "Value": v} for k, v in (dimensions or {}).items()]
    sandbox.client("cloudwatch", region).put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": dimension, "Value": name}, *fixed],
                "Timestamp": stamp,
                "Value": float(value),
                "Unit": unit,
            }
            for name, value in values.items()
        ],
    )


def seed_dynamodb_table(
    sandbox: AwsSandbox,
    region: str,
    name: str,
    *,
    replicas: Iterable[str] = (),
    replica_status: str = "ACTIVE",
    tags: Mapping[str, str] | None = None,
    deletion_protection: bool = False,
) -> str:
    """An on-demand table (hash key ``id``) and, for each of ``replicas``, a global table replica made by
    the real call (``UpdateTable`` ``ReplicaUpdates`` Create); once built DynamoDB reports a replica
    ``replica_status`` (default ACTIVE; ``CREATING`` leaves it as just created). Returns the table ARN."""
    client = sandbox.client("dynamodb", region)
    table = client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        DeletionProtectionEnabled=deletion_protection,
        **({"Tags": _tag_list(tags)} if tags else {}),
    )["TableDescription"]
    for replica in replicas:
        client.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": replica}}])
        if replica_status != "CREATING":
            sandbox.set_table_replica_status(region, name, replica, replica_status)
    return str(table["TableArn"])


def seed_legacy_global_table(
    sandbox: AwsSandbox,
    regions: Iterable[str],
    name: str,
    *,
    status: str = "ACTIVE",
    tags: Mapping[str, str] | None = None,
) -> str:
    """A version 2017.11.29 global table made by the real calls: the same table (streams on, new and old
    images) created in each of ``regions``, then ``CreateGlobalTable`` over them; once built DynamoDB
    reports it ``status`` (default ACTIVE; ``CREATING`` leaves it as just created). Returns the ARN of
    the table in the first region."""
    regions = list(regions)
    arns = [seed_dynamodb_table(sandbox, r, name, tags=tags if i == 0 else None) for i, r in enumerate(regions)]
    sandbox.client("dynamodb", regions[0]).create_global_table(
        GlobalTableName=name, ReplicationGroup=[{"RegionName": r} for r in regions]
    )
    if status != "CREATING":
        sandbox.set_global_table_status(name, status)
    return arns[0]


def seed_replication_latency(sandbox: AwsSandbox, region: str, table: str, latencies_ms: Mapping[str, float]) -> None:
    """Publish a current ``AWS/DynamoDB ReplicationLatency`` datapoint (milliseconds) in the table's
    ``region`` per receiving region, as DynamoDB does for every source and destination pair."""
    for receiving, ms in latencies_ms.items():
        seed_metric(
            sandbox,
            region,
            "ReplicationLatency",
            "TableName",
            {table: ms},
            unit="Milliseconds",
            namespace="AWS/DynamoDB",
            dimensions={"ReceivingRegion": receiving},
        )


def seed_elasticache_global(
    sandbox: AwsSandbox,
    primary_region: str,
    secondary_region: str | None,
    name: str,
    *,
    tags: Mapping[str, str] | None = None,
    member_status: str = "associated",
    node_type: str = "cache.r6g.large",
) -> dict[str, str]:
    """A Redis replication group ``NAME`` in ``primary_region`` made the primary of a global datastore
    (``CreateGlobalReplicationGroup``, suffix ``NAME``) and, with ``secondary_region``, a secondary
    ``NAME-secondary`` joined to it; once joined, ElastiCache reports the member ``member_status``
    (``associating`` while it syncs). Returns the global datastore id and the secondary's member clusters."""
    primary = sandbox.client("elasticache", primary_region)
    primary.create_replication_group(
        ReplicationGroupId=name,
        ReplicationGroupDescription=name,
        Engine="redis",
        CacheNodeType=node_type,
        NumCacheClusters=2,
        **({"Tags": _tag_list(tags)} if tags else {}),
    )
    gid = primary.create_global_replication_group(GlobalReplicationGroupIdSuffix=name, PrimaryReplicationGroupId=name)[
        "GlobalReplicationGroup"
    ]["GlobalReplicationGroupId"]
    out = {"global_id": str(gid), "secondary_clusters": ""}
    if secondary_region:
        secondary = sandbox.client("elasticache", secondary_region).create_replication_group(
            ReplicationGroupId=f"{name}-secondary",
            ReplicationGroupDescription=f"{name} secondary",
            GlobalReplicationGroupId=gid,
            NumCacheClusters=1,
            **({"Tags": _tag_list(tags)} if tags else {}),
        )["ReplicationGroup"]
        out["secondary_clusters"] = ",".join(secondary.get("MemberClusters", []))
        if member_status != "associating":
            sandbox.extras.set_datastore_member_status(str(gid), secondary_region, member_status)
    return out


def seed_global_datastore_lag(sandbox: AwsSandbox, region: str, lags_s: Mapping[str, float]) -> None:
    """Publish a current ``AWS/ElastiCache GlobalDatastoreReplicationLag`` datapoint (seconds) per cache
    cluster of a secondary, in the secondary's region."""
    seed_metric(
        sandbox,
        region,
        "GlobalDatastoreReplicationLag",
        "CacheClusterId",
        lags_s,
        unit="Seconds",
        namespace="AWS/ElastiCache",
    )


def seed_backup_replication(
    sandbox: AwsSandbox,
    source_region: str,
    region: str,
    name: str,
    *,
    restorable_age: timedelta | None = timedelta(minutes=5),
    retention_days: int = 7,
) -> str:
    """Replicate DB instance ``name``'s automated backups to ``region`` (the real call, made in the
    destination region); then, as RDS does once the first backup is copied, make them restorable up to
    ``restorable_age`` ago (``None``: still ``pending``). Returns the replicated backups' ARN."""
    source = sandbox.client("rds", source_region).describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    started = sandbox.client("rds", region).start_db_instance_automated_backups_replication(
        SourceDBInstanceArn=source["DBInstanceArn"], BackupRetentionPeriod=retention_days
    )["DBInstanceAutomatedBackup"]
    if restorable_age is not None:
        sandbox.extras.advance_backup_replication(region, source["DBInstanceArn"], datetime.now(UTC) - restorable_age)
    return str(started["DBInstanceAutomatedBackupsArn"])


def seed_aurora_global(
    sandbox: AwsSandbox,
    primary_region: str,
    secondary_region: str,
    name: str,
    *,
    engine: str = "aurora-postgresql",
    version: str = "15.4",
    deletion_protection: bool = True,
    tags: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """An Aurora global database: a writer cluster ``NAME`` in ``primary_region`` and a secondary
    cluster ``NAME-secondary`` in ``secondary_region``, one instance each."""
    sandbox.client("rds", primary_region).create_global_cluster(
        GlobalClusterIdentifier=f"{name}-global", Engine=engine, EngineVersion=version
    )
    arns = {}
    for region, cluster in ((primary_region, name), (secondary_region, f"{name}-secondary")):
        rds = sandbox.client("rds", region)
        extra: dict[str, Any] = {"MasterUsername": "admin", "MasterUserPassword": "sandbox-password"}
        if region != primary_region:
            extra = {}
        arns[cluster] = rds.create_db_cluster(
            DBClusterIdentifier=cluster,
            Engine=engine,
            EngineVersion=version,
            GlobalClusterIdentifier=f"{name}-global",
            DeletionProtection=deletion_protection,
            Tags=_tag_list(tags),
            **extra,
        )["DBCluster"]["DBClusterArn"]
        rds.create_db_instance(
            DBInstanceIdentifier=f"{cluster}-1",
            DBClusterIdentifier=cluster,
            DBInstanceClass="db.r6g.large",
            Engine=engine,
            Tags=_tag_list(tags),
        )
    return {"primary_arn": arns[name], "secondary_arn": arns[f"{name}-secondary"]}


def seed_buckets(
    sandbox: AwsSandbox,
    source: str,
    source_region: str,
    *,
    replica: str | None = None,
    replica_region: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> list[str]:
    """A versioned bucket, and (with ``replica``) a versioned destination it replicates to."""
    made = []
    for bucket, region in ((source, source_region), (replica, replica_region or source_region)):
        if bucket is None:
            continue
        s3 = sandbox.client("s3", region)
        params: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**params)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        if tags:
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _tag_list(tags)})
        made.append(bucket)
    if replica:
        sandbox.client("s3", source_region).put_bucket_replication(
            Bucket=source,
            ReplicationConfiguration={
                "Role": "arn:aws:iam::123456789012:role/replication",
                "Rules": [
                    {
                        "ID": "to-replica",
                        "Status": "Enabled",
                        "Priority": 1,
                        "Filter": {"Prefix": ""},
                        "DeleteMarkerReplication": {"Status": "Disabled"},
                        "Destination": {"Bucket": f"arn:aws:s3:::{replica}"},
                    }
                ],
            },
        )
    return made


def seed_accelerator(
    sandbox: AwsSandbox,
    name: str,
    *,
    groups: Iterable[Mapping[str, Any]] = (),
    protocol: str = "TCP",
    ports: Iterable[int] = (443,),
    client_affinity: str = "NONE",
    enabled: bool = True,
    ip_address_type: str = "IPV4",
    health: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A standard accelerator with one listener (``protocol`` on ``ports``) and its endpoint ``groups``
    (``CreateEndpointGroup`` parameters: ``EndpointGroupRegion``, ``EndpointConfigurations``,
    ``TrafficDialPercentage``, ``HealthCheckIntervalSeconds``, ``ThresholdCount``, …), made by the real
    calls against the us-west-2 API; then what Global Accelerator does on its own: the accelerator is
    deployed and every endpoint's health checks report ``health[endpoint id]`` (default ``HEALTHY``).
    Returns its ARN, DNS names, static IPs, listener ARN and endpoint group ARNs by region."""
    ga = sandbox.client("globalaccelerator", "us-west-2")
    acc = ga.create_accelerator(
        Name=name,
        IpAddressType=ip_address_type,
        Enabled=enabled,
        **({"Tags": _tag_list(tags)} if tags else {}),
    )["Accelerator"]
    listener = ga.create_listener(
        AcceleratorArn=acc["AcceleratorArn"],
        Protocol=protocol,
        ClientAffinity=client_affinity,
        PortRanges=[{"FromPort": p, "ToPort": p} for p in ports],
    )["Listener"]
    made = {}
    for g in groups:
        group = ga.create_endpoint_group(ListenerArn=listener["ListenerArn"], **dict(g))["EndpointGroup"]
        made[group["EndpointGroupRegion"]] = group["EndpointGroupArn"]
        for e in group["EndpointDescriptions"]:
            state = (health or {}).get(e["EndpointId"], "HEALTHY")
            sandbox.set_endpoint_health(e["EndpointId"], state, group_arn=group["EndpointGroupArn"])
    sandbox.set_accelerator_status(acc["AcceleratorArn"], "DEPLOYED")
    return {
        "arn": acc["AcceleratorArn"],
        "dns_name": acc["DnsName"],
        "dual_stack_dns_name": acc.get("DualStackDnsName"),
        "ips": [ip for s in acc["IpSets"] for ip in s["IpAddresses"]],
        "listener_arn": listener["ListenerArn"],
        "groups": made,
    }


_SEEDERS: dict[str, Callable[..., Any]] = {
    "instances": seed_instances,
    "auto_scaling_groups": seed_auto_scaling_group,
    "load_balancers": seed_load_balancer,
    "failover_zones": seed_failover_zone,
    "rds_replicas": seed_rds_with_replica,
    "buckets": seed_buckets,
    "replica_lag": seed_replica_lag,
    "zones": seed_zone,
    "health_checks": seed_health_check,
    "alarms": seed_alarm,
    "warm_pools": seed_warm_pool,
    "backup_replications": seed_backup_replication,
    "aurora_globals": seed_aurora_global,
    "dynamodb_tables": seed_dynamodb_table,
    "replication_latency": seed_replication_latency,
    "elasticache_globals": seed_elasticache_global,
    "global_datastore_lag": seed_global_datastore_lag,
    "accelerators": seed_accelerator,
}


def seed(sandbox: AwsSandbox, spec: Mapping[str, list[Mapping[str, Any]]]) -> dict[str, list[Any]]:
    """Seed from plain data: ``{"instances": [{"region": "us-east-1", "count": 2, "tags": {…}}], …}``.

    Keys are ``instances``, ``auto_scaling_groups``, ``load_balancers``, ``failover_zones``,
    ``rds_replicas``, ``buckets``, ``replica_lag``, ``zones``, ``health_checks``, ``alarms``,
    ``warm_pools``, ``backup_replications``, ``aurora_globals``, ``dynamodb_tables``, ``replication_latency``,
    ``elasticache_globals``, ``global_datastore_lag``, ``accelerators``; each item holds the keyword arguments
    of the matching ``seed_*`` function (positional ones by name). Returns what each seeder returned,
    by key.
    """
    unknown = set(spec) - set(_SEEDERS)
    if unknown:
        raise ValueError(f"unknown seed keys {sorted(unknown)}; known: {', '.join(_SEEDERS)}")
    out: dict[str, list[Any]] = {}
    for key, items in spec.items():
        out[key] = [_SEEDERS[key](sandbox, **dict(item)) for item in items]
    return out
