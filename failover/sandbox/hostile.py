"""Hostile peers on loopback that say exactly what a caller scripts, bytes and timing included: for the
fuzz suite (tests/integration/test_fuzz_peers.py) and the fault script (bench/faults.py).

- ``HostileHttp``: a TCP server that reads the request head, then plays ``script`` (byte chunks, each
  optionally after a delay) and closes; a script may also hold the connection open (``HOLD``).
- ``HostileDns``: a UDP and TCP server on one port whose ``responder(query_wire)`` returns the raw
  replies to send (any number, any bytes: wrong ids, wrong questions, loops, truncation, garbage,
  oversized answers); ``tcp_responder`` may answer TCP differently (truncation in front of TCP).

Both are plain sockets in threads (no HTTP or DNS library on the server side), so nothing normalises
what the client receives. Scripts and responders may be swapped between requests. Use them as context
managers (``with HostileHttp.start() as server``) or ``start()``/``stop()``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Self

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rrset

__all__ = [
    "HOLD",
    "NO_ADDRESS",
    "WRONG_QUESTIONS",
    "Builder",
    "Chunk",
    "DnsScenario",
    "HostileDns",
    "HostileHttp",
    "Responder",
    "answer_scenario",
    "dns_responder",
    "dns_response",
    "dns_wire",
    "garbage",
    "hop_then",
    "http_head",
    "loop_answer",
    "no_address",
    "silent",
    "soa",
    "wrong_question",
]

Chunk = bytes | tuple[float, bytes]  # bytes, or (seconds to wait first, bytes)
HOLD = (-1.0, b"")  # a script step: keep the connection open until the client gives up


class _Served:
    """What the hostile servers share: serving threads that run until ``stop`` (or the ``with`` block's end),
    then are joined before the sockets close."""

    stopping: threading.Event
    _threads: list[threading.Thread]

    def _spawn(self, name: str, *targets: Callable[[], None]) -> None:
        for target in targets:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _sockets(self) -> tuple[socket.socket, ...]:
        raise NotImplementedError

    def _accepting(self, sock: socket.socket, handle: Callable[[socket.socket], None]) -> None:
        """Accept on ``sock`` until ``stop``, each connection handled on a thread of its own."""
        sock.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=2)
        for sock in self._sockets():
            sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class HostileHttp(_Served):
    """Plays ``script`` to every connection; ``url(path)`` addresses it. With ``tls`` (a server
    context; ``ca_file`` is what clients trust it by) it first completes a real handshake, then plays
    the script inside TLS and ends with close_notify when ``notify``, else drops TCP. ``mode`` "drop"
    closes each connection before anything (before the TLS handshake), "silent" accepts and never
    answers."""

    sock: socket.socket
    script: Sequence[Chunk] = (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",)
    tls: ssl.SSLContext | None = None
    ca_file: str = ""
    notify: bool = True
    mode: Literal["script", "drop", "silent"] = "script"
    stopping: threading.Event = field(default_factory=threading.Event)
    connections: int = 0
    _threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, tls: ssl.SSLContext | None = None, ca_file: str = "") -> HostileHttp:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        server = cls(sock, tls=tls, ca_file=ca_file)
        server._spawn("hostile-http", lambda: server._accepting(server.sock, server._connection))
        return server

    def _sockets(self) -> tuple[socket.socket, ...]:
        return (self.sock,)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def url(self, path: str = "/", scheme: str | None = None) -> str:
        scheme = scheme or ("https" if self.tls is not None else "http")
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _connection(self, raw: socket.socket) -> None:
        self.connections += 1
        conn = raw
        try:
            raw.settimeout(2.0)
            if self.mode == "drop":
                return
            if self.mode == "silent":
                self.stopping.wait(3)
                return
            if self.tls is None:
                self._play(conn, list(self.script))
                return
            conn = wrapped = self.tls.wrap_socket(raw, server_side=True)
            self._play(wrapped, list(self.script))
            if self.notify:
                wrapped.unwrap()
        except OSError:
            return
        finally:
            conn.close()
            raw.close()

    def _play(self, conn: socket.socket, script: list[Chunk]) -> None:
        """Read the request head, then play ``script``; raises OSError when the client went away."""
        head, closed = b"", False
        with contextlib.suppress(OSError):  # no full head in time: play the script anyway
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(4096)
                if not data:
                    closed = True
                    break
                head += data
        if closed:
            raise ConnectionAbortedError("the client closed before its request")
        for step in script:
            delay, data = step if isinstance(step, tuple) else (0.0, step)
            if delay < 0:  # HOLD: wait until the client closes or the server stops
                conn.settimeout(0.1)
                while not self.stopping.is_set():
                    try:
                        if not conn.recv(1024):
                            break
                    except TimeoutError:
                        continue
                raise OSError("held until the client or the server gave up")
            if delay:
                time.sleep(delay)
            conn.sendall(data)


Responder = Callable[[bytes], Sequence[bytes]]
Builder = Callable[[dns.message.Message, bytes], list[bytes]]


def _silent(_query: bytes) -> Sequence[bytes]:
    return ()


@dataclass
class HostileDns(_Served):
    """Answers each query (UDP and TCP, same port) with whatever ``responder`` returns for its wire."""

    udp: socket.socket
    tcp: socket.socket
    responder: Responder = _silent
    tcp_responder: Responder | None = None  # TCP answers, when they differ from UDP's (truncation)
    stopping: threading.Event = field(default_factory=threading.Event)
    queries: int = 0
    _threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, responder: Responder | None = None) -> HostileDns:
        udp, tcp = _bind_pair()
        server = cls(udp, tcp, responder or _silent)
        server._spawn("hostile-dns", server._serve_udp, server._serve_tcp)
        return server

    def _sockets(self) -> tuple[socket.socket, ...]:
        return (self.udp, self.tcp)

    @property
    def port(self) -> int:
        return int(self.udp.getsockname()[1])

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _reply(self, query: bytes, tcp: bool = False) -> Sequence[bytes]:
        self.queries += 1
        responder = self.tcp_responder if tcp and self.tcp_responder is not None else self.responder
        try:
            return responder(query)
        except Exception:  # a broken responder is a silent server, never a crashed fixture
            return ()

    def _serve_udp(self) -> None:
        self.udp.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                query, peer = self.udp.recvfrom(65535)
            except OSError:
                continue
            for reply in self._reply(query):
                with contextlib.suppress(OSError):
                    self.udp.sendto(reply[:65507], peer)

    def _serve_tcp(self) -> None:
        self._accepting(self.tcp, self._tcp_conn)

    def _tcp_conn(self, conn: socket.socket) -> None:
        with contextlib.closing(conn):
            conn.settimeout(2.0)
            try:
                size = struct.unpack("!H", _recv_exact(conn, 2))[0]
                query = _recv_exact(conn, size)
            except (OSError, struct.error):
                return
            for reply in self._reply(query, tcp=True):
                with contextlib.suppress(OSError):
                    conn.sendall(struct.pack("!H", min(len(reply), 65535)) + reply[:65535])


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        data = conn.recv(n - len(out))
        if not data:
            raise OSError("closed")
        out += data
    return out


def _bind_pair() -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket on the same free loopback port."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(16)
        return udp, tcp
    raise RuntimeError("no free port for both UDP and TCP")


def http_head(status: bytes, headers: Sequence[tuple[bytes, bytes]] = ()) -> bytes:
    """A response head from raw parts (nothing validated: that is the point)."""
    return status + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n"


# ------------------------------------------------------------------------------ hostile DNS answers
ZONE = "example.com."
NO_ADDRESS = ("empty", "nodata", "wrong_name", "wrong_type", "wrong_class", "referral", "oversized")
WRONG_QUESTIONS = ("id", "name", "type", "echo")


@dataclass(frozen=True)
class DnsScenario:
    """How the hostile server answers: ``first`` for the public name, ``rest`` for every other question.

    ``hop`` scenarios answer the public name with a well-formed CNAME and break further along the chain,
    where one answer is right on its own (so only the chain's verdict is held to the property).
    """

    kind: str
    first: Builder  # (query message, query wire) -> the raw replies
    rest: Builder
    hop: bool = False


def dns_response(q: dns.message.Message, *, rcode: int = dns.rcode.NOERROR, aa: bool = True) -> dns.message.Message:
    """A response to ``q`` with ``rcode``, authoritative unless ``aa=False``, sections empty."""
    r = dns.message.make_response(q)
    r.set_rcode(dns.rcode.Rcode.make(rcode))
    if aa:
        r.flags |= dns.flags.AA
    else:
        r.flags &= ~dns.flags.AA
    return r


def soa(r: dns.message.Message) -> None:
    """Put the zone's SOA in the authority section (a negative answer)."""
    r.authority.append(dns.rrset.from_text(ZONE, 60, "IN", "SOA", f"ns1.{ZONE} h.{ZONE} 1 3600 600 86400 60"))


def dns_wire(r: dns.message.Message) -> bytes:
    """The message's wire form, up to the TCP maximum (UDP senders cut it to what a datagram holds)."""
    return r.to_wire(max_size=65535)


def loop_answer(length: int) -> Builder:
    """qname -> h1 -> ... -> qname, all in one answer."""

    def build(q: dns.message.Message, _: bytes) -> list[bytes]:
        r = dns_response(q)
        names = [q.question[0].name] + [dns.name.from_text(f"h{i}.{ZONE}") for i in range(1, length)]
        for a, b in zip(names, names[1:] + names[:1], strict=True):
            r.answer.append(dns.rrset.from_text(a, 60, "IN", "CNAME", b.to_text()))
        return [dns_wire(r)]

    return build


def no_address(how: str, rcode: int = dns.rcode.NOERROR) -> Builder:
    """An answer without records of the asked type for the asked name and class: ``how`` is one of
    NO_ADDRESS (empty, nodata, wrong_name, wrong_type, wrong_class, referral, oversized)."""

    def build(q: dns.message.Message, _: bytes) -> list[bytes]:
        qname = q.question[0].name
        r = dns_response(q, rcode=rcode, aa=how != "referral")
        if how == "nodata":
            soa(r)
        elif how == "wrong_name":
            r.answer.append(dns.rrset.from_text(f"other.{ZONE}", 60, "IN", "A", "192.0.2.66"))
        elif how == "wrong_type":
            r.answer.append(dns.rrset.from_text(qname, 60, "IN", "TXT", '"not an address"'))
        elif how == "wrong_class":
            r.answer.append(dns.rrset.from_text(qname, 60, "HS", "A", r"\# 4 c0000201"))  # 192.0.2.1, class HS
        elif how == "referral":
            r.authority.append(dns.rrset.from_text(qname, 3600, "IN", "NS", "ns.elsewhere.test."))
        elif how == "oversized":
            junk = dns.rrset.from_text(f"junk.{ZONE}", 60, "IN", "TXT", *[f'"{"x" * 200}-{i}"' for i in range(40)])
            r.answer.append(junk)
        return [dns_wire(r)]

    return build


def wrong_question(how: str) -> Builder:
    """Replies a resolver must ignore: another ``id``, another ``name`` or ``type``, the query ``echo``ed."""

    def build(q: dns.message.Message, wire: bytes) -> list[bytes]:
        if how == "id":
            r = dns_response(q)
            r.id = (q.id + 1) % 65536
            r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "A", "192.0.2.1"))
            return [dns_wire(r)]
        if how == "name":
            other = dns.message.make_query(f"evil.{ZONE}", "A")
            other.id = q.id
            r = dns_response(other)
            r.answer.append(dns.rrset.from_text(f"evil.{ZONE}", 60, "IN", "A", "192.0.2.1"))
            return [dns_wire(r)]
        if how == "type":
            other = dns.message.make_query(q.question[0].name, "AAAA")
            other.id = q.id
            r = dns_response(other)
            r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "AAAA", "2001:db8::1"))
            return [dns_wire(r)]
        return [wire]  # the query echoed back: QR unset

    return build


