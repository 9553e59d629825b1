"""Compute SDK clients for one inventory call, and the calling rules every GCP read shares.

``google.cloud.compute_v1`` costs seconds to import, so it is imported on the first client built,
never at module import. Every call goes out with the SDK's own retry disabled and the account's
timeout; throttling and 5xx are retried here (bounded, jittered) via ``providers.base.with_retries``,
and every failure leaves as one of our ``ProviderError``s naming the scope that could not be read.
"""

from __future__ import annotations

import importlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from failover.errors import AccessDenied, ProviderError, Throttled, Unreachable
from failover.model import ScopeError
from providers.base import NO_DEADLINE, Deadline, one_line, with_retries
from providers.gcp.common import unreachable_errors

if TYPE_CHECKING:
    from failover.schema import Account

T = TypeVar("T")

COMPUTE_READONLY = "https://www.googleapis.com/auth/compute.readonly"
# The narrowest OAuth scopes each API accepts for its list calls (Cloud SQL Admin has no read-only
# scope; the custom role's permissions, not the scope, keep it to reads).
SCOPES = [
    COMPUTE_READONLY,
    "https://www.googleapis.com/auth/sqlservice.admin",
    "https://www.googleapis.com/auth/devstorage.read_only",
    "https://www.googleapis.com/auth/monitoring.read",
    "https://www.googleapis.com/auth/ndev.clouddns.readonly",
]
NO_RESULTS = "NO_RESULTS_ON_PAGE"  # the one scope warning that means "none here"


def credentials_for(account: Account) -> Any:
    """ADC (``google.auth.default``) with the read-only scopes (``SCOPES``); anonymous only for loopback emulators."""
    if account.credentials == "anonymous":
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _project = google.auth.default(scopes=SCOPES)
    except DefaultCredentialsError as err:
        raise AccessDenied(f"no GCP credentials found (application default credentials): {one_line(err)}") from err
    return credentials


def classify(err: BaseException, scope: str) -> ProviderError | None:
    """Map an SDK/transport exception to our hierarchy; ``None`` leaves a genuine bug to propagate."""
    import requests
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    if isinstance(err, ProviderError):
        return err
    api_error = _discovery_error(err)
    if api_error is not None:
        err = api_error
    if isinstance(err, gexc.GoogleAPICallError):
        code = err.code if isinstance(err.code, int) else None
        text = f"{err.message} (HTTP {code})" if code else one_line(err)
        if isinstance(err, gexc.Forbidden | gexc.PermissionDenied | gexc.Unauthorized | gexc.Unauthenticated):
            return AccessDenied(f"access denied reading {scope}: {text}", scope)
        if isinstance(err, gexc.TooManyRequests | gexc.ResourceExhausted):
            return Throttled(f"throttled reading {scope}: {text}", scope, retry_after=_retry_after(err))
        if isinstance(err, gexc.ServerError | gexc.DeadlineExceeded):
            return Unreachable(f"server error reading {scope}: {text}", scope)
        return ProviderError(f"error reading {scope}: {text}", scope)
    if isinstance(err, auth_exc.RefreshError | auth_exc.DefaultCredentialsError):
        return AccessDenied(f"credentials refused reading {scope}: {one_line(err)}", scope)
    if isinstance(err, auth_exc.TransportError | requests.RequestException | OSError) or _is_httplib2(err):
        return Unreachable(f"could not reach the API reading {scope}: {one_line(err)}", scope)
    return None


def _discovery_error(err: BaseException) -> BaseException | None:
    """google-api-python-client's ``HttpError`` as the matching ``google.api_core`` exception (same
    status, the API's own message), so one classification serves both client families."""
    if type(err).__module__ != "googleapiclient.errors" or not hasattr(err, "resp"):
        return None
    from google.api_core import exceptions as gexc

    status = int(getattr(err.resp, "status", 0) or 0)
    message = str(getattr(err, "reason", "") or one_line(err))
    return gexc.from_http_status(status, message, response=_Headers(err.resp))


@dataclass
class _Headers:
    """What ``_retry_after`` reads from a response: its headers (httplib2 keeps them lower-case)."""

    resp: Any

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": self.resp.get("retry-after")} if self.resp.get("retry-after") else {}


def _is_httplib2(err: BaseException) -> bool:
    return type(err).__module__.startswith("httplib2")


