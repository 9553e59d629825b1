"""The in-process authoritative server answers like a real one where the failover checks look."""

from __future__ import annotations

import asyncio
import socket

import dns.asyncquery
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from failover.model import ObsStatus
from failover.sandbox.dns import AuthoritativeServer, free_port
from probes.dns import DnsTarget, probe_dns
from tests.fixtures.dns import BIG_RRSET_SIZE, EDGE, PRIMARY_IP, SECONDARY_IP, SHOP


def ask(server: AuthoritativeServer, name: str, rdtype: str = "A", tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(query, server.host, timeout=2, port=server.port)
    return dns.query.udp(query, server.host, timeout=2, port=server.port)


def test_cname_is_chased_inside_its_zone(dns_sandbox: AuthoritativeServer) -> None:
    reply = ask(dns_sandbox, f"www.{SHOP}")
    assert reply.flags & dns.flags.AA
    owners = [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype)) for r in reply.answer]
    # www -> app is chased; app -> lb.edge.test leaves the zone, as Knot and Route 53 leave it.
    assert owners == [(f"www.{SHOP}.", "CNAME"), (f"app.{SHOP}.", "CNAME")]


def test_cname_to_a_record_in_the_same_zone_ends_in_the_records() -> None:
    with AuthoritativeServer({"z.test": [("www", 60, "CNAME", "lb"), ("lb", 30, "A", PRIMARY_IP)]}) as server:
        reply = ask(server, "www.z.test")
    assert [dns.rdatatype.to_text(r.rdtype) for r in reply.answer] == ["CNAME", "A"]


