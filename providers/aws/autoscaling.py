"""Auto Scaling groups: sizes, member instances with lifecycle state and health, capacity in service."""

from __future__ import annotations

from typing import Any

from failover.model import Capacity, Kind, Resource
from providers.aws.context import Ctx, tag_dict
from providers.aws.session import paginate


def read_groups(ctx: Ctx, region: str) -> list[Resource]:
    client = ctx.clients("autoscaling", region)
    groups = list(paginate(client, "describe_auto_scaling_groups", "AutoScalingGroups[]", page_size=ctx.page_size))
    types = ctx.instance_types(region, (i.get("InstanceType", "") for g in groups for i in g.get("Instances", [])))
    return [normalize_group(ctx, region, g, types) for g in groups]


def normalize_group(
    ctx: Ctx, region: str, g: dict[str, Any], types: dict[str, tuple[float | None, int | None]]
) -> Resource:
    members = g.get("Instances", [])
    in_service = [m for m in members if m.get("LifecycleState") == "InService"]
    unhealthy = [m for m in members if str(m.get("HealthStatus", "")).lower() == "unhealthy"]
    specs = [types.get(m.get("InstanceType", "")) for m in in_service]
    known = all(s is not None and s[0] is not None for s in specs)
    vcpu = sum(s[0] for s in specs if s and s[0] is not None) if known else None
    mem_known = all(s is not None and s[1] is not None for s in specs)
    memory = sum(s[1] for s in specs if s and s[1] is not None) if mem_known else None
    template = g.get("LaunchTemplate") or (g.get("MixedInstancesPolicy") or {}).get("LaunchTemplate", {}).get(
        "LaunchTemplateSpecification"
    )
    attrs: dict[str, Any] = {
        "desired": g.get("DesiredCapacity"),
        "min_size": g.get("MinSize"),
        "max_size": g.get("MaxSize"),
        "in_service": len(in_service),
        "unhealthy": len(unhealthy),
        "instances": [
            {
                "id": m.get("InstanceId"),
                "lifecycle_state": m.get("LifecycleState"),
                "health": m.get("HealthStatus"),
                "type": m.get("InstanceType"),
                "zone": m.get("AvailabilityZone"),
            }
            for m in members
        ],
        "zones": g.get("AvailabilityZones", []),
        "launch_template": template or None,
        "launch_configuration": g.get("LaunchConfigurationName"),
        "target_group_arns": g.get("TargetGroupARNs", []),
        "load_balancer_names": g.get("LoadBalancerNames", []),
        "health_check_type": g.get("HealthCheckType"),
        "health_check_grace_s": g.get("HealthCheckGracePeriod"),
        "suspended_processes": [p.get("ProcessName") for p in g.get("SuspendedProcesses", [])],
        "arn": g.get("AutoScalingGroupARN"),
    }
    if not known and in_service:
        attrs["notes"] = ["vCPU unknown: an in-service instance type could not be described"]
    return ctx.resource(
        region=region,
        kind=Kind.COMPUTE_GROUP,
        native_type="autoscaling:group",
        native_id=g["AutoScalingGroupName"],
        name=g["AutoScalingGroupName"],
        state=g.get("Status") or "active",
        capacity=Capacity(vcpu=vcpu, memory_mib=memory, instances=len(in_service)),
        tags=tag_dict(g.get("Tags")),
        attrs=attrs,
    )
