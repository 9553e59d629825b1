"""DynamoDB tables, with their global table replicas (version 2019.11.21) as data copies.

DynamoDB lists table names only (ListTables); a table's replicas, status and ARN come from
DescribeTable and its tags from ListTagsOfResource, one table at a time: 1 + 2 calls per table, on the
account's bounded worker pool (``max_concurrency``). Each replica's lag is CloudWatch's
``ReplicationLatency`` (``AWS/DynamoDB``, dimensions TableName + ReceivingRegion, milliseconds), read
in the table's own region with one batched GetMetricData per 500 replicas.
"""

from __future__ import annotations

from typing import Any

from failover.attrs import DataCopy
from failover.errors import ProviderError
from failover.model import Kind, Resource
from providers.aws.cloudwatch import Metric, newest
from providers.aws.context import Ctx, iso, tag_dict
from providers.aws.session import error_code, paginate

LAG_METRIC = "ReplicationLatency"
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
