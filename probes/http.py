"""HTTP(S) probe: one fresh connection per probe (a reused one could hide a broken listener), timed by phase.

It drives asyncio sockets and h11 directly rather than httpx: the probe needs each phase's time (DNS,
connect, TLS, first byte), full control of SNI/Host/verification for the public-name mode, and the
throughput to run thousands per cycle; httpx's request layer cost ~2 ms of CPU per fresh-connection
request, three times this path. HTTP/1.1 only, which is what health endpoints and load balancers speak.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import h11

from failover import __version__
from failover.errors import ProbeError
from failover.model import Observation, ObsStatus, utcnow
from probes import _jsonpath, tls
from probes.targets import HttpTarget, is_ip

__all__ = ["USER_AGENT", "probe_http"]

USER_AGENT = f"failover-probe/{__version__}"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_KEPT_HEADERS = frozenset({b"content-type", b"content-length", b"location", b"server", b"retry-after"})
_PHASE_TEXT = {
    "dns": "resolving the host",
    "connect": "connecting",
    "tls": "in the TLS handshake",
    "first_byte": "waiting for the response",
    "body": "reading the body",
}


class _Outcome(Exception):
    """Ends a probe early with a verdict (not an error to the caller)."""

    def __init__(self, status: ObsStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class _Hop:
    """One request/response on its own connection; filled in as the phases complete."""

    url: str
    name: str  # SNI, Host and the name the certificate must cover
    address: str = ""
    phase: str = "dns"
    timings: dict[str, float | None] = field(default_factory=dict)
    status_code: int | None = None
    http_version: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    tls: tls.TlsVerdict | None = None


class _ResponseReader(asyncio.Protocol):
    """Feeds received bytes to h11 and resolves ``done`` at the end of the response (or its failure)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_body: int) -> None:
        self.conn = h11.Connection(h11.CLIENT)
        self.done: asyncio.Future[None] = loop.create_future()
        self.first_byte: float | None = None
        self.response: h11.Response | None = None
        self.body = bytearray()
        self.truncated = False
        self._max_body = max_body

    def data_received(self, data: bytes) -> None:
        if self.first_byte is None:
            self.first_byte = time.perf_counter()
        if not self.done.done():
            self.conn.receive_data(data)
            self._drain()

    def eof_received(self) -> bool:
        if not self.done.done():
            self.conn.receive_data(b"")
            self._drain()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            detail = f": {exc}" if exc else ""
            what = "before the response" if self.response is None else "in the middle of the body"
            self.done.set_exception(_Outcome(ObsStatus.FAILED, f"connection closed {what}{detail}"))

    def _drain(self) -> None:
        try:
            while True:
                event = self.conn.next_event()
                if event is h11.NEED_DATA:
                    return
                if isinstance(event, h11.Response):
                    self.response = event
                elif isinstance(event, h11.Data):
                    room = self._max_body - len(self.body)
                    if len(event.data) > room:
                        self.body += event.data[:room]
                        self.truncated = True
                        self.done.set_result(None)
                        return
                    self.body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    self.done.set_result(None)
                    return
                elif isinstance(event, h11.ConnectionClosed):
                    self.connection_lost(None)
                    return
        except h11.RemoteProtocolError as err:
            self.done.set_exception(_Outcome(ObsStatus.FAILED, f"malformed HTTP response: {err}"))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


