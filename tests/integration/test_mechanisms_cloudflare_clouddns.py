"""Cloudflare load balancing and Cloud DNS routing policies as failover mechanisms, read from the local
Cloudflare v4 and Cloud DNS emulators through the real adapters and judged by ``run_checks``: a ready
path passes, a path no health signal governs fails, detection slower than the RTO fails, and what the
reader cannot see is unknown with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from failover.checks import Evidence, run_checks
from failover.checks.mechanisms import MECHANISMS, routing_path
from failover.config import config_from_text
from failover.errors import ConfigError
from failover.model import Finding, FindingStatus, Inventory
from failover.sandbox import gcp_dns as d
from failover.sandbox.cloudflare import DEMO_ACCOUNT, DEMO_ZONE, FakeCloudflare, origin, seed_demo
from failover.sandbox.gcp import FakeGcp
from failover.schema import DNS_PROVIDER, Account, Config, Mechanism
from failover.scoring import estimate_rto
from providers.gcp import GcpAdapter
from tests import factories as f

PASS, WARN, FAIL, UNKNOWN = FindingStatus.PASS, FindingStatus.WARN, FindingStatus.FAIL, FindingStatus.UNKNOWN
PUBLIC = "shop.example.com"
PRIMARY_IP, SECONDARY_IP = "203.0.113.10", "198.51.100.20"
P = "acme"


def config(mechanism: str, accounts: list[dict[str, Any]], rto: str = "15m", **dns: Any) -> Config:
    return Config.model_validate(
        {
            "accounts": [{"name": "app", "provider": "aws", "regions": ["us-east-1"]}, *accounts],
            "workloads": [
                {
                    "name": "checkout",
                    "owners": ["shop@example.com"],
                    "targets": {"rto": rto},
                    "dns": {"name": PUBLIC, "mechanism": mechanism, **dns},
                    "sites": [
                        {
                            "name": "east",
                            "role": "primary",
                            "account": "app",
                            "regions": ["us-east-1"],
                            "select": {"tags": {"site": "east"}},
                            "failover_targets": [PRIMARY_IP],
                        },
                        {
                            "name": "west",
                            "role": "secondary",
                            "account": "app",
                            "regions": ["us-east-1"],
                            "select": {"tags": {"site": "west"}},
                            "failover_targets": [SECONDARY_IP, "west-lb.example.net"],
                        },
                    ],
                }
            ],
        }
    )


def evidence(cfg: Config, invs: list[Inventory], observations: tuple[Any, ...] = ()) -> Evidence:
    return Evidence(cfg, cfg.workloads[0], {i.account: i for i in invs}, list(observations), now=f.NOW)


def one(ev: Evidence, check: str) -> Finding:
    [finding] = run_checks(ev, only={check})
    return finding


def test_every_mechanism_value_reads_from_its_provider() -> None:
    for m in ("cloudflare-lb", "cloud-dns-failover", "cloud-dns-weighted", "cloud-dns-geo"):
        assert m in Mechanism.__args__  # type: ignore[attr-defined]
        assert DNS_PROVIDER[m] == MECHANISMS[m].provider
    assert DNS_PROVIDER["cloudflare-lb"] == "cloudflare"


# --- Cloudflare -------------------------------------------------------------------------------------
@pytest.fixture
def cf(
    fake_cloudflare: FakeCloudflare, cloudflare_account: Callable[..., Account], cloudflare_adapter: Any
) -> Callable[..., Evidence]:
    """``cf(rto=..., observations=...)``: the workload's evidence from what the fake holds now."""

    def make(rto: str = "15m", observations: tuple[Any, ...] = (), inventoried: bool = True) -> Evidence:
        account = cloudflare_account().model_dump(exclude_none=True)
        cfg = config("cloudflare-lb", [account], rto=rto)
        invs = [cloudflare_adapter.inventory(cfg.account("cf-test"))] if inventoried else []
        return evidence(cfg, invs, observations)

    return make


