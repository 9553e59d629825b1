"""POST one claimed alert with retries (httpx) and record its outcome in the store's delivery log.

Retried: connection errors, timeouts, ``429`` (waiting its ``Retry-After``, capped) and ``5xx``, up
to ``alert_policy.attempts`` tries with exponential backoff and jitter. Not retried: other ``4xx``
(a wrong URL or key, a payload refused) and a redirect (webhooks answer 2xx). Success is any
``2xx`` (Slack 200, Teams workflows 202, PagerDuty 202).

Error text never holds the URL, secret or routing key: httpx's messages may quote the URL, so
every error passes through ``scrub`` with the destination's hidden values.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from failover.alerts.events import AlertEvent, test_event
from failover.alerts.payloads import AlertRequest, render
from failover.alerts.urls import shown_url
from failover.model import utcnow
from failover.schema import AlertDestination, Config
from failover.store import Store

__all__ = ["MAX_BACKOFF", "Outcome", "client_for", "deliver", "post", "scrub", "send_test", "shown_url"]

MAX_BACKOFF = 60.0
_MAX_ERROR = 300


class _HideRequestUrls(logging.Filter):
    """httpx logs each request's full URL at INFO; a webhook URL's path is its token, so whoever turns
    that logger up sees the host only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(shown_url(str(a)) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


_HIDE_URLS = _HideRequestUrls()
logging.getLogger("httpx").addFilter(_HIDE_URLS)  # the same object every time: added once


@dataclass(frozen=True)
class Outcome:
    ok: bool
    attempts: int
    http_status: int | None
    error: str  # empty when delivered


def scrub(text: str, hidden: Sequence[str]) -> str:
    """``text`` with every hidden value (and the URL's path and query) replaced by ``***``."""
    for value in sorted((v for v in hidden if v), key=len, reverse=True):
        text = text.replace(value, "***")
        parts = urlsplit(value) if "://" in value else None
        if parts is not None:
            for piece in (parts.path, parts.query):
                if len(piece) > 1:
                    text = text.replace(piece, "***")
    return text[:_MAX_ERROR]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def post(
    client: httpx.Client,
    url: str,
    request: AlertRequest,
    *,
    attempts: int,
    backoff: float,
    hidden: Sequence[str],
    stop: threading.Event | None = None,
    sleep: Callable[[float], object] | None = None,
) -> Outcome:
    """Send ``request`` to ``url``; the outcome after the last try. ``stop`` cuts the waits short."""
    wait = sleep or (stop.wait if stop is not None else threading.Event().wait)
    status: int | None = None
    error = ""
    for attempt in range(1, attempts + 1):
        delay = min(MAX_BACKOFF, backoff * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        try:
            response = client.post(url, content=request.body, headers=request.headers)
        except httpx.HTTPError as err:
            status, error = None, scrub(f"{type(err).__name__}: {err}".rstrip(": "), hidden)
        else:
            status = response.status_code
            if 200 <= status < 300:
                return Outcome(True, attempt, status, "")
            body = " ".join(response.text[:200].split())
            error = scrub(f"HTTP {status}" + (f": {body}" if body else ""), hidden)
            if status != 429 and status < 500:
                return Outcome(False, attempt, status, error)
            hint = _retry_after(response) if status == 429 else None
            if hint is not None:
                delay = min(MAX_BACKOFF, hint)
        if attempt < attempts and (stop is None or not stop.is_set()):
            wait(delay)
        if stop is not None and stop.is_set():
            return Outcome(False, attempt, status, error or "stopped")
    return Outcome(False, attempts, status, error)


def client_for(config: Config) -> httpx.Client:
    verify: ssl.SSLContext | bool = True
    if config.tls.ca_file:
        verify = ssl.create_default_context(cafile=config.tls.ca_file)
    return httpx.Client(timeout=config.alert_policy.timeout, follow_redirects=False, verify=verify)


def deliver(
    config: Config,
    store: Store,
    dest: AlertDestination,
    event: AlertEvent,
    alert_id: int,
    *,
    client: httpx.Client,
    stop: threading.Event | None = None,
) -> Outcome:
    """POST a claimed alert with retries and record the outcome on its row."""
    policy = config.alert_policy
    outcome = post(
        client,
        dest.endpoint,
        render(dest, event),
        attempts=policy.attempts,
        backoff=policy.backoff,
        hidden=dest.hidden,
        stop=stop,
    )
    store.finish_alert(
        alert_id, delivered=outcome.ok, attempts=outcome.attempts, http_status=outcome.http_status, error=outcome.error
    )
    return outcome


def send_test(config: Config, store: Store, dest: AlertDestination, *, vantage: str = "") -> Outcome:
    """``failover alerts test``: one test alert, claimed and logged like any other."""
    now = utcnow()
    event = test_event(now)
    alert_id = store.claim_alert(
        dest.name, "", str(event.event), status=None, readiness=None, basis=now, vantage=vantage
    )
    if alert_id is None:  # the same microsecond twice: say so rather than send unlogged
        return Outcome(False, 0, None, "another test alert was claimed at the same instant; run it again")
    with client_for(config) as client:
        return deliver(config, store, dest, event, alert_id, client=client)
