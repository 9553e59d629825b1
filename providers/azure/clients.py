"""The Azure SDK edge: credentials, client construction, error classification, retried paging.

This module imports the SDK at the top, so only ``AzureAdapter.inventory`` imports it (lazily): merely
loading ``providers.azure`` costs nothing when no Azure account is configured.

Retries: the SDK's own retry policy is switched off (``retry_total=0``; it has no jitter and by default
waits through ~10 retries) and every request, page by page, goes through ``providers.base.with_retries``
instead: 429 and 5xx/timeouts are retried with full-jitter backoff, honouring Retry-After up to the
account's inventory deadline, and a failed page is fetched again from its own continuation link rather
than restarting the listing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, TypeVar

import requests
from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.paging import ItemPaged
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.rest import HttpRequest
from azure.mgmt.cdn import CdnManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.cosmosdb import CosmosDBManagementClient
from azure.mgmt.dns import DnsManagementClient
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.resource.locks import ManagementLockClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.sql import SqlManagementClient
from azure.mgmt.storage import StorageManagementClient
from urllib3.util.retry import Retry

from failover.errors import AccessDenied, ProviderError, Throttled, Unreachable
from failover.schema import Account
from providers.base import RetryPolicy, one_line, retry_after_seconds

__all__ = [
    "ArmReader",
    "ReadOnlyGuard",
    "StaticBearerPolicy",
    "StaticTokenCredential",
    "classify",
    "make_credential",
]

T = TypeVar("T")
COMPUTE_API_VERSION = "2024-07-01"  # the same version VMs and scale sets are read by id with
METRICS_API_VERSION = "2023-10-01"  # Microsoft.Insights/metrics: the GA version the lag metric reader asks for
ANONYMOUS_TOKEN = "anonymous"  # sent to loopback emulators only (the schema enforces loopback)


class StaticTokenCredential:
    """A credential that always returns the same token: for loopback emulators, or a token obtained elsewhere."""

    def __init__(self, token: str, lifetime_s: int = 3600) -> None:
        self._token = token
        self._lifetime_s = lifetime_s

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + self._lifetime_s)

    def __repr__(self) -> str:  # never show the token
        return "StaticTokenCredential(***)"


class StaticBearerPolicy(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Sets ``Authorization: Bearer <token>`` without the SDK's bearer policy, which refuses plain http."""

    def __init__(self, token: str) -> None:
        self._token = token

    def on_request(self, request: PipelineRequest) -> None:  # type: ignore[type-arg]
        request.http_request.headers["Authorization"] = f"Bearer {self._token}"


