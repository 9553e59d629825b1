"""Auto Scaling groups: sizes, member instances with lifecycle state and health, capacity in service,
weights, warm pools and deletion protection."""

from __future__ import annotations

from typing import Any

from failover.errors import ProviderError
from failover.model import Capacity, Kind, Resource
from providers.aws.context import Ctx, tag_dict
from providers.aws.session import paginate

# Warm-pool members ready to join the group: stopped, running or hibernated (not pending or terminating).
WARM_READY = frozenset({"Warmed:Stopped", "Warmed:Running", "Warmed:Hibernated"})
# DeletionProtection levels that refuse deleting a group with instances (``none`` is the documented default).
PROTECTED_LEVELS = frozenset({"prevent-force-deletion", "prevent-all-deletion"})


def read_groups(ctx: Ctx, region: str) -> list[Resource]:
    client = ctx.clients("autoscaling", region)
    groups = list(paginate(client, "describe_auto_scaling_groups", "AutoScalingGroups[]", page_size=ctx.page_size))
    types = ctx.instance_types(region, (i.get("InstanceType", "") for g in groups for i in g.get("Instances", [])))
    # Warm-pool members are listed only per group (no bulk call); ask only for groups that have a pool.
    pooled = [g for g in groups if g.get("WarmPoolConfiguration")]
    warm: dict[str, list[dict[str, Any]] | None] = {}
    for g, members in ctx.each(
        lambda g: list(
            paginate(client, "describe_warm_pool", "Instances[]", AutoScalingGroupName=g["AutoScalingGroupName"])
        ),
        pooled,
    ):
        name = g["AutoScalingGroupName"]
        if isinstance(members, ProviderError):
            ctx.incomplete(f"{region}/autoscaling/warm-pools", members, f"warm pool of {name} unknown")
            warm[name] = None
        else:
            warm[name] = members
    # An SDK older than the DeletionProtection field drops it from every answer: unknown, not "none".
    knows_protection = "DeletionProtection" in client.meta.service_model.shape_for("AutoScalingGroup").members
    return [
        normalize_group(ctx, region, g, types, warm.get(g["AutoScalingGroupName"], []), knows_protection)
        for g in groups
    ]


def _weight(member: dict[str, Any]) -> float | None:
    value = member.get("WeightedCapacity")
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def capacity_unit(g: dict[str, Any]) -> str:
    """What the group's desired, min and max sizes count: ``instances``, weighted ``units`` (a mixed
    instances policy with weights), or ``vcpu`` / ``memory-mib`` (``DesiredCapacityType``)."""
    kind = g.get("DesiredCapacityType")
    if kind in ("vcpu", "memory-mib"):
        return str(kind)
    overrides = (((g.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}).get("Overrides")) or []
    weighted = any(o.get("WeightedCapacity") for o in overrides) or any(
        _weight(m) is not None for m in g.get("Instances", [])
    )
    return "units" if weighted else "instances"


def running_units(
    unit: str, in_service: list[dict[str, Any]], types: dict[str, tuple[float | None, int | None]]
) -> float | None:
    """In-service capacity in the group's own unit: each member's ``WeightedCapacity`` (its instance
    type's vCPU or MiB for ``vcpu``/``memory-mib`` groups when the weight is not reported, 1 in an
    unweighted group). ``None`` when a member's share cannot be told."""
    total = 0.0
    for m in in_service:
        weight = _weight(m)
        if weight is None and unit in ("vcpu", "memory-mib"):
            spec = types.get(m.get("InstanceType", ""))
            value = None if spec is None else spec[0 if unit == "vcpu" else 1]
            weight = None if value is None else float(value)
        elif weight is None:
            weight = 1.0 if unit == "instances" else None
        if weight is None:
            return None
        total += weight
    return total


def normalize_group(
    ctx: Ctx,
    region: str,
    g: dict[str, Any],
    types: dict[str, tuple[float | None, int | None]],
    warm: list[dict[str, Any]] | None = None,
    knows_protection: bool = True,
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
    unit = capacity_unit(g)
    # Absent from the answer: the documented default, none (unless the SDK cannot read the field at all).
    level = g.get("DeletionProtection") or ("none" if knows_protection else None)
    attrs: dict[str, Any] = {
        "desired": g.get("DesiredCapacity"),
        "min_size": g.get("MinSize"),
        "max_size": g.get("MaxSize"),
        "capacity_unit": unit,
        "running_units": running_units(unit, in_service, types),
        "in_service": len(in_service),
        "unhealthy": len(unhealthy),
        "warm_instances": None if warm is None else sum(1 for m in warm if m.get("LifecycleState") in WARM_READY),
        "warm_pool_state": (g.get("WarmPoolConfiguration") or {}).get("PoolState"),
        "deletion_protection": None if level is None else level in PROTECTED_LEVELS,
        "deletion_protection_level": level,
        "instances": [
            {
                "id": m.get("InstanceId"),
                "lifecycle_state": m.get("LifecycleState"),
                "health": m.get("HealthStatus"),
                "type": m.get("InstanceType"),
                "zone": m.get("AvailabilityZone"),
                "weight": _weight(m),
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
    notes = []
    if not known and in_service:
        notes.append("vCPU unknown: an in-service instance type could not be described")
    if level is None:
        notes.append("deletion protection unknown: this botocore does not know the DeletionProtection field")
    if attrs["running_units"] is None and in_service:
        notes.append(f"running {unit} unknown: a member's WeightedCapacity was not reported")
    if notes:
        attrs["notes"] = notes
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
