"""DynamoDB tables, with their global table replicas (versions 2019.11.21 and 2017.11.29) as data copies.

DynamoDB lists table names only (ListTables); a table's replicas, status and ARN come from
DescribeTable and its tags from ListTagsOfResource, one table at a time: 1 + 2 calls per table, on the
account's bounded worker pool (``max_concurrency``). Legacy global tables (version 2017.11.29) do not
show in DescribeTable: ListGlobalTables (one per region, ``RegionName`` = the region read) names them,
and for each one of this region's tables it names, DescribeGlobalTable gives its ``GlobalTableStatus``
and each replica's table is described in its own region (its ``TableStatus``). Each replica's lag, of
either version, is CloudWatch's ``ReplicationLatency`` (``AWS/DynamoDB``, dimensions TableName +
ReceivingRegion, milliseconds), read in the table's own region with one batched GetMetricData per 500
replicas.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from failover.attrs import DataCopy
from failover.errors import ProviderError
from failover.model import Kind, Resource
from providers.aws.cloudwatch import Metric, newest
from providers.aws.context import Ctx, iso, tag_dict
from providers.aws.session import error_code, guarded, paginate

LAG_METRIC = "ReplicationLatency"
LEGACY_VERSION = "2017.11.29"
# Multi-Region strong consistency (MultiRegionConsistency STRONG): a write is acknowledged only once it
# is replicated, so AWS documents a recovery point objective of zero for such tables.
STRONG_SOURCE = "DynamoDB multi-Region strong consistency: RPO zero (documented)"


def read_tables(ctx: Ctx, region: str) -> list[Resource]:
    client = ctx.clients("dynamodb", region)
    names = [str(n) for n in paginate(client, "list_tables", "TableNames[]", page_size=ctx.page_size)]

    def describe(name: str) -> tuple[dict[str, Any], dict[str, str] | ProviderError]:
        table = client.describe_table(TableName=name)["Table"]
        try:
            tags = tag_dict(list(paginate(client, "list_tags_of_resource", "Tags[]", ResourceArn=table["TableArn"])))
        except ProviderError as err:
            return table, err
        return table, tags

    resources = []
    for name, answer in ctx.each(describe, names):
        if isinstance(answer, ProviderError):
            if error_code(answer.__cause__ or answer) != "ResourceNotFoundException":
                ctx.incomplete(f"{region}/dynamodb", answer, f"table {name}")
            continue  # else deleted between listing and describing: gone, not unknown
        table, tags = answer
        if isinstance(tags, ProviderError):
            ctx.incomplete(f"{region}/dynamodb", tags, f"tags of table {name}")
            resources.append(normalize_table(ctx, region, table, {}, tags_unknown=True))
        else:
            resources.append(normalize_table(ctx, region, table, tags))
    _add_legacy_copies(ctx, region, resources)
    metrics = [
        Metric(f"{r.native_id}|{c['where'].split(':', 1)[1]}", "AWS/DynamoDB", LAG_METRIC, dims, 1000.0)
        for r in resources
        for c in r.attrs["copies"]
        if c["lag_source"] == LAG_METRIC
        for dims in [(("TableName", r.native_id), ("ReceivingRegion", c["where"].split(":", 1)[1]))]
    ]
    if metrics:
        try:
            lags = newest(ctx, region, metrics, stat="Average")
        except ProviderError as err:
            ctx.incomplete(f"{region}/cloudwatch", err, "DynamoDB ReplicationLatency")
        else:
            for r in resources:
                for c in r.attrs["copies"]:
                    if c["lag_source"] == LAG_METRIC:
                        c["lag_s"] = lags.get(f"{r.native_id}|{c['where'].split(':', 1)[1]}")
    return resources


def _legacy_names(ctx: Ctx, region: str) -> list[str]:
    """The legacy global tables with a replica in ``region`` (ListGlobalTables pages by table name)."""
    client = ctx.clients("dynamodb", region)
    names: list[str] = []
    start: str | None = None
    while True:
        params: dict[str, Any] = {"RegionName": region}
        if start:
            params["ExclusiveStartGlobalTableName"] = start
        page = guarded(partial(client.list_global_tables, **params))
        names += [str(g["GlobalTableName"]) for g in page.get("GlobalTables") or [] if g.get("GlobalTableName")]
        following = page.get("LastEvaluatedGlobalTableName")
        if not following or following == start:
            return names
        start = str(following)


def _add_legacy_copies(ctx: Ctx, region: str, tables: list[Resource]) -> None:
    """Each of ``tables`` that is in a legacy global table gains its other regions' replicas as copies."""
    try:
        legacy = set(_legacy_names(ctx, region))
    except ProviderError as err:
        ctx.incomplete(f"{region}/dynamodb", err, "legacy global tables (ListGlobalTables)")
        return
    mine = [r for r in tables if r.native_id in legacy]
    client = ctx.clients("dynamodb", region)
    described = ctx.each(lambda r: client.describe_global_table(GlobalTableName=r.native_id), mine)
    pairs: list[tuple[Resource, dict[str, Any], str]] = []
    for r, answer in described:
        if isinstance(answer, ProviderError):
            if error_code(answer.__cause__ or answer) != "GlobalTableNotFoundException":
                ctx.incomplete(f"{region}/dynamodb", answer, f"global table {r.native_id}")
            continue  # else no longer a global table
        g = answer["GlobalTableDescription"]
        r.attrs["global_table_version"] = LEGACY_VERSION
        pairs += [
            (r, g, rep["RegionName"])
            for rep in g.get("ReplicationGroup") or []
            if rep.get("RegionName") not in (None, region)
        ]

    def status(pair: tuple[Resource, dict[str, Any], str]) -> str:
        table, _, where = pair
        return str(ctx.clients("dynamodb", where).describe_table(TableName=table.native_id)["Table"].get("TableStatus"))

    for (r, g, where), table_status in ctx.each(status, pairs):
        if isinstance(table_status, ProviderError) and error_code(table_status.__cause__ or table_status) != (
            "ResourceNotFoundException"
        ):
            ctx.incomplete(f"{where}/dynamodb", table_status, f"replica table {r.native_id} of a global table")
        r.attrs["copies"].append(legacy_copy(r, g, where, table_status))


