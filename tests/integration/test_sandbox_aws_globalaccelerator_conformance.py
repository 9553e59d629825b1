"""The Global Accelerator emulator answers as the real API does: every operation it serves is called here
through the real boto3 client, and its raw JSON body is checked against botocore's output shape (every
member declared, types, enums and ranges as the model gives them); every error it raises is one the
operation declares, with the error shape's members. An operation the emulator serves without a check
here, or one the reader calls that is not covered, fails the suite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.model import ListShape, OperationModel, Shape, StructureShape

from failover.sandbox._aws_globalaccelerator import SERVED
from failover.sandbox.aws import AwsSandbox, seed_instances, seed_load_balancer
from failover.schema import Account
from providers.aws import AwsAdapter

_NUMBERS = {"integer": int, "long": int, "float": (int, float), "double": (int, float)}


def violations(shape: Shape, value: Any, where: str) -> list[str]:
    """Where ``value`` (decoded JSON) does not fit botocore's ``shape``."""
    out: list[str] = []
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{where}: expected an object for {shape.name}"]
        out += [f"{where}.{k}: not a member of {shape.name}" for k in value if k not in shape.members]
        out += [f"{where}.{k}: required by {shape.name}" for k in shape.required_members if k not in value]
        for k, sub in value.items():
            if k in shape.members:
                out += violations(shape.members[k], sub, f"{where}.{k}")
        return out
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        for i, sub in enumerate(value):
            out += violations(shape.member, sub, f"{where}[{i}]")
        return out
    t, meta = shape.type_name, shape.metadata
    if t == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string"]
        if getattr(shape, "enum", None) and value not in shape.enum:  # type: ignore[attr-defined]
            out.append(f"{where}: {value!r} not in {shape.enum}")  # type: ignore[attr-defined]
        if "max" in meta and len(value) > meta["max"]:
            out.append(f"{where}: longer than {meta['max']}")
        if "min" in meta and len(value) < meta["min"]:
            out.append(f"{where}: shorter than {meta['min']}")
    elif t == "boolean":
        if not isinstance(value, bool):
            out.append(f"{where}: expected a boolean")
    elif t == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            out.append(f"{where}: expected epoch seconds")
    elif t in _NUMBERS:
        if isinstance(value, bool) or not isinstance(value, _NUMBERS[t]):
            out.append(f"{where}: expected {t}")
        elif ("min" in meta and value < meta["min"]) or ("max" in meta and value > meta["max"]):
            out.append(f"{where}: {value} outside [{meta.get('min')}, {meta.get('max')}]")
    return out


