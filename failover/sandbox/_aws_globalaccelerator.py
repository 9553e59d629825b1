"""AWS Global Accelerator, which moto 5.2 does not emulate at all, served in front of it.

Speaks the real wire protocol (JSON 1.1, ``X-Amz-Target: GlobalAccelerator_V20180706.<Operation>``,
errors as ``{"__type": code, "Message": …}`` with HTTP 400), answered only in us-west-2 as the real API
is (a request signed for another region is refused as AWS refuses it). Every answer is built from
botocore's output shapes (``check_json``: no member the SDK does not declare, no enum value it does
not list). Standard accelerators only: accelerators, listeners, endpoint groups and their endpoints,
tags and attributes; custom routing, BYOIP and cross-account attachments answer ``NotImplemented``.

What the real service does on its own is set through methods (``set_accelerator_status``: an
accelerator is ``IN_PROGRESS`` after every change until deployed; ``set_endpoint_health``: an endpoint
is ``INITIAL`` until its health checks say ``HEALTHY`` or ``UNHEALTHY``). Endpoints must exist when they
are added (EC2 instances, Elastic IP allocations and load balancers are looked up in moto, in the
endpoint group's region), as the real service requires.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from failover.sandbox import _aws_wire_xml as wire
from failover.sandbox._aws_wire import WireRequest

Reply = tuple[str, list[tuple[str, str]], bytes]
MotoCall = Callable[[str, str, dict[str, str]], tuple[int, bytes]]  # (service, region, params) -> (status, body)

SERVICE = "globalaccelerator"
TARGET_PREFIX = "GlobalAccelerator_V20180706"
API_REGION = "us-west-2"  # the only region the Global Accelerator API is served from
PAGE_SIZE = 10  # MaxResults default for every List operation
DEFAULTS = {"TrafficDialPercentage": 100.0, "HealthCheckProtocol": "TCP", "HealthCheckIntervalSeconds": 30}
DEFAULT_THRESHOLD = 3
DEFAULT_WEIGHT = 128
# Global Accelerator hands out its static IPv4 addresses from two Amazon ranges (one per network zone).
_IPV4_BASES = ((75, 2), (99, 83))
_INSTANCE = re.compile(r"^i-[0-9a-f]{8,17}$")
_EIP = re.compile(r"^eipalloc-[0-9a-f]{8,17}$")
_LB = re.compile(r"^arn:aws:elasticloadbalancing:([a-z0-9-]+):\d{12}:loadbalancer/(app|net)/[^/]+/[0-9a-f]+$")


class GaError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class _Listener:
    data: dict[str, Any]  # Listener shape
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # arn -> EndpointGroup shape


@dataclass
class _Accelerator:
    data: dict[str, Any]  # Accelerator shape
    tags: list[dict[str, str]] = field(default_factory=list)
    flow_logs: dict[str, Any] = field(default_factory=lambda: {"FlowLogsEnabled": False})
    listeners: dict[str, _Listener] = field(default_factory=dict)


def _now() -> float:
    return datetime.now(UTC).timestamp()


def _hex(n: int) -> str:
    return uuid.uuid4().hex[:n]


@dataclass
class GlobalAcceleratorService:
    """The accelerators of every account (by the caller's account), thread-safe."""

    accounts: dict[str, dict[str, _Accelerator]] = field(default_factory=dict)
    _addresses: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.accounts.clear()

    # ---- what the service does on its own
    def set_accelerator_status(self, arn: str, status: str = "DEPLOYED") -> None:
        wire.check_json(SERVICE, "Accelerator", {"Status": status})
        with self._lock:
            self._find_accelerator(arn).data["Status"] = status

    def set_endpoint_health(self, endpoint_id: str, state: str, *, group_arn: str | None = None) -> None:
        """The ``HealthState`` Global Accelerator reports for an endpoint (in every group, or one)."""
        wire.check_json(SERVICE, "EndpointDescription", {"HealthState": state})
        found = False
        with self._lock:
            for acc in (a for accs in self.accounts.values() for a in accs.values()):
                for lst in acc.listeners.values():
                    for arn, group in lst.groups.items():
                        if group_arn is not None and arn != group_arn:
                            continue
                        for e in group["EndpointDescriptions"]:
                            if e["EndpointId"] == endpoint_id:
                                e["HealthState"], found = state, True
        if not found:
            raise KeyError(f"no endpoint {endpoint_id}")

    # ---- the wire
    @staticmethod
    def handles(req: WireRequest) -> bool:
        return req.service == SERVICE

    def answer(self, req: WireRequest, body: bytes, moto: MotoCall) -> Reply:
        try:
            if req.region != API_REGION:
                raise GaError(
                    "InvalidSignatureException", f"Credential should be scoped to a valid region, not '{req.region}'."
                )
            handler = _HANDLERS.get(req.operation)
            if handler is None:
                return _reply("501 Not Implemented", {"__type": "NotImplemented", "Message": _unsupported(req)})
            params = json.loads(body or b"{}")
            from moto.iam.models import get_account_id_from

            account = get_account_id_from(req.access_key)
            with self._lock:
                out = handler(self, _Call(account, params, moto))
            op = wire.model(SERVICE).operation_model(req.operation)
            if op.output_shape is not None:
                wire.check_json(SERVICE, op.output_shape.name, out)
            return _reply("200 OK", out)
        except GaError as err:
            return _reply("400 Bad Request", {"__type": err.code, "Message": err.message})

    # ---- lookups (under the lock)
    def _find_accelerator(self, arn: str, account: str | None = None) -> _Accelerator:
        for acct, accs in self.accounts.items():
            if (account is None or acct == account) and arn in accs:
                return accs[arn]
        raise GaError("AcceleratorNotFoundException", f"Accelerator {arn} was not found.")

    def _find_listener(self, account: str, arn: str) -> tuple[_Accelerator, _Listener]:
        acc_arn = arn.split("/listener/")[0]
        try:
            acc = self._find_accelerator(acc_arn, account)
        except GaError:
            raise GaError("ListenerNotFoundException", f"Listener {arn} was not found.") from None
        if arn not in acc.listeners:
            raise GaError("ListenerNotFoundException", f"Listener {arn} was not found.")
        return acc, acc.listeners[arn]

    def _find_group(self, account: str, arn: str) -> tuple[_Accelerator, _Listener, dict[str, Any]]:
        try:
            acc, lst = self._find_listener(account, arn.split("/endpoint-group/")[0])
        except GaError:
            raise GaError("EndpointGroupNotFoundException", f"Endpoint group {arn} was not found.") from None
        if arn not in lst.groups:
            raise GaError("EndpointGroupNotFoundException", f"Endpoint group {arn} was not found.")
        return acc, lst, lst.groups[arn]

    def _static_ips(self, family: str) -> list[str]:
        self._addresses += 1
        n = self._addresses
        if family == "IPv6":
            return [f"2600:9000:a{i}{n % 0xFFF:03x}::{n % 0xFFFF:x}" for i in (1, 2)]
        return [f"{a}.{b}.{(n >> 8) % 128}.{n % 256}" for a, b in _IPV4_BASES]


@dataclass(frozen=True)
class _Call:
    account: str
    params: dict[str, Any]
    moto: MotoCall

    def arg(self, name: str) -> Any:
        return self.params.get(name)


def _reply(status: str, value: dict[str, Any]) -> Reply:
    body = json.dumps(value).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    ]
    return status, headers, body


