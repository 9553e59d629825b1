"""The DNS failover-path helpers against real servers: Knot (authoritative), dnsmasq (caching resolver),
and the in-process sandbox as a second authoritative server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from failover.model import Observation, ObsStatus
from failover.probing import dns_path
from failover.sandbox.dns import AuthoritativeServer
from failover.sandbox.dnsd import Dnsmasq, KnotServer
from probes.dnspath import (
    check_agreement,
    find_zone,
    follow_cname_chain,
    resolver_cached_ttl,
)
from tests import factories as f
from tests.fixtures.dns import EDGE, PRIMARY_IP, SECONDARY_IP, SHOP, ZONES

Knots = Callable[..., KnotServer]
Resolvers = Callable[..., Dnsmasq]


def test_zone_and_ns_providers_from_explicit_nameservers(knot: KnotServer) -> None:
    info = asyncio.run(find_zone(f"api.{SHOP}", nameservers=[knot.address]))
    assert info.error is None
    assert info.zone == f"{SHOP}."
    assert info.servers == [knot.address]
    assert info.providers == {
        "aws": ["ns-1201.awsdns-22.org", "ns-33.awsdns-04.com"],
        "azure": ["ns1-07.azure-dns.com", "ns2-07.azure-dns.net"],
    }
    assert info.single_provider is False
    assert info.soa is not None and info.soa["zone"] == f"{SHOP}."


def test_zone_on_one_provider_is_single_provider(knot: KnotServer) -> None:
    info = asyncio.run(find_zone(f"lb.{EDGE}", nameservers=[knot.address]))
    assert info.zone == f"{EDGE}."
    assert list(info.providers) == ["aws"]
    assert info.single_provider is True


def test_zone_of_a_cname_is_the_cname_owners_zone(knot: KnotServer) -> None:
    # www.shop.test is a CNAME into edge.test: its zone is still shop.test.
    info = asyncio.run(find_zone(f"www.{SHOP}", nameservers=[knot.address]))
    assert info.zone == f"{SHOP}."


def test_unanswered_zone_lookup_is_an_error_not_an_empty_result() -> None:
    info = asyncio.run(find_zone(f"api.{SHOP}", nameservers=["127.0.0.1:9"], timeout=0.3))
    assert info.zone is None
    assert info.error is not None and "no server answered" in info.error
    assert info.single_provider is None


def test_zone_found_through_a_resolver_resolves_its_nameservers(
    knot_factory: Knots, dnsmasq_factory: Resolvers
) -> None:
    corp = [("@", 3600, "NS", "ns1.corp.test."), ("ns1", 3600, "A", "127.0.0.1"), ("app", 60, "A", PRIMARY_IP)]
    knot = knot_factory({"corp.test": corp})
    resolver = dnsmasq_factory({"corp.test": knot.address})
    info = asyncio.run(find_zone("app.corp.test", resolver=resolver.address, ns_port=knot.port))
    assert info.error is None, info.steps
    assert info.source == "resolver"
    assert info.nameservers == ["ns1.corp.test."]
    assert info.providers == {"other:corp.test": ["ns1.corp.test"]}
    assert info.servers == [knot.address]


def test_servers_with_the_same_data_agree(knot: KnotServer, dns_sandbox: AuthoritativeServer) -> None:
    result = asyncio.run(check_agreement(f"www.{SHOP}", "A", [knot.address, dns_sandbox.address]))
    assert result.agree is True
    assert result.all_answered is True
    assert len(result.groups) == 1


def test_a_server_left_on_the_old_answer_disagrees(knot: KnotServer, dns_sandbox: AuthoritativeServer) -> None:
    dns_sandbox.set_record(f"api.{SHOP}", "A", SECONDARY_IP, ttl=60)
    result = asyncio.run(check_agreement(f"api.{SHOP}", "A", [knot.address, dns_sandbox.address]))
    assert result.agree is False
    by_server = {tuple(g["servers"]): g["answer"] for g in result.groups}
    assert by_server[(knot.address,)] == ["NOERROR", f"api.{SHOP} A {PRIMARY_IP}"]
    assert by_server[(dns_sandbox.address,)] == ["NOERROR", f"api.{SHOP} A {SECONDARY_IP}"]


def test_a_silent_server_is_listed_as_failed(knot: KnotServer) -> None:
    result = asyncio.run(check_agreement(f"api.{SHOP}", "A", [knot.address, "127.0.0.1:9"], timeout=0.3))
    assert result.agree is True  # the servers that answered agree...
    assert result.all_answered is False  # ...but not every one answered
    assert list(result.failed) == ["127.0.0.1:9"]


def test_cname_chain_across_zones_reports_min_ttl(knot: KnotServer) -> None:
    chain = asyncio.run(follow_cname_chain(f"www.{SHOP}", "A", nameservers=[knot.address]))
    assert chain.error is None
    assert chain.complete is True
    assert [(h.name, h.rdtype, h.ttl) for h in chain.hops] == [
        (f"www.{SHOP}.", "CNAME", 300),
        (f"app.{SHOP}.", "CNAME", 120),
        (f"lb.{EDGE}.", "A", 20),
    ]
    assert chain.effective_ttl == 20
    assert chain.answers == ["192.0.2.1", "192.0.2.2"]


def test_cname_loop_is_detected(knot: KnotServer) -> None:
    chain = asyncio.run(follow_cname_chain(f"loop-a.{SHOP}", nameservers=[knot.address]))
    assert chain.complete is False
    assert chain.error is not None and "loop" in chain.error


def test_dangling_cname_reports_nxdomain_at_the_target(knot: KnotServer) -> None:
    chain = asyncio.run(follow_cname_chain(f"dangling.{SHOP}", nameservers=[knot.address]))
    assert chain.complete is False
    assert chain.error == f"NXDOMAIN: gone.{EDGE}. does not exist"
    assert chain.effective_ttl == 60  # the hops it did see still bound how long resolvers keep them


def test_chain_hop_into_a_zone_the_nameservers_refuse_is_found_through_the_resolver(
    knot_factory: Knots, dnsmasq_factory: Resolvers
) -> None:
    # shop.test lives on one Knot, edge.test on another; the second is found by its NS + glue.
    edge = [("@", 3600, "NS", f"ns1.{EDGE}."), ("ns1", 3600, "A", "127.0.0.1"), ("lb", 20, "A", "192.0.2.1")]
    shop_knot = knot_factory({SHOP: ZONES[SHOP]})
    edge_knot = knot_factory({EDGE: edge})
    resolver = dnsmasq_factory({EDGE: edge_knot.address})
    chain = asyncio.run(
        follow_cname_chain(
            f"www.{SHOP}", nameservers=[shop_knot.address], resolver=resolver.address, ns_port=edge_knot.port
        )
    )
    assert chain.error is None, chain.steps
    assert [h.server for h in chain.hops] == [shop_knot.address, shop_knot.address, edge_knot.address]
    assert chain.effective_ttl == 20


def test_resolver_cached_ttl_counts_down(knot: KnotServer, dnsmasq_factory: Resolvers) -> None:
    resolver = dnsmasq_factory({SHOP: knot.address})
    cached = asyncio.run(resolver_cached_ttl(f"slow.{SHOP}", resolver=resolver.address, authoritative_ttl=3600))
    assert cached.error is None
    assert cached.first_ttl is not None and cached.second_ttl is not None
    assert cached.second_ttl < cached.first_ttl <= 3600
    assert cached.counts_down is True
    assert cached.answers == [PRIMARY_IP]


def test_resolver_keeps_the_old_answer_after_a_flip(knot_factory: Knots, dnsmasq_factory: Resolvers) -> None:
    # Why resolvers' TTLs matter: the authoritative flip is not what clients see until the cache expires.
    knot = knot_factory()
    resolver = dnsmasq_factory({SHOP: knot.address})
    before = asyncio.run(resolver_cached_ttl(f"slow.{SHOP}", resolver=resolver.address, gap=0.05))
    knot.set_record(SHOP, "slow", 3600, "A", SECONDARY_IP)
    after = asyncio.run(resolver_cached_ttl(f"slow.{SHOP}", resolver=resolver.address, gap=0.05))
    assert before.answers == after.answers == [PRIMARY_IP]
    direct = asyncio.run(check_agreement(f"slow.{SHOP}", "A", [knot.address]))
    assert direct.answers[knot.address] == ["NOERROR", f"slow.{SHOP} A {SECONDARY_IP}"]


def test_resolver_without_the_record_reports_an_error(knot: KnotServer, dnsmasq_factory: Resolvers) -> None:
    resolver = dnsmasq_factory({SHOP: knot.address})
    cached = asyncio.run(resolver_cached_ttl(f"missing.{SHOP}", resolver=resolver.address, gap=0.05))
    assert cached.ttl is None
    assert cached.error is not None and "NXDOMAIN" in cached.error


def _walk(timeout: float = 3.0, **dns: Any) -> dict[str, Observation]:
    """The cycle's one walk of a workload's DNS path (``failover.probing.dns_path``), by label."""
    cfg = f.config(dns={"name": f"api.{SHOP}", "mechanism": "external", **dns})
    return {o.label: o for o in asyncio.run(dns_path(cfg.workloads[0], timeout))}


def test_path_walk_gathers_zone_agreement_chain_and_resolver_ttl(
    knot: KnotServer, dns_sandbox: AuthoritativeServer, dnsmasq_factory: Resolvers
) -> None:
    resolver = dnsmasq_factory({SHOP: knot.address, EDGE: knot.address})
    path = _walk(nameservers=[knot.address, dns_sandbox.address], resolver=resolver.address)
    assert sorted(path) == ["authoritative", "chain", "delegation", "resolver"]
    assert path["delegation"].data["zone"] == f"{SHOP}." and path["delegation"].data["single_provider"] is False
    assert path["authoritative"].data["agree"] is True
    assert path["chain"].data["effective_ttl"] == 60
    assert path["resolver"].data["answers"] == [PRIMARY_IP]
    assert path["resolver"].data["ttl"] <= 60


def test_path_walk_without_authoritative_servers_is_unknown_not_empty() -> None:
    path = _walk(timeout=0.2, resolver="127.0.0.1:9")  # nothing answers where the zone would be found
    assert "authoritative" not in path  # no server to ask: no agreement is claimed either way
    assert path["delegation"].status is ObsStatus.ERROR and path["delegation"].reason
    assert path["chain"].status is ObsStatus.ERROR and path["chain"].data["complete"] is False
    assert path["resolver"].status is ObsStatus.ERROR
