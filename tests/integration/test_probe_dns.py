"""The DNS probe against a real authoritative server (Knot) and a caching resolver (dnsmasq)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from failover.errors import ProbeError
from failover.model import Observation, ObsStatus
from failover.sandbox.dnsd import Dnsmasq, KnotServer
from probes.dns import DnsTarget, classify, make_query, parse_server, probe_dns, query_wire
from tests.fixtures.dns import BIG_RRSET_SIZE, EDGE, PRIMARY_IP, SECONDARY_IP, SHOP


def probe(name: str, rdtype: str = "A", server: str | None = None, timeout: float = 3.0) -> Observation:
    return asyncio.run(probe_dns(DnsTarget(name, rdtype, server, timeout)))


def test_answer_carries_records_flags_and_server(knot: KnotServer) -> None:
    obs = probe(f"api.{SHOP}", server=knot.address)
    assert obs.status == ObsStatus.OK, obs.reason
    assert obs.probe == "dns"
    assert obs.data["rcode"] == "NOERROR"
    assert obs.data["flags"]["aa"] is True and obs.data["flags"]["tc"] is False
    assert obs.data["answers"] == [{"name": f"api.{SHOP}.", "type": "A", "ttl": 60, "value": PRIMARY_IP}]
    assert obs.data["server"] == knot.address
    assert obs.data["ttl"] == 60
    assert obs.latency_ms is not None and obs.latency_ms > 0
    assert PRIMARY_IP in obs.reason


def test_nxdomain_is_failed_with_soa_and_negative_ttl(knot: KnotServer) -> None:
    obs = probe(f"missing.{SHOP}", server=knot.address)
    assert obs.status == ObsStatus.FAILED
    assert obs.reason.startswith("NXDOMAIN")
    assert [r["type"] for r in obs.data["authority"]] == ["SOA"]
    assert obs.data["negative_ttl"] is not None


def test_name_without_the_type_is_nodata_not_nxdomain(knot: KnotServer) -> None:
    obs = probe(f"notes.{SHOP}", "A", server=knot.address)
    assert obs.status == ObsStatus.FAILED
    assert obs.data["rcode"] == "NOERROR"
    assert obs.reason.startswith("NODATA")
    assert obs.data["authority"][0]["type"] == "SOA"


def test_zone_the_server_does_not_serve_is_refused(knot: KnotServer) -> None:
    obs = probe("www.example.org", server=knot.address)
    assert obs.status == ObsStatus.FAILED
    assert obs.data["rcode"] == "REFUSED"
    assert obs.reason.startswith("REFUSED")


def test_large_answer_falls_back_to_tcp(knot: KnotServer) -> None:
    obs = probe(f"big.{SHOP}", server=knot.address)
    assert obs.status == ObsStatus.OK, obs.reason
    assert obs.data["transport"] == "tcp"
    assert obs.data["truncated_udp"] is True
    assert len(obs.data["answers"]) == BIG_RRSET_SIZE


def test_cname_into_another_zone_reports_the_chain(knot: KnotServer) -> None:
    obs = probe(f"www.{SHOP}", server=knot.address)
    # Knot chases www -> app inside the zone and stops where the chain leaves it.
    assert obs.status == ObsStatus.OK
    assert obs.data["cname_chain"] == [f"www.{SHOP}. -> app.{SHOP}.", f"app.{SHOP}. -> lb.{EDGE}."]
    assert obs.data["final_name"] == f"lb.{EDGE}."
    assert obs.data["ttl"] == 120
    assert "not served here" in obs.reason


def test_delegated_name_is_a_referral_not_an_answer(knot: KnotServer) -> None:
    obs = probe(f"www.partner.{SHOP}", server=knot.address)
    assert obs.status == ObsStatus.FAILED
    assert obs.data["flags"]["aa"] is False
    assert obs.data["referral"] == f"partner.{SHOP}."
    assert "referral" in obs.reason


def test_flipped_record_is_seen_by_the_next_probe(knot_factory: Callable[..., KnotServer]) -> None:
    knot = knot_factory()
    assert probe(f"api.{SHOP}", server=knot.address).data["answers"][0]["value"] == PRIMARY_IP
    knot.set_record(SHOP, "api", 60, "A", SECONDARY_IP)
    after = probe(f"api.{SHOP}", server=knot.address)
    assert [a["value"] for a in after.data["answers"]] == [SECONDARY_IP]


@pytest.fixture
def silent_udp() -> Iterator[str]:
    """A UDP socket that swallows queries: a server that never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def test_timeout_is_an_error_with_the_reason(silent_udp: str) -> None:
    obs = probe(f"api.{SHOP}", server=silent_udp, timeout=0.3)
    assert obs.status == ObsStatus.ERROR
    assert obs.data["error"] == "timeout"
    assert "no answer within 0.3s" in obs.reason
    assert obs.latency_ms is None


@pytest.mark.parametrize(
    ("name", "rdtype", "server"),
    [("bad..name", "A", "127.0.0.1"), ("ok.test", "NOTATYPE", "127.0.0.1"), ("ok.test", "A", "127.0.0.1:99999")],
)
def test_bad_target_is_an_error_not_an_exception(name: str, rdtype: str, server: str) -> None:
    obs = probe(name, rdtype, server)
    assert obs.status == ObsStatus.ERROR
    assert obs.data["error"] == "bad_target"


