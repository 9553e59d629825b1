"""Credentials, clients and error mapping for one AWS inventory call.

Everything here is built per call from the config ``Account``: a boto3 session from the standard
credential chain (optionally exchanged for a role via STS), and clients that all honour the
account's ``endpoint_url``, timeout and retry settings. botocore's own retry handler is the single
retry layer: it retries each HTTP request (so one page of a listing, not the whole listing) on
throttling codes, 5xx and connection errors with full-jitter exponential backoff, until the account's
inventory deadline (``stop_retries_at``); what still fails is mapped to our ``ProviderError``
hierarchy by ``classify``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
import jmespath
from botocore.config import Config as BotoConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from failover.errors import AccessDenied, DeadlineExceeded, ProviderError, Throttled, Unreachable
from failover.schema import Account
from providers.base import NO_DEADLINE, Deadline, one_line, with_retries

T = TypeVar("T")

# Static keys for ``credentials: anonymous``; the schema only allows it with a loopback endpoint.
ANONYMOUS_KEYS = {"aws_access_key_id": "failover-anonymous", "aws_secret_access_key": "failover-anonymous"}
ROLE_SESSION_NAME = "failover-inventory"

ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthFailure",
        "AuthorizationError",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "OptInRequired",
        "AllAccessDisabled",
        "AccountProblem",
    }
)
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)


def error_code(err: BaseException) -> str:
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code", ""))
    return ""


def classify(err: BaseException) -> ProviderError | None:
    """Map a boto3/botocore exception (after botocore's retries) to our error hierarchy."""
    if isinstance(err, ProviderError):
        return err
    if isinstance(err, ClientError):
        code = error_code(err)
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = err.response.get("Error", {}).get("Message") or ""
        op = getattr(err, "operation_name", "") or "request"
        text = f"{op}: {code or status}: {message}".rstrip(": ")
        if code in ACCESS_DENIED_CODES or status == 403:
            return AccessDenied(text)
        if code in THROTTLING_CODES or status == 429:
            return Throttled(f"{text} (still throttled after retries)")
        if status >= 500:
            return Unreachable(f"{text} (HTTP {status} after retries)")
        return ProviderError(text)
    if isinstance(err, NoCredentialsError | PartialCredentialsError | ProfileNotFound):
        return AccessDenied(f"no usable AWS credentials: {err}")
    if isinstance(err, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError):
        return Unreachable(str(err))
    if isinstance(err, BotoCoreError):
        return ProviderError(str(err))
    return None


def guarded(call: Callable[[], T]) -> T:
    """Run an SDK call once (botocore already retried it); SDK errors become ``ProviderError``s, bugs
    propagate unchanged."""
    return with_retries(call, classify=classify, attempts=1)


def base_session(account: Account) -> boto3.Session:
    """The account's own credentials: static dummy keys for ``anonymous``, else boto3's standard chain."""
    region = account.regions[0] if account.regions else None
    if account.credentials == "anonymous":
        return boto3.Session(region_name=region, **ANONYMOUS_KEYS)
    return boto3.Session(profile_name=account.profile, region_name=region)


def botocore_config(account: Account, *, retry_mode: str, max_attempts: int) -> BotoConfig:
    return BotoConfig(
        retries={"mode": retry_mode, "total_max_attempts": max_attempts},
        connect_timeout=account.timeout,
        read_timeout=account.timeout,
        max_pool_connections=max(10, account.max_concurrency * 2),
        user_agent_extra="failover-inventory",
    )


def stop_retries_at(deadline: Deadline) -> Callable[..., None]:
    """A ``needs-retry`` handler that ends botocore's retries once ``deadline`` has passed.

    botocore asks its handlers after every attempt whether to retry; this one runs first and, past the
    deadline, turns a failed attempt (connection error, timeout, 5xx, throttling) into our
    ``DeadlineExceeded`` instead of letting the retry handler wait and try again. A successful or
    plainly refused answer passes through untouched.
    """

    def handler(
        response: Any = None, caught_exception: BaseException | None = None, attempts: int = 0, **_: Any
    ) -> None:
        if not deadline.expired():
            return None
        what = one_line(caught_exception) if caught_exception is not None else ""
        if response is not None and caught_exception is None:
            status = int(getattr(response[0], "status_code", 0) or 0)
            code = str((response[1] or {}).get("Error", {}).get("Code", ""))
            if status < 500 and status != 429 and code not in THROTTLING_CODES:
                return None
            what = f"{code or 'HTTP'} {status}".strip()
        raise DeadlineExceeded(f"{what} after {attempts} attempt(s); not retried: {deadline.describe()} came first")

    return handler


class Clients:
    """Thread-safe, per-inventory cache of clients by (service, region).

    boto3 sessions are not thread-safe but the clients they make are, so creation takes a lock. Every
    client stops retrying at the inventory's ``deadline``.
    """

    def __init__(
        self, session: boto3.Session, account: Account, config: BotoConfig, deadline: Deadline = NO_DEADLINE
    ) -> None:
        self._session = session
        self._endpoint = account.endpoint_url
        self._config = config
        self._deadline = deadline
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            client = self._cache.get(key)
            if client is None:
                client = self._session.client(
                    service, region_name=region, endpoint_url=self._endpoint, config=self._config
                )
                watch_deadline(client, self._deadline)
                self._cache[key] = client
            return client


def watch_deadline(client: Any, deadline: Deadline) -> None:
    if deadline.at is not None:
        client.meta.events.register_first("needs-retry", stop_retries_at(deadline))


def open_clients(
    account: Account, *, retry_mode: str = "standard", max_attempts: int = 5, deadline: Deadline = NO_DEADLINE
) -> Clients:
    """Clients for the account, after assuming ``role_arn`` when set (one STS call; raises ProviderError)."""
    config = botocore_config(account, retry_mode=retry_mode, max_attempts=max_attempts)
    session = base_session(account)
    if account.role_arn:
        region = account.regions[0]
        sts = session.client("sts", region_name=region, endpoint_url=account.endpoint_url, config=config)
        watch_deadline(sts, deadline)
        creds = guarded(
            lambda: sts.assume_role(RoleArn=account.role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
        )
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=region,
        )
    return Clients(session, account, config, deadline)


def paginate(
    client: Any, operation: str, key: str, *, page_size: int | None = None, **params: Any
) -> Iterator[dict[str, Any]]:
    """Every item under ``key`` across all pages (a JMESPath expression like ``Reservations[].Instances[]``)."""
    for page in paginate_pages(client, operation, key, page_size=page_size, **params):
        yield from page


def paginate_pages(
    client: Any, operation: str, key: str, *, page_size: int | None = None, **params: Any
) -> Iterator[list[dict[str, Any]]]:
    """The items under ``key`` page by page, as each page arrives: a reader can start the work a page
    needs (per-item reads) while the next page is fetched."""
    paginator = client.get_paginator(operation)
    config = {"PageSize": page_size} if page_size else {}
    expression = jmespath.compile(key)
    try:
        for page in paginator.paginate(PaginationConfig=config, **params):
            yield [item for item in expression.search(page) or [] if item is not None]
    except Exception as raw:
        err = classify(raw)
        if err is None:
            raise
        raise err from raw