async def _connect(loop: asyncio.AbstractEventLoop, host: str, port: int, hop: _Hop) -> socket.socket:
    """Resolve (timed) and connect to the first address that accepts."""
    if is_ip(host):
        addrs: list[tuple[int, Any]] = [(socket.AF_INET6 if ":" in host else socket.AF_INET, (host, port))]
        hop.timings["dns"] = None
    else:
        hop.phase = "dns"
        t0 = time.perf_counter()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except socket.gaierror as err:
            raise _Outcome(ObsStatus.ERROR, f"cannot resolve {host}: {err.strerror or err}") from None
        hop.timings["dns"] = _ms(time.perf_counter() - t0)
        addrs = [(family, sockaddr) for family, _, _, _, sockaddr in infos]
    hop.phase = "connect"
    t0 = time.perf_counter()
    last: OSError | None = None
    for family, sockaddr in addrs:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        hop.address = f"[{sockaddr[0]}]:{sockaddr[1]}" if family == socket.AF_INET6 else f"{sockaddr[0]}:{sockaddr[1]}"
        try:
            await loop.sock_connect(sock, sockaddr)
        except OSError as err:
            sock.close()
            last = err
            continue
        except BaseException:
            sock.close()
            raise
        hop.timings["connect"] = _ms(time.perf_counter() - t0)
        return sock
    assert last is not None
    if isinstance(last, ConnectionRefusedError):
        raise _Outcome(ObsStatus.FAILED, f"connection refused ({hop.address})")
    raise _Outcome(ObsStatus.FAILED, f"cannot connect to {hop.address}: {last.strerror or last}")


async def _tls_details(
    loop: asyncio.AbstractEventLoop, sockaddr_host: str, port: int, name: str
) -> tuple[list[bytes], str | None]:
    """A second, non-verifying handshake that only reads the chain, so a failed verification still says why."""
    scratch = _Hop(url="", name=name)
    try:
        sock = await _connect(loop, sockaddr_host, port, scratch)
    except _Outcome:
        return [], None
    transport: asyncio.BaseTransport | None = None
    try:
        transport, _ = await loop.create_connection(
            asyncio.Protocol, sock=sock, ssl=tls.client_context(verify=False), server_hostname=name
        )
        ssl_object = transport.get_extra_info("ssl_object")
        return tls.peer_chain(ssl_object, verified=False), ssl_object.version()
    except (OSError, ssl.SSLError):
        sock.close()
        return [], None
    finally:
        if transport is not None:
            transport.close()


def _route(target: HttpTarget, url: str) -> tuple[str, int, str, str]:
    """(connect host, port, name for SNI/certificate, Host header) for ``url``.

    In public-name mode the site's address is kept for any hop addressed to the public name.
    """
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    host, port = parts.hostname or "", parts.port or default
    if target.public_name is not None:
        public = target.public_name
        origin = urlsplit(target.url)
        if url == target.url or host == public.lower():
            return origin.hostname or "", origin.port or default, public, public
    bracketed = f"[{host}]" if ":" in host else host
    host_header = bracketed if parts.port in (None, default) else f"{bracketed}:{port}"
    return host, port, host, host_header


async def _exchange(target: HttpTarget, url: str, hop: _Hop) -> None:
    """One request and its response on a fresh connection: connect, TLS for https, send, read. The hop
    records each phase as it completes; a verdict that ends the probe early is raised as ``_Outcome``."""
    loop = asyncio.get_running_loop()
    parts = urlsplit(url)
    connect_host, port, name, host_header = _route(target, url)
    sock = await _connect(loop, connect_host, port, hop)
    reader = _ResponseReader(loop, target.max_body_bytes)
    transport: asyncio.BaseTransport | None = None
    try:
        if parts.scheme == "https":
            transport = await _handshake(loop, target, sock, reader, (connect_host, port, name), hop)
        else:
            transport, _ = await loop.create_connection(lambda: reader, sock=sock)
            hop.timings["tls"] = None
        request = _request_bytes(reader.conn, parts.path, parts.query, host_header, target.headers)
        await _send_and_read(transport, reader, request, hop)
    finally:
        _close(transport, sock, reader)