def test_probe_through_caching_resolver_is_recursive(knot: KnotServer, dnsmasq_factory: Callable[..., Dnsmasq]) -> None:
    resolver = dnsmasq_factory({SHOP: knot.address})
    obs = probe(f"slow.{SHOP}", server=resolver.address)
    assert obs.status == ObsStatus.OK, obs.reason
    assert obs.data["flags"]["ra"] is True
    assert [a["value"] for a in obs.data["answers"]] == [PRIMARY_IP]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.1", ("10.0.0.1", 53)),
        ("10.0.0.1:5353", ("10.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("ns1.example.com", ("ns1.example.com", 53)),
    ],
)
def test_server_addresses_parse(text: str, expected: tuple[str, int]) -> None:
    assert parse_server(text) == expected


@pytest.mark.parametrize("text", ["", "10.0.0.1:0", "10.0.0.1:x", "[::1", "[::1]5353", ":53"])
def test_malformed_server_addresses_are_refused(text: str) -> None:
    with pytest.raises(ProbeError):
        parse_server(text)


def _response(rcode: int, aa: bool = True) -> dns.message.Message:
    msg = dns.message.make_response(dns.message.make_query(f"api.{SHOP}", "A"))
    msg.set_rcode(rcode)
    if aa:
        msg.flags |= dns.flags.AA
    return msg


def test_servfail_is_failed() -> None:
    status, reason, _ = classify(f"api.{SHOP}", "A", _response(dns.rcode.SERVFAIL))
    assert status == ObsStatus.FAILED and reason.startswith("SERVFAIL")


def test_empty_answer_without_soa_is_failed() -> None:
    status, reason, _ = classify(f"api.{SHOP}", "A", _response(dns.rcode.NOERROR))
    assert status == ObsStatus.FAILED and "no SOA" in reason


def test_resolver_handing_back_an_unfinished_chain_is_a_warning() -> None:
    msg = _response(dns.rcode.NOERROR, aa=False)
    msg.answer.append(dns.rrset.from_text(f"api.{SHOP}.", 60, "IN", "CNAME", "elsewhere.test."))
    status, _, extra = classify(f"api.{SHOP}", "A", msg)
    assert status == ObsStatus.WARN
    assert extra["final_name"] == "elsewhere.test."


def test_nxdomain_at_the_end_of_a_chain_names_the_target() -> None:
    msg = _response(dns.rcode.NXDOMAIN)
    msg.answer.append(dns.rrset.from_text(f"api.{SHOP}.", 60, "IN", "CNAME", "gone.test."))
    status, reason, _ = classify(f"api.{SHOP}", "A", msg)
    assert status == ObsStatus.FAILED and "CNAME target gone.test" in reason


def test_server_given_by_name_is_resolved_by_the_os(knot: KnotServer) -> None:
    obs = probe(f"api.{SHOP}", server=f"localhost:{knot.port}")
    assert obs.status == ObsStatus.OK, obs.reason
    assert obs.data["server"] == f"localhost:{knot.port}"


def test_nothing_listening_is_failed_at_once_not_a_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{sock.getsockname()[1]}"
    obs = probe(f"api.{SHOP}", server=closed, timeout=2.0)
    assert obs.status == ObsStatus.FAILED
    assert obs.data["error"] == "refused"
    assert "connection refused" in obs.reason


def test_stray_datagrams_are_ignored_until_the_real_answer() -> None:
    """A server that first sends garbage and a reply with the wrong id: only the real answer counts."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)

        def serve() -> None:
            data, peer = sock.recvfrom(512)
            query = dns.message.from_wire(data)
            wrong = dns.message.make_response(query)
            wrong.id = (query.id + 1) % 65536
            wrong.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A", "203.0.113.66"))
            right = dns.message.make_response(query)
            right.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A", PRIMARY_IP))
            for reply in (b"\x00garbage", wrong.to_wire(), right.to_wire()):
                sock.sendto(reply, peer)

        thread = threading.Thread(target=serve)
        thread.start()
        obs = probe(f"api.{SHOP}", server=f"127.0.0.1:{sock.getsockname()[1]}")
        thread.join()
    assert obs.status == ObsStatus.OK, obs.reason
    assert [a["value"] for a in obs.data["answers"]] == [PRIMARY_IP]


@pytest.mark.parametrize(
    ("name", "rdtype", "recursion"),
    [
        ("h00001.bench.test", "A", True),
        ("Api.Shop.test.", "AAAA", False),
        ("_sip._tcp.example.com", "SRV", True),
        ("caf\\195\\169.test", "A", True),  # escaped: built by dnspython
    ],
)
def test_query_wire_is_what_dnspython_would_send(name: str, rdtype: str, recursion: bool) -> None:
    wire, question = query_wire(name, rdtype, recursion)
    reference = make_query(name, rdtype, recursion)
    reference.id = dns.message.from_wire(wire).id
    assert wire == reference.to_wire()
    assert wire[12 : 12 + len(question)] == question