def test_cloudflare_failover_between_pools_is_ready(fake_cloudflare: FakeCloudflare, cf: Any) -> None:
    seed_demo(fake_cloudflare, primary=PRIMARY_IP, secondary=SECONDARY_IP)
    chain = f.obs("dns", "chain", target=PUBLIC, effective_ttl=300, chain=[])
    ev = cf(observations=(chain,))
    records = one(ev, "dns.failover_records")
    assert records.status == PASS, records.reason
    assert "aws-east fails over to gcp-west after 30s" in records.reason
    assert "fallback pool gcp-west" in records.reason  # fails open, and says where
    assert records.evidence["proxied"] is True and "no TTL delays failover" in records.evidence["ttl"]
    health = one(ev, "dns.health_check")
    assert (health.status, health.evidence["detection_s"], health.evidence["mechanism"]) == (
        PASS,
        30.0,
        "cloudflare-monitor",
    )
    ttl = one(ev, "dns.ttl")  # proxied: Cloudflare's 300 s on its own addresses does not delay failover
    assert ttl.status == PASS and "proxied" in ttl.reason, ttl.reason
    path = routing_path(ev)
    assert path is not None and (path.control_plane.provider, path.data_plane.provider) == ("cloudflare",) * 2
    assert not path.needs_control_plane
    rto = estimate_rto(ev, ev.config.scoring)
    assert (rto.detection_s, rto.dns_s) == (30.0, 0.0)


def test_dns_only_load_balancer_says_its_ttl_matters(fake_cloudflare: FakeCloudflare, cf: Any) -> None:
    fake_cloudflare.add_zone(DEMO_ZONE, "example.com", account=DEMO_ACCOUNT)
    mon = fake_cloudflare.add_monitor(DEMO_ACCOUNT, interval=10, consecutive_down=3)
    east = fake_cloudflare.add_pool(DEMO_ACCOUNT, "east", origins=[origin(PRIMARY_IP)], monitor=mon)
    west = fake_cloudflare.add_pool(DEMO_ACCOUNT, "west", origins=[origin(SECONDARY_IP)], monitor=mon)
    fake_cloudflare.add_load_balancer(DEMO_ZONE, PUBLIC, default_pools=[east, west], proxied=False, ttl=120)
    chain = f.obs("dns", "chain", target=PUBLIC, effective_ttl=120, chain=[])
    ev = cf(observations=(chain,))
    records = one(ev, "dns.failover_records")
    assert records.status == PASS and "DNS-only, TTL 2m" in records.reason, records.reason
    assert "for the load balancer's TTL, 2m" in records.evidence["ttl"]
    assert one(ev, "dns.ttl").status == FAIL  # 120 s > max_dns_ttl 60 s: resolvers hold the dead origin


def test_cloudflare_pool_without_a_monitor_never_fails_over(fake_cloudflare: FakeCloudflare, cf: Any) -> None:
    fake_cloudflare.add_zone(DEMO_ZONE, "example.com", account=DEMO_ACCOUNT)
    mon = fake_cloudflare.add_monitor(DEMO_ACCOUNT, interval=15, consecutive_down=2)
    east = fake_cloudflare.add_pool(DEMO_ACCOUNT, "east", origins=[origin(PRIMARY_IP)])  # no monitor
    west = fake_cloudflare.add_pool(DEMO_ACCOUNT, "west", origins=[origin(SECONDARY_IP)], monitor=mon)
    fake_cloudflare.add_load_balancer(DEMO_ZONE, PUBLIC, default_pools=[east, west])
    ev = cf()
    records = one(ev, "dns.failover_records")
    assert records.status == FAIL and "pool east has no monitor" in records.reason
    assert one(ev, "dns.health_check").status == FAIL


def test_cloudflare_secondary_pool_with_its_origin_disabled_is_no_path(
    fake_cloudflare: FakeCloudflare, cf: Any
) -> None:
    fake_cloudflare.add_zone(DEMO_ZONE, "example.com", account=DEMO_ACCOUNT)
    mon = fake_cloudflare.add_monitor(DEMO_ACCOUNT, interval=15, consecutive_down=2)
    east = fake_cloudflare.add_pool(DEMO_ACCOUNT, "east", origins=[origin(PRIMARY_IP)], monitor=mon)
    west = fake_cloudflare.add_pool(DEMO_ACCOUNT, "west", origins=[origin(SECONDARY_IP, enabled=False)], monitor=mon)
    fake_cloudflare.add_load_balancer(DEMO_ZONE, PUBLIC, default_pools=[east, west])
    records = one(cf(), "dns.failover_records")
    assert records.status == FAIL and "has enabled origins at the secondary" in records.reason