async def _handshake(
    loop: asyncio.AbstractEventLoop,
    target: HttpTarget,
    sock: socket.socket,
    reader: _ResponseReader,
    peer: tuple[str, int, str],
    hop: _Hop,
) -> asyncio.BaseTransport:
    """TLS on the connected socket, verified for the name in ``peer`` (connect host, port, name); the
    certificate chain's assessment lands on the hop whether or not verification passed."""
    connect_host, port, name = peer
    hop.phase = "tls"
    t0 = time.perf_counter()
    try:
        transport, _ = await loop.create_connection(
            lambda: reader, sock=sock, ssl=tls.client_context(target.ca_files), server_hostname=name
        )
    except ssl.SSLCertVerificationError as err:
        chain, protocol = await _tls_details(loop, connect_host, port, name)
        hop.tls = tls.assess(
            name,
            tls.describe_chain(chain),
            verified=False,
            error=err.verify_message,
            verify_code=err.verify_code,
            protocol=protocol,
            warn_days=target.tls_warn_days,
            fail_days=target.tls_fail_days,
        )
        raise _Outcome(hop.tls.status, hop.tls.reason) from None
    except ssl.SSLError as err:
        hop.tls = tls.assess(name, [], verified=False, error=err.reason or str(err))
        raise _Outcome(ObsStatus.FAILED, f"TLS handshake with {hop.address} failed: {err.reason or err}") from None
    hop.timings["tls"] = _ms(time.perf_counter() - t0)
    ssl_object = transport.get_extra_info("ssl_object")
    hop.tls = tls.assess(
        name,
        tls.describe_chain(tls.peer_chain(ssl_object, verified=True)),
        verified=True,
        protocol=ssl_object.version(),
        warn_days=target.tls_warn_days,
        fail_days=target.tls_fail_days,
    )
    return transport


def _request_bytes(
    conn: h11.Connection, path: str, query: str, host_header: str, extra: tuple[tuple[str, str], ...]
) -> bytes:
    """The whole GET (headers and end of message) as h11 frames it; ``Connection: close`` every time."""
    target = (path or "/") + ("?" + query if query else "")
    headers = [("Host", host_header), ("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Connection", "close"), *extra]
    request = conn.send(h11.Request(method="GET", target=target, headers=headers))
    assert request is not None
    return request + (conn.send(h11.EndOfMessage()) or b"")


async def _send_and_read(transport: asyncio.BaseTransport, reader: _ResponseReader, request: bytes, hop: _Hop) -> None:
    """Send the request, wait for the response to end (or reach the body cap), and put it on the hop."""
    hop.phase = "first_byte"
    sent = time.perf_counter()
    transport.write(request)  # type: ignore[attr-defined]
    await reader.done
    response = reader.response
    assert response is not None
    hop.timings["first_byte"] = _ms((reader.first_byte or sent) - sent)
    hop.status_code = response.status_code
    hop.http_version = response.http_version.decode()
    hop.headers = {k.decode(): v.decode("latin-1") for k, v in response.headers if k in _KEPT_HEADERS}
    hop.body = bytes(reader.body)
    hop.truncated = reader.truncated


def _close(transport: asyncio.BaseTransport | None, sock: socket.socket, reader: _ResponseReader) -> None:
    """Close the connection (the transport owns the socket once it exists)."""
    if transport is not None:
        transport.close()
    else:
        sock.close()
    if reader.done.done() and not reader.done.cancelled():
        reader.done.exception()  # mark retrieved: an abandoned failure is not an asyncio warning