def _unsupported(req: WireRequest) -> str:
    return f"the sandbox does not emulate Global Accelerator {req.operation}"


def _page(items: list[dict[str, Any]], call: _Call, key: str) -> dict[str, Any]:
    size = int(call.arg("MaxResults") or PAGE_SIZE)
    token = call.arg("NextToken")
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except ValueError:
            raise GaError("InvalidNextTokenException", "The nextToken is not valid.") from None
        if not 0 <= start <= len(items):
            raise GaError("InvalidNextTokenException", "The nextToken is not valid.")
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return out


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


# ---- accelerators ---------------------------------------------------------------------------------


def _ip_sets(svc: GlobalAcceleratorService, ip_type: str, given: list[str] | None) -> list[dict[str, Any]]:
    v4 = svc._static_ips("IPv4")
    if given:
        v4 = [*given[:2], *v4][:2]
    sets = [{"IpFamily": "IPv4", "IpAddresses": v4, "IpAddressFamily": "IPv4"}]
    if ip_type == "DUAL_STACK":
        sets.append({"IpFamily": "IPv6", "IpAddresses": svc._static_ips("IPv6"), "IpAddressFamily": "IPv6"})
    return sets


def _check_ip_type(value: Any) -> str:
    ip_type = str(value or "IPV4")
    if ip_type not in ("IPV4", "DUAL_STACK"):
        raise GaError("InvalidArgumentException", f"IpAddressType {ip_type} is not valid for a standard accelerator.")
    return ip_type


