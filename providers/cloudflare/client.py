"""The Cloudflare SDK edge: the API token, the client, error classification, retried reads.

This module imports the official ``cloudflare`` library at the top, so only
``CloudflareAdapter.inventory`` imports it (lazily). The library's own retries are off
(``max_retries=0``); every call goes through ``providers.base.with_retries`` instead, so 429 and
5xx answers are retried with jitter, honouring ``Retry-After`` up to the account's inventory deadline.
An httpx request hook refuses anything but GET, whatever builds the request.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import cloudflare
import httpx

from failover.errors import AccessDenied, ProviderError, Throttled, Unreachable
from failover.schema import Account
from providers.base import RetryPolicy, one_line, retry_after_seconds

__all__ = ["DEFAULT_TOKEN_ENV", "CloudflareReader", "classify", "token_for"]

T = TypeVar("T")
DEFAULT_TOKEN_ENV = "CLOUDFLARE_API_TOKEN"
ANONYMOUS_TOKEN = "anonymous"  # sent to loopback emulators only (the schema enforces loopback)


def token_for(account: Account) -> str:
    """The API token from the environment (``token_env``, default ``CLOUDFLARE_API_TOKEN``); AccessDenied,
    naming the variable and never a value, when it is unset."""
    if account.credentials == "anonymous":
        return ANONYMOUS_TOKEN
    name = account.token_env or DEFAULT_TOKEN_ENV
    token = os.environ.get(name, "").strip()
    if not token:
        raise AccessDenied(f"no Cloudflare API token: the environment variable {name} is not set")
    return token


def _read_only(request: httpx.Request) -> None:
    if request.method.upper() not in ("GET", "HEAD"):
        raise ProviderError(f"refused to send {request.method} {request.url.path}: failover only reads")


def _retry_after(response: httpx.Response) -> float | None:
    return retry_after_seconds(response.headers.get("Retry-After"))


def _api_errors(err: cloudflare.APIStatusError) -> str:
    """The envelope's errors as ``code message`` (never the request's headers or token)."""
    body = err.body if isinstance(err.body, dict) else {}
    errors: list[Any] = body.get("errors") if isinstance(body.get("errors"), list) else []  # type: ignore[assignment]
    parts = [f"{e.get('code')} {e.get('message')}" for e in errors if isinstance(e, dict)]
    return "; ".join(parts)[:200] or err.response.reason_phrase


def classify(err: BaseException) -> ProviderError | None:
    """A library exception as one of our errors; ``None`` leaves anything else as is."""
    if isinstance(err, cloudflare.APIStatusError):
        status = err.status_code
        text = f"HTTP {status}: {_api_errors(err)} ({err.response.request.url.path})"
        if status in (401, 403):
            return AccessDenied(text)
        if status == 429:
            return Throttled(text, retry_after=_retry_after(err.response))
        if status == 408 or status >= 500:
            return Unreachable(text)
        return ProviderError(text)
    if isinstance(err, cloudflare.APIConnectionError) and isinstance(err.__cause__, ProviderError):
        return err.__cause__  # our own read-only guard refused the request: not a network fault, never retried
    if isinstance(err, cloudflare.APIConnectionError):  # includes timeouts
        return Unreachable(one_line(err.__cause__ or err))
    if isinstance(err, cloudflare.APIResponseValidationError):
        return ProviderError(f"unexpected answer: {one_line(err)}")
    return None


class CloudflareReader:
    """Read-only Load Balancing calls for one account, through one client (thread-safe, pooled)."""

    def __init__(self, account: Account, token: str, retry: RetryPolicy) -> None:
        self._retry = retry
        limits = httpx.Limits(
            max_connections=account.max_concurrency, max_keepalive_connections=account.max_concurrency
        )
        self._http = httpx.Client(
            timeout=account.timeout, limits=limits, event_hooks={"request": [_read_only]}, follow_redirects=False
        )
        options: dict[str, Any] = {}
        if account.endpoint:
            options["base_url"] = account.endpoint.rstrip("/")
        self._client = cloudflare.Cloudflare(
            api_token=token,
            max_retries=0,
            timeout=account.timeout,
            http_client=self._http,
            default_headers={"User-Agent": "failover"},
            **options,
        )

    def zone(self, zone_id: str) -> dict[str, Any]:
        """``GET /zones/{zone_id}``: the zone's name and the account its pools live in."""
        return _dict(self._retry.run(lambda: self._client.zones.get(zone_id=zone_id)))

    def load_balancers(self, zone_id: str) -> list[dict[str, Any]]:
        """``GET /zones/{zone_id}/load_balancers``."""
        return self._list(lambda: self._client.load_balancers.list(zone_id=zone_id), f"zones/{zone_id}/load_balancers")

    def pools(self, account_id: str) -> list[dict[str, Any]]:
        """``GET /accounts/{account_id}/load_balancers/pools``."""
        return self._list(
            lambda: self._client.load_balancers.pools.list(account_id=account_id),
            f"accounts/{account_id}/load_balancers/pools",
        )

    def monitors(self, account_id: str) -> list[dict[str, Any]]:
        """``GET /accounts/{account_id}/load_balancers/monitors``."""
        return self._list(
            lambda: self._client.load_balancers.monitors.list(account_id=account_id),
            f"accounts/{account_id}/load_balancers/monitors",
        )

    def pool_health(self, account_id: str, pool_id: str) -> dict[str, Any]:
        """``GET /accounts/{account_id}/load_balancers/pools/{pool_id}/health``."""
        got = self._retry.run(lambda: self._client.load_balancers.pools.health.get(pool_id, account_id=account_id))
        return _dict(got)

    def close(self) -> None:
        self._client.close()
        self._http.close()

    def _list(self, call: Callable[[], Any], what: str) -> list[dict[str, Any]]:
        """A single-page listing, refused when the answer says it holds fewer items than exist: a
        truncated list would read as "no such load balancer"."""
        page = self._retry.run(call)
        items = [_dict(x) for x in page.result or []]
        info = getattr(page, "result_info", None)
        total = info.get("total_count") if isinstance(info, dict) else getattr(info, "total_count", None)
        if isinstance(total, int | float) and total > len(items):
            raise ProviderError(f"{what}: the answer holds {len(items)} of {total:g} items (a truncated list)")
        return items


def _dict(model: Any) -> dict[str, Any]:
    """A library model as its wire JSON (only the fields the API sent)."""
    if model is None:
        return {}
    result: dict[str, Any] = model.to_dict(mode="json")
    return result