class Recorder:
    """Every raw answer the client got, by operation (success bodies and error bodies)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.answers: list[tuple[OperationModel, int, dict[str, Any]]] = []
        client.meta.events.register("after-call.global-accelerator", self._after)
        client.meta.events.register("after-call-error.global-accelerator", self._error)

    def _after(self, http_response: Any, model: OperationModel, **_: Any) -> None:
        self.answers.append((model, http_response.status_code, json.loads(http_response.content or b"{}")))

    def _error(self, exception: Any, context: Any = None, **_: Any) -> None:  # transport errors: none expected
        raise AssertionError(f"transport error {exception!r}")


@pytest.fixture
def recorded(aws_sandbox: AwsSandbox) -> Iterator[Recorder]:
    sb = aws_sandbox
    [east] = seed_instances(sb, "us-east-1")
    west = seed_instances(sb, "us-west-2", count=2)
    lb = seed_load_balancer(sb, "us-west-2", "web", instance_ids=west)
    ec2 = sb.client("ec2", "us-east-1")
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ga = sb.client("globalaccelerator", "us-west-2")
    rec = Recorder(ga)

    def fails(code: str, call: Any, **kw: Any) -> None:
        with pytest.raises(ClientError) as err:
            call(**kw)
        assert err.value.response["Error"]["Code"] == code

    acc = ga.create_accelerator(Name="web", IpAddressType="DUAL_STACK", Tags=[{"Key": "app", "Value": "web"}])
    arn = acc["Accelerator"]["AcceleratorArn"]
    second = ga.create_accelerator(Name="spare", Enabled=False)["Accelerator"]["AcceleratorArn"]
    ga.update_accelerator(AcceleratorArn=arn, Name="web-1", IpAddressType="IPV4")
    ga.update_accelerator(AcceleratorArn=arn, IpAddressType="DUAL_STACK")
    ga.describe_accelerator(AcceleratorArn=arn)
    ga.describe_accelerator_attributes(AcceleratorArn=arn)
    first = ga.list_accelerators(MaxResults=1)
    ga.list_accelerators(MaxResults=1, NextToken=first["NextToken"])
    fails("InvalidNextTokenException", ga.list_accelerators, NextToken="bm90LWEtbnVtYmVy")
    fails("AcceleratorNotFoundException", ga.describe_accelerator, AcceleratorArn=f"{arn}0")
    ga.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "edge"}])
    ga.untag_resource(ResourceArn=arn, TagKeys=["team"])
    ga.list_tags_for_resource(ResourceArn=arn)
    bad = [{"FromPort": 90, "ToPort": 80}]  # from above to
    fails("InvalidPortRangeException", ga.create_listener, AcceleratorArn=arn, Protocol="TCP", PortRanges=bad)
    lst = ga.create_listener(
        AcceleratorArn=arn, Protocol="TCP", ClientAffinity="SOURCE_IP", PortRanges=[{"FromPort": 80, "ToPort": 81}]
    )["Listener"]["ListenerArn"]
    ga.describe_listener(ListenerArn=lst)
    ga.list_listeners(AcceleratorArn=arn)
    fails("ListenerNotFoundException", ga.describe_listener, ListenerArn=f"{lst}0")
    group = ga.create_endpoint_group(
        ListenerArn=lst,
        EndpointGroupRegion="us-east-1",
        HealthCheckProtocol="HTTPS",
        HealthCheckIntervalSeconds=10,
        ThresholdCount=2,
        PortOverrides=[{"ListenerPort": 80, "EndpointPort": 8080}],
        EndpointConfigurations=[{"EndpointId": east, "Weight": 200}],
    )["EndpointGroup"]["EndpointGroupArn"]
    fails(
        "EndpointGroupAlreadyExistsException",
        ga.create_endpoint_group,
        ListenerArn=lst,
        EndpointGroupRegion="us-east-1",
    )
    fails(
        "InvalidArgumentException",
        ga.create_endpoint_group,
        ListenerArn=lst,
        EndpointGroupRegion="us-west-2",
        HealthCheckIntervalSeconds=20,
    )
    other = ga.create_endpoint_group(
        ListenerArn=lst, EndpointGroupRegion="us-west-2", EndpointConfigurations=[{"EndpointId": lb["arn"]}]
    )["EndpointGroup"]["EndpointGroupArn"]
    ga.add_endpoints(EndpointGroupArn=group, EndpointConfigurations=[{"EndpointId": eip, "Weight": 0}])
    fails(
        "InvalidArgumentException",
        ga.add_endpoints,
        EndpointGroupArn=group,
        EndpointConfigurations=[{"EndpointId": "i-0123456789abcdef0"}],
    )
    sb.set_endpoint_health(east, "UNHEALTHY")
    ga.update_endpoint_group(EndpointGroupArn=other, TrafficDialPercentage=0)
    ga.describe_endpoint_group(EndpointGroupArn=group)
    ga.list_endpoint_groups(ListenerArn=lst, MaxResults=1)
    fails("EndpointGroupNotFoundException", ga.describe_endpoint_group, EndpointGroupArn=f"{group}0")
    fails("AssociatedEndpointGroupFoundException", ga.delete_listener, ListenerArn=lst)
    fails("AcceleratorNotDisabledException", ga.delete_accelerator, AcceleratorArn=arn)
    ga.remove_endpoints(EndpointGroupArn=group, EndpointIdentifiers=[{"EndpointId": eip}])
    ga.delete_endpoint_group(EndpointGroupArn=other)
    spare = ga.create_listener(AcceleratorArn=second, Protocol="UDP", PortRanges=[{"FromPort": 53, "ToPort": 53}])
    fails("AssociatedListenerFoundException", ga.delete_accelerator, AcceleratorArn=second)
    ga.delete_listener(ListenerArn=spare["Listener"]["ListenerArn"])
    ga.delete_accelerator(AcceleratorArn=second)
    yield rec


def test_every_answer_fits_the_botocore_model(recorded: Recorder) -> None:
    problems = []
    for op, status, body in recorded.answers:
        if status == 200:
            problems += violations(op.output_shape, body, op.name) if op.output_shape else []
            continue
        code = str(body.get("__type", "")).rsplit("#", 1)[-1]
        declared = {e.name: e for e in op.error_shapes}
        if code not in declared:
            problems.append(f"{op.name}: {code} is not an error it declares ({', '.join(declared)})")
            continue
        problems += violations(declared[code], {k: v for k, v in body.items() if k != "__type"}, f"{op.name}!{code}")
    assert problems == []


def test_every_served_operation_is_checked(recorded: Recorder) -> None:
    called = {op.name for op, status, _ in recorded.answers if status == 200}
    assert SERVED - called == set(), "served but never checked here"


def test_every_call_the_reader_makes_is_covered(recorded: Recorder, aws_sandbox: AwsSandbox) -> None:
    aws_sandbox.clear_requests()
    account = Account(**aws_sandbox.account("aws-local", ["us-east-1", "us-west-2"]))
    inventory = AwsAdapter(services=("globalaccelerator",)).inventory(account)
    assert inventory.incomplete == []
    reader = {q.operation for q in aws_sandbox.requests if q.service == "globalaccelerator"}
    assert reader and reader <= {op.name for op, status, _ in recorded.answers if status == 200}


def test_unserved_operations_are_refused_as_not_emulated(aws_sandbox: AwsSandbox) -> None:
    with pytest.raises(ClientError) as err:
        aws_sandbox.client("globalaccelerator", "us-west-2").list_custom_routing_accelerators()
    assert err.value.response["Error"]["Code"] == "NotImplemented"


def test_the_api_answers_only_in_us_west_2(aws_sandbox: AwsSandbox) -> None:
    with pytest.raises(ClientError) as err:
        aws_sandbox.client("globalaccelerator", "us-east-1").list_accelerators()
    assert err.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_the_shape_check_rejects_what_the_model_does_not_allow() -> None:
    from failover.sandbox._aws_wire_xml import model

    shape = model("globalaccelerator").shape_for("EndpointGroup")
    bad = {
        "Region": "us-east-1",
        "HealthCheckIntervalSeconds": 20.5,
        "ThresholdCount": 11,
        "HealthCheckProtocol": "ICMP",
        "EndpointDescriptions": [{"EndpointId": "i-1", "Weight": True}],
    }
    found = violations(shape, bad, "g")
    assert len(found) == 5, found