def create_accelerator(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    ip_type = _check_ip_type(call.arg("IpAddressType"))
    accs = svc.accounts.setdefault(call.account, {})
    token = call.arg("IdempotencyToken")
    for acc in accs.values():  # the same token answers the accelerator it already made
        if token and acc.data.get("_token") == token:
            return {"Accelerator": _public(acc.data)}
    arn = f"arn:aws:globalaccelerator::{call.account}:accelerator/{uuid.uuid4()}"
    host = f"a{_hex(16)}"
    now = _now()
    data: dict[str, Any] = {
        "AcceleratorArn": arn,
        "Name": str(call.arg("Name")),
        "IpAddressType": ip_type,
        "Enabled": bool(call.arg("Enabled") if call.arg("Enabled") is not None else True),
        "IpSets": _ip_sets(svc, ip_type, call.arg("IpAddresses")),
        "DnsName": f"{host}.awsglobalaccelerator.com",
        "Status": "IN_PROGRESS",
        "CreatedTime": now,
        "LastModifiedTime": now,
        "_host": host,
        "_token": token,
    }
    if ip_type == "DUAL_STACK":
        data["DualStackDnsName"] = f"{host}.dualstack.awsglobalaccelerator.com"
    accs[arn] = _Accelerator(data=data, tags=list(call.arg("Tags") or []))
    return {"Accelerator": _public(data)}


def _public(data: dict[str, Any]) -> dict[str, Any]:
    return _copy({k: v for k, v in data.items() if not k.startswith("_")})


def describe_accelerator(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    return {"Accelerator": _public(svc._find_accelerator(call.arg("AcceleratorArn"), call.account).data)}


def list_accelerators(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    accs = svc.accounts.get(call.account, {})
    items = [_public(a.data) for a in sorted(accs.values(), key=lambda a: a.data["CreatedTime"])]
    return _page(items, call, "Accelerators")


def update_accelerator(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc = svc._find_accelerator(call.arg("AcceleratorArn"), call.account)
    data = acc.data
    if call.arg("Name") is not None:
        data["Name"] = call.arg("Name")
    if call.arg("Enabled") is not None:
        data["Enabled"] = bool(call.arg("Enabled"))
    if call.arg("IpAddressType") is not None:
        ip_type = _check_ip_type(call.arg("IpAddressType"))
        if ip_type != data["IpAddressType"]:
            data["IpAddressType"] = ip_type
            if ip_type == "DUAL_STACK":
                data["IpSets"].append(
                    {"IpFamily": "IPv6", "IpAddresses": svc._static_ips("IPv6"), "IpAddressFamily": "IPv6"}
                )
                data["DualStackDnsName"] = f"{data['_host']}.dualstack.awsglobalaccelerator.com"
            else:
                data["IpSets"] = [s for s in data["IpSets"] if s["IpAddressFamily"] == "IPv4"]
                data.pop("DualStackDnsName", None)
            events = data.setdefault("Events", [])
            events.append({"Message": f"IP address type changed to {ip_type}", "Timestamp": _now()})
            del events[:-10]  # Global Accelerator keeps at most ten events
    data["Status"], data["LastModifiedTime"] = "IN_PROGRESS", _now()
    return {"Accelerator": _public(data)}


def delete_accelerator(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    arn = call.arg("AcceleratorArn")
    acc = svc._find_accelerator(arn, call.account)
    if acc.data["Enabled"]:
        raise GaError("AcceleratorNotDisabledException", "The accelerator must be disabled before it is deleted.")
    if acc.listeners:
        raise GaError("AssociatedListenerFoundException", "The accelerator has listeners; delete them first.")
    del svc.accounts[call.account][arn]
    return {}


def describe_accelerator_attributes(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc = svc._find_accelerator(call.arg("AcceleratorArn"), call.account)
    return {"AcceleratorAttributes": _copy(acc.flow_logs)}


def list_tags(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    return {"Tags": _copy(svc._find_accelerator(call.arg("ResourceArn"), call.account).tags)}


def tag_resource(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc = svc._find_accelerator(call.arg("ResourceArn"), call.account)
    new = {t["Key"]: t["Value"] for t in call.arg("Tags") or []}
    acc.tags = [t for t in acc.tags if t["Key"] not in new] + [{"Key": k, "Value": v} for k, v in new.items()]
    return {}


def untag_resource(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc = svc._find_accelerator(call.arg("ResourceArn"), call.account)
    gone = set(call.arg("TagKeys") or [])
    acc.tags = [t for t in acc.tags if t["Key"] not in gone]
    return {}


# ---- listeners ------------------------------------------------------------------------------------


def _port_ranges(value: Any) -> list[dict[str, int]]:
    ranges = [{"FromPort": int(r["FromPort"]), "ToPort": int(r["ToPort"])} for r in value or []]
    if not ranges or any(r["FromPort"] > r["ToPort"] for r in ranges):
        raise GaError("InvalidPortRangeException", "The port numbers and port ranges are not valid.")
    return ranges


def create_listener(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc = svc._find_accelerator(call.arg("AcceleratorArn"), call.account)
    protocol, affinity = call.arg("Protocol"), call.arg("ClientAffinity") or "NONE"
    data = {
        "ListenerArn": f"{acc.data['AcceleratorArn']}/listener/{_hex(8)}",
        "PortRanges": _port_ranges(call.arg("PortRanges")),
        "Protocol": protocol,
        "ClientAffinity": affinity,
    }
    wire.check_json(SERVICE, "Listener", data)
    acc.listeners[data["ListenerArn"]] = _Listener(data=data)
    acc.data["Status"] = "IN_PROGRESS"
    return {"Listener": _copy(data)}


def describe_listener(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    return {"Listener": _copy(svc._find_listener(call.account, call.arg("ListenerArn"))[1].data)}


def list_listeners(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc = svc._find_accelerator(call.arg("AcceleratorArn"), call.account)
    return _page([_copy(lst.data) for lst in acc.listeners.values()], call, "Listeners")


def delete_listener(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc, lst = svc._find_listener(call.account, call.arg("ListenerArn"))
    if lst.groups:
        raise GaError("AssociatedEndpointGroupFoundException", "The listener has endpoint groups; delete them first.")
    del acc.listeners[lst.data["ListenerArn"]]
    acc.data["Status"] = "IN_PROGRESS"
    return {}


# ---- endpoint groups and endpoints ----------------------------------------------------------------


def _endpoint_kind(endpoint_id: str, region: str) -> str:
    if _INSTANCE.match(endpoint_id):
        return "instance"
    if _EIP.match(endpoint_id):
        return "eip"
    m = _LB.match(endpoint_id)
    if m and m.group(1) == region:
        return m.group(2)
    raise GaError(
        "InvalidArgumentException",
        f"Endpoint {endpoint_id} is not an EC2 instance, Elastic IP allocation, Application Load Balancer or "
        f"Network Load Balancer in {region}.",
    )


def _exists(call: _Call, endpoint_id: str, kind: str, region: str) -> bool:
    """Is the endpoint a live resource in ``region`` (asked of moto, where the sandbox keeps them)?"""
    if kind == "instance":
        status, body = call.moto("ec2", region, {"Action": "DescribeInstances", "InstanceId.1": endpoint_id})
        return status == 200 and b"<instanceId>" in body and b"<name>terminated</name>" not in body
    if kind == "eip":
        status, body = call.moto("ec2", region, {"Action": "DescribeAddresses", "AllocationId.1": endpoint_id})
        return status == 200 and b"<allocationId>" in body
    status, body = call.moto(
        "elbv2", region, {"Action": "DescribeLoadBalancers", "LoadBalancerArns.member.1": endpoint_id}
    )
    return status == 200 and b"<LoadBalancerArn>" in body


def _endpoints(call: _Call, configs: Any, region: str, old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """EndpointDescriptions for ``configs`` (EndpointConfiguration shapes); an endpoint already in the group
    keeps its health."""
    known = {e["EndpointId"]: e for e in old}
    out: dict[str, dict[str, Any]] = {}
    for c in configs or []:
        eid = str(c.get("EndpointId") or "")
        kind = _endpoint_kind(eid, region)
        if not _exists(call, eid, kind, region):
            raise GaError("InvalidArgumentException", f"Endpoint {eid} was not found in {region} or is not active.")
        weight = c.get("Weight")
        preserve = c.get("ClientIPPreservationEnabled")
        prior = known.get(eid, {})
        out[eid] = {
            "EndpointId": eid,
            "Weight": int(weight if weight is not None else prior.get("Weight", DEFAULT_WEIGHT)),
            "HealthState": prior.get("HealthState", "INITIAL"),
            "ClientIPPreservationEnabled": bool(
                preserve
                if preserve is not None
                else prior.get("ClientIPPreservationEnabled", kind in ("app", "instance"))
            ),
        }
    return list(out.values())


def _health_settings(call: _Call, group: dict[str, Any]) -> None:
    for key in ("TrafficDialPercentage", "HealthCheckPort", "HealthCheckProtocol", "ThresholdCount", "PortOverrides"):
        if call.arg(key) is not None:
            group[key] = call.arg(key)
    if call.arg("HealthCheckIntervalSeconds") is not None:
        if int(call.arg("HealthCheckIntervalSeconds")) not in (10, 30):
            raise GaError("InvalidArgumentException", "HealthCheckIntervalSeconds must be 10 or 30.")
        group["HealthCheckIntervalSeconds"] = int(call.arg("HealthCheckIntervalSeconds"))
    if group["HealthCheckProtocol"] in ("HTTP", "HTTPS"):
        group["HealthCheckPath"] = call.arg("HealthCheckPath") or group.get("HealthCheckPath") or "/"
    else:
        group.pop("HealthCheckPath", None)
    group["TrafficDialPercentage"] = float(group["TrafficDialPercentage"])


def create_endpoint_group(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc, lst = svc._find_listener(call.account, call.arg("ListenerArn"))
    region = str(call.arg("EndpointGroupRegion"))
    if any(g["EndpointGroupRegion"] == region for g in lst.groups.values()):
        raise GaError("EndpointGroupAlreadyExistsException", f"The listener already has an endpoint group in {region}.")
    group: dict[str, Any] = {
        "EndpointGroupArn": f"{lst.data['ListenerArn']}/endpoint-group/{_hex(12)}",
        "EndpointGroupRegion": region,
        "EndpointDescriptions": [],
        **DEFAULTS,
        "HealthCheckPort": lst.data["PortRanges"][0]["FromPort"],
        "ThresholdCount": DEFAULT_THRESHOLD,
        "PortOverrides": [],
    }
    _health_settings(call, group)
    group["EndpointDescriptions"] = _endpoints(call, call.arg("EndpointConfigurations"), region, [])
    lst.groups[group["EndpointGroupArn"]] = group
    acc.data["Status"] = "IN_PROGRESS"
    return {"EndpointGroup": _copy(group)}


def describe_endpoint_group(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    return {"EndpointGroup": _copy(svc._find_group(call.account, call.arg("EndpointGroupArn"))[2])}


def list_endpoint_groups(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    _, lst = svc._find_listener(call.account, call.arg("ListenerArn"))
    return _page([_copy(g) for g in lst.groups.values()], call, "EndpointGroups")


def update_endpoint_group(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc, _, group = svc._find_group(call.account, call.arg("EndpointGroupArn"))
    updated = _copy(group)
    _health_settings(call, updated)
    if call.arg("EndpointConfigurations") is not None:  # the list replaces the group's endpoints
        updated["EndpointDescriptions"] = _endpoints(
            call, call.arg("EndpointConfigurations"), group["EndpointGroupRegion"], group["EndpointDescriptions"]
        )
    group.clear()
    group.update(updated)
    acc.data["Status"] = "IN_PROGRESS"
    return {"EndpointGroup": _copy(group)}


def delete_endpoint_group(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc, lst, group = svc._find_group(call.account, call.arg("EndpointGroupArn"))
    del lst.groups[group["EndpointGroupArn"]]
    acc.data["Status"] = "IN_PROGRESS"
    return {}


def add_endpoints(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc, _, group = svc._find_group(call.account, call.arg("EndpointGroupArn"))
    old = group["EndpointDescriptions"]
    added = _endpoints(call, call.arg("EndpointConfigurations"), group["EndpointGroupRegion"], old)
    ids = {e["EndpointId"] for e in added}
    group["EndpointDescriptions"] = [e for e in old if e["EndpointId"] not in ids] + added
    acc.data["Status"] = "IN_PROGRESS"
    return {"EndpointDescriptions": _copy(added), "EndpointGroupArn": group["EndpointGroupArn"]}


def remove_endpoints(svc: GlobalAcceleratorService, call: _Call) -> dict[str, Any]:
    acc, _, group = svc._find_group(call.account, call.arg("EndpointGroupArn"))
    gone = {str(i.get("EndpointId")) for i in call.arg("EndpointIdentifiers") or []}
    missing = gone - {e["EndpointId"] for e in group["EndpointDescriptions"]}
    if missing:
        raise GaError("InvalidArgumentException", f"Endpoints {', '.join(sorted(missing))} are not in the group.")
    group["EndpointDescriptions"] = [e for e in group["EndpointDescriptions"] if e["EndpointId"] not in gone]
    acc.data["Status"] = "IN_PROGRESS"
    return {}


_HANDLERS: dict[str, Callable[[GlobalAcceleratorService, _Call], dict[str, Any]]] = {
    "CreateAccelerator": create_accelerator,
    "DescribeAccelerator": describe_accelerator,
    "ListAccelerators": list_accelerators,
    "UpdateAccelerator": update_accelerator,
    "DeleteAccelerator": delete_accelerator,
    "DescribeAcceleratorAttributes": describe_accelerator_attributes,
    "ListTagsForResource": list_tags,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "CreateListener": create_listener,
    "DescribeListener": describe_listener,
    "ListListeners": list_listeners,
    "DeleteListener": delete_listener,
    "CreateEndpointGroup": create_endpoint_group,
    "DescribeEndpointGroup": describe_endpoint_group,
    "ListEndpointGroups": list_endpoint_groups,
    "UpdateEndpointGroup": update_endpoint_group,
    "DeleteEndpointGroup": delete_endpoint_group,
    "AddEndpoints": add_endpoints,
    "RemoveEndpoints": remove_endpoints,
}
SERVED = frozenset(_HANDLERS)  # the operations answered (the conformance test covers each)