def legacy_copy(table: Resource, g: dict[str, Any], where: str, table_status: str | ProviderError) -> DataCopy:
    """One replica of a legacy global table: healthy when the global table is ACTIVE and so is the
    replica's table in its region (a replica table that is gone is not a copy; one that could not be
    described has an unknown health, and its scope is incomplete)."""
    group = g.get("GlobalTableStatus")
    if isinstance(table_status, ProviderError):
        gone = error_code(table_status.__cause__ or table_status) == "ResourceNotFoundException"
        replica = "not found" if gone else "unknown"
        healthy = False if gone else None
    else:
        replica = table_status
        healthy = None if group is None else group == "ACTIVE" and table_status == "ACTIVE"
    return DataCopy(
        where=f"aws:{where}",
        ref=_replica_arn(table.attrs.get("arn"), where),
        mechanism="global-table",
        healthy=healthy,
        state=f"global table {group or 'status unknown'}, replica table {replica}",
        lag_s=None,
        lag_source=LAG_METRIC,
        estimate=False,
    )


def table_copies(region: str, t: dict[str, Any]) -> list[DataCopy]:
    """One copy per replica in another region (``Replicas`` of a version 2019.11.21 global table).

    Healthy means ``ReplicaStatus`` ACTIVE: CREATING/UPDATING are not yet (or not fully) a copy, and
    REGION_DISABLED, INACCESSIBLE_ENCRYPTION_CREDENTIALS, REPLICATION_NOT_AUTHORIZED, ARCHIVED… stop
    replication. The lag is filled from CloudWatch afterwards (None until then: unknown, never zero).
    """
    strong = t.get("MultiRegionConsistency") == "STRONG"
    copies: list[DataCopy] = []
    for rep in t.get("Replicas") or []:
        where = rep.get("RegionName")
        if not where or where == region:
            continue
        status = rep.get("ReplicaStatus")
        copies.append(
            DataCopy(
                where=f"aws:{where}",
                ref=rep.get("ReplicaArn") or _replica_arn(t.get("TableArn"), where),
                mechanism="global-table",
                healthy=None if status is None else status == "ACTIVE",
                state=status
                if not rep.get("ReplicaStatusDescription")
                else f"{status}: {rep['ReplicaStatusDescription']}",
                lag_s=0.0 if strong else None,
                lag_source=STRONG_SOURCE if strong else LAG_METRIC,
                estimate=strong,
            )
        )
    return copies


def _replica_arn(arn: str | None, region: str) -> str | None:
    """A replica table's ARN: the same table name in the replica's region (``arn:aws:dynamodb:R:acct:table/N``)."""
    parts = (arn or "").split(":")
    return ":".join([*parts[:3], region, *parts[4:]]) if len(parts) > 5 else None


def normalize_table(
    ctx: Ctx, region: str, t: dict[str, Any], tags: dict[str, str], *, tags_unknown: bool = False
) -> Resource:
    billing = (t.get("BillingModeSummary") or {}).get("BillingMode")
    attrs: dict[str, Any] = {
        "store_kind": "dynamodb",
        "arn": t.get("TableArn"),
        "copies": table_copies(region, t),
        "global_table_version": t.get("GlobalTableVersion"),
        "multi_region_consistency": t.get("MultiRegionConsistency"),
        "deletion_protection": t.get("DeletionProtectionEnabled"),
        "billing_mode": billing or "PROVISIONED",  # DescribeTable omits the summary for provisioned tables
        "stream_enabled": (t.get("StreamSpecification") or {}).get("StreamEnabled"),
        "created": iso(t.get("CreationDateTime")),
    }
    if tags_unknown:
        attrs["notes"] = ["tags unknown"]
    return ctx.resource(
        region=region,
        kind=Kind.DB_TABLE,
        native_type="dynamodb:table",
        native_id=t["TableName"],
        name=t["TableName"],
        state=t.get("TableStatus", ""),
        tags=tags,
        attrs=attrs,
    )