def _check_body(target: HttpTarget, body: bytes, data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    text = body.decode("utf-8", errors="replace")
    if target.expect_body is not None:
        pattern = target.body_regex
        matched = re.search(pattern, text) is not None if pattern is not None else target.expect_body in text
        data["body_match"] = matched
        if not matched:
            how = f"match /{pattern}/" if pattern is not None else f"contain {target.expect_body!r}"
            problems.append(f"body does not {how}")
    if target.expect_json:
        try:
            document = json.loads(text)
        except ValueError:
            data["json_match"] = False
            return [*problems, "body is not JSON"]
        results: dict[str, Any] = {}
        for path, expected in target.expect_json.items():
            value = _jsonpath.lookup(document, _jsonpath.parse(path))
            if value is _jsonpath.MISSING:
                results[path] = {"found": False, "expected": expected}
                problems.append(f"{path} not found in the JSON body")
            else:
                results[path] = {"found": True, "value": value, "expected": expected, "match": value == expected}
                if value != expected:
                    problems.append(f"{path} is {json.dumps(value)[:80]} (expected {json.dumps(expected)[:80]})")
        data["json_match"] = results
    return problems


def _evaluate(target: HttpTarget, hop: _Hop, data: dict[str, Any]) -> tuple[ObsStatus, str]:
    failures: list[str] = []
    warnings: list[str] = []
    code = hop.status_code
    if code not in target.expect_status:
        expected = "/".join(str(c) for c in target.expect_status)
        where = f" → {hop.headers['location']}" if "location" in hop.headers else ""
        failures.append(f"HTTP {code} (expected {expected}){where}")
    else:
        failures.extend(_check_body(target, hop.body, data))
    if hop.tls is not None and hop.tls.status is ObsStatus.FAILED:
        failures.append(hop.tls.reason)
    elif hop.tls is not None and hop.tls.status is ObsStatus.WARN:
        warnings.append(hop.tls.reason)
    if failures:
        return ObsStatus.FAILED, "; ".join(failures)
    total = data["timings_ms"]["total"]
    ok = f"HTTP {code} in {total:.0f} ms"
    if warnings:
        return ObsStatus.WARN, "; ".join([*warnings, ok])
    return ObsStatus.OK, ok


async def probe_http(target: HttpTarget) -> Observation:
    """Probe ``target`` once; every outcome (refused, timeout, bad certificate, 503) is an Observation."""
    observed_at = utcnow()
    started = time.perf_counter()
    hops: list[_Hop] = []
    status: ObsStatus
    reason: str
    try:
        async with asyncio.timeout(target.timeout):
            url = target.url
            while True:
                hop = _Hop(url=url, name=_route(target, url)[2])
                hops.append(hop)
                await _exchange(target, url, hop)
                location = hop.headers.get("location")
                if not (target.follow_redirects and hop.status_code in _REDIRECTS and location):
                    break
                if len(hops) > target.max_redirects:
                    raise _Outcome(ObsStatus.FAILED, f"more than {target.max_redirects} redirects")
                url = urljoin(url, location)
                if urlsplit(url).scheme not in ("http", "https"):
                    raise _Outcome(ObsStatus.FAILED, f"redirect to a non-HTTP URL {url!r}")
        status, reason = ObsStatus.OK, ""
    except TimeoutError:
        phase = hops[-1].phase if hops else "dns"
        # Nothing answered yet (DNS/connect): we cannot tell a dead target from our own network: unknown.
        status = ObsStatus.ERROR if phase in ("dns", "connect") else ObsStatus.FAILED
        where = f" ({hops[-1].address})" if hops and hops[-1].address else ""
        reason = f"timed out after {target.timeout:g}s {_PHASE_TEXT[phase]}{where}"
    except _Outcome as outcome:
        status, reason = outcome.status, outcome.reason
    except ProbeError as err:
        status, reason = ObsStatus.ERROR, str(err)
    except OSError as err:
        status, reason = ObsStatus.FAILED, f"connection error: {err.strerror or err}"
    total_ms = _ms(time.perf_counter() - started)
    last = hops[-1] if hops else _Hop(url=target.url, name="")
    data: dict[str, Any] = {
        "url": last.url,
        "address": last.address,
        "public_name": target.public_name,
        "status_code": last.status_code,
        "http_version": last.http_version,
        "expect_status": list(target.expect_status),
        "headers": last.headers,
        "body_bytes": len(last.body),
        "body_truncated": last.truncated,
        "timings_ms": {**last.timings, "total": total_ms},
    }
    if len(hops) > 1:
        data["redirects"] = [
            {"url": h.url, "status_code": h.status_code, "location": h.headers.get("location")} for h in hops[:-1]
        ]
    if last.tls is not None:
        data["tls"] = last.tls.data
    if status is ObsStatus.OK:
        status, reason = _evaluate(target, last, data)
    return Observation(
        probe="http",
        target=target.label,
        status=status,
        reason=reason,
        latency_ms=total_ms if last.status_code is not None else None,
        observed_at=observed_at,
        data=data,
    )
