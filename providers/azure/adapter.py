"""Azure subscriptions → one ``Inventory``: fetch (``clients``) → normalize (``resources``) → locks (``locks``).

Four collections per subscription (resource groups, resources, management locks, and the VMs' power
states from one ``statusOnly=true`` listing) are read concurrently, bounded by the account's
``max_concurrency``; each that fails becomes a ``ScopeError`` (``subscriptions/<id>/<collection>``)
while the rest is still inventoried. What the list entries lack (VM size, scale set orchestration,
autoscale limits, replica role and state, Traffic Manager monitoring, DNS zones' name servers) then
comes from one listing per subscription and type (``GET /subscriptions/{id}/providers/{type}``: the same
model as a read by id, without a call per resource; only a resource the listing misses is read by id),
and each uniform scale set's members with their instance views (running members). Last,
the data tier's copies (``datatier``): SQL servers' failover groups, replication links and
geo-backups, Cosmos DB accounts' regions, geo-redundant storage accounts' last sync time; traffic
steering (``routingtier``): Front Door Standard/Premium routes with their origins, Azure DNS record sets;
and the lag metrics the config names (``monitor``: Azure Monitor, ``subscriptions/<id>/lag_metrics``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from failover.errors import ConfigError
from failover.model import Inventory, Kind, Resource, ScopeError, utcnow
from providers.azure.datatier import read_data_tier
from providers.azure.kinds import DETAIL_API_VERSIONS, DETAIL_LISTS
from providers.azure.locks import apply_locks
from providers.azure.monitor import LAG_METRICS, read_lag_metrics
from providers.azure.resources import (
    apply_autoscale,
    canonical_references,
    detail_api_version,
    enrich,
    link_flexible_members,
    normalize_lock,
    normalize_resource,
    normalize_resource_group,
    power_state,
    resource_group_of,
    uniform_scale_sets,
    with_members,
    with_power_state,
)
from providers.azure.routingtier import read_routing_tier
from providers.base import Deadline, Prior, RetryPolicy, deadline_of, fan_out

if TYPE_CHECKING:
    from failover.schema import Account, LagMetricRead
    from providers.azure.clients import ArmReader

__all__ = ["COLLECTIONS", "AzureAdapter", "collapse_detail_errors"]

COLLECTIONS = ("resourcegroups", "resources", "locks", "powerstates")


class AzureAdapter:
    provider = "azure"

    def __init__(
        self,
        *,
        credential_factory: Callable[[Account], Any] | None = None,
        attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``credential_factory`` replaces the standard chain (``DefaultAzureCredential``) when given."""
        self._credential_factory = credential_factory
        self._attempts, self._base_delay, self._max_delay, self._sleep = attempts, base_delay, max_delay, sleep

    def inventory(self, account: Account, prior: Prior | None = None) -> Inventory:
        """``prior`` is accepted for the common interface; nothing here is carried over yet."""
        from providers.azure import clients  # the SDK loads only when an Azure account is actually read

        if account.credentials == "default" and (account.endpoint or "").lower().startswith("http://"):
            # the SDK would refuse to send a token, and only after its retries; say why at once
            raise ConfigError(
                f"account {account.name}: endpoint {account.endpoint} is plain http, and Azure tokens are only "
                "sent over https (use an https endpoint, or credentials: anonymous for a loopback emulator)"
            )
        started = utcnow()
        deadline = deadline_of(account)
        credential = (self._credential_factory or clients.make_credential)(account)
        retry = RetryPolicy(clients.classify, self._attempts, self._base_delay, self._max_delay, self._sleep, deadline)
        reader = clients.ArmReader(account, credential, retry)
        try:
            resources, errors = self._read(account, reader, deadline)
        finally:
            reader.close()
            close = getattr(credential, "close", None)
            if callable(close):
                close()
        return Inventory(
            account=account.name,
            provider=self.provider,
            resources=resources,
            incomplete=errors,
            started_at=started,
            finished_at=utcnow(),
        )

    def _read(self, account: Account, reader: ArmReader, deadline: Deadline) -> tuple[list[Resource], list[ScopeError]]:
        statuses: dict[str, dict[str, Any]] = {}  # VM id (lower-case) -> its statusOnly entry

        def read_collection(scope: str) -> list[Resource]:
            _, sub, collection = scope.split("/")
            if collection == "resourcegroups":
                return [normalize_resource_group(sub, rg) for rg in reader.resource_groups(sub)]
            if collection == "resources":
                return [normalize_resource(sub, r) for r in reader.resources(sub)]
            if collection == "powerstates":
                statuses.update({str(vm.get("id") or "").lower(): vm for vm in reader.vm_statuses(sub)})
                return []
            return [normalize_lock(sub, lk) for lk in reader.locks(sub)]

        scopes = [f"subscriptions/{sub}/{c}" for sub in account.scopes for c in COLLECTIONS]
        resources, errors = fan_out(scopes, read_collection, max_workers=account.max_concurrency, deadline=deadline)

        resources, detail_errors = _read_details(account, reader, resources, deadline)
        errors += detail_errors

        # A VM's state is its power state; a VM missing from a readable listing is unknown, like one
        # whose subscription's listing failed (the inventory says where).
        resources = [
            with_power_state(r, statuses.get(r.native_id.lower())) if r.kind == Kind.COMPUTE_INSTANCE else r
            for r in resources
        ]
        uniform = {r.native_id: r for r in uniform_scale_sets(resources)}

        def read_members(vmss_id: str) -> list[Resource]:
            r = uniform[vmss_id]
            members = reader.scale_set_vms(r.account, resource_group_of(vmss_id) or "", r.name)
            states = [power_state(_view(m)) for m in members]
            return [with_members(r, states)]

        counted, member_errors = fan_out(uniform, read_members, max_workers=account.max_concurrency, deadline=deadline)
        by_id = {r.native_id: r for r in counted}
        resources = [by_id.get(r.native_id, r) for r in resources]
        errors += collapse_detail_errors(
            member_errors, uniform, what="scale sets' member VMs could not be listed", suffix="virtualMachines"
        )

        resources, data_errors = read_data_tier(account, reader, resources, utcnow())
        errors += data_errors
        resources, routing_errors = read_routing_tier(account, reader, resources, deadline)
        errors += routing_errors
        metrics, metric_errors = _read_lag_metrics(account, reader, deadline)
        errors += metric_errors

        unread_resources = any(e.scope.endswith("/resources") for e in errors)
        resources = canonical_references(apply_autoscale(link_flexible_members(resources), unread_resources))
        unreadable = {sub for sub in account.scopes if any(e.scope == f"subscriptions/{sub}/locks" for e in errors)}
        # Normalizers key resources by subscription; the inventory names the config account (what
        # sites select on), and keeps the subscription in attrs.
        located = [
            dataclasses.replace(r, account=account.name, attrs={**r.attrs, "subscription": r.account})
            for r in [*apply_locks(resources, unreadable), *metrics]
        ]
        return located, errors


