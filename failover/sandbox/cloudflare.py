"""A local fake of Cloudflare's v4 API (Load Balancing and zone details), for tests and the demo.

It answers the requests the official ``cloudflare`` Python library sends, in the shapes of Cloudflare's
API reference and the library's own response types (``cloudflare.types.load_balancers``: ``LoadBalancer``,
``Pool``, ``Origin``, ``Monitor``, ``pools.HealthGetResponse``; ``cloudflare.types.zones.Zone``), each
wrapped in the v4 envelope ``{success, errors, messages, result, result_info}``. Lists honour
``page``/``per_page`` when asked (the Load Balancing lists are single pages, and the library asks for
none); ``page_size`` caps a page to model a truncated answer. Errors carry Cloudflare's codes (403
``10000 Authentication error``, 429 ``971`` with ``Retry-After``, 400 ``7003`` for an unknown id). A
conformance test validates every body against the library's models (``ROUTES`` lists what it must
cover).

    with FakeCloudflare(token="t") as cf:
        cf.add_zone(ZONE, "example.com", account=ACCOUNT)
        mon = cf.add_monitor(ACCOUNT, interval=15, consecutive_down=2)
        east = cf.add_pool(ACCOUNT, "aws-east", origins=[origin("203.0.113.10")], monitor=mon)
        ... Account(provider="cloudflare", zones=[ZONE], endpoint=cf.url + "/client/v4", token_env=...)
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from failover.sandbox._server import Answer, JsonApi

__all__ = ["ROUTES", "FakeCloudflare", "Fault", "Request", "new_id", "origin", "seed_demo"]

PREFIX = "/client/v4"
_ID = r"[0-9a-fA-F]{32}"
# Every route the fake serves; the names are the ``route`` of faults and requests, and the
# conformance test covers each one.
ROUTES: list[tuple[str, re.Pattern[str]]] = [
    ("zone", re.compile(rf"^/zones/(?P<zone>{_ID})$")),
    ("load_balancers", re.compile(rf"^/zones/(?P<zone>{_ID})/load_balancers$")),
    ("pools", re.compile(rf"^/accounts/(?P<account>{_ID})/load_balancers/pools$")),
    ("pool_health", re.compile(rf"^/accounts/(?P<account>{_ID})/load_balancers/pools/(?P<pool>{_ID})/health$")),
    ("monitors", re.compile(rf"^/accounts/(?P<account>{_ID})/load_balancers/monitors$")),
]
STAMP = "2026-03-01T12:00:00.000000Z"


def new_id() -> str:
    """A Cloudflare-style id: 32 hexadecimal digits."""
    return uuid.uuid4().hex


def origin(
    address: str, *, name: str | None = None, enabled: bool = True, weight: float = 1.0, port: int = 0
) -> dict[str, Any]:
    """One pool origin as the API returns it (``Origin``)."""
    return {
        "name": name or address.split(".")[0],
        "address": address,
        "enabled": enabled,
        "weight": weight,
        "port": port,
        "header": {},
    }


@dataclass
class Request:
    method: str
    path: str  # without the /client/v4 prefix
    query: dict[str, str]
    route: str | None
    authorization: str | None  # "Bearer" when a bearer token was sent (never the token itself)


@dataclass
class Fault:
    """Answer ``status`` (after ``delay`` seconds) to matching requests, ``times`` times (None: always);
    ``after`` lets that many matching requests through first."""

    status: int | None = None
    route: str | None = None
    scope: str | None = None  # a zone or account id
    times: int | None = None
    delay: float = 0.0
    retry_after: float | None = None
    after: int = 0

    def matches(self, route: str | None, scope: str | None) -> bool:
        return self.route in (None, route) and self.scope in (None, scope) and self.times != 0


@dataclass
class _Account:
    pools: list[dict[str, Any]] = field(default_factory=list)
    monitors: list[dict[str, Any]] = field(default_factory=list)
    health: dict[str, dict[str, Any]] = field(default_factory=dict)  # pool id -> HealthGetResponse


_ERRORS = {
    400: (7003, "Could not route to {path}, perhaps your object identifier is invalid?"),
    401: (10001, "Unable to authenticate request"),
    403: (10000, "Authentication error"),
    404: (7003, "Could not route to {path}, perhaps your object identifier is invalid?"),
    405: (10405, "Method not allowed for api_token authentication"),
    429: (971, "Please wait and consider throttling your request speed"),
    500: (10002, "An unknown error has occurred"),
    502: (10002, "Bad gateway"),
    503: (10002, "Service temporarily unavailable"),
}


class FakeCloudflare(JsonApi["Request", "Fault"]):
    """The fake API server. Thread-safe; seed before or while the adapter runs."""

    name = "fake-cloudflare"

    def __init__(self, *, token: str | None = None, page_size: int | None = None, host: str = "127.0.0.1") -> None:
        """``token``: when set, only ``Authorization: Bearer <token>`` is accepted (else any bearer token).
        ``page_size``: the most items one list answer holds (None: all, as the real single-page lists)."""
        super().__init__(host)
        self._token = token
        self.page_size = page_size
        self._zones: dict[str, dict[str, Any]] = {}
        self._lbs: dict[str, list[dict[str, Any]]] = {}
        self._accounts: dict[str, _Account] = {}

    @property
    def api_url(self) -> str:
        """The base URL the library takes (``base_url``), as Cloudflare's own ends in /client/v4."""
        return self.url + PREFIX

    def _internal_error(self, err: Exception) -> Answer:
        return _envelope_error(500, 10002, f"fake Cloudflare error: {err}")

    def _answer_headers(self) -> dict[str, str]:
        return {"cf-ray": f"{time.monotonic_ns() & 0xFFFFFFFFFFFF:012x}-LHR"}

    # -- faults ------------------------------------------------------------------------------------
    def fail(
        self,
        status: int,
        *,
        route: str | None = None,
        scope: str | None = None,
        times: int | None = None,
        retry_after: float | None = None,
        after: int = 0,
    ) -> Fault:
        fault = Fault(status=status, route=route, scope=scope, times=times, retry_after=retry_after, after=after)
        return self._add_fault(fault)

    def slow(self, seconds: float, *, route: str | None = None, scope: str | None = None) -> Fault:
        fault = Fault(delay=seconds, route=route, scope=scope)
        return self._add_fault(fault)

    # -- seeding -----------------------------------------------------------------------------------
    def _account(self, account: str) -> _Account:
        return self._accounts.setdefault(account, _Account())

    def add_zone(self, zone_id: str, name: str, *, account: str, account_name: str = "Acme") -> dict[str, Any]:
        """A zone as ``GET /zones/{zone_id}`` returns it (``Zone``): its account is where pools live."""
        zone = {
            "id": zone_id,
            "name": name,
            "account": {"id": account, "name": account_name},
            "activated_on": STAMP,
            "created_on": STAMP,
            "modified_on": STAMP,
            "development_mode": 0,
            "meta": {"cdn_only": False, "dns_only": False, "foundation_dns": False, "phishing_detected": False},
            "name_servers": ["bob.ns.cloudflare.com", "lola.ns.cloudflare.com"],
            "original_dnshost": None,
            "original_name_servers": None,
            "original_registrar": None,
            "owner": {"id": None, "name": None, "type": "organization"},
            "plan": {"id": new_id(), "name": "Enterprise Website", "price": 0, "currency": "USD", "frequency": ""},
            "paused": False,
            "permissions": ["#zone:read", "#load_balancer:read"],
            "status": "active",
            "type": "full",
            "vanity_name_servers": [],
        }
        with self._lock:
            self._zones[zone_id] = zone
            self._lbs.setdefault(zone_id, [])
            self._account(account)
        return zone

    def add_monitor(
        self,
        account: str,
        *,
        monitor_type: str = "https",
        path: str = "/health",
        interval: int = 60,
        retries: int = 2,
        timeout: int = 5,
        consecutive_down: int = 0,
        consecutive_up: int = 0,
        expected_codes: str = "2xx",
        description: str = "",
    ) -> str:
        """A monitor (``Monitor``); returns its id. The API's defaults: interval 60, retries 2, timeout 5."""
        monitor_id = new_id()
        monitor: dict[str, Any] = {
            "id": monitor_id,
            "created_on": STAMP,
            "modified_on": STAMP,
            "type": monitor_type,
            "description": description,
            "interval": interval,
            "retries": retries,
            "timeout": timeout,
            "consecutive_down": consecutive_down,
            "consecutive_up": consecutive_up,
            "port": 0,
            "allow_insecure": False,
            "probe_zone": "",
        }
        if monitor_type in ("http", "https"):
            monitor |= {
                "method": "GET",
                "path": path,
                "header": {},
                "expected_body": "",
                "expected_codes": expected_codes,
                "follow_redirects": False,
            }
        with self._lock:
            self._account(account).monitors.append(monitor)
        return monitor_id

    def add_pool(
        self,
        account: str,
        name: str,
        *,
        origins: list[dict[str, Any]],
        monitor: str | None = None,
        enabled: bool = True,
        minimum_origins: int = 1,
        healthy: bool | None = None,
        check_regions: list[str] | None = None,
    ) -> str:
        """A pool (``Pool``); returns its id. ``healthy`` seeds ``GET …/pools/{id}/health`` (None: the
        pool has no health data, as when no monitor is attached)."""
        pool_id = new_id()
        pool: dict[str, Any] = {
            "id": pool_id,
            "created_on": STAMP,
            "modified_on": STAMP,
            "name": name,
            "description": "",
            "enabled": enabled,
            "minimum_origins": minimum_origins,
            "monitor": monitor,
            "check_regions": check_regions,
            "notification_email": "",
            "notification_filter": None,
            "origin_steering": {"policy": "random"},
            "load_shedding": {"default_percent": 0, "default_policy": "random", "session_percent": 0},
            "origins": origins,
        }
        if not enabled:
            pool["disabled_at"] = STAMP
        with self._lock:
            acct = self._account(account)
            acct.pools.append(pool)
            if healthy is not None:
                acct.health[pool_id] = _health(pool_id, healthy, origins)
        return pool_id

    def set_pool_health(self, account: str, pool_id: str, healthy: bool | None) -> None:
        with self._lock:
            acct = self._account(account)
            if healthy is None:
                acct.health.pop(pool_id, None)
                return
            pool = next(p for p in acct.pools if p["id"] == pool_id)
            acct.health[pool_id] = _health(pool_id, healthy, pool["origins"])

    def add_load_balancer(
        self,
        zone_id: str,
        name: str,
        *,
        default_pools: list[str],
        fallback_pool: str | None = None,
        proxied: bool = True,
        ttl: int = 30,
        enabled: bool = True,
        steering_policy: str = "off",
        region_pools: dict[str, list[str]] | None = None,
        country_pools: dict[str, list[str]] | None = None,
        pop_pools: dict[str, list[str]] | None = None,
        session_affinity: str = "none",
    ) -> str:
        """A load balancer (``LoadBalancer``) named by its public hostname; returns its id."""
        lb_id = new_id()
        with self._lock:
            zone = self._zones[zone_id]
        lb = {
            "id": lb_id,
            "created_on": STAMP,
            "modified_on": STAMP,
            "description": "",
            "name": name,
            "enabled": enabled,
            "ttl": ttl,
            "fallback_pool": fallback_pool or default_pools[-1],
            "default_pools": list(default_pools),
            "region_pools": region_pools or {},
            "country_pools": country_pools or {},
            "pop_pools": pop_pools or {},
            "proxied": proxied,
            "steering_policy": steering_policy,
            "session_affinity": session_affinity,
            "session_affinity_attributes": {"samesite": "Auto", "secure": "Auto", "zero_downtime_failover": "sticky"},
            "adaptive_routing": {"failover_across_pools": False},
            "location_strategy": {"mode": "pop", "prefer_ecs": "proximity"},
            "random_steering": {"default_weight": 1},
            "rules": [],
            "networks": ["public"],
            "zone_name": zone["name"],
        }
        with self._lock:
            self._lbs[zone_id].append(lb)
        return lb_id

    # -- serving -----------------------------------------------------------------------------------

    def _handle(self, method: str, raw_path: str, headers: Any, _body: bytes) -> Answer:
        parts = urlsplit(raw_path)
        path = unquote(parts.path).rstrip("/")
        if path.startswith(PREFIX):
            path = path[len(PREFIX) :]
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        route, match = None, None
        for name, pattern in ROUTES:
            match = pattern.match(path)
            if match:
                route = name
                break
        auth = headers.get("Authorization") or ""
        with self._lock:
            self._requests.append(Request(method, path, query, route, "Bearer" if auth.startswith("Bearer ") else None))
        if not auth.startswith("Bearer "):
            return _envelope_error(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
        if self._token is not None and auth != f"Bearer {self._token}":
            return _error(403, path)
        if route is None or match is None:
            return _error(404, path)
        if method != "GET":
            return _error(405, path)
        groups = match.groupdict()
        scope = groups.get("zone") or groups.get("account")
        fault = self._fault_for(route, scope)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                status, extra, body = _error(fault.status, path)
                if fault.status == 429 or fault.retry_after is not None:
                    extra["Retry-After"] = f"{fault.retry_after or 0:g}"
                return status, extra, body
        with self._lock:
            answer = self._answer(route, groups)
        if answer is None:
            return _error(400, path)
        if isinstance(answer, list):
            return 200, {}, _page(answer, query, self.page_size)
        return 200, {}, {"success": True, "errors": [], "messages": [], "result": answer}

    def _answer(self, route: str, groups: dict[str, str]) -> dict[str, Any] | list[dict[str, Any]] | None:
        """One route's result (a list is paged by the caller), or None for an unknown id. Under the lock."""
        if route == "zone":
            zone = self._zones.get(groups["zone"])
            return json.loads(json.dumps(zone)) if zone is not None else None
        if route == "load_balancers":
            lbs = self._lbs.get(groups["zone"])
            return json.loads(json.dumps(lbs)) if lbs is not None else None
        acct = self._accounts.get(groups["account"])
        if acct is None:
            return None
        if route == "pools":
            return json.loads(json.dumps(acct.pools))
        if route == "monitors":
            return json.loads(json.dumps(acct.monitors))
        pool_id = groups["pool"]
        if not any(p["id"] == pool_id for p in acct.pools):
            return None
        # A pool without health data (no monitor, or not checked yet) answers with no pop_health.
        return json.loads(json.dumps(acct.health.get(pool_id) or {"pool_id": pool_id}))


def _health(pool_id: str, healthy: bool, origins: list[dict[str, Any]]) -> dict[str, Any]:
    """``HealthGetResponse`` as the API reference and the library shape it: one ``pop_health`` object
    with the pool's verdict and one ``{ip: {...}}`` entry per origin."""
    return {
        "pool_id": pool_id,
        "pop_health": {
            "healthy": healthy,
            "origins": [
                {
                    "ip": {
                        "healthy": healthy and bool(o.get("enabled", True)),
                        "failure_reason": "No failures" if healthy else "TCP connection failed",
                        "response_code": 200 if healthy else 0,
                        "rtt": "18.5ms" if healthy else "0ms",
                    }
                }
                for o in origins
            ],
        },
    }


def _page(items: list[dict[str, Any]], query: dict[str, str], page_size: int | None) -> dict[str, Any]:
    page = max(1, _int(query.get("page"), 1))
    per_page = _int(query.get("per_page"), page_size or max(len(items), 1))
    per_page = max(1, min(per_page, page_size or per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    return {
        "success": True,
        "errors": [],
        "messages": [],
        "result": chunk,
        "result_info": {"page": page, "per_page": per_page, "count": len(chunk), "total_count": len(items)},
    }


def _int(text: str | None, default: int) -> int:
    return int(text) if text is not None and text.isdigit() else default


def _envelope_error(status: int, code: int, message: str) -> tuple[int, dict[str, str], Any]:
    body = {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}
    return status, {}, body


def _error(status: int, path: str) -> tuple[int, dict[str, str], Any]:
    code, message = _ERRORS.get(status, (10000 + status, f"error {status}"))
    return _envelope_error(status, code, message.format(path=path))


DEMO_ACCOUNT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
DEMO_ZONE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def seed_demo(
    fake: FakeCloudflare,
    *,
    name: str = "shop.example.com",
    primary: str = "203.0.113.10",
    secondary: str = "198.51.100.20",
    account: str = DEMO_ACCOUNT,
    zone: str = DEMO_ZONE,
) -> dict[str, str]:
    """One proxied load balancer failing over from a primary pool (AWS) to a secondary pool (GCP), both
    watched by a 15 s HTTPS monitor that needs 2 consecutive failures; the secondary is also the
    fallback. Returns the ids: ``zone``, ``account``, ``monitor``, ``primary``, ``secondary``, ``lb``."""
    fake.add_zone(zone, name.split(".", 1)[1], account=account)
    monitor = fake.add_monitor(account, interval=15, retries=1, timeout=5, consecutive_down=2, consecutive_up=2)
    east = fake.add_pool(account, "aws-east", origins=[origin(primary, name="aws-alb")], monitor=monitor, healthy=True)
    west = fake.add_pool(account, "gcp-west", origins=[origin(secondary, name="gcp-lb")], monitor=monitor, healthy=True)
    lb = fake.add_load_balancer(zone, name, default_pools=[east, west], fallback_pool=west, proxied=True)
    return {"zone": zone, "account": account, "monitor": monitor, "primary": east, "secondary": west, "lb": lb}
