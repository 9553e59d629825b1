"""EC2 instances: describe (paginated) → instance types → DisableApiTermination per instance → Resource."""

from __future__ import annotations

from typing import Any

from failover.errors import ProviderError
from failover.model import Kind, Resource
from providers.aws.context import Ctx, capacity_of, iso, tag_dict
from providers.aws.session import paginate


def read_instances(ctx: Ctx, region: str) -> list[Resource]:
    ec2 = ctx.clients("ec2", region)
    raw = list(paginate(ec2, "describe_instances", "Reservations[].Instances[]", page_size=ctx.page_size))
    # terminated instances linger in listings for an hour; they are not capacity, and not ours to judge
    raw = [i for i in raw if i.get("State", {}).get("Name") != "terminated"]
    types = ctx.instance_types(region, (i.get("InstanceType", "") for i in raw))
    protection = deletion_protection(ctx, region, [i["InstanceId"] for i in raw])
    return [
        normalize_instance(ctx, region, i, types.get(i.get("InstanceType", "")), protection[i["InstanceId"]])
        for i in raw
    ]


def deletion_protection(ctx: Ctx, region: str, ids: list[str]) -> dict[str, bool | ProviderError]:
    """``DisableApiTermination`` per instance: EC2 reports it only one instance per call."""
    ec2 = ctx.clients("ec2", region)

    def one(instance_id: str) -> bool:
        answer = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="disableApiTermination")
        return bool(answer["DisableApiTermination"]["Value"])

    results = dict(ctx.each(one, ids))
    failed = [err for err in results.values() if isinstance(err, ProviderError)]
    if failed:
        ctx.incomplete(
            f"{region}/ec2/instance-attributes",
            failed[0],
            f"deletion protection unknown for {len(failed)} of {len(ids)} instances",
        )
    return results


def normalize_instance(
    ctx: Ctx,
    region: str,
    i: dict[str, Any],
    spec: tuple[float | None, int | None] | None,
    protection: bool | ProviderError,
) -> Resource:
    tags = tag_dict(i.get("Tags"))
    notes: list[str] = []
    if isinstance(protection, ProviderError):
        notes.append(f"deletion protection unknown: {protection}")
    if spec is None:
        notes.append(f"vCPU/memory unknown for instance type {i.get('InstanceType')!r}")
    attrs: dict[str, Any] = {
        "image": i.get("ImageId"),
        "deletion_protection": protection if isinstance(protection, bool) else None,
        "private_ip": i.get("PrivateIpAddress"),
        "public_ip": i.get("PublicIpAddress"),
        "private_dns": i.get("PrivateDnsName") or None,
        "public_dns": i.get("PublicDnsName") or None,
        "ipv6": [a["Ipv6Address"] for n in i.get("NetworkInterfaces", []) for a in n.get("Ipv6Addresses", [])],
        "subnet_id": i.get("SubnetId"),
        "vpc_id": i.get("VpcId"),
        "architecture": i.get("Architecture"),
        "platform": i.get("PlatformDetails") or i.get("Platform"),
        "lifecycle": i.get("InstanceLifecycle", "on-demand"),
        "launch_time": iso(i.get("LaunchTime")),
        "autoscaling_group": tags.get("aws:autoscaling:groupName"),
        "state_reason": (i.get("StateReason") or {}).get("Message"),
    }
    if notes:
        attrs["notes"] = notes
    return ctx.resource(
        region=region,
        zone=i.get("Placement", {}).get("AvailabilityZone", ""),
        kind=Kind.COMPUTE_INSTANCE,
        native_type=i.get("InstanceType", ""),
        native_id=i["InstanceId"],
        name=tags.get("Name") or i["InstanceId"],
        state=i.get("State", {}).get("Name", ""),
        capacity=capacity_of(spec),
        tags=tags,
        attrs=attrs,
    )
