"""The Cloudflare adapter against the local v4 fake: the official library reads zones, load balancers,
pools, monitors and pool health; every request is a read the token's documented permissions allow;
failures leave the inventory incomplete where they happened, never silently empty."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from failover.attrs import RoutingOrigin, RoutingTarget, declared_keys
from failover.checks.cloudflare_path import cloudflare_path
from failover.checks.governance import Mode
from failover.errors import ProviderError
from failover.model import Inventory
from failover.sandbox.cloudflare import DEMO_ACCOUNT, DEMO_ZONE, FakeCloudflare, new_id, origin, seed_demo
from failover.schema import Account
from tests.fixtures.cloudflare import TOKEN, TOKEN_ENV

MakeAccount = Callable[..., Account]
PRIMARY, SECONDARY = {"203.0.113.10"}, {"198.51.100.20"}


def only(inv: Inventory) -> Any:
    [r] = inv.resources
    return r


def test_load_balancer_is_a_routing_resource_with_its_pools_in_failover_order(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount, cloudflare_adapter: Any
) -> None:
    ids = seed_demo(fake_cloudflare)
    inv = cloudflare_adapter.inventory(cloudflare_account())
    assert inv.complete, inv.incomplete
    lb = only(inv)
    assert (lb.kind, lb.provider, lb.account, lb.name, lb.state) == (
        "routing",
        "cloudflare",
        "cf-test",
        "shop.example.com",
        "enabled",
    )
    a = lb.attrs
    assert (a["mechanism"], a["control_plane"], a["proxied"], a["ttl"], a["policy"]) == (
        "cloudflare-lb",
        "cloudflare",
        True,
        None,
        "off",
    )
    assert [(t["name"], t["priority"], t["addresses"], t["healthy"]) for t in a["targets"]] == [
        ("aws-east", 0, ["203.0.113.10"], True),
        ("gcp-west", 1, ["198.51.100.20"], True),
    ]
    east = a["targets"][0]
    assert (east["interval_s"], east["threshold"], east["detection_s"]) == (15.0, 2, 30.0)
    assert east["monitor"]["expected_codes"] == "2xx"
    assert (a["fallback"], a["dns_zone"], a["zone_id"], a["cloudflare_account"]) == (
        "gcp-west",
        "example.com",
        ids["zone"],
        ids["account"],
    )


def test_the_reader_end_to_end_feeds_cloudflare_path(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount, cloudflare_adapter: Any
) -> None:
    seed_demo(fake_cloudflare)
    inv = cloudflare_adapter.inventory(cloudflare_account())
    path = cloudflare_path("shop.example.com", inv.resources, primary=PRIMARY, secondary=SECONDARY)
    assert path.mode == Mode.AUTOMATIC, path.reason
    assert (path.detection_s, path.dns_ttl_s) == (30.0, 0.0)

    # the same estate with the secondary's only origin disabled: no path to the secondary
    with FakeCloudflare(token=TOKEN) as other:
        other.add_zone(DEMO_ZONE, "example.com", account=DEMO_ACCOUNT)
        mon = other.add_monitor(DEMO_ACCOUNT, interval=15, consecutive_down=2)
        east = other.add_pool(DEMO_ACCOUNT, "aws-east", origins=[origin("203.0.113.10")], monitor=mon)
        west = other.add_pool(DEMO_ACCOUNT, "gcp-west", origins=[origin("198.51.100.20", enabled=False)], monitor=mon)
        other.add_load_balancer(DEMO_ZONE, "shop.example.com", default_pools=[east, west], proxied=False, ttl=60)
        inv = cloudflare_adapter.inventory(cloudflare_account(endpoint=other.api_url))
    path = cloudflare_path("shop.example.com", inv.resources, primary=PRIMARY, secondary=SECONDARY)
    assert path.mode == Mode.NEVER and path.secondary_pool is None
    assert path.dns_ttl_s == 60.0


def test_adapter_only_reads_and_every_request_is_a_call_the_token_permissions_allow(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount, cloudflare_adapter: Any
) -> None:
    seed_demo(fake_cloudflare)
    inv = cloudflare_adapter.inventory(cloudflare_account())
    assert inv.complete, inv.incomplete
    doc = yaml.safe_load((Path(__file__).parents[2] / "docs/permissions/cloudflare-token.yaml").read_text())
    calls = {call: p["permission"] for p in doc["permissions"] for call in p["calls"]}
    patterns = {
        call: re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[0-9a-f]{32}", re.escape(call)) + "$") for call in calls
    }
    used = set()
    assert fake_cloudflare.requests
    for req in fake_cloudflare.requests:
        assert req.method == "GET", f"not a read: {req.method} {req.path}"
        assert req.authorization == "Bearer"
        matched = [c for c, pattern in patterns.items() if pattern.match(f"GET {req.path}")]
        assert matched, f"GET {req.path} is not a call in docs/permissions/cloudflare-token.yaml"
        used |= set(matched)
    assert used == set(calls)  # every documented call is one the adapter makes


def test_the_client_refuses_to_send_anything_but_a_read(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount
) -> None:
    from providers.base import RetryPolicy
    from providers.cloudflare.client import CloudflareReader, classify

    sleeps: list[float] = []
    reader = CloudflareReader(cloudflare_account(), TOKEN, RetryPolicy(classify, sleep=sleeps.append))
    try:
        with pytest.raises(ProviderError, match="only reads"):
            reader._retry.run(lambda: reader._client.post(f"/zones/{DEMO_ZONE}/load_balancers", cast_to=object))
    finally:
        reader.close()
    assert fake_cloudflare.requests == []
    assert sleeps == []  # refused once, not retried as a network fault


def test_every_attr_the_adapter_fills_is_declared(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount, cloudflare_adapter: Any
) -> None:
    ids = seed_demo(fake_cloudflare)
    fake_cloudflare.add_load_balancer(
        ids["zone"], "geo.example.com", default_pools=[ids["primary"]], steering_policy="geo",
        region_pools={"WEU": [ids["secondary"]]}, proxied=False,
    )  # fmt: skip
    inv = cloudflare_adapter.inventory(cloudflare_account())
    assert len(inv.resources) == 2
    for r in inv.resources:
        assert set(r.attrs) <= declared_keys(r.kind), set(r.attrs) - declared_keys(r.kind)
        for t in r.attrs["targets"]:
            assert set(t) <= set(RoutingTarget.__annotations__)
            for o in t["origins"]:
                assert set(o) <= set(RoutingOrigin.__annotations__)
    geo = next(r for r in inv.resources if r.name == "geo.example.com")
    assert geo.attrs["geo_targets"] == {"region:WEU": ["gcp-west"]}
    assert [t["name"] for t in geo.attrs["targets"]] == ["aws-east", "gcp-west"]  # fallback/geo pools follow


def test_missing_token_marks_every_scope_incomplete_without_a_request(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount, cloudflare_adapter: Any
) -> None:
    seed_demo(fake_cloudflare)
    inv = cloudflare_adapter.inventory(cloudflare_account(token_env="FAILOVER_TEST_CF_UNSET"))
    assert [(e.scope, e.error) for e in inv.incomplete] == [(f"zones/{DEMO_ZONE}", "access_denied")]
    assert "FAILOVER_TEST_CF_UNSET is not set" in inv.incomplete[0].reason
    assert fake_cloudflare.requests == []


def test_a_wrong_token_is_access_denied_and_never_shown(
    fake_cloudflare: FakeCloudflare,
    cloudflare_account: MakeAccount,
    cloudflare_adapter: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_demo(fake_cloudflare)
    monkeypatch.setenv(TOKEN_ENV, "wrong-secret-value")
    inv = cloudflare_adapter.inventory(cloudflare_account())
    assert [(e.scope, e.error) for e in inv.incomplete] == [(f"zones/{DEMO_ZONE}", "access_denied")]
    assert "10000 Authentication error" in inv.incomplete[0].reason
    assert "wrong-secret-value" not in repr(inv)


def test_denied_pools_leave_the_load_balancer_with_unknown_pools(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount, cloudflare_adapter: Any
) -> None:
    seed_demo(fake_cloudflare)
    fake_cloudflare.fail(403, route="pools")
    inv = cloudflare_adapter.inventory(cloudflare_account())
    assert [(e.scope, e.error) for e in inv.incomplete] == [(f"accounts/{DEMO_ACCOUNT}/pools", "access_denied")]
    lb = only(inv)
    assert [t["name"] for t in lb.attrs["targets"]] == [None, None]
    assert any("pools of Cloudflare account" in n for n in lb.attrs["notes"])
    path = cloudflare_path("shop.example.com", inv.resources, primary=PRIMARY, secondary=SECONDARY)
    assert path.mode == Mode.UNKNOWN


def test_throttling_waits_as_long_as_retry_after_asks(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount, cloudflare_adapter: Any, retry_sleeps: Any
) -> None:
    seed_demo(fake_cloudflare)
    fake_cloudflare.fail(429, route="load_balancers", retry_after=2, times=2)
    inv = cloudflare_adapter.inventory(cloudflare_account(inventory_deadline=600))
    assert inv.complete, inv.incomplete
    assert len([w for w in retry_sleeps.waits if w >= 2]) == 2


def test_a_retry_after_past_the_deadline_gives_up_at_once(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount, cloudflare_adapter: Any, retry_sleeps: Any
) -> None:
    seed_demo(fake_cloudflare)
    fake_cloudflare.fail(429, route="monitors", retry_after=3600)
    inv = cloudflare_adapter.inventory(cloudflare_account(inventory_deadline=60))
    assert [(e.scope, e.error) for e in inv.incomplete] == [(f"accounts/{DEMO_ACCOUNT}/monitors", "throttled")]
    assert "past the 60s inventory deadline" in inv.incomplete[0].reason
    assert retry_sleeps.waits == []
    assert only(inv).attrs["targets"][0]["monitor"] is None  # pools known, their monitors not


def test_server_errors_are_retried(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount, cloudflare_adapter: Any
) -> None:
    seed_demo(fake_cloudflare)
    fake_cloudflare.fail(503, route="zone", times=2)
    assert cloudflare_adapter.inventory(cloudflare_account()).complete


def test_a_truncated_listing_is_incomplete_not_a_missing_load_balancer(
    cloudflare_adapter: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with FakeCloudflare(token=TOKEN, page_size=1) as cf:
        ids = seed_demo(cf)
        cf.add_load_balancer(ids["zone"], "api.example.com", default_pools=[ids["primary"]])
        account = Account(
            name="cf", provider="cloudflare", zones=[ids["zone"]], token_env=TOKEN_ENV, endpoint=cf.api_url
        )
        inv = cloudflare_adapter.inventory(account)
    assert [(e.scope, e.error) for e in inv.incomplete] == [(f"zones/{ids['zone']}", "error")]
    assert "1 of 2 items" in inv.incomplete[0].reason


def test_pool_health_failures_collapse_to_one_scope_and_leave_health_unknown(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount, cloudflare_adapter: Any
) -> None:
    seed_demo(fake_cloudflare)
    fake_cloudflare.fail(500, route="pool_health")
    inv = cloudflare_adapter.inventory(cloudflare_account())
    assert [(e.scope, e.error) for e in inv.incomplete] == [(f"accounts/{DEMO_ACCOUNT}/pool_health", "unreachable")]
    assert [t["healthy"] for t in only(inv).attrs["targets"]] == [None, None]


def test_account_id_names_where_pools_live_and_zones_are_read_concurrently_within_bounds(
    fake_cloudflare: FakeCloudflare, cloudflare_account: MakeAccount, cloudflare_adapter: Any
) -> None:
    ids = seed_demo(fake_cloudflare)
    other = new_id()
    fake_cloudflare.add_zone(other, "example.org", account=new_id())  # its own account has nothing
    fake_cloudflare.add_load_balancer(other, "www.example.org", default_pools=[ids["primary"], ids["secondary"]])
    fake_cloudflare.slow(0.1, route="load_balancers")
    account = cloudflare_account(DEMO_ZONE, other, account_id=DEMO_ACCOUNT, max_concurrency=1)
    inv = cloudflare_adapter.inventory(account)
    assert inv.complete, inv.incomplete
    www = next(r for r in inv.resources if r.name == "www.example.org")
    assert [t["name"] for t in www.attrs["targets"]] == ["aws-east", "gcp-west"]
    assert fake_cloudflare.max_in_flight == 1


def test_the_token_never_lives_in_the_config_file() -> None:
    zone = "0" * 32
    with pytest.raises(ValidationError, match="token"):
        Account(name="cf", provider="cloudflare", zones=[zone], token="secret")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="loopback"):
        Account(name="cf", provider="cloudflare", zones=[zone], credentials="anonymous")
    assert Account(name="cf", provider="cloudflare", zones=[zone], account_id="f" * 32).scopes == [
        f"zones/{zone}",
        f"accounts/{'f' * 32}",
    ]