def _read_lag_metrics(
    account: Account, reader: ArmReader, deadline: Deadline
) -> tuple[list[Resource], list[ScopeError]]:
    """The declared stores' lag metrics, one scope per subscription holding their resources
    (``subscriptions/<id>/lag_metrics``), read concurrently with each other."""
    subscriptions = {s.lower(): s for s in account.scopes}
    by_subscription: dict[str, list[LagMetricRead]] = {}
    for m in account.lag_metrics:
        sub = str(m.metric.subscription or "")
        by_subscription.setdefault(subscriptions.get(sub.lower(), sub), []).append(m)

    def read(scope: str) -> tuple[list[Resource], list[ScopeError]]:
        return read_lag_metrics(reader, scope.split("/")[1], by_subscription[scope.split("/")[1]])

    scopes = [f"subscriptions/{sub}/{LAG_METRICS}" for sub in by_subscription]
    return fan_out(scopes, read, max_workers=account.max_concurrency, deadline=deadline)


def _read_details(
    account: Account, reader: ArmReader, resources: list[Resource], deadline: Deadline
) -> tuple[list[Resource], list[ScopeError]]:
    """Fold in what the list entries lack (VM size, scale set orchestration, autoscale limits, replica
    role and state, Traffic Manager monitoring, name servers) from one listing per subscription and type
    (``DETAIL_LISTS``), not a read per resource. A resource the listing does not hold (created between
    the two reads) is read by id; a listing that fails leaves its resources unenriched, one scope per
    subscription and type saying how many."""
    pending = {r.native_id.lower(): r for r in resources if detail_api_version(r)}
    wanted: dict[str, list[Resource]] = {}
    for r in pending.values():
        wanted.setdefault(f"subscriptions/{r.account}/{DETAIL_LISTS[r.native_type.lower()]}", []).append(r)

    def read_listing(scope: str) -> list[Resource]:
        _, sub, native_type = scope.split("/", 2)
        version = DETAIL_API_VERSIONS[native_type.lower()]
        return [
            enrich(r, item)
            for item in reader.by_type(sub, native_type, version)
            if (r := pending.get(str(item.get("id") or "").lower())) is not None and r.account == sub
        ]

    listed, list_errors = fan_out(wanted, read_listing, max_workers=account.max_concurrency, deadline=deadline)
    by_id = {r.native_id.lower(): r for r in listed}
    errors = [
        dataclasses.replace(e, reason=f"{len(wanted.get(e.scope, []))} resources not read: {e.reason}")
        for e in list_errors
    ]
    failed = {e.scope for e in list_errors}
    missing = {
        r.native_id: r
        for scope, group in wanted.items()
        if scope not in failed
        for r in group
        if r.native_id.lower() not in by_id
    }

    def read_detail(resource_id: str) -> list[Resource]:
        r = missing[resource_id]
        return [enrich(r, reader.resource(r.account, resource_id, detail_api_version(r) or ""))]

    detailed, detail_errors = fan_out(missing, read_detail, max_workers=account.max_concurrency, deadline=deadline)
    by_id.update({r.native_id.lower(): r for r in detailed})
    errors += collapse_detail_errors(detail_errors, missing)
    return [by_id.get(r.native_id.lower(), r) for r in resources], errors


def _view(member: dict[str, Any]) -> dict[str, Any]:
    view = (member.get("properties") or {}).get("instanceView")
    return view if isinstance(view, dict) else {}


def collapse_detail_errors(
    errors: list[ScopeError],
    pending: dict[str, Resource],
    *,
    what: str = "resources could not be read by id",
    suffix: str = "",
) -> list[ScopeError]:
    """One ScopeError per subscription, type and error kind: 500 denied VM reads are one problem, not 500.

    ``suffix`` names the sub-collection read under each resource (``virtualMachines`` of scale sets).
    """
    groups: dict[tuple[str, str, str], list[ScopeError]] = {}
    for e in errors:
        r = pending.get(e.scope)
        key = (r.account, r.native_type, e.error) if r else ("", e.scope, e.error)
        groups.setdefault(key, []).append(e)
    out: list[ScopeError] = []
    for (sub, native_type, kind), group in groups.items():
        tail = f"/{suffix}" if suffix else ""
        if len(group) == 1:
            out.append(dataclasses.replace(group[0], scope=group[0].scope + tail))
            continue
        out.append(
            ScopeError(
                scope=f"subscriptions/{sub}/{native_type}{tail}",
                error=kind,
                reason=f"{len(group)} {what}; first: {group[0].reason}",
            )
        )
    return out
