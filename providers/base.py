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
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeVar

from failover.errors import AccessDenied, DeadlineExceeded, ProviderError, Throttled, Unreachable
from failover.model import Inventory, Resource, ScopeError, utcnow

if TYPE_CHECKING:
    from failover.schema import Account, LagMetricRead

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

# provider -> "module:class"; imported lazily (the GCP SDK alone takes seconds to import).
ADAPTERS: dict[str, str] = {
    "aws": "providers.aws:AwsAdapter",
    "gcp": "providers.gcp:GcpAdapter",
    "azure": "providers.azure:AzureAdapter",
    "cloudflare": "providers.cloudflare:CloudflareAdapter",
}


@dataclass(frozen=True, slots=True)
class Deadline:
    """When one account's inventory must be finished (``Account.inventory_deadline`` after it started).

    Shared by everything reading the account: ``fan_out`` stops waiting at it and records the scopes
    still running as incomplete, and ``with_retries`` neither retries nor waits (a ``Retry-After``
    included) past it, so one hanging or throttling API cannot hold a cycle. ``seconds=None`` means
    no deadline (adapters called directly, e.g. by the benchmarks).
    """

    seconds: float | None = None
    at: float | None = None  # time.monotonic() value

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        return cls(seconds, None if seconds is None else time.monotonic() + seconds)

    def remaining(self) -> float | None:
        """Seconds left (never negative); None without a deadline."""
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def describe(self) -> str:
        return f"the {self.seconds:g}s inventory deadline" if self.seconds is not None else "no deadline"


NO_DEADLINE = Deadline()


def deadline_of(account: Account) -> Deadline:
    """The account's deadline, starting now (``inventory_deadline`` unset: none)."""
    return Deadline.after(getattr(account, "inventory_deadline", None))


@dataclass(frozen=True)
class Prior:
    """An account's previous inventory, handed to its next one: a setting that rarely changes and costs
    a call per resource (EC2 termination protection) may be carried over from it while it is younger
    than ``reuse_for_s``; every carried value keeps the time it was read, so its age is never hidden."""

    inventory: Inventory
    reuse_for_s: float

    def resources(self, kind: str) -> dict[tuple[str, str], Resource]:
        """The previous ``kind`` resources by (region, native id)."""
        return {(r.region, r.native_id): r for r in self.inventory.resources if r.kind == kind}


class Adapter(Protocol):
    provider: str

    def inventory(self, account: Account, prior: Prior | None = None) -> Inventory: ...


def get_adapter(provider: str) -> Adapter:
    module, cls = ADAPTERS[provider].split(":")
    adapter: Adapter = getattr(importlib.import_module(module), cls)()
    return adapter


def inventory_accounts(
    accounts: Iterable[Account],
    max_workers: int = 4,
    on_done: Callable[[Inventory], None] | None = None,
    priors: Mapping[str, Prior] | None = None,
) -> list[Inventory]:
    """Inventory several accounts concurrently; an adapter that blows up yields an incomplete inventory.

    ``on_done`` is called with each account's inventory as it finishes (progress displays); the
    returned list keeps the accounts' order. ``priors`` (account name -> ``Prior``) is what each
    account's adapter may reuse.
    """

    def one(account: Account) -> Inventory:
        started = utcnow()
        try:
            inv = get_adapter(account.provider).inventory(account, (priors or {}).get(account.name))
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
    if isinstance(err, DeadlineExceeded):
        return "deadline"
    return "error"


def scope_error(err: BaseException, scope: str) -> ScopeError:
    """The incomplete-scope record for ``err``: where a ``ProviderError`` says it happened, else ``scope``."""
    where = err.scope if isinstance(err, ProviderError) and err.scope else scope
    return ScopeError(scope=where, error=error_kind(err), reason=one_line(err))