def test_existing_name_without_the_type_is_nodata_with_soa(dns_sandbox: AuthoritativeServer) -> None:
    reply = ask(dns_sandbox, f"notes.{SHOP}", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert not reply.answer
    soa = reply.authority[0]
    assert soa.rdtype == dns.rdatatype.SOA and soa.name.to_text() == f"{SHOP}."
    assert soa.ttl == min(soa.ttl, soa[0].minimum)  # RFC 2308 negative-caching TTL


def test_missing_name_is_nxdomain_with_soa(dns_sandbox: AuthoritativeServer) -> None:
    reply = ask(dns_sandbox, f"missing.{SHOP}")
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert reply.flags & dns.flags.AA
    assert reply.authority[0].rdtype == dns.rdatatype.SOA


def test_empty_non_terminal_is_nodata_not_nxdomain(dns_sandbox: AuthoritativeServer) -> None:
    # "x.y" exists below "y", so "y" itself exists, with no records.
    dns_sandbox.set_record(f"x.y.{SHOP}", "A", PRIMARY_IP)
    reply = ask(dns_sandbox, f"y.{SHOP}")
    assert reply.rcode() == dns.rcode.NOERROR and not reply.answer


def test_ns_query_at_the_apex_answers_the_ns_set(dns_sandbox: AuthoritativeServer) -> None:
    reply = ask(dns_sandbox, EDGE, "NS")
    assert reply.flags & dns.flags.AA
    assert sorted(rd.target.to_text() for rd in reply.answer[0]) == [
        "ns-1536.awsdns-00.co.uk.",
        "ns-512.awsdns-00.net.",
    ]


def test_delegated_name_gets_a_referral_with_glue(dns_sandbox: AuthoritativeServer) -> None:
    reply = ask(dns_sandbox, f"www.partner.{SHOP}")
    assert not reply.flags & dns.flags.AA
    assert not reply.answer
    assert reply.authority[0].rdtype == dns.rdatatype.NS
    assert [r.to_text() for r in reply.additional] == [f"ns1.partner.{SHOP}. 3600 IN A 127.0.0.9"]


def test_unserved_zone_is_refused(dns_sandbox: AuthoritativeServer) -> None:
    assert ask(dns_sandbox, "www.example.org").rcode() == dns.rcode.REFUSED


def test_wildcard_is_expanded_to_the_asked_name() -> None:
    with AuthoritativeServer({"w.test": [("*.apps", 60, "A", PRIMARY_IP)]}) as server:
        reply = ask(server, "one.apps.w.test")
    assert reply.answer[0].name.to_text() == "one.apps.w.test."


def test_tcp_answers_like_udp(dns_sandbox: AuthoritativeServer) -> None:
    assert ask(dns_sandbox, f"api.{SHOP}", tcp=True).answer == ask(dns_sandbox, f"api.{SHOP}").answer


def test_large_answer_is_truncated_over_udp_and_whole_over_tcp(dns_sandbox: AuthoritativeServer) -> None:
    udp = ask(dns_sandbox, f"big.{SHOP}")  # no EDNS: a 512-byte limit
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = ask(dns_sandbox, f"big.{SHOP}", tcp=True)
    assert len(tcp.answer[0]) == BIG_RRSET_SIZE


def test_probe_falls_back_to_tcp_on_truncation(dns_sandbox: AuthoritativeServer) -> None:
    obs = asyncio.run(probe_dns(DnsTarget(f"big.{SHOP}", "A", dns_sandbox.address)))
    assert obs.status == ObsStatus.OK
    assert obs.data["transport"] == "tcp"
    assert [entry[0] for entry in dns_sandbox.log if entry[1] == f"big.{SHOP}."] == ["udp", "tcp"]


def test_runtime_flip_and_delete_are_served_next(dns_sandbox: AuthoritativeServer) -> None:
    assert ask(dns_sandbox, f"api.{SHOP}").answer[0][0].to_text() == PRIMARY_IP
    serial = ask(dns_sandbox, SHOP, "SOA").answer[0][0].serial
    dns_sandbox.set_record(f"api.{SHOP}", "A", [SECONDARY_IP], ttl=30)
    flipped = ask(dns_sandbox, f"api.{SHOP}").answer[0]
    assert (flipped[0].to_text(), flipped.ttl) == (SECONDARY_IP, 30)
    assert ask(dns_sandbox, SHOP, "SOA").answer[0][0].serial == serial + 1
    dns_sandbox.delete_record(f"api.{SHOP}")
    assert ask(dns_sandbox, f"api.{SHOP}").rcode() == dns.rcode.NXDOMAIN


def test_record_outside_served_zones_is_rejected(dns_sandbox: AuthoritativeServer) -> None:
    with pytest.raises(KeyError, match="no zone"):
        dns_sandbox.set_record("www.example.org", "A", PRIMARY_IP)


def test_zone_file_text_is_served() -> None:
    text = "$TTL 300\n@ SOA ns1 hostmaster 7 3600 600 86400 60\n@ NS ns1\nns1 A 127.0.0.1\napi 45 A 192.0.2.3\n"
    with AuthoritativeServer({"text.test": text}) as server:
        reply = ask(server, "api.text.test")
    assert (reply.answer[0][0].to_text(), reply.answer[0].ttl) == ("192.0.2.3", 45)


def test_malformed_query_gets_formerr(dns_sandbox: AuthoritativeServer) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(b"\x12\x34\x01\x00\x00\x01", (dns_sandbox.host, dns_sandbox.port))
        data, _ = sock.recvfrom(512)
    reply = dns.message.from_wire(data)
    assert reply.id == 0x1234 and reply.rcode() == dns.rcode.FORMERR


def test_free_port_is_free_on_udp_and_tcp() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
        udp.bind(("127.0.0.1", port))
        tcp.bind(("127.0.0.1", port))


def test_stop_releases_the_port() -> None:
    server = AuthoritativeServer({"z.test": [("a", "A", PRIMARY_IP)]}).start()
    port = server.port
    server.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", port))


def test_async_clients_can_query_concurrently(dns_sandbox: AuthoritativeServer) -> None:
    async def many() -> list[dns.message.Message]:
        queries = [dns.message.make_query(f"api.{SHOP}", "A") for _ in range(50)]
        return await asyncio.gather(
            *(dns.asyncquery.udp(q, dns_sandbox.host, timeout=3, port=dns_sandbox.port) for q in queries)
        )

    assert all(r.answer[0][0].to_text() == PRIMARY_IP for r in asyncio.run(many()))
