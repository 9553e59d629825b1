"""The DNS path's facts, on data: provider classification, agreement, chains (the TTL verdict is tested with
the checks, in test_check_ttl.py)."""

from __future__ import annotations

from typing import Any

import pytest

from failover.model import Observation, ObsStatus
from probes.dnspath import (
    CnameHop,
    agreement_from,
    assess_cached_ttl,
    chain_ttl,
    nameserver_provider,
    providers_of,
    registered_domain,
)


@pytest.mark.parametrize(
    ("ns", "provider"),
    [
        ("ns-123.awsdns-45.com", "aws"),
        ("ns-1201.awsdns-22.org.", "aws"),
        ("NS-7.AWSDNS-00.NET", "aws"),
        ("ns-1536.awsdns-00.co.uk.", "aws"),
        ("ns-cloud-a1.googledomains.com.", "gcp"),
        ("ns-cloud-e4.googledomains.com", "gcp"),
        ("ns1-01.azure-dns.com.", "azure"),
        ("ns2-07.azure-dns.net", "azure"),
        ("ns3-01.azure-dns.org", "azure"),
        ("ns4-01.azure-dns.info.", "azure"),
        ("ns1.dnsimple.com.", "other:dnsimple.com"),
        ("kate.ns.cloudflare.com", "cloudflare"),  # as the routing planes name Cloudflare
        ("LOLA.NS.CLOUDFLARE.COM.", "cloudflare"),
        ("ns.cloudflare.com.attacker.net", "other:attacker.net"),
        ("kate.cloudflare.com", "other:cloudflare.com"),  # not a zone nameserver name
        ("dns1.registrar-servers.co.uk", "other:registrar-servers.co.uk"),
        # look-alikes are not the cloud they imitate
        ("ns-123.awsdns-45.evil.com", "other:evil.com"),
        ("ns1-01.azure-dns.example", "other:azure-dns.example"),
        ("ns-cloud-a1.googledomains.com.attacker.net", "other:attacker.net"),
    ],
)
def test_nameserver_provider_is_read_from_the_ns_name(ns: str, provider: str) -> None:
    assert nameserver_provider(ns) == provider


def test_registered_domain_keeps_two_label_public_suffixes() -> None:
    assert registered_domain("a.b.example.com.au") == "example.com.au"
    assert registered_domain("a.b.example.com") == "example.com"
    assert registered_domain("localhost") == "localhost"


def test_providers_of_groups_ns_names() -> None:
    groups = providers_of(["ns-1.awsdns-01.com.", "ns1-01.azure-dns.com.", "ns-2.awsdns-02.net."])
    assert groups == {"aws": ["ns-1.awsdns-01.com", "ns-2.awsdns-02.net"], "azure": ["ns1-01.azure-dns.com"]}


def _obs(status: ObsStatus, rcode: str | None, answers: list[tuple[str, str, str]], **extra: Any) -> Observation:
    data: dict[str, Any] = {"flags": {"aa": True}, "ttl": 60}
    if rcode is not None:
        data["rcode"] = rcode
        data["answers"] = [{"name": n, "type": t, "ttl": 60, "value": v} for n, t, v in answers]
    data.update(extra)
    return Observation(probe="dns", target="t", status=status, reason=f"{rcode}", data=data)


def test_same_records_in_another_order_and_case_agree() -> None:
    a = _obs(ObsStatus.OK, "NOERROR", [("api.shop.test.", "A", "192.0.2.1"), ("api.shop.test.", "A", "192.0.2.2")])
    b = _obs(ObsStatus.OK, "NOERROR", [("API.shop.test.", "A", "192.0.2.2"), ("api.shop.test.", "A", "192.0.2.1")])
    result = agreement_from("api.shop.test", "A", {"s1": a, "s2": b})
    assert result.agree is True and result.all_answered is True


def test_nxdomain_on_one_server_disagrees_with_an_answer_on_another() -> None:
    a = _obs(ObsStatus.OK, "NOERROR", [("api.shop.test.", "A", "192.0.2.1")])
    b = _obs(ObsStatus.FAILED, "NXDOMAIN", [])
    result = agreement_from("api.shop.test", "A", {"s1": a, "s2": b})
    assert result.agree is False
    assert result.answers["s2"] == ["NXDOMAIN"]


def test_errors_refusals_and_referrals_are_failures_not_answers() -> None:
    ok = _obs(ObsStatus.OK, "NOERROR", [("api.shop.test.", "A", "192.0.2.1")])
    result = agreement_from(
        "api.shop.test",
        "A",
        {
            "ok": ok,
            "timeout": _obs(ObsStatus.ERROR, None, []),
            "refused": _obs(ObsStatus.FAILED, "REFUSED", []),
            "lame": _obs(ObsStatus.FAILED, "NOERROR", [], referral="shop.test."),
        },
    )
    assert result.agree is True
    assert result.all_answered is False
    assert sorted(result.failed) == ["lame", "refused", "timeout"]


def test_agreement_is_unknown_when_nobody_answered() -> None:
    result = agreement_from("api.shop.test", "A", {"s1": _obs(ObsStatus.ERROR, None, [])})
    assert result.agree is None


def test_chain_ttl_is_the_minimum_of_its_records() -> None:
    hops = [
        CnameHop("www.", "CNAME", 300, ["app."], "s", True),
        CnameHop("app.", "CNAME", 30, ["lb."], "s", True),
        CnameHop("lb.", "A", 60, ["192.0.2.1"], "s", True),
    ]
    assert chain_ttl(hops) == 30
    assert chain_ttl([]) is None


@pytest.mark.parametrize(
    ("first", "second", "gap", "counts_down", "words"),
    [
        (60, 59, 1.1, True, "counts down"),
        (60, 60, 1.5, False, "does not seem to cache"),
        (60, 60, 0.2, None, "too short"),
        (5, 60, 1.1, None, "went up"),
    ],
)
def test_cached_ttl_assessment(first: int, second: int, gap: float, counts_down: bool | None, words: str) -> None:
    verdict, text = assess_cached_ttl(first, second, gap)
    assert verdict is counts_down
    assert words in text


def test_resolver_stretching_ttls_is_called_out() -> None:
    _, text = assess_cached_ttl(300, 299, 1.0, authoritative_ttl=60)
    assert "above the authoritative TTL 60s" in text


def _response_wire(name: str, address: str, qid: int) -> bytes:
    import dns.message
    import dns.rrset

    query = dns.message.make_query(name, "A")
    query.id = qid
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text(name, 60, "IN", "A", address))
    return response.to_wire()


def test_a_response_parsed_again_is_the_same_message_with_its_own_id() -> None:
    import dns.message

    from probes.dns import parse_response

    first, again = (
        _response_wire("w1.example.com.", "192.0.2.1", 101),
        _response_wire("w1.example.com.", "192.0.2.1", 202),
    )
    one, two = parse_response(first), parse_response(again)
    assert (one.id, two.id) == (101, 202)
    assert one is not two and one.answer == two.answer
    for wire, parsed in ((first, one), (again, two)):
        assert parsed == dns.message.from_wire(wire) and parsed.to_wire() == wire
    other = parse_response(_response_wire("w1.example.com.", "192.0.2.9", 101))  # another answer: parsed anew
    assert other.answer[0][0].address == "192.0.2.9"


def test_a_malformed_response_still_raises_as_dnspython_does() -> None:
    import dns.exception

    from probes.dns import parse_response

    wire = _response_wire("w2.example.com.", "192.0.2.2", 7)
    for _ in range(2):  # a failure is not remembered
        with pytest.raises(dns.exception.DNSException):
            parse_response(wire[:-3])