def or_unknown(
    errors: list[ScopeError], scope: str, read: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T | None:
    """``read(*args, **kwargs)``, or ``None`` (unknown, never empty) plus a ``ScopeError`` for ``scope`` when
    it fails: a sub-read whose failure leaves one part of the answer unknown instead of sinking the whole read."""
    try:
        return read(*args, **kwargs)
    except ProviderError as err:
        errors.append(scope_error(err, scope))
        return None


def retry_after_seconds(header: str | None) -> float | None:
    """A ``Retry-After`` header's wait in seconds, in either form it takes (delta seconds or an HTTP date),
    never negative; ``None`` when absent or unreadable."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds())
    except (ValueError, TypeError):
        return None


def one_line(err: BaseException, limit: int = 300) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lag_seconds(newest: Iterable[float], per_s: float) -> float | None:
    """A declared lag metric's value from the newest value of each of its series: the largest, in seconds
    (``per_s`` of its units make one); a negative value kept as it is (RDS-style ``-1``: not replicating);
    None without any value (unknown, never zero)."""
    values = list(newest)
    if not values:
        return None
    value = max(values)
    return value if value < 0 else value / per_s


def read_lag_metrics_each(
    reads: Iterable[LagMetricRead], scope: str, read: Callable[[LagMetricRead], Resource]
) -> tuple[list[Resource], list[ScopeError]]:
    """Each declared store's ``lag_metric`` read one by one (the clouds whose metric APIs read one
    metric a call), as ``read`` makes its ``metric`` resource; one that cannot be read is a
    ``ScopeError`` naming the store (and no resource: the check says it was not read, and why)."""
    resources: list[Resource] = []
    errors: list[ScopeError] = []
    for one in reads:
        try:
            resources.append(read(one))
        except ProviderError as err:
            errors.append(ScopeError(scope=scope, error=error_kind(err), reason=f"{one.key}: {one_line(err)}"))
    return resources, errors


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How an adapter's reader retries its calls: ``classify`` (the SDK's errors to ours), the backoff,
    and the account's inventory deadline past which nothing retries or waits. One per account read."""

    classify: Callable[[BaseException], BaseException | None]
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    sleep: Callable[[float], None] | None = None  # None: time.sleep (tests pass a recorder)
    deadline: Deadline = NO_DEADLINE

    def run(self, call: Callable[[], T]) -> T:
        return with_retries(
            call,
            classify=self.classify,
            attempts=self.attempts,
            base_delay=self.base_delay,
            max_delay=self.max_delay,
            sleep=self.sleep or time.sleep,
            deadline=self.deadline,
        )


def with_retries(
    call: Callable[[], T],
    *,
    classify: Callable[[BaseException], BaseException | None],
    attempts: int = 5,
    base_delay: float = 0.2,
    max_delay: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    deadline: Deadline = NO_DEADLINE,
) -> T:
    """Run ``call``; retry what ``classify`` maps to ``Throttled``/``Unreachable`` with full-jitter backoff.

    ``classify`` turns an SDK exception into one of our ``ProviderError``s (or ``None`` to re-raise it
    unchanged). ``AccessDenied`` is never retried. A ``Throttled`` with a ``retry_after`` hint waits at
    least that long, so a server asking for patience gets it: in full when it fits before ``deadline``
    (capped at ``max_delay`` without one); a hint reaching past the deadline ends the retries at once.
    No retry starts, and no wait runs, past the deadline.
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
            remaining = deadline.remaining()
            scope = getattr(err, "scope", "")
            hint = err.retry_after if isinstance(err, Throttled) else None
            if hint is not None and remaining is not None and hint > remaining:
                why = f"{err}; the server asks to retry after {hint:g}s, past {deadline.describe()}"
                raise Throttled(why, scope, hint) from raw
            if hint is not None:
                delay = max(delay, hint if remaining is not None else min(max_delay, hint))
            if remaining is not None and delay >= remaining:
                raise DeadlineExceeded(f"{err}; not retried: {deadline.describe()} came first", scope) from raw
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
    deadline: Deadline = NO_DEADLINE,
) -> tuple[list[Resource], list[ScopeError]]:
    """Read every scope concurrently (bounded). A scope that fails becomes a ``ScopeError``, not an empty list.

    ``read`` may return a partial answer as ``(resources, scope_errors)``; both are kept. At ``deadline``
    the scopes not finished are recorded incomplete (``deadline``) and left behind: their threads end
    on their own (each call has its timeout, and no retry starts past the deadline).
    """
    scopes = list(dict.fromkeys(scopes))
    resources: list[Resource] = []
    errors: list[ScopeError] = []
    if not scopes:
        return resources, errors

    def one(scope: str) -> ScopeResult | BaseException:
        try:
            return read(scope)
        except Exception as err:
            return err

    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(scopes))), thread_name_prefix="fan-out")
    futures: dict[str, Future[ScopeResult | BaseException]] = {scope: pool.submit(one, scope) for scope in scopes}
    _, late = wait(futures.values(), timeout=deadline.remaining())
    pool.shutdown(wait=not late, cancel_futures=True)
    for scope, future in futures.items():
        if future.cancelled() or not future.done():  # (one of ``late`` may have finished since)
            started = "not started" if future.cancelled() else "not finished"
            reason = f"{started} within {deadline.describe()} (inventory_deadline)"
            errors.append(ScopeError(scope=scope, error="deadline", reason=reason))
            continue
        result = future.result()
        if isinstance(result, BaseException):
            errors.append(scope_error(result, scope))
        elif isinstance(result, tuple):
            resources.extend(result[0])
            errors.extend(result[1])
        else:
            resources.extend(result)
    return resources, errors
