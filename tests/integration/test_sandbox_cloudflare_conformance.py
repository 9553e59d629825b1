"""Every body the Cloudflare fake serves is one the official ``cloudflare`` library's own response models
accept: validated (not merely constructed) by ``LoadBalancer``, ``Pool``, ``Monitor``,
``pools.HealthGetResponse`` and ``zones.Zone``, with no field they do not declare (anywhere in the
tree) and every enum value one they list; the envelope holds ``ResponseInfo`` errors and a
``PaginationInfo``. Every route in ``ROUTES`` must be covered, so a new route without a model fails.
"""

from __future__ import annotations

from typing import Any

import httpx
import pydantic
import pytest

from failover.sandbox.cloudflare import ROUTES, FakeCloudflare, origin, seed_demo

cloudflare = pytest.importorskip("cloudflare")
from cloudflare.types.load_balancers import LoadBalancer, Monitor, Pool  # noqa: E402
from cloudflare.types.load_balancers.pools import HealthGetResponse  # noqa: E402
from cloudflare.types.shared import PaginationInfo, ResponseInfo  # noqa: E402
from cloudflare.types.zones import Zone  # noqa: E402

AUTH = {"Authorization": "Bearer t"}
MODELS: dict[str, type[pydantic.BaseModel]] = {
    "zone": Zone,
    "load_balancers": LoadBalancer,
    "pools": Pool,
    "pool_health": HealthGetResponse,
    "monitors": Monitor,
}


class Envelope(pydantic.BaseModel):
    """The v4 envelope every answer is wrapped in."""

    model_config = pydantic.ConfigDict(extra="forbid")
    success: bool
    errors: list[ResponseInfo]
    messages: list[ResponseInfo]
    result: Any
    result_info: PaginationInfo | None = None


def unknown_fields(model: pydantic.BaseModel, path: str = "") -> list[str]:
    """Every key in the validated tree that the library's model does not declare (its ``extra``)."""
    found = [f"{path}.{k}" for k in (model.model_extra or {})]
    for name in type(model).model_fields:
        found += _walk(getattr(model, name), f"{path}.{name}")
    return found


def _walk(value: Any, path: str) -> list[str]:
    if isinstance(value, pydantic.BaseModel):
        return unknown_fields(value, path)
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _walk(v, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _walk(v, f"{path}.{k}")]
    return []


def validate(route: str, body: dict[str, Any]) -> list[str]:
    """Problems with one answer: envelope, then each result item against the route's model."""
    problems: list[str] = []
    try:
        env = Envelope.model_validate(body)
    except pydantic.ValidationError as err:
        return [f"{route}: envelope: {err}"]
    problems += [f"{route}: envelope{p}" for p in [*_walk(env.errors, ".errors"), *_walk(env.result_info, ".ri")]]
    items = env.result if isinstance(env.result, list) else [env.result]
    for i, item in enumerate(items):
        try:
            model = MODELS[route].model_validate(item, strict=False)
        except pydantic.ValidationError as err:
            problems.append(f"{route}[{i}]: {err}")
            continue
        problems += [f"{route}[{i}]{p}: not a field of {MODELS[route].__name__}" for p in unknown_fields(model)]
    return problems


@pytest.fixture
def fake() -> Any:
    with FakeCloudflare(token="t") as cf:
        yield cf


def test_every_route_has_a_model() -> None:
    assert {name for name, _ in ROUTES} == set(MODELS)


def test_every_body_the_fake_serves_validates_against_the_library_models(fake: FakeCloudflare) -> None:
    ids = seed_demo(fake)
    account = ids["account"]
    tcp = fake.add_monitor(account, monitor_type="tcp", interval=30)
    plain = fake.add_pool(account, "plain", origins=[origin("192.0.2.7", enabled=False, weight=0.5)], enabled=False)
    fake.add_pool(account, "tcp", origins=[origin("db.example.net")], monitor=tcp, healthy=False)
    fake.add_load_balancer(
        ids["zone"],
        "geo.example.com",
        default_pools=[ids["primary"], plain],
        proxied=False,
        ttl=30,
        steering_policy="geo",
        region_pools={"WNAM": [ids["secondary"]]},
        country_pools={"US": [ids["primary"]]},
        pop_pools={"LAX": [ids["secondary"]]},
        session_affinity="cookie",
    )
    paths = [
        f"/client/v4/zones/{ids['zone']}",
        f"/client/v4/zones/{ids['zone']}/load_balancers",
        f"/client/v4/accounts/{account}/load_balancers/pools",
        f"/client/v4/accounts/{account}/load_balancers/monitors",
        f"/client/v4/accounts/{account}/load_balancers/pools/{ids['primary']}/health",
        f"/client/v4/accounts/{account}/load_balancers/pools/{plain}/health",  # no health data
        f"/client/v4/zones/{ids['zone']}/load_balancers?page=2&per_page=1",
    ]
    problems: list[str] = []
    with httpx.Client(base_url=fake.url, headers=AUTH) as http:
        for path in paths:
            got = http.get(path)
            assert got.status_code == 200, (path, got.text)
            (route,) = {r.route for r in fake.requests[-1:]}
            assert route is not None
            problems += validate(route, got.json())
    assert problems == []
    assert {r.route for r in fake.requests} == set(MODELS)  # every route was exercised


def test_error_answers_are_v4_envelopes_with_cloudflare_codes(fake: FakeCloudflare) -> None:
    ids = seed_demo(fake)
    fake.fail(429, route="pools", retry_after=3, times=1)
    with httpx.Client(base_url=fake.url) as http:
        missing = http.get(f"/client/v4/zones/{ids['zone']}")
        wrong = http.get(f"/client/v4/zones/{ids['zone']}", headers={"Authorization": "Bearer nope"})
        throttled = http.get(f"/client/v4/accounts/{ids['account']}/load_balancers/pools", headers=AUTH)
        unknown = http.get(f"/client/v4/zones/{'0' * 32}", headers=AUTH)
        write = http.delete(f"/client/v4/zones/{ids['zone']}/load_balancers", headers=AUTH)
    for got in (missing, wrong, throttled, unknown, write):
        env = Envelope.model_validate(got.json())
        assert env.success is False and env.result is None and env.errors
    assert (missing.status_code, missing.json()["errors"][0]["code"]) == (400, 9106)
    assert (wrong.status_code, wrong.json()["errors"][0]["code"]) == (403, 10000)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "3")
    assert (unknown.status_code, unknown.json()["errors"][0]["code"]) == (400, 7003)
    assert write.status_code == 405


def test_a_new_enum_value_the_library_does_not_know_fails_validation() -> None:
    """The check has teeth: a steering policy Cloudflare never named is refused."""
    body = {"success": True, "errors": [], "messages": [], "result": [{"name": "x", "steering_policy": "fastest"}]}
    assert validate("load_balancers", body)
    body["result"] = [{"name": "x", "surprise": 1}]
    assert validate("load_balancers", body) == ["load_balancers[0].surprise: not a field of LoadBalancer"]
