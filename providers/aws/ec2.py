"""EC2 instances: describe (paginated) → instance types → termination protection → Resource.

EC2 reports ``DisableApiTermination`` only through ``DescribeInstanceAttribute``, one instance per call
(≈ 2,000 calls for 1,000 workloads of two instances). It rarely changes, so an instance's reading is
carried over from the account's previous inventory (``Ctx.prior``) and read again only once it is older
than the prior's ``reuse_for_s`` (spread over the second half of that window per instance, so an
estate's refreshes do not all land in one cycle). Every reading keeps when it was made
(``deletion_protection_read_at``): the check counts one older than ``scoring.stale_after`` as unknown.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from failover.errors import ProviderError
from failover.model import Kind, Resource, utcnow
from providers.aws.context import Ctx, capacity_of, iso, tag_dict
from providers.aws.session import paginate

# (protected?, when it was read: ISO 8601) or the error that kept it unread
Protection = tuple[bool, str] | ProviderError


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


def reusable(instance_id: str, previous: Resource | None, reuse_for_s: float, now: datetime) -> tuple[bool, str] | None:
    """The previous inventory's reading of this instance's protection, if it may stand in for a new one:
    read (not unknown) and younger than its share of ``reuse_for_s`` (between half and all of it)."""
    if previous is None or reuse_for_s <= 0:
        return None
    value, read_at = previous.attrs.get("deletion_protection"), previous.attrs.get("deletion_protection_read_at")
    if not isinstance(value, bool) or not isinstance(read_at, str):
        return None
    try:
        age = (now - datetime.fromisoformat(read_at)).total_seconds()
    except (ValueError, TypeError):
        return None
    share = 0.5 + 0.5 * (zlib.crc32(instance_id.encode()) / 0xFFFFFFFF)
    return (value, read_at) if 0 <= age < reuse_for_s * share else None


def deletion_protection(ctx: Ctx, region: str, ids: list[str]) -> dict[str, Protection]:
    """``DisableApiTermination`` per instance: carried over from the previous inventory while young
    enough, otherwise read (EC2 answers it one instance per call)."""
    ec2 = ctx.clients("ec2", region)
    now = utcnow()
    previous = ctx.prior.resources(Kind.COMPUTE_INSTANCE) if ctx.prior else {}
    reuse_for = ctx.prior.reuse_for_s if ctx.prior else 0.0
    results: dict[str, Protection] = {}
    for instance_id in ids:
        kept = reusable(instance_id, previous.get((region, instance_id)), reuse_for, now)
        if kept is not None:
            results[instance_id] = kept

    def one(instance_id: str) -> tuple[bool, str]:
        answer = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="disableApiTermination")
        return bool(answer["DisableApiTermination"]["Value"]), utcnow().isoformat()

    results.update(ctx.each(one, [i for i in ids if i not in results]))
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
    protection: Protection,
) -> Resource:
    tags = tag_dict(i.get("Tags"))
    notes: list[str] = []
    if isinstance(protection, ProviderError):
        notes.append(f"deletion protection unknown: {protection}")
    if spec is None:
        notes.append(f"vCPU/memory unknown for instance type {i.get('InstanceType')!r}")
    attrs: dict[str, Any] = {
        "image": i.get("ImageId"),
        "deletion_protection": None if isinstance(protection, ProviderError) else protection[0],
        "deletion_protection_read_at": None if isinstance(protection, ProviderError) else protection[1],
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
