"""The data tier's own reads, after the resource listing: what ARM's generic listing cannot say about copies.

- Azure SQL: three listings per logical server that holds a user database (``failoverGroups``,
  ``replicationLinks``, ``recoverableDatabases``); ARM has no subscription-wide list of either.
- Cosmos DB: one listing per subscription that has an account (``…/Microsoft.DocumentDB/databaseAccounts``,
  with properties: locations, failover priorities, consistency).
- Storage: one read per geo-redundant account (``GET {account}?$expand=geoReplicationStats``: the
  subscription's account list cannot expand the stats). Accounts that are not geo-redundant need none.

All reads run concurrently, bounded by the account's ``max_concurrency``. A read that fails is a
``ScopeError`` (collapsed per subscription, collection and error) and leaves the stores it was for
unknown, never "no copy".
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from failover.model import Kind, Resource, ScopeError
from providers.azure.data import (
    is_sql_database,
    server_of,
    with_cosmos,
    with_sql_reads,
    with_sql_unread,
    with_storage_stats,
)
from providers.azure.resources import resource_group_of
from providers.base import fan_out

if TYPE_CHECKING:
    from failover.schema import Account
    from providers.azure.clients import ArmReader

__all__ = ["SQL_COLLECTIONS", "collapse_reads", "read_data_tier"]

SQL_COLLECTIONS = ("failoverGroups", "replicationLinks", "recoverableDatabases")
_COSMOS = "microsoft.documentdb/databaseaccounts"
_STORAGE = "microsoft.storage/storageaccounts"
_GEO_STATS = "geoReplicationStats"


def _subscription_of(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    return parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else ""


def read_data_tier(
    account: Account, reader: ArmReader, resources: list[Resource], now: datetime
) -> tuple[list[Resource], list[ScopeError]]:
    """``resources`` with the copies of their SQL databases, Cosmos DB accounts and storage accounts."""
    sql_dbs = [r for r in resources if is_sql_database(r)]
    cosmos = [r for r in resources if r.native_type.lower() == _COSMOS]
    geo_storage = [r for r in resources if r.native_type.lower() == _STORAGE and r.attrs.get("geo_redundant")]
    answers: dict[str, Any] = {}

    def read(scope: str) -> list[Resource]:
        """``scope`` is ARM-shaped without the leading slash: ``<server id>/failoverGroups``,
        ``subscriptions/<s>/databaseAccounts``, ``<storage account id>/geoReplicationStats``."""
        target, what = scope.rsplit("/", 1)
        rid = "/" + target
        sub, rg, name = _subscription_of(rid), resource_group_of(rid) or "", rid.rsplit("/", 1)[-1]
        if what == "failoverGroups":
            answers[scope] = reader.sql_failover_groups(sub, rg, name)
        elif what == "replicationLinks":
            answers[scope] = reader.sql_replication_links(sub, rg, name)
        elif what == "recoverableDatabases":
            answers[scope] = reader.sql_recoverable_databases(sub, rg, name)
        elif what == "databaseAccounts":
            answers[scope] = reader.cosmos_accounts(sub)
        else:
            answers[scope] = reader.storage_account(sub, rg, name)
        return []

    servers = sorted({server_of(r.native_id).lstrip("/") for r in sql_dbs})
    scopes = [f"{s}/{what}" for s in servers for what in SQL_COLLECTIONS]
    scopes += sorted({f"subscriptions/{_subscription_of(r.native_id)}/databaseAccounts" for r in cosmos})
    scopes += [f"{r.native_id.lstrip('/')}/{_GEO_STATS}" for r in geo_storage]
    _, errors = fan_out(scopes, read, max_workers=account.max_concurrency)
    failed = {e.scope: e for e in errors}

    out = []
    for r in resources:
        if is_sql_database(r):
            r = _sql(r, answers, failed, now)
        elif r.native_type.lower() == _COSMOS:
            r = _cosmos(r, answers, failed)
        elif r.kind == Kind.STORAGE_BUCKET and r.attrs.get("geo_redundant"):
            r = with_storage_stats(r, answers.get(f"{r.native_id.lstrip('/')}/{_GEO_STATS}"), now)
        out.append(r)
    return out, collapse_reads(errors)


def _sql(db: Resource, answers: dict[str, Any], failed: dict[str, ScopeError], now: datetime) -> Resource:
    server = server_of(db.native_id).lstrip("/")
    got = {what: answers.get(f"{server}/{what}") for what in SQL_COLLECTIONS}
    lost = [failed[f"{server}/{what}"] for what in SQL_COLLECTIONS if f"{server}/{what}" in failed]
    if got["failoverGroups"] is None and got["replicationLinks"] is None:
        reason = "; ".join(f"{e.scope.rsplit('/', 1)[-1]}: {e.reason}" for e in lost) or "not read"
        return with_sql_unread(db, f"its server's failover groups and replication links could not be read ({reason})")
    read = with_sql_reads(
        db, got["failoverGroups"] or [], got["replicationLinks"] or [], got["recoverableDatabases"], now
    )
    if lost:
        unread = ", ".join(e.scope.rsplit("/", 1)[-1] for e in lost)
        note = f"its server's {unread} could not be read ({lost[0].reason}): copies there unknown"
        read = dataclasses.replace(read, attrs={**read.attrs, "replicas_unknown_reason": note})
    return read


def _cosmos(account: Resource, answers: dict[str, Any], failed: dict[str, ScopeError]) -> Resource:
    scope = f"subscriptions/{_subscription_of(account.native_id)}/databaseAccounts"
    listing = answers.get(scope)
    if listing is None:
        why = failed[scope].reason if scope in failed else "not read"
        reason = f"the Cosmos DB account list could not be read ({why})"
        return dataclasses.replace(account, attrs={**account.attrs, "copies": [], "replicas_unknown_reason": reason})
    body = next((a for a in listing if str(a.get("id") or "").lower() == account.native_id.lower()), None)
    if body is None:
        reason = "the account is not in its subscription's Cosmos DB account list"
        return dataclasses.replace(account, attrs={**account.attrs, "copies": [], "replicas_unknown_reason": reason})
    got = with_cosmos(account, body)
    return dataclasses.replace(got, attrs={**got.attrs, "replicas_unknown_reason": None})


def collapse_reads(errors: list[ScopeError]) -> list[ScopeError]:
    """One ScopeError per subscription, collection and error kind (500 denied servers are one problem)."""
    groups: dict[tuple[str, str, str], list[ScopeError]] = {}
    for e in errors:
        what = e.scope.rsplit("/", 1)[-1]
        groups.setdefault((_subscription_of("/" + e.scope), what, e.error), []).append(e)
    out = []
    for (sub, what, kind), group in groups.items():
        if len(group) == 1:
            out.append(group[0])
        else:
            out.append(
                ScopeError(
                    scope=f"subscriptions/{sub}/{what}",
                    error=kind,
                    reason=f"{len(group)} {what} reads failed; first: {group[0].reason}",
                )
            )
    return out
