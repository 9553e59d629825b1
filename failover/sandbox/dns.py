"""An in-process authoritative DNS server for the demo and fast tests (dnspython wire format).

It answers like a real authoritative server where the failover checks look: CNAMEs are chased
within their zone (as Knot and Route 53 do), a name that exists without the asked type is NOERROR/NODATA and a
missing name NXDOMAIN (both with the zone's SOA in authority), answers carry AA, delegations get a
referral, wildcards are expanded, and UDP answers too big for the client's buffer come back
truncated so the TCP fallback is exercised. Records can be changed while it runs (a test flips the
primary answer to the secondary's). The resolution itself, ``answer(zones, query)``, is pure.

    with AuthoritativeServer({"example.test": [("www", 60, "A", "192.0.2.1")]}) as server:
        server.address                     # "127.0.0.1:PORT" (free on both UDP and TCP)
        server.set_record("www.example.test", "A", ["198.51.100.7"], ttl=60)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import struct
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone

__all__ = ["AuthoritativeServer", "Record", "ZoneSpec", "answer", "free_port", "make_zone"]

# (name, ttl, type, value) or (name, type, value); names relative to the zone unless they end in "."
Record = tuple[str, int, str, str] | tuple[str, str, str]
ZoneSpec = str | Iterable[Record]  # zone-file text, or records
DEFAULT_TTL = 300
MAX_CHASE = 8
_IN = dns.rdataclass.IN


def free_port(host: str = "127.0.0.1", attempts: int = 50) -> int:
    """A port free on both UDP and TCP right now (DNS servers need both)."""
    udp, tcp = _bind_pair(host, attempts)
    port = int(udp.getsockname()[1])
    udp.close()
    tcp.close()
    return port


def _bind_pair(host: str, attempts: int = 50, port: int = 0) -> tuple[socket.socket, socket.socket]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(attempts):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        try:
            udp.bind((host, port))
            chosen = udp.getsockname()[1]
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((host, chosen))
            except OSError:
                tcp.close()
                raise
            return udp, tcp
        except OSError:
            udp.close()
            if port:
                raise
    raise OSError(f"no port free on both UDP and TCP at {host} after {attempts} attempts")


def make_zone(origin: str, spec: ZoneSpec) -> dns.zone.Zone:
    """A zone from zone-file text or records; SOA and NS are added when the records lack them."""
    zorigin = dns.name.from_text(origin)
    if isinstance(spec, str):
        return dns.zone.from_text(spec, origin=zorigin, relativize=False, check_origin=True)
    zone = dns.zone.Zone(zorigin, relativize=False)
    for rec in spec:
        name, ttl, rtype, value = rec if len(rec) == 4 else (rec[0], DEFAULT_TTL, rec[1], rec[2])
        owner = dns.name.from_text(name, zorigin) if name != "@" else zorigin
        rdata = dns.rdata.from_text(_IN, rtype, value, origin=zorigin, relativize=False)
        rds = zone.find_rdataset(owner, rdata.rdtype, create=True)
        rds.add(rdata, ttl)
    if zone.get_rdataset(zorigin, dns.rdatatype.SOA) is None:
        soa = f"ns1.{zorigin} hostmaster.{zorigin} 1 3600 600 86400 60"
        zone.find_rdataset(zorigin, dns.rdatatype.SOA, create=True).add(
            dns.rdata.from_text(_IN, "SOA", soa, relativize=False), 3600
        )
    if zone.get_rdataset(zorigin, dns.rdatatype.NS) is None:
        zone.find_rdataset(zorigin, dns.rdatatype.NS, create=True).add(
            dns.rdata.from_text(_IN, "NS", f"ns1.{zorigin}", relativize=False), 3600
        )
    return zone


# ---------------------------------------------------------------------------------------------- pure
def _zone_for(zones: Mapping[dns.name.Name, dns.zone.Zone], name: dns.name.Name) -> dns.zone.Zone | None:
    best: dns.zone.Zone | None = None
    for origin, zone in zones.items():
        if name.is_subdomain(origin) and (best is None or len(origin) > len(best.origin or dns.name.root)):
            best = zone
    return best


def _rrset(owner: dns.name.Name, rds: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(owner, rds.rdclass, rds.rdtype, rds.covers)
    rrset.update(rds)
    return rrset


def _soa_for_negative(zone: dns.zone.Zone) -> dns.rrset.RRset:
    origin = zone.origin
    assert origin is not None
    soa = zone.find_rdataset(origin, dns.rdatatype.SOA)
    rrset = _rrset(origin, soa)
    rrset.ttl = min(soa.ttl, soa[0].minimum)  # RFC 2308 §3
    return rrset


def _glue(zones: Mapping[dns.name.Name, dns.zone.Zone], targets: Iterable[dns.name.Name]) -> list[dns.rrset.RRset]:
    out: list[dns.rrset.RRset] = []
    for target in targets:
        zone = _zone_for(zones, target)
        if zone is None:
            continue
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            rds = zone.get_rdataset(target, rdtype)
            if rds is not None:
                out.append(_rrset(target, rds))
    return out


def _delegation(zone: dns.zone.Zone, qname: dns.name.Name, qtype: int) -> tuple[dns.name.Name, Any] | None:
    """The closest zone cut between the origin and ``qname`` (a DS query at the cut belongs to the parent)."""
    origin = zone.origin
    assert origin is not None
    labels = qname.relativize(origin).labels
    for i in range(len(labels) - 1, -1, -1):
        cut = dns.name.Name(labels[i:]).derelativize(origin)
        if cut == qname and qtype == dns.rdatatype.DS:
            return None
        ns = zone.get_rdataset(cut, dns.rdatatype.NS)
        if ns is not None:
            return cut, ns
    return None


def _has_descendant(zone: dns.zone.Zone, name: dns.name.Name) -> bool:
    return any(owner != name and owner.is_subdomain(name) for owner in zone.nodes)


def _wildcard(zone: dns.zone.Zone, qname: dns.name.Name) -> Any:
    """The ``*.<closest encloser>`` node that covers ``qname`` (RFC 4592), if any."""
    origin = zone.origin
    assert origin is not None
    encloser = qname.parent()
    while encloser.is_subdomain(origin):
        if zone.get_node(encloser) is not None or _has_descendant(zone, encloser) or encloser == origin:
            return zone.get_node(dns.name.Name((b"*", *encloser.labels)))
        encloser = encloser.parent()
    return None


def answer(zones: Mapping[dns.name.Name, dns.zone.Zone], query: dns.message.Message) -> dns.message.Message:
    """Pure: the authoritative response to ``query`` from ``zones`` (origin → zone)."""
    response = dns.message.make_response(query)
    response.flags &= ~dns.flags.RA
    if query.opcode() != dns.opcode.QUERY:
        response.set_rcode(dns.rcode.NOTIMP)
        return response
    if len(query.question) != 1 or query.question[0].rdclass != _IN:
        response.set_rcode(dns.rcode.FORMERR if len(query.question) != 1 else dns.rcode.REFUSED)
        return response
    qname, qtype = query.question[0].name, query.question[0].rdtype
    zone = _zone_for(zones, qname)
    if zone is None:
        response.set_rcode(dns.rcode.REFUSED)
        return response
    response.flags |= dns.flags.AA
    seen: set[dns.name.Name] = set()
    for _ in range(MAX_CHASE + 1):
        seen.add(qname)
        target = _answer_in_zone(zones, zone, qname, qtype, response)
        if target is None or target in seen:
            break
        if _zone_for(zones, target) is not zone:
            break  # like Knot and Route 53: chase only inside the zone; resolvers follow the rest
        qname = target
    return response


def _answer_in_zone(
    zones: Mapping[dns.name.Name, dns.zone.Zone],
    zone: dns.zone.Zone,
    qname: dns.name.Name,
    qtype: int,
    response: dns.message.Message,
) -> dns.name.Name | None:
    """Fill ``response`` for one name in one zone; returns a CNAME target to chase, if any."""
    cut = _delegation(zone, qname, qtype)
    if cut is not None:
        cut_name, ns = cut
        if not response.answer:
            response.flags &= ~dns.flags.AA
        response.authority.append(_rrset(cut_name, ns))
        response.additional.extend(_glue(zones, (rd.target for rd in ns)))
        return None
    node = zone.get_node(qname)
    owner = qname
    if node is None and not _has_descendant(zone, qname):
        node = _wildcard(zone, qname)
        if node is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
            response.authority.append(_soa_for_negative(zone))
            return None
    if node is None:  # an empty non-terminal: the name exists, it just has no records
        response.authority.append(_soa_for_negative(zone))
        return None
    if qtype == dns.rdatatype.ANY:
        response.answer.extend(_rrset(owner, rds) for rds in node.rdatasets)
        return None
    rds = node.get_rdataset(_IN, dns.rdatatype.RdataType.make(qtype))
    if rds is not None:
        response.answer.append(_rrset(owner, rds))
        if qtype in (dns.rdatatype.NS, dns.rdatatype.MX, dns.rdatatype.SRV):
            targets = [getattr(rd, "target", None) or getattr(rd, "exchange", None) for rd in rds]
            response.additional.extend(_glue(zones, (t for t in targets if t is not None)))
        return None
    cname = node.get_rdataset(_IN, dns.rdatatype.CNAME)
    if cname is not None:
        response.answer.append(_rrset(owner, cname))
        return cname[0].target  # type: ignore[no-any-return]
    response.authority.append(_soa_for_negative(zone))
    return None


def _wire(response: dns.message.Message, query: dns.message.Message | None, limit: int) -> bytes:
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        assert query is not None
        short = dns.message.make_response(query)
        short.flags = response.flags | dns.flags.TC
        short.set_rcode(response.rcode())
        return short.to_wire(max_size=limit)


def respond(zones: Mapping[dns.name.Name, dns.zone.Zone], wire: bytes, udp: bool) -> bytes | None:
    """Pure: the reply bytes for query bytes (``None`` to drop garbage we cannot even answer)."""
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        if len(wire) < 2:
            return None
        err = dns.message.Message(id=struct.unpack("!H", wire[:2])[0])
        err.flags = dns.flags.QR
        err.set_rcode(dns.rcode.FORMERR)
        return err.to_wire()
    if query.flags & dns.flags.QR:
        return None
    response = answer(zones, query)
    limit = (max(512, query.payload) if query.edns >= 0 else 512) if udp else 65535
    return _wire(response, query, limit)


# ---------------------------------------------------------------------------------------------- I/O
class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: AuthoritativeServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        reply = self.server.handle(data, udp=True)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


class AuthoritativeServer:
    """Serves zones on ``host`` over UDP and TCP from a background thread; see the module docstring."""

    def __init__(self, zones: Mapping[str, ZoneSpec] | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self._zones: dict[dns.name.Name, dns.zone.Zone] = {}
        self._lock = threading.RLock()
        self.log: collections.deque[tuple[str, str, str]] = collections.deque(maxlen=10_000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Future[None] | None = None
        for origin, spec in (zones or {}).items():
            self.add_zone(origin, spec)

    # --- data -------------------------------------------------------------------------------------
    def add_zone(self, origin: str, spec: ZoneSpec) -> dns.zone.Zone:
        zone = make_zone(origin, spec)
        with self._lock:
            assert zone.origin is not None
            self._zones[zone.origin] = zone
        return zone

    def remove_zone(self, origin: str) -> None:
        with self._lock:
            del self._zones[dns.name.from_text(origin)]

    def set_record(self, name: str, rdtype: str, values: str | Sequence[str], ttl: int = DEFAULT_TTL) -> None:
        """Replace the whole RRset of ``name``/``rdtype`` (an absolute name inside a served zone)."""
        owner = dns.name.from_text(name)
        with self._lock:
            zone = self._zone_of(owner)
            values = [values] if isinstance(values, str) else list(values)
            rdatas = [dns.rdata.from_text(_IN, rdtype, v, origin=zone.origin, relativize=False) for v in values]
            rds = dns.rdataset.from_rdata_list(ttl, rdatas)
            zone.replace_rdataset(owner, rds)
            self._bump_serial(zone)

    def delete_record(self, name: str, rdtype: str | None = None) -> None:
        """Delete one RRset, or the whole name when ``rdtype`` is None."""
        owner = dns.name.from_text(name)
        with self._lock:
            zone = self._zone_of(owner)
            if rdtype is None:
                zone.delete_node(owner)
            else:
                zone.delete_rdataset(owner, rdtype)
                node = zone.get_node(owner)
                if node is not None and not len(node.rdatasets):
                    zone.delete_node(owner)
            self._bump_serial(zone)

    def _zone_of(self, owner: dns.name.Name) -> dns.zone.Zone:
        zone = _zone_for(self._zones, owner)
        if zone is None:
            raise KeyError(f"{owner} is in no zone this server serves ({', '.join(map(str, self._zones))})")
        return zone

    @staticmethod
    def _bump_serial(zone: dns.zone.Zone) -> None:
        assert zone.origin is not None
        soa = zone.find_rdataset(zone.origin, dns.rdatatype.SOA)
        new = soa[0].replace(serial=(soa[0].serial + 1) % 2**32)
        zone.replace_rdataset(zone.origin, dns.rdataset.from_rdata_list(soa.ttl, [new]))

    def handle(self, wire: bytes, udp: bool) -> bytes | None:
        with self._lock:
            reply = respond(self._zones, wire, udp)
        with contextlib.suppress(dns.exception.DNSException):
            q = dns.message.from_wire(wire, question_only=True)
            if q.question:
                qq = q.question[0]
                self.log.append(("udp" if udp else "tcp", qq.name.to_text(), dns.rdatatype.to_text(qq.rdtype)))
        return reply

    # --- lifecycle --------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def start(self) -> AuthoritativeServer:
        if self._thread is not None:
            return self
        udp, tcp = _bind_pair(self.host, port=self._port)
        self._port = int(udp.getsockname()[1])
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            self._stopped = loop.create_future()
            transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), sock=udp)
            tcp.listen(64)
            server = await asyncio.start_server(self._tcp_client, sock=tcp)
            ready.set()
            try:
                await self._stopped
            finally:
                transport.close()
                server.close()
                # Connections still open would be left as coroutines the closing loop never finishes.
                clients = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for task in clients:
                    task.cancel()
                await asyncio.gather(*clients, return_exceptions=True)
                await server.wait_closed()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(serve())
            except BaseException as err:  # surfaced to start() below
                failure.append(err)
                ready.set()
            finally:
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"dns-sandbox-{self._port}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread = None
            raise RuntimeError(f"DNS sandbox failed to start: {failure[0]}")
        return self

    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                size = struct.unpack("!H", await reader.readexactly(2))[0]
                reply = self.handle(await reader.readexactly(size), udp=False)
                if reply is None:
                    break
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        stopped = self._stopped
        if stopped is not None:

            def finish() -> None:
                if not stopped.done():
                    stopped.set_result(None)

            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(finish)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> AuthoritativeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