def _retry_after(err: Any) -> float | None:
    response = getattr(err, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


@dataclass
class GcpSession:
    """Credentials, endpoint and call policy for one inventory call. Clients are built per use."""

    credentials: Any
    endpoint: str | None
    timeout: float
    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_workers: int = 8  # per-item reads (one per group, one per backend group) running at once
    sleep: Callable[[float], None] = field(default=time.sleep)
    deadline: Deadline = NO_DEADLINE  # the account's inventory deadline: no retry or wait past it
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def client(self, name: str) -> Any:
        """``compute_v1.<name>`` (e.g. ``InstancesClient``) for the calling thread.

        Each thread gets its own clients (their HTTP sessions are not shared across threads) and reuses
        them, so a thread reading many backend services keeps its connection open.
        """
        cache: dict[str, Any] = self._local.__dict__.setdefault("clients", {})
        if name not in cache:
            compute_v1 = importlib.import_module("google.cloud.compute_v1")
            options = {"api_endpoint": self.endpoint} if self.endpoint else None
            cache[name] = getattr(compute_v1, name)(credentials=self.credentials, client_options=options)
        return cache[name]

    def api(self, name: str, version: str) -> Any:
        """A google-api-python-client service (``sqladmin v1``, ``monitoring v3``) for the calling thread,
        built from the discovery document the library ships (no discovery fetch), with the account's
        timeout and endpoint. Used for the APIs whose Cloud Client library has no REST transport or
        none at all (Cloud SQL Admin; google-cloud-monitoring speaks only gRPC)."""
        cache: dict[str, Any] = self._local.__dict__.setdefault("apis", {})
        key = f"{name}:{version}"
        if key not in cache:
            import google_auth_httplib2
            import httplib2
            from googleapiclient.discovery import build

            http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=httplib2.Http(timeout=self.timeout))
            options = {"api_endpoint": self.endpoint.rstrip("/") + "/"} if self.endpoint else None
            cache[key] = build(
                name, version, http=http, static_discovery=True, cache_discovery=False, client_options=options
            )
        return cache[key]

    def execute(self, scope: str, request: Any) -> Any:
        """One google-api-python-client request (``service.instances().list(...)``) with bounded retries."""
        return with_retries(
            lambda: request.execute(num_retries=0),
            classify=lambda e: classify(e, scope),
            attempts=self.attempts,
            base_delay=self.base_delay,
            max_delay=self.max_delay,
            sleep=self.sleep,
        )

    def call(self, scope: str, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """One unary call (``get``, ``get_health``) with bounded retries and the account's timeout."""
        return with_retries(
            lambda: fn(**kwargs, retry=None, timeout=self.timeout),
            classify=lambda e: classify(e, scope),
            attempts=self.attempts,
            base_delay=self.base_delay,
            max_delay=self.max_delay,
            sleep=self.sleep,
            deadline=self.deadline,
        )

    def pages(self, scope: str, method: Callable[..., Any], request: dict[str, Any]) -> Iterator[Any]:
        """Every page of a list call, following ``nextPageToken``; each page is retried on its own."""
        request = {"max_results": 500, **request}
        seen: set[str] = set()
        while True:
            page = self.call(scope, lambda **kw: next(iter(method(request=dict(request), **kw).pages)))
            yield page
            token = page.next_page_token
            if not token:
                return
            if token in seen:
                raise ProviderError(f"error reading {scope}: the API repeated page token {token!r}", scope)
            seen.add(token)
            request["page_token"] = token

    def aggregated(
        self, scope: str, method: Callable[..., Any], request: dict[str, Any], key: str
    ) -> tuple[list[tuple[str, Any]], dict[str, str]]:
        """All ``(scope key, item)`` pairs of an aggregated list, plus the scopes it could not read (scope -> why).

        A scope holding only the ``NO_RESULTS_ON_PAGE`` warning has none of these resources. Any other
        scope warning (``UNREACHABLE`` above all: the v1 API without ``returnPartialSuccess`` reports a
        zone or region it could not reach that way) leaves that scope unknown, never empty; so does a
        scope the response lists in top-level ``unreachables`` (partial-success answers).
        """
        items: list[tuple[str, Any]] = []
        unreachable: dict[str, str] = {}
        for page in self.pages(scope, method, request):
            for where, scoped in page.items.items():
                items.extend((where, item) for item in getattr(scoped, key))
                warning = scoped.warning if "warning" in scoped else None
                if warning is not None and warning.code and warning.code != NO_RESULTS:
                    unreachable.setdefault(where, f"{warning.code}: {warning.message}".rstrip(": "))
            # Not every aggregated list type has ``unreachables`` (instance templates do not).
            listed = page.unreachables if "unreachables" in type(page).meta.fields else []
            for where in listed:
                unreachable.setdefault(where, "listed in unreachables")
        return items, unreachable

    def project_aggregated(self, project: str, collection: str) -> tuple[list[tuple[str, Any]], list[ScopeError]]:
        """A project's aggregated list of ``collection`` (``instanceGroupManagers``) through its Compute
        client (``InstanceGroupManagersClient``): the ``(scope key, item)`` pairs, and a ``ScopeError`` per
        scope it could not read (unknown, not empty)."""
        items, unreachable = self._project_aggregated(project, collection)
        return items, unreachable_errors(project, collection, unreachable)

    def project_aggregated_whole(self, project: str, collection: str, what: str) -> list[tuple[str, Any]]:
        """As ``project_aggregated``, for a lookup that must be whole: any unreachable scope fails the read
        (a missing entry would read as "none" to a check), naming ``what`` could not be read."""
        items, unreachable = self._project_aggregated(project, collection)
        if unreachable:
            raise ProviderError(f"{what} unreachable in {', '.join(unreachable)}", f"{project}/{collection}")
        return items

    def _project_aggregated(self, project: str, collection: str) -> tuple[list[tuple[str, Any]], dict[str, str]]:
        client = self.client(collection[0].upper() + collection[1:] + "Client")
        key = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", collection).lower()  # the scoped list's field
        return self.aggregated(f"{project}/{collection}", client.aggregated_list, {"project": project}, key)

    def listed(self, scope: str, method: Callable[..., Any], request: dict[str, Any]) -> list[Any]:
        """All items of a plain (non-aggregated) list call."""
        return [item for page in self.pages(scope, method, request) for item in page.items]