def test_cloudflare_detection_slower_than_the_rto_fails(fake_cloudflare: FakeCloudflare, cf: Any) -> None:
    fake_cloudflare.add_zone(DEMO_ZONE, "example.com", account=DEMO_ACCOUNT)
    mon = fake_cloudflare.add_monitor(DEMO_ACCOUNT, interval=120, retries=4, consecutive_down=5)
    east = fake_cloudflare.add_pool(DEMO_ACCOUNT, "east", origins=[origin(PRIMARY_IP)], monitor=mon)
    west = fake_cloudflare.add_pool(DEMO_ACCOUNT, "west", origins=[origin(SECONDARY_IP)], monitor=mon)
    fake_cloudflare.add_load_balancer(DEMO_ZONE, PUBLIC, default_pools=[east, west])
    health = one(cf(rto="5m"), "dns.health_check")
    assert health.status == FAIL and health.evidence["detection_s"] == 600.0, health.reason  # retries add nothing


def test_cloudflare_origin_name_is_followed_through_dns(fake_cloudflare: FakeCloudflare, cf: Any) -> None:
    fake_cloudflare.add_zone(DEMO_ZONE, "example.com", account=DEMO_ACCOUNT)
    mon = fake_cloudflare.add_monitor(DEMO_ACCOUNT, interval=15, consecutive_down=2)
    east = fake_cloudflare.add_pool(DEMO_ACCOUNT, "east", origins=[origin(PRIMARY_IP)], monitor=mon)
    west = fake_cloudflare.add_pool(DEMO_ACCOUNT, "west", origins=[origin("origin-b.example.org")], monitor=mon)
    fake_cloudflare.add_load_balancer(DEMO_ZONE, PUBLIC, default_pools=[east, west])
    ev = cf()
    assert MECHANISMS["cloudflare-lb"].names_to_resolve(ev) == {"": ["origin-b.example.org"]}
    pending = one(ev, "dns.failover_records")
    assert pending.status == UNKNOWN and "origin-b.example.org" in pending.reason, pending.reason
    resolved = f.obs(
        "dns", "secondary-target", target="origin-b.example.org", answers=[SECONDARY_IP], names=["origin-b.example.org"]
    )
    assert one(cf(observations=(resolved,)), "dns.failover_records").status == PASS


def test_cloudflare_account_not_read_is_unknown_with_the_reason(fake_cloudflare: FakeCloudflare, cf: Any) -> None:
    seed_demo(fake_cloudflare, primary=PRIMARY_IP, secondary=SECONDARY_IP)
    ev = cf(inventoried=False)
    records = one(ev, "dns.failover_records")
    assert records.status == UNKNOWN and "account cf-test has not been inventoried" in records.reason
    assert one(ev, "dns.health_check").status == UNKNOWN


def test_cloudflare_lb_cannot_name_an_aws_dns_account() -> None:
    text = """
accounts:
  - {name: app, provider: aws, regions: [us-east-1]}
workloads:
  - name: checkout
    owners: [a@example.com]
    dns: {name: shop.example.com, mechanism: cloudflare-lb, account: app}
    sites:
      - {name: east, role: primary, account: app, regions: [us-east-1], select: {tags: {a: b}}}
      - {name: west, role: secondary, account: app, regions: [us-east-1], select: {tags: {a: c}}}
"""
    with pytest.raises(ConfigError, match="cloudflare-lb records live in cloudflare, but account 'app' is aws"):
        config_from_text(text)


# --- Cloud DNS --------------------------------------------------------------------------------------
def gcp_evidence(fake: FakeGcp, mechanism: str, rto: str = "15m", observations: tuple[Any, ...] = ()) -> Evidence:
    gcp = {"name": "gcp", "provider": "gcp", "project": P, "endpoint": fake.url, "credentials": "anonymous"}
    cfg = config(mechanism, [gcp], rto=rto)
    inv = GcpAdapter(base_delay=0.01).inventory(cfg.account("gcp"))
    return evidence(cfg, [inv], observations)


@pytest.fixture
def zone(gcp_fake: FakeGcp) -> FakeGcp:
    gcp_fake.add_region(P, "us-central1")
    gcp_fake.add_dns_zone(P, "pub", "example.com")
    return gcp_fake


