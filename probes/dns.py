"""DNS probe: ask one server one question and keep the whole answer as evidence.

The I/O is one function (``exchange``: UDP, falling back to TCP when the answer is truncated); turning
a response into an ``Observation`` is pure (``message_data``, ``classify``) so the verdicts are tested
on messages as well as against real servers. ``probes.dnspath`` builds the failover-path helpers
(zone and NS set, agreement, CNAME chains, resolver TTLs) on ``exchange``.
"""

from __future__ import annotations

import asyncio
import copy
import re
import secrets
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset

from failover.errors import ProbeError
from failover.model import Observation, ObsStatus
from probes.targets import DnsTarget, is_ip  # the target type lives with the others; imported from here too

__all__ = [
    "DnsTarget",
    "Exchange",
    "answer_loops",
    "chain_text",
    "classify",
    "exchange",
    "follow_answer",
    "format_server",
    "make_query",
    "message_data",
    "negative_ttl",
    "observe",
    "parse_response",
    "parse_server",
    "probe_dns",
    "query_wire",
    "rrset_records",
    "system_nameservers",
]

DEFAULT_PORT = 53
# The DNS-flag-day 2020 default: big enough for most answers, small enough to avoid IP fragmentation.
EDNS_PAYLOAD = 1232
_REASON_VALUES = 4  # values quoted in a one-line reason before "…"


@dataclass(frozen=True)
class Exchange:
    """One query's outcome at one server: a response, or why there is none (``error``)."""

    server: str  # "host:port" that was asked
    response: dns.message.Message | None
    latency_ms: float | None
    used_tcp: bool = False
    error: str | None = None  # timeout | refused | network | bad_target
    detail: str = ""
    tried: list[str] = field(default_factory=list)


