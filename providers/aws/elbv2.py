"""ELBv2 load balancers and target groups, with target health, linked both ways."""

from __future__ import annotations

from typing import Any

from failover.errors import ProviderError
from failover.model import Capacity, Kind, Resource
from providers.aws.context import Ctx, iso, tag_dict
from providers.aws.session import guarded, paginate

TAG_ARNS_PER_CALL = 20  # DescribeTags limit


def read_load_balancers(ctx: Ctx, region: str) -> list[Resource]:
    client = ctx.clients("elbv2", region)
    lbs = list(paginate(client, "describe_load_balancers", "LoadBalancers[]", page_size=ctx.page_size))
    tgs = list(paginate(client, "describe_target_groups", "TargetGroups[]", page_size=ctx.page_size))
    tags = read_tags(client, [x["LoadBalancerArn"] for x in lbs] + [x["TargetGroupArn"] for x in tgs])

    def health(tg: dict[str, Any]) -> list[dict[str, Any]]:
        return list(
            client.describe_target_health(TargetGroupArn=tg["TargetGroupArn"]).get("TargetHealthDescriptions", [])
        )

    healths = ctx.each(health, tgs)
    failed = [h for _, h in healths if isinstance(h, ProviderError)]
    if failed:
        ctx.incomplete(
            f"{region}/elbv2/target-health",
            failed[0],
            f"target health unknown for {len(failed)} of {len(tgs)} target groups",
        )
    groups_by_lb: dict[str, list[str]] = {}
    for tg in tgs:
        for lb_arn in tg.get("LoadBalancerArns", []):
            groups_by_lb.setdefault(lb_arn, []).append(tg["TargetGroupArn"])
    out = [normalize_load_balancer(ctx, region, lb, tags.get(lb["LoadBalancerArn"], {}), groups_by_lb) for lb in lbs]
    out += [normalize_target_group(ctx, region, tg, tags.get(tg["TargetGroupArn"], {}), h) for tg, h in healths]
    return out


def read_tags(client: Any, arns: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for i in range(0, len(arns), TAG_ARNS_PER_CALL):
        batch = arns[i : i + TAG_ARNS_PER_CALL]
        answer = guarded(lambda b=batch: client.describe_tags(ResourceArns=b))  # type: ignore[misc]
        for d in answer.get("TagDescriptions", []):
            out[d["ResourceArn"]] = tag_dict(d.get("Tags"))
    return out


def normalize_load_balancer(
    ctx: Ctx, region: str, lb: dict[str, Any], tags: dict[str, str], groups_by_lb: dict[str, list[str]]
) -> Resource:
    arn = lb["LoadBalancerArn"]
    return ctx.resource(
        region=region,
        kind=Kind.LB,
        native_type=f"elbv2:{lb.get('Type', 'application')}",
        native_id=arn,
        name=lb.get("LoadBalancerName", arn),
        state=lb.get("State", {}).get("Code", ""),
        tags=tags,
        attrs={
            "dns_name": lb.get("DNSName"),
            "canonical_hosted_zone_id": lb.get("CanonicalHostedZoneId"),
            "scheme": lb.get("Scheme"),
            "type": lb.get("Type"),
            "vpc_id": lb.get("VpcId"),
            "zones": [z.get("ZoneName") for z in lb.get("AvailabilityZones", [])],
            "ip_address_type": lb.get("IpAddressType"),
            "created": iso(lb.get("CreatedTime")),
            "target_groups": groups_by_lb.get(arn, []),
        },
    )


def normalize_target_group(
    ctx: Ctx, region: str, tg: dict[str, Any], tags: dict[str, str], health: list[dict[str, Any]] | ProviderError
) -> Resource:
    attrs: dict[str, Any] = {
        "protocol": tg.get("Protocol"),
        "port": tg.get("Port"),
        "target_type": tg.get("TargetType"),
        "vpc_id": tg.get("VpcId"),
        "load_balancers": tg.get("LoadBalancerArns", []),
        "health_check": {
            "protocol": tg.get("HealthCheckProtocol"),
            "port": tg.get("HealthCheckPort"),
            "path": tg.get("HealthCheckPath"),
            "interval_s": tg.get("HealthCheckIntervalSeconds"),
            "timeout_s": tg.get("HealthCheckTimeoutSeconds"),
            "healthy_threshold": tg.get("HealthyThresholdCount"),
            "unhealthy_threshold": tg.get("UnhealthyThresholdCount"),
            "matcher": tg.get("Matcher"),
        },
    }
    healthy: int | None = None
    if isinstance(health, ProviderError):
        attrs.update(targets=None, healthy=None, unhealthy=None, notes=[f"target health unknown: {health}"])
    else:
        targets = [
            {
                "id": h.get("Target", {}).get("Id"),
                "port": h.get("Target", {}).get("Port"),
                "state": h.get("TargetHealth", {}).get("State"),
                "reason": h.get("TargetHealth", {}).get("Reason"),
            }
            for h in health
        ]
        healthy = sum(1 for t in targets if t["state"] == "healthy")
        attrs.update(targets=targets, healthy=healthy, unhealthy=sum(1 for t in targets if t["state"] == "unhealthy"))
    return ctx.resource(
        region=region,
        kind=Kind.LB_TARGET_GROUP,
        native_type="elbv2:target-group",
        native_id=tg["TargetGroupArn"],
        name=tg.get("TargetGroupName", tg["TargetGroupArn"]),
        capacity=Capacity(instances=healthy),
        tags=tags,
        attrs=attrs,
    )