def test_cloud_dns_primary_backup_is_ready(zone: FakeGcp) -> None:
    hc = zone.add_dns_health_check(P, "shop-hc", interval_s=30, unhealthy_threshold=2)
    backup = d.geo_policy([d.geo_item("us-east1", targets=[SECONDARY_IP])])
    pb = d.primary_backup([PRIMARY_IP], backup, trickle=0.0)
    zone.add_rrset(P, "pub", "shop", "A", ttl=30, policy=d.policy(primary_backup=pb, health_check=hc["selfLink"]))
    ev = gcp_evidence(zone, "cloud-dns-failover")
    records = one(ev, "dns.failover_records")
    assert records.status == PASS and "reaches secondary west" in records.reason, records.reason
    health = one(ev, "dns.health_check")
    assert (health.status, health.evidence["detection_s"]) == (PASS, 60.0), health.reason
    path = routing_path(ev)
    assert path is not None and (path.control_plane.provider, path.data_plane.provider) == ("gcp", "gcp")


def test_cloud_dns_weighted_item_without_a_health_check_keeps_its_share(zone: FakeGcp) -> None:
    hc = zone.add_dns_health_check(P, "shop-hc", interval_s=30, unhealthy_threshold=2)
    items = [d.wrr_item(3, rrdatas=[PRIMARY_IP]), d.wrr_item(1, targets=[SECONDARY_IP])]
    zone.add_rrset(P, "pub", "shop", "A", ttl=30, policy=d.policy(wrr=items, health_check=hc["selfLink"]))
    ev = gcp_evidence(zone, "cloud-dns-weighted")
    records = one(ev, "dns.failover_records")
    assert records.status == FAIL and "has no health check" in records.reason, records.reason
    assert FAIL in {x.status for x in run_checks(ev, only={"dns.health_check"})}


def test_cloud_dns_geo_with_fencing_fails_and_the_wrong_policy_is_named(zone: FakeGcp) -> None:
    hc = zone.add_dns_health_check(P, "shop-hc", interval_s=30, unhealthy_threshold=2)
    items = [d.geo_item("us-central1", targets=[PRIMARY_IP]), d.geo_item("us-east1", targets=[SECONDARY_IP])]
    geo = d.geo_policy(items, fencing=True)
    zone.add_rrset(P, "pub", "shop", "A", ttl=30, policy=d.policy(geo=geo, health_check=hc["selfLink"]))
    records = one(gcp_evidence(zone, "cloud-dns-geo"), "dns.failover_records")
    assert records.status == FAIL and "geo fencing is on" in records.reason
    wrong = one(gcp_evidence(zone, "cloud-dns-failover"), "dns.failover_records")
    assert wrong.status == FAIL and "uses Cloud DNS geo (cloud-dns-geo), not primaryBackup" in wrong.reason


def test_cloud_dns_detection_slower_than_the_rto_fails(zone: FakeGcp) -> None:
    hc = zone.add_dns_health_check(P, "slow-hc", interval_s=300, unhealthy_threshold=3)
    items = [d.geo_item("us-central1", targets=[PRIMARY_IP]), d.geo_item("us-east1", targets=[SECONDARY_IP])]
    zone.add_rrset(P, "pub", "shop", "A", policy=d.policy(geo=d.geo_policy(items), health_check=hc["selfLink"]))
    ev = gcp_evidence(zone, "cloud-dns-geo", rto="10m")
    assert one(ev, "dns.failover_records").status == PASS
    statuses = {x.status for x in run_checks(ev, only={"dns.health_check"})}
    assert statuses == {FAIL}  # 15m of detection against a 10m RTO


def test_cloud_dns_unreadable_record_sets_are_unknown_with_the_reason(zone: FakeGcp) -> None:
    zone.add_rrset(P, "pub", "shop", "A", [PRIMARY_IP])
    zone.fail(403, project=P, collection="rrsets")
    records = one(gcp_evidence(zone, "cloud-dns-failover"), "dns.failover_records")
    assert records.status == UNKNOWN and "rrsets" in records.reason, records.reason


def test_cloud_dns_name_outside_every_zone_is_unknown(gcp_fake: FakeGcp) -> None:
    gcp_fake.add_region(P, "us-central1")
    gcp_fake.add_dns_zone(P, "other", "other.example.org")
    records = one(gcp_evidence(gcp_fake, "cloud-dns-weighted"), "dns.failover_records")
    assert records.status == UNKNOWN and "no Cloud DNS managed zone for shop.example.com in gcp" in records.reason


def test_cloud_dns_plain_record_set_never_fails_over(zone: FakeGcp) -> None:
    zone.add_rrset(P, "pub", "shop", "A", [PRIMARY_IP])
    records = one(gcp_evidence(zone, "cloud-dns-failover"), "dns.failover_records")
    assert records.status == FAIL and "no routing policy" in records.reason