def parse_server(server: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address → (host, port)."""
    text = server.strip()
    if not text:
        raise ProbeError("empty DNS server address")
    host, port_text = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ProbeError(f"bad DNS server {server!r}: expected [ipv6]:port")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ProbeError(f"bad DNS server {server!r}: expected [ipv6]:port")
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif text.count(":") > 1:
        host = text  # bare IPv6
    if not host:
        raise ProbeError(f"bad DNS server {server!r}: no host")
    port = default_port
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ProbeError(f"bad DNS server {server!r}: port must be 1-65535")
        port = int(port_text)
    return host, port


def format_server(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def system_nameservers() -> list[str]:
    """The system resolver's servers as ``host:port`` (raises ``ProbeError`` when there is no config)."""
    try:
        resolver = dns.asyncresolver.get_default_resolver()
    except dns.resolver.NoResolverConfiguration as err:
        raise ProbeError(f"no system resolver configured: {err}") from err
    return [format_server(str(ns), resolver.port) for ns in resolver.nameservers]


async def _address_of(host: str) -> str:
    """An IP for a server given by name, the way the OS resolves names (/etc/hosts included)."""
    if is_ip(host):
        return host
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except OSError as err:
        raise ProbeError(f"cannot resolve DNS server name {host!r}: {_one_line(err)}") from err
    if not infos:
        raise ProbeError(f"DNS server name {host!r} has no address")
    return str(infos[0][4][0])


def make_query(name: str, rdtype: str, recursion: bool = True) -> dns.message.Message:
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
    if not recursion:
        q.flags &= ~dns.flags.RD
    return q


_PLAIN_NAME = re.compile(r"^(?:[A-Za-z0-9_-]{1,63}\.)*[A-Za-z0-9_-]{1,63}\.?$")
# OPT pseudo-record: root owner, type 41, class = UDP payload size, TTL 0 (no DO bit), no options.
_OPT = b"\x00\x00\x29" + struct.pack("!H", EDNS_PAYLOAD) + b"\x00\x00\x00\x00\x00\x00"


def query_wire(name: str, rdtype: str, recursion: bool = True) -> tuple[bytes, bytes]:
    """(query wire, its question section) with a random id and EDNS; same bytes as ``make_query``.

    Plain host names are encoded directly: dnspython's message objects cost more CPU than the round
    trip to a nearby server. Anything else (escapes, non-ASCII) goes through dnspython.
    """
    if len(name) > 253 or not _PLAIN_NAME.match(name):
        wire = make_query(name, rdtype, recursion).to_wire()
        return wire, wire[12 : len(wire) - len(_OPT)]
    rtype = dns.rdatatype.from_text(rdtype)
    labels = name.rstrip(".").encode("ascii").split(b".")
    question = b"".join(bytes((len(label),)) + label for label in labels) + b"\x00" + struct.pack("!HH", rtype, 1)
    header = struct.pack("!HHHHHH", secrets.randbits(16), 0x0100 if recursion else 0, 1, 0, 0, 1)
    return header + question + _OPT, question


def _answers(data: bytes, wire: bytes, question: bytes) -> bool:
    """Is ``data`` a response to ``wire``: same id, QR set, standard query, one question, the same one."""
    return (
        len(data) >= 12 + len(question)
        and data[:2] == wire[:2]
        and data[2] & 0xF8 == 0x80
        and data[4:6] == b"\x00\x01"
        and data[12 : 12 + len(question)].lower() == question.lower()
    )


async def _udp(wire: bytes, question: bytes, address: str, port: int) -> dns.message.Message:
    """One UDP exchange on a fresh connected socket (the caller bounds the time).

    A connected socket takes replies only from the server and surfaces ICMP port-unreachable as
    ``ConnectionRefusedError`` at once; a new socket per query keeps the OS's random source port. This
    is leaner than dnspython's transport-per-query path (about 1.5x the queries per second here).
    Datagrams that are not the answer to this query (wrong id or question, garbage) are ignored.
    """
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.connect((address, port))
        await loop.sock_sendall(sock, wire)
        while True:
            data = await loop.sock_recv(sock, 65535)
            if not _answers(data, wire, question):
                continue
            try:
                return parse_response(data)
            except dns.exception.DNSException:
                continue


# Responses parsed so far, by their bytes after the id: at 1,000 workloads half the answers of a cycle
# repeat one already parsed (every workload of a zone gets the zone's NS answer; the agreement check
# and the CNAME chain ask the same server the same question). Bounded; emptied when full.
_PARSED: dict[bytes, dns.message.Message] = {}
_PARSED_MAX = 4096


def parse_response(data: bytes) -> dns.message.Message:
    """``dns.message.from_wire(data)``, raising as it does. A response whose bytes but for the id were
    parsed before is a copy of that message with this id: the same message, without dnspython's
    parsing (~0.3 ms of CPU per answer, the largest cost of a cycle's DNS paths). Callers only read
    messages; each gets its own copy all the same, so the remembered one is never handed out."""
    key = bytes(data[2:])
    parsed = _PARSED.get(key)
    if parsed is None:
        parsed = dns.message.from_wire(data)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = parsed
    message = copy.copy(parsed)
    message.id = int.from_bytes(data[:2], "big")
    return message


async def exchange(name: str, rdtype: str, server: str, timeout: float = 3.0, recursion: bool = True) -> Exchange:
    """Query ``server`` (``host:port``); UDP first, TCP when the UDP answer comes back truncated.

    Never raises for network trouble: a timeout or socket error is an ``Exchange`` with ``error`` set.
    A malformed name, type or server raises ``ProbeError``.
    """
    host, port = parse_server(server)
    try:
        wire, question = query_wire(name, rdtype, recursion)
    except (dns.exception.DNSException, ValueError) as err:
        raise ProbeError(f"bad DNS question {name!r} {rdtype!r}: {_one_line(err)}") from err
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            address = await _address_of(host)
            response = await _udp(wire, question, address, port)
            used_tcp = bool(response.flags & dns.flags.TC)
            if used_tcp:
                query = make_query(name, rdtype, recursion)
                response = await dns.asyncquery.tcp(query, address, timeout=timeout, port=port)
    except (TimeoutError, dns.exception.Timeout):
        return Exchange(server, None, None, error="timeout", detail=f"no answer within {timeout:.3g}s")
    except ConnectionRefusedError:
        detail = "connection refused (nothing listening: ICMP port unreachable or TCP reset)"
        return Exchange(server, None, None, error="refused", detail=detail)
    except OSError as err:
        return Exchange(server, None, None, error="network", detail=_one_line(err))
    except EOFError:  # dnspython's TCP read: the server closed the connection before a whole answer
        return Exchange(
            server, None, None, error="network", detail="the server closed the TCP connection without an answer"
        )
    except dns.exception.DNSException as err:  # malformed reply, unexpected source, ...
        return Exchange(server, None, None, error="network", detail=f"bad reply: {_one_line(err)}")
    latency = (time.perf_counter() - started) * 1000.0
    return Exchange(server, response, round(latency, 3), used_tcp=used_tcp)


async def probe_dns(target: DnsTarget) -> Observation:
    """One observation for one question at one server (or the system resolver's servers, in order)."""
    label = str(target)
    try:
        servers = [target.server] if target.server else system_nameservers()
        if not servers:
            raise ProbeError("the system resolver lists no nameservers")
        result: Exchange | None = None
        tried: list[str] = []
        deadline = time.monotonic() + target.timeout  # one budget shared by the servers tried in turn
        for server in servers:
            remaining = deadline - time.monotonic()
            if result is not None and remaining <= 0:
                break
            budget = target.timeout if result is None else max(remaining, 0.001)
            result = await exchange(target.name, target.rdtype, server, budget, target.recursion)
            tried.append(server)
            if result.response is not None:
                break
    except ProbeError as err:
        return Observation(
            probe="dns",
            target=label,
            status=ObsStatus.ERROR,
            reason=str(err),
            data={"name": target.name, "rdtype": target.rdtype.upper(), "error": "bad_target"},
        )
    assert result is not None
    return observe(target, result, tried)


def observe(target: DnsTarget, result: Exchange, tried: list[str] | None = None) -> Observation:
    """Pure: an ``Exchange`` → the probe's ``Observation``."""
    data: dict[str, Any] = {
        "name": target.name,
        "rdtype": target.rdtype.upper(),
        "server": result.server,
        "tried": tried or [result.server],
    }
    if result.response is None:
        data["error"] = result.error
        return Observation(
            probe="dns",
            target=str(target),
            # nothing listening is evidence the server is down; a timeout only says no answer came
            status=ObsStatus.FAILED if result.error == "refused" else ObsStatus.ERROR,
            reason=f"{result.server}: {result.detail}",
            data=data,
        )
    data["transport"] = "tcp" if result.used_tcp else "udp"
    data["truncated_udp"] = result.used_tcp
    data.update(message_data(result.response))
    status, reason, extra = classify(target.name, target.rdtype, result.response)
    data.update(extra)
    return Observation(
        probe="dns",
        target=str(target),
        status=status,
        reason=f"{reason} (from {result.server})",
        latency_ms=result.latency_ms,
        data=data,
    )


def rrset_records(rrset: dns.rrset.RRset) -> list[dict[str, Any]]:
    rtype = dns.rdatatype.to_text(rrset.rdtype)
    owner = rrset.name.to_text()
    return [{"name": owner, "type": rtype, "ttl": rrset.ttl, "value": rd.to_text()} for rd in rrset]


def message_data(msg: dns.message.Message) -> dict[str, Any]:
    """Pure: the evidence kept from a response (rcode, flags, every section)."""
    return {
        "rcode": dns.rcode.to_text(msg.rcode()),
        "flags": {
            "aa": bool(msg.flags & dns.flags.AA),
            "tc": bool(msg.flags & dns.flags.TC),
            "rd": bool(msg.flags & dns.flags.RD),
            "ra": bool(msg.flags & dns.flags.RA),
        },
        "answers": [r for rrset in msg.answer for r in rrset_records(rrset)],
        "authority": [r for rrset in msg.authority for r in rrset_records(rrset)],
        "additional": [r for rrset in msg.additional for r in rrset_records(rrset)],
    }


def negative_ttl(msg: dns.message.Message) -> int | None:
    """RFC 2308: how long a resolver may cache a negative answer (min of the SOA's TTL and MINIMUM)."""
    for rrset in msg.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            return int(min(rrset.ttl, rrset[0].minimum))
    return None


# A CNAME chain inside one answer longer than this is hostile or broken; no resolver follows it.
MAX_ANSWER_HOPS = 16


def follow_answer(
    qname: dns.name.Name, rdtype: int, msg: dns.message.Message
) -> tuple[list[dns.rrset.RRset], dns.name.Name, dns.rrset.RRset | None]:
    """Pure: walk the answer section from ``qname`` through CNAMEs: (CNAME rrsets, last name, final rrset).

    Stops at a loop (the last name is then the owner of a CNAME already walked, see ``answer_loops``)
    and once it has walked more than ``MAX_ANSWER_HOPS`` CNAMEs; either way there is no final rrset.
    """
    index: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
    for rrset in msg.answer:
        if rrset.rdclass == dns.rdataclass.IN:  # an "A" of another class (HS, CH) is no address
            index.setdefault((rrset.name, rrset.rdtype), rrset)
    chain: list[dns.rrset.RRset] = []
    current = qname
    seen = {qname}
    while True:
        final = index.get((current, rdtype))
        if final is not None or rdtype == dns.rdatatype.CNAME:
            return chain, current, final
        cname = index.get((current, dns.rdatatype.CNAME))
        if cname is None or not len(cname) or len(chain) > MAX_ANSWER_HOPS:
            return chain, current, None
        chain.append(cname)
        current = cname[0].target
        if current in seen:  # a loop inside one response: stop, the caller sees no final rrset
            return chain, current, None
        seen.add(current)


def answer_loops(chain: list[dns.rrset.RRset], last: dns.name.Name) -> bool:
    """Pure: does a chain from ``follow_answer`` end where it already passed (a CNAME loop)?"""
    return any(c.name == last for c in chain)


def chain_text(names: list[str], limit: int = MAX_ANSWER_HOPS) -> str:
    """``a -> b -> a``: a CNAME chain for a one-line reason (long chains elided in the middle)."""
    shown = [n.rstrip(".") for n in names]
    if len(shown) > limit:
        shown = [*shown[: limit // 2], f"… ({len(names) - limit} more)", *shown[-(limit // 2) :]]
    return " -> ".join(shown)


def _values(rrset: dns.rrset.RRset) -> str:
    values = sorted(rd.to_text() for rd in rrset)
    shown = ", ".join(values[:_REASON_VALUES])
    return shown + (f", … ({len(values)} in all)" if len(values) > _REASON_VALUES else "")


def classify(name: str, rdtype: str, msg: dns.message.Message) -> tuple[ObsStatus, str, dict[str, Any]]:
    """Pure: a response's verdict, a one-line reason, and the derived evidence (chain, TTLs)."""
    qname = dns.name.from_text(name)
    qtype = dns.rdatatype.from_text(rdtype)
    tname = dns.rdatatype.to_text(qtype)
    rcode = msg.rcode()
    chain, last, final = follow_answer(qname, qtype, msg)
    # Name.to_text is slow next to a query's round trip: render the names only where they differ.
    name = name.rstrip(".") if qname.is_absolute() else qname.to_text(omit_final_dot=True)
    lastname = last.to_text(omit_final_dot=True) if chain else name
    loop = final is None and answer_loops(chain, last)
    targets = [c[0].target.to_text() for c in chain]
    extra: dict[str, Any] = {
        "cname_chain": [c.name.to_text() + " -> " + t for c, t in zip(chain, targets, strict=True)],
        "chain_names": [qname.to_text(), *targets] if chain else [],
        "final_name": lastname + ".",
        "loop": loop,
        # the name holding records of the asked type; None when the answer ends without them
        "terminal": lastname + "." if final is not None else None,
    }
    ttls = [c.ttl for c in chain] + ([final.ttl] if final is not None else [])
    extra["ttl"] = min(ttls) if ttls else None
    via = f" via CNAME {lastname}" if chain else ""
    if loop:
        return ObsStatus.FAILED, f"CNAME loop: {chain_text(extra['chain_names'])} (no {tname} record)", extra
    if final is None and len(chain) > MAX_ANSWER_HOPS:
        return ObsStatus.FAILED, f"CNAME chain of more than {MAX_ANSWER_HOPS} hops in one answer", extra
    if rcode == dns.rcode.NXDOMAIN:
        extra["negative_ttl"] = negative_ttl(msg)
        what = f"CNAME target {lastname}" if chain else name
        return ObsStatus.FAILED, f"NXDOMAIN: {what} does not exist", extra
    if rcode == dns.rcode.SERVFAIL:
        return ObsStatus.FAILED, f"SERVFAIL: the server could not answer {name} {tname}", extra
    if rcode == dns.rcode.REFUSED:
        return ObsStatus.FAILED, f"REFUSED: the server will not answer for {name}", extra
    if rcode != dns.rcode.NOERROR:
        return ObsStatus.FAILED, f"{dns.rcode.to_text(rcode)} for {name} {tname}", extra
    if final is not None:
        return ObsStatus.OK, f"{tname} {_values(final)}{via} (ttl {extra['ttl']})", extra
    soa = any(r.rdtype == dns.rdatatype.SOA for r in msg.authority)
    if soa:
        extra["negative_ttl"] = negative_ttl(msg)
        return ObsStatus.FAILED, f"NODATA: {lastname} exists but has no {tname} record", extra
    if chain:
        # An authoritative server hands out a CNAME into a zone it does not serve: a correct answer.
        status = ObsStatus.OK if msg.flags & dns.flags.AA else ObsStatus.WARN
        return status, f"CNAME to {lastname}; its {tname} is not served here (ttl {extra['ttl']})", extra
    ns = [r for r in msg.authority if r.rdtype == dns.rdatatype.NS]
    if ns:
        extra["referral"] = ns[0].name.to_text()
        ns_names = ", ".join(sorted(rd.target.to_text() for rd in ns[0]))
        return ObsStatus.FAILED, f"referral to {ns[0].name.to_text()} ({ns_names}): not authoritative here", extra
    return ObsStatus.FAILED, f"empty answer for {name} {tname} (NOERROR, no records, no SOA)", extra


def _one_line(err: BaseException, limit: int = 200) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
