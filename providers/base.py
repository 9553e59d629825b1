"""The one interface every cloud adapter implements, and the fan-out/retry machinery they share.

An adapter turns one config ``Account`` into one ``Inventory``: normalized resources plus the scopes
(regions, projects, subscriptions, or a service within one) that could not be read. Adapters are
read-only, build their SDK clients per call from the account (never at import time), and report
failures per scope instead of raising, so "could not list" is never mistaken for "has none".
"""

from __future__ import annotations

import importlib
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol, TypeVar

from failover.errors import AccessDenied, ProviderError, Throttled, Unreachable
from failover.model import Inventory, Resource, ScopeError, utcnow

if TYPE_CHECKING:
    from failover.schema import Account

T = TypeVar("T")
R = TypeVar("R")

# provider -> "module:class"; imported lazily (the GCP SDK alone takes seconds to import).
ADAPTERS: dict[str, str] = {
    "aws": "providers.aws:AwsAdapter",
    "gcp": "providers.gcp:GcpAdapter",
    "azure": "providers.azure:AzureAdapter",
}


class Adapter(Protocol):
    provider: str

    def inventory(self, account: Account) -> Inventory: ...


def get_adapter(provider: str) -> Adapter:
    module, cls = ADAPTERS[provider].split(":")
    adapter: Adapter = getattr(importlib.import_module(module), cls)()
    return adapter


def inventory_accounts(
    accounts: Iterable[Account],
    max_workers: int = 4,
    on_done: Callable[[Inventory], None] | None = None,
) -> list[Inventory]:
    """Inventory several accounts concurrently; an adapter that blows up yields an incomplete inventory.

    ``on_done`` is called with each account's inventory as it finishes (progress displays); the
    returned list keeps the accounts' order.
    """

    def one(account: Account) -> Inventory:
        started = utcnow()
        try:
            inv = get_adapter(account.provider).inventory(account)
        except Exception as err:  # a bug or an SDK surprise: still an answer, never "no resources"
            inv = Inventory(
                account=account.name,
                provider=account.provider,
                incomplete=[ScopeError(scope="*", error=error_kind(err), reason=one_line(err))],
                started_at=started,
            )
        if on_done is not None:
            on_done(inv)
        return inv

    accounts = list(accounts)
    if not accounts:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(accounts)))) as pool:
        return list(pool.map(one, accounts))


def error_kind(err: BaseException) -> str:
    if isinstance(err, AccessDenied):
        return "access_denied"
    if isinstance(err, Throttled):
        return "throttled"
    if isinstance(err, Unreachable):
        return "unreachable"
    return "error"


def scope_error(err: BaseException, scope: str) -> ScopeError:
    """The incomplete-scope record for ``err``: where a ``ProviderError`` says it happened, else ``scope``."""
    where = err.scope if isinstance(err, ProviderError) and err.scope else scope
    return ScopeError(scope=where, error=error_kind(err), reason=one_line(err))


def one_line(err: BaseException, limit: int = 300) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def with_retries(
    call: Callable[[], T],
    *,
    classify: Callable[[BaseException], BaseException | None],
    attempts: int = 5,
    base_delay: float = 0.2,
    max_delay: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``; retry what ``classify`` maps to ``Throttled``/``Unreachable`` with full-jitter backoff.

    ``classify`` turns an SDK exception into one of our ``ProviderError``s (or ``None`` to re-raise it
    unchanged). ``AccessDenied`` is never retried. A ``Throttled`` with a ``retry_after`` hint waits at
    least that long (capped at ``max_delay``), so a server asking for patience gets it.
    """
    for attempt in range(attempts):
        try:
            return call()
        except Exception as raw:
            err = classify(raw)
            if err is None:
                raise
            retryable = isinstance(err, Throttled | Unreachable)
            if not retryable or attempt == attempts - 1:
                raise err from raw
            delay = random.uniform(0, min(max_delay, base_delay * 2**attempt))
            if isinstance(err, Throttled) and err.retry_after is not None:
                delay = max(delay, min(max_delay, err.retry_after))
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def each(fn: Callable[[T], R], items: Iterable[T], *, max_workers: int) -> list[tuple[T, R | ProviderError]]:
    """``fn`` over ``items`` concurrently (bounded), in order; a ``ProviderError`` comes back as the item's
    value so one failed detail read (one group's members, one backend's health) never hides the others.
    Anything else is a bug and propagates."""
    items = list(items)
    if not items:
        return []

    def one(item: T) -> R | ProviderError:
        try:
            return fn(item)
        except ProviderError as err:
            return err

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items)))) as pool:
        return list(zip(items, pool.map(one, items), strict=True))


# What reading one scope yields: its resources, or its resources plus the sub-scopes it could not read
# (e.g. a project's instances were listed but one zone was unreachable).
ScopeResult = list[Resource] | tuple[list[Resource], list[ScopeError]]


def fan_out(
    scopes: Iterable[str],
    read: Callable[[str], ScopeResult],
    *,
    max_workers: int,
) -> tuple[list[Resource], list[ScopeError]]:
    """Read every scope concurrently (bounded). A scope that fails becomes a ``ScopeError``, not an empty list.

    ``read`` may return a partial answer as ``(resources, scope_errors)``; both are kept.
    """
    scopes = list(dict.fromkeys(scopes))
    resources: list[Resource] = []
    errors: list[ScopeError] = []
    if not scopes:
        return resources, errors

    def one(scope: str) -> tuple[str, ScopeResult | BaseException]:
        try:
            return scope, read(scope)
        except Exception as err:
            return scope, err

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(scopes)))) as pool:
        for scope, result in pool.map(one, scopes):
            if isinstance(result, BaseException):
                errors.append(scope_error(result, scope))
            elif isinstance(result, tuple):
                resources.extend(result[0])
                errors.extend(result[1])
            else:
                resources.extend(result)
    return resources, errors
