"""ElastiCache replication groups, with their global datastore secondaries as data copies.

Per region: DescribeReplicationGroups (paginated), ListTagsForResource per group (tags are only read
one resource at a time, on the bounded worker pool), and, when a group belongs to a global datastore,
one DescribeGlobalReplicationGroups (ShowMemberInfo) for the region. For each secondary of a primary
read here, its member clusters (DescribeReplicationGroups in the secondary's region) and its lag:
CloudWatch ``GlobalDatastoreReplicationLag`` (``AWS/ElastiCache``, per CacheClusterId, seconds: "the lag
between the secondary Region's primary node and the primary Region's primary node", the largest shard
delay for cluster mode), read in the secondary's region, one batched GetMetricData per region.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from failover.attrs import DataCopy
from failover.errors import ProviderError
from failover.model import Capacity, Kind, Resource
from providers.aws.cloudwatch import Metric, newest
from providers.aws.context import Ctx, iso, tag_dict
from providers.aws.session import guarded, paginate

LAG_METRIC = "GlobalDatastoreReplicationLag"


def read_caches(ctx: Ctx, region: str) -> list[Resource]:
    client = ctx.clients("elasticache", region)
    groups = list(paginate(client, "describe_replication_groups", "ReplicationGroups[]", page_size=ctx.page_size))
    datastores: dict[str, dict[str, Any]] = {}
    unread = ""
    if any((g.get("GlobalReplicationGroupInfo") or {}).get("GlobalReplicationGroupId") for g in groups):
        try:
            found = guarded(
                lambda: list(
                    paginate(
                        client, "describe_global_replication_groups", "GlobalReplicationGroups[]", ShowMemberInfo=True
                    )
                )
            )
            datastores = {str(d.get("GlobalReplicationGroupId")): d for d in found}
        except ProviderError as err:
            ctx.incomplete(f"{region}/elasticache/global-datastores", err, "global datastore members unknown")
            unread = f"global datastore members unreadable: {err}"

    def tags_of(g: dict[str, Any]) -> dict[str, str]:
        return tag_dict(client.list_tags_for_resource(ResourceName=g["ARN"]).get("TagList"))

    resources = []
    for g, tags in ctx.each(tags_of, [g for g in groups if g.get("ARN")]):
        if isinstance(tags, ProviderError):
            ctx.incomplete(f"{region}/elasticache", tags, f"tags of {g['ReplicationGroupId']}")
        resources.append(
            normalize_group(ctx, region, g, datastores, {} if isinstance(tags, ProviderError) else tags, unread)
        )
    read_lags(ctx, resources)
    return resources


def datastore_copies(region: str, group: str, ds: dict[str, Any]) -> list[DataCopy]:
    """The secondaries of the global datastore ``group`` is the primary of, as copies (lag unread yet).

    Healthy: the member is ``associated`` (``associating`` is still syncing, ``disassociating`` leaving)
    and the datastore ``available`` (``primary-only`` has no working secondary, ``modifying`` is mid-change).
    """
    copies: list[DataCopy] = []
    for m in ds.get("Members") or []:
        if m.get("Role") != "SECONDARY" or (m.get("ReplicationGroupId"), m.get("ReplicationGroupRegion")) == (
            group,
            region,
        ):
            continue
        status = m.get("Status")
        copies.append(
            DataCopy(
                where=f"aws:{m.get('ReplicationGroupRegion')}",
                ref=m.get("ReplicationGroupId"),
                mechanism="global-datastore",
                healthy=None if status is None else (status == "associated" and ds.get("Status") == "available"),
                state=f"{status} (datastore {ds.get('Status')})",
                lag_s=None,
                lag_source=LAG_METRIC,
                estimate=False,
            )
        )
    return copies


def normalize_group(
    ctx: Ctx,
    region: str,
    g: dict[str, Any],
    datastores: dict[str, dict[str, Any]],
    tags: dict[str, str],
    unread: str = "",
) -> Resource:
    info = g.get("GlobalReplicationGroupInfo") or {}
    gid = info.get("GlobalReplicationGroupId") or None
    role = info.get("GlobalReplicationGroupMemberRole") or None
    ds = datastores.get(gid or "")
    primary = next((m for m in (ds or {}).get("Members") or [] if m.get("Role") == "PRIMARY"), None)
    attrs: dict[str, Any] = {
        "store_kind": "elasticache",
        "arn": g.get("ARN"),
        "engine": g.get("Engine"),
        "copies": datastore_copies(region, g["ReplicationGroupId"], ds) if ds and role == "PRIMARY" else [],
        "global_datastore": gid,
        "global_role": role,
        "global_status": (ds or {}).get("Status"),
        "member_clusters": list(g.get("MemberClusters") or []),
        "cluster_mode": g.get("ClusterMode"),
        "multi_az": None if g.get("MultiAZ") is None else g.get("MultiAZ") == "enabled",
        # enabled / disabled; enabling and disabling are neither yet
        "automatic_failover": {"enabled": True, "disabled": False}.get(str(g.get("AutomaticFailover"))),
        "instance_class": g.get("CacheNodeType"),
        "storage_encrypted": g.get("AtRestEncryptionEnabled"),
        "created": iso(g.get("ReplicationGroupCreateTime")),
        # A secondary names the primary it replicates from (read only through the global datastore).
        "replica_source": (primary or {}).get("ReplicationGroupId") if role == "SECONDARY" else None,
        "replica_source_region": (primary or {}).get("ReplicationGroupRegion") if role == "SECONDARY" else None,
    }
    if gid and ds is None:
        attrs["replicas_unknown_reason"] = unread or f"global datastore {gid} not listed in {region}"
    return ctx.resource(
        region=region,
        kind=Kind.CACHE,
        native_type=f"elasticache:{g.get('Engine') or 'redis'}:{g.get('CacheNodeType') or ''}",
        native_id=g["ReplicationGroupId"],
        name=g["ReplicationGroupId"],
        state=g.get("Status", ""),
        capacity=Capacity(instances=len(g.get("MemberClusters") or [])),
        tags=tags,
        attrs=attrs,
    )


def read_lags(ctx: Ctx, resources: list[Resource]) -> None:
    """Fill each secondary copy's lag: its member clusters, then their GlobalDatastoreReplicationLag."""
    wanted = [(c["where"].split(":", 1)[1], str(c["ref"])) for r in resources for c in r.attrs["copies"]]
    if not wanted:
        return

    def clusters(target: tuple[str, str]) -> list[str]:
        region, group = target
        client = ctx.clients("elasticache", region)
        found = client.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"]
        return [c for g in found for c in g.get("MemberClusters") or []]

    by_region: dict[str, list[Metric]] = defaultdict(list)
    for (region, group), members in ctx.each(clusters, sorted(set(wanted))):
        if isinstance(members, ProviderError):
            ctx.incomplete(f"{region}/elasticache", members, f"global datastore secondary {group}")
            continue
        by_region[region] += [
            Metric(f"{region}|{group}", "AWS/ElastiCache", LAG_METRIC, (("CacheClusterId", c),)) for c in members
        ]
    lags: dict[str, float] = {}
    for region, answer in ctx.each(lambda r: newest(ctx, r, by_region[r]), sorted(by_region)):
        if isinstance(answer, ProviderError):
            ctx.incomplete(f"{region}/cloudwatch", answer, LAG_METRIC)
        else:
            lags.update(answer)
    for r in resources:
        for c in r.attrs["copies"]:
            c["lag_s"] = lags.get(f"{c['where'].split(':', 1)[1]}|{c['ref']}")
