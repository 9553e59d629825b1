"""Hostile peers on loopback that say exactly what a caller scripts, bytes and timing included: for the
fuzz suite (tests/test_fuzz_peers.py) and the fault script (bench/faults.py).

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
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Self

__all__ = ["HOLD", "Chunk", "HostileDns", "HostileHttp", "Responder"]

Chunk = bytes | tuple[float, bytes]  # bytes, or (seconds to wait first, bytes)
HOLD = (-1.0, b"")  # a script step: keep the connection open until the client gives up


@dataclass
class HostileHttp:
    """Plays ``script`` to every connection; ``url(path)`` addresses it."""

    sock: socket.socket
    script: Sequence[Chunk] = (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",)
    stopping: threading.Event = field(default_factory=threading.Event)
    connections: int = 0
    _threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls) -> HostileHttp:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        server = cls(sock)
        thread = threading.Thread(target=server._serve, name="hostile-http", daemon=True)
        thread.start()
        server._threads.append(thread)
        return server

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=2)
        self.sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._play, args=(conn, list(self.script)), daemon=True).start()

    def _play(self, conn: socket.socket, script: list[Chunk]) -> None:
        with contextlib.closing(conn):
            conn.settimeout(2.0)
            head = b""
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    data = conn.recv(4096)
                    if not data:
                        return
                    head += data
            for step in script:
                delay, data = step if isinstance(step, tuple) else (0.0, step)
                if delay < 0:  # HOLD: wait until the client closes or the server stops
                    conn.settimeout(0.1)
                    while not self.stopping.is_set():
                        try:
                            if not conn.recv(1024):
                                return
                        except TimeoutError:
                            continue
                        except OSError:
                            return
                    return
                if delay:
                    time.sleep(delay)
                try:
                    conn.sendall(data)
                except OSError:
                    return



Responder = Callable[[bytes], Sequence[bytes]]


def _silent(_query: bytes) -> Sequence[bytes]:
    return ()


@dataclass
class HostileDns:
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
        for fn in (server._serve_udp, server._serve_tcp):
            thread = threading.Thread(target=fn, name="hostile-dns", daemon=True)
            thread.start()
            server._threads.append(thread)
        return server

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=2)
        self.udp.close()
        self.tcp.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
        self.tcp.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            threading.Thread(target=self._tcp_conn, args=(conn,), daemon=True).start()

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