class ReadOnlyGuard(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Refuses any request that is not a read, whichever policy built it.

    The ARM pipeline includes a policy that, on ``409 MissingSubscriptionRegistration``, POSTs a
    resource-provider registration: a write. Sitting after the retry policy, this guard stops it.
    """

    def on_request(self, request: PipelineRequest) -> None:  # type: ignore[type-arg]
        method = request.http_request.method.upper()
        if method not in ("GET", "HEAD"):
            raise ProviderError(f"refused to send {method} {request.http_request.url}: failover only reads")


def make_credential(account: Account) -> TokenCredential:
    """``DefaultAzureCredential`` (env, workload identity, managed identity, Azure CLI, ...), or the
    static token ``credentials: anonymous`` allows against a loopback emulator."""
    if account.credentials == "anonymous":
        return StaticTokenCredential(ANONYMOUS_TOKEN)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def classify(err: BaseException) -> ProviderError | None:
    """An SDK exception as one of our errors; ``None`` leaves anything else (a bug, our own errors) as is."""
    if isinstance(err, ClientAuthenticationError):
        return AccessDenied(f"authentication failed: {one_line(err)}")
    if isinstance(err, HttpResponseError):
        status = err.status_code or 0
        code = err.error.code if err.error is not None else None
        detail = err.error.message if err.error is not None and err.error.message else err.reason or ""
        text = f"HTTP {status}{f' {code}' if code else ''}: {' '.join(str(detail).split())[:200]}"
        if status in (401, 403):
            return AccessDenied(text)
        if status == 429:
            return Throttled(text, retry_after=_retry_after(err))
        if status == 408 or status >= 500:
            return Unreachable(text)
        return ProviderError(text)
    if isinstance(err, ServiceRequestError | ServiceResponseError):
        return Unreachable(one_line(err))
    return None


def _retry_after(err: HttpResponseError) -> float | None:
    headers = getattr(err.response, "headers", None) or {}
    return retry_after_seconds(headers.get("Retry-After"))


class ArmReader:
    """Read-only ARM calls for one account, one client per subscription (built on first use)."""

    def __init__(self, account: Account, credential: TokenCredential, retry: RetryPolicy) -> None:
        self._account = account
        self._credential = credential
        self._retry = retry
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}

    def resource_groups(self, subscription: str) -> list[dict[str, Any]]:
        client = self._client(ResourceManagementClient, subscription)
        return [rg.as_dict() for rg in self._all(client.resource_groups.list())]

    def resources(self, subscription: str) -> list[dict[str, Any]]:
        client = self._client(ResourceManagementClient, subscription)
        pager = client.resources.list(expand="createdTime,changedTime,provisioningState")
        return [r.as_dict() for r in self._all(pager)]

    def locks(self, subscription: str) -> list[dict[str, Any]]:
        client = self._client(ManagementLockClient, subscription)
        pager = client.management_locks.list_at_subscription_level()
        return [lk.serialize(keep_readonly=True) for lk in self._all(pager)]

    def vm_statuses(self, subscription: str) -> list[dict[str, Any]]:
        """Every VM of the subscription with its instance view's statuses (power state), in one listing
        (``GET …/providers/Microsoft.Compute/virtualMachines?statusOnly=true``), not one call per VM."""
        client = self._client(ComputeManagementClient, subscription)
        return [_wire(vm) for vm in self._all(client.virtual_machines.list_all(status_only="true"))]

    def scale_set_vms(self, subscription: str, resource_group: str, name: str) -> list[dict[str, Any]]:
        """A uniform scale set's member VMs with their instance views (``$expand=instanceView``)."""
        client = self._client(ComputeManagementClient, subscription)
        pager = client.virtual_machine_scale_set_vms.list(resource_group, name, expand="instanceView")
        return [_wire(vm) for vm in self._all(pager)]

    def sql_failover_groups(self, subscription: str, resource_group: str, server: str) -> list[dict[str, Any]]:
        """``GET …/Microsoft.Sql/servers/{server}/failoverGroups``: partners, role, replicationState, policy."""
        client = self._client(SqlManagementClient, subscription)
        return [_wire(g) for g in self._all(client.failover_groups.list_by_server(resource_group, server))]

    def sql_replication_links(self, subscription: str, resource_group: str, server: str) -> list[dict[str, Any]]:
        """``GET …/Microsoft.Sql/servers/{server}/replicationLinks``: every database's geo-replication links."""
        client = self._client(SqlManagementClient, subscription)
        return [_wire(lk) for lk in self._all(client.replication_links.list_by_server(resource_group, server))]

    def sql_recoverable_databases(self, subscription: str, resource_group: str, server: str) -> list[dict[str, Any]]:
        """``GET …/Microsoft.Sql/servers/{server}/recoverableDatabases``: newest geo-replicated backup of each."""
        client = self._client(SqlManagementClient, subscription)
        return [_wire(d) for d in self._all(client.recoverable_databases.list_by_server(resource_group, server))]

    def cosmos_accounts(self, subscription: str) -> list[dict[str, Any]]:
        """``GET /subscriptions/{s}/providers/Microsoft.DocumentDB/databaseAccounts``: one listing with properties."""
        client = self._client(CosmosDBManagementClient, subscription)
        return [_wire(a) for a in self._all(client.database_accounts.list())]

    def storage_account(self, subscription: str, resource_group: str, name: str) -> dict[str, Any]:
        """``GET {account}?$expand=geoReplicationStats``: the only read that carries ``lastSyncTime``."""
        client = self._client(StorageManagementClient, subscription)
        got = self._retry.run(
            lambda: client.storage_accounts.get_properties(resource_group, name, expand="geoReplicationStats")
        )
        return _wire(got)

    # -- Front Door Standard/Premium (Microsoft.Cdn/profiles) and Azure DNS record sets ---------------
    def afd_endpoints(self, subscription: str, resource_group: str, profile: str) -> list[dict[str, Any]]:
        """``GET …/Microsoft.Cdn/profiles/{p}/afdEndpoints``: host names and enabled state."""
        client = self._client(CdnManagementClient, subscription)
        return [_wire(e) for e in self._all(client.afd_endpoints.list_by_profile(resource_group, profile))]

    def afd_routes(self, subscription: str, resource_group: str, profile: str, endpoint: str) -> list[dict[str, Any]]:
        """``GET …/afdEndpoints/{e}/routes``: custom domains, origin group, patterns, enabled state."""
        client = self._client(CdnManagementClient, subscription)
        return [_wire(r) for r in self._all(client.routes.list_by_endpoint(resource_group, profile, endpoint))]

    def afd_origin_groups(self, subscription: str, resource_group: str, profile: str) -> list[dict[str, Any]]:
        """``GET …/Microsoft.Cdn/profiles/{p}/originGroups``: health probe and load balancing settings."""
        client = self._client(CdnManagementClient, subscription)
        return [_wire(g) for g in self._all(client.afd_origin_groups.list_by_profile(resource_group, profile))]

    def afd_origins(self, subscription: str, resource_group: str, profile: str, group: str) -> list[dict[str, Any]]:
        """``GET …/originGroups/{g}/origins``: host name, priority, weight, enabled state."""
        client = self._client(CdnManagementClient, subscription)
        pager = client.afd_origins.list_by_origin_group(resource_group, profile, group)
        return [_wire(o) for o in self._all(pager)]

    def afd_custom_domains(self, subscription: str, resource_group: str, profile: str) -> list[dict[str, Any]]:
        """``GET …/Microsoft.Cdn/profiles/{p}/customDomains``: the host name behind each route's domain id."""
        client = self._client(CdnManagementClient, subscription)
        return [_wire(d) for d in self._all(client.afd_custom_domains.list_by_profile(resource_group, profile))]

    def dns_record_sets(self, subscription: str, resource_group: str, zone: str) -> list[dict[str, Any]]:
        """``GET …/Microsoft.Network/dnsZones/{zone}/recordsets``: every record set, alias targets included."""
        client = self._client(DnsManagementClient, subscription)
        return [_wire(r) for r in self._all(client.record_sets.list_by_dns_zone(resource_group, zone))]

    def metrics(
        self,
        subscription: str,
        resource_id: str,
        *,
        names: str,
        timespan: str,
        aggregation: str,
        namespace: str | None = None,
        filter: str | None = None,
    ) -> dict[str, Any]:
        """``GET {resource_id}/providers/Microsoft.Insights/metrics`` at one-minute grain: Azure Monitor's
        values of the metrics ``names`` over ``timespan`` (``start/end``), as the wire ``Response``."""
        client = self._client(MonitorManagementClient, subscription)
        got = self._retry.run(
            lambda: client.metrics.list(
                resource_id,
                timespan=timespan,
                interval="PT1M",
                metricnames=names,
                aggregation=aggregation,
                metricnamespace=namespace,
                filter=filter,
                api_version=METRICS_API_VERSION,
            )
        )
        return _wire(got)

    def by_type(self, subscription: str, native_type: str, api_version: str) -> list[dict[str, Any]]:
        """Every resource of one type in the subscription with its ``properties``, the model its read by id
        answers (``GET /subscriptions/{id}/providers/{type}``, following ``nextLink``; each page retried on
        its own)."""
        client = self._client(ResourceManagementClient, subscription)
        url: str | None = f"/subscriptions/{subscription}/providers/{native_type}?api-version={api_version}"
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        while url:
            page = self._retry.run(lambda u=url: _get_json(client, u))  # type: ignore[misc]
            out += [item for item in page.get("value") or [] if isinstance(item, dict)]
            url = page.get("nextLink") or None
            if url in seen:
                raise ProviderError(f"the server sent the same nextLink twice: {url}")
            if url:
                seen.add(url)
        return out

    def resource(self, subscription: str, resource_id: str, api_version: str) -> dict[str, Any]:
        client = self._client(ResourceManagementClient, subscription)
        got = self._retry.run(lambda: client.resources.get_by_id(resource_id, api_version=api_version))
        result: dict[str, Any] = got.as_dict()
        return result

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for c in clients:
            c.close()

    def _all(self, pager: ItemPaged[T]) -> Iterator[T]:
        """Every item of every page; each page is retried on its own, and a nextLink loop is an error."""
        pages: Any = pager.by_page()
        seen: set[str] = set()
        while True:
            page = self._retry.run(lambda: _next_page(pages))
            if page is None:
                return
            yield from page
            token = pages.continuation_token
            if token is not None:
                if token in seen:
                    raise ProviderError(f"the server sent the same nextLink twice: {token}")
                seen.add(token)

    def _client(self, cls: type, subscription: str) -> Any:
        key = (cls.__name__, subscription)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                options = client_options(self._account)
                if cls is ComputeManagementClient:
                    options["api_version"] = COMPUTE_API_VERSION
                client = cls(self._credential, subscription, **options)
                self._clients[key] = client
            return client


def _get_json(client: Any, url: str) -> dict[str, Any]:
    """One GET through the client's pipeline (its auth, read-only guard, timeouts); ARM errors raised as
    the SDK raises them."""
    response = client.send_request(HttpRequest("GET", url))
    if response.status_code >= 400:
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    body = response.json()
    return body if isinstance(body, dict) else {}


def _wire(model: Any) -> dict[str, Any]:
    """A model as its wire JSON (camelCase keys), whichever generator made it: msrest models serialize,
    the typed (hybrid) ones already hold the wire dict."""
    if hasattr(model, "_attribute_map"):
        result: dict[str, Any] = model.serialize(keep_readonly=True)
        return result
    return dict(model.as_dict())


def _next_page(pages: Iterator[Iterator[T]]) -> list[T] | None:
    page = next(pages, None)
    return None if page is None else list(page)


def _session(pool_size: int) -> requests.Session:
    """A session whose connection pool fits the account's concurrency (requests' default keeps 10),
    with urllib3's own retries off, as the SDK sets them."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(
        pool_maxsize=max(10, pool_size), max_retries=Retry(total=False, redirect=False, raise_on_status=False)
    )
    for scheme in ("http://", "https://"):
        session.mount(scheme, adapter)
    return session


def client_options(account: Account) -> dict[str, Any]:
    """Keyword arguments every ARM client gets: no SDK retries, our timeouts, read-only guard, endpoint."""
    options: dict[str, Any] = {
        "retry_total": 0,
        "connection_timeout": account.timeout,
        "read_timeout": account.timeout,
        "per_retry_policies": [ReadOnlyGuard()],
        "user_agent": "failover",
        "session": _session(account.max_concurrency),
        "session_owner": True,
    }
    if account.endpoint:
        base = account.endpoint.rstrip("/")
        options["base_url"] = base
        options["credential_scopes"] = [f"{base}/.default"]
    if account.credentials == "anonymous":
        options["authentication_policy"] = StaticBearerPolicy(ANONYMOUS_TOKEN)
    return options