def garbage(data: bytes) -> Builder:
    """The query's id, then ``data``."""

    def build(q: dns.message.Message, wire: bytes) -> list[bytes]:
        return [wire[:2] + data]  # the right id, then anything

    return build


def hop_then(rest: Builder) -> DnsScenario:
    """A well-formed CNAME for the public name to ``target.example.com``, then ``rest`` for the target."""

    def first(q: dns.message.Message, _: bytes) -> list[bytes]:
        r = dns_response(q)
        r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "CNAME", f"target.{ZONE}"))
        return [dns_wire(r)]

    return DnsScenario("hop", first, rest, hop=True)


def silent(q: dns.message.Message, wire: bytes) -> list[bytes]:
    """No reply at all."""
    return []


def answer_scenario(build: Builder) -> DnsScenario:
    """The same broken answer to every question, the public name's included."""
    return DnsScenario("answer", build, build)


def dns_responder(scenario: DnsScenario, public_name: str, truncate: bool = False) -> Responder:
    """Answers per the scenario (``first`` for ``public_name``, ``rest`` for anything else); with
    ``truncate`` every answer is a bare TC reply (put it on UDP in front of TCP)."""

    def respond(wire: bytes) -> list[bytes]:
        q = dns.message.from_wire(wire)
        if truncate:
            r = dns_response(q)
            r.flags |= dns.flags.TC
            return [dns_wire(r)]
        build = scenario.first if q.question[0].name == dns.name.from_text(public_name) else scenario.rest
        return list(build(q, wire))

    return respond
