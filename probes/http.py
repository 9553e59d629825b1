"""HTTP(S) probe: one fresh connection per probe (a reused one could hide a broken listener), timed by phase.

It drives asyncio sockets, TLS (an ``ssl.SSLObject`` on memory BIOs) and a minimal HTTP/1.1 reader
(``probes.http1``) directly rather than httpx: the probe needs each phase's time (DNS,
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

from failover import __version__
from failover.errors import ProbeError
from failover.model import Observation, ObsStatus, utcnow
from probes import _jsonpath, http1, tls
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


class _Wire(asyncio.Protocol):
    """One fresh connection's bytes, for one hop. With ``tls_object`` (an ``ssl.SSLObject`` on memory
    BIOs) it drives the TLS handshake and record layer itself on the loop's plain TCP transport: the work
    asyncio's SSL transport does, without its buffering and shutdown machinery, which cost more CPU per
    fresh connection than the HTTP handling. The request goes out as soon as the connection can carry it
    (with TLS in the same write as the client's Finished). ``ready`` resolves then (or with the handshake's
    error), ``done`` at the end of the response (``http1.ResponseReader``). It moves ``hop.phase`` along."""

    __slots__ = (
        "_closed",
        "_in",
        "_out",
        "_request",
        "_tls",
        "connected_at",
        "done",
        "first_byte",
        "hop",
        "reader",
        "ready",
        "sent_at",
        "transport",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        hop: _Hop,
        max_body: int,
        request: bytes | None,
        tls_object: ssl.SSLObject | None = None,
    ) -> None:
        self.hop = hop
        self.reader = http1.ResponseReader(max_body)
        self.ready: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.connected_at = 0.0
        self.sent_at = 0.0
        self.first_byte: float | None = None
        self.transport: asyncio.Transport | None = None
        self._request = request
        self._tls = tls_object
        self._in: ssl.MemoryBIO | None = None
        self._out: ssl.MemoryBIO | None = None
        self._closed = False

    @classmethod
    def over_tls(
        cls,
        loop: asyncio.AbstractEventLoop,
        hop: _Hop,
        max_body: int,
        request: bytes | None,
        ctx: ssl.SSLContext,
        name: str,
    ) -> _Wire:
        """A wire whose handshake (SNI and verification for ``name``) starts once connected."""
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        wire = cls(loop, hop, max_body, request, ctx.wrap_bio(incoming, outgoing, server_hostname=name))
        wire._in, wire._out = incoming, outgoing
        return wire

    @property
    def ssl_object(self) -> ssl.SSLObject | None:
        return self._tls

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connected_at = time.perf_counter()
        self.transport = transport  # type: ignore[assignment]
        if self._tls is None:
            self._connected()
        else:
            self.hop.phase = "tls"
            self._handshake()

    def _connected(self) -> None:
        """The connection can carry the request: send it."""
        self.sent_at = time.perf_counter()
        if self._request is not None:
            self.hop.phase = "first_byte"
            if self._tls is None:
                assert self.transport is not None
                self.transport.write(self._request)
            else:
                self._tls.write(self._request)
        self._flush()
        self.ready.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._tls is None:
            self._feed(data)
            return
        assert self._in is not None
        self._in.write(data)
        if not self.ready.done():
            self._handshake()
        if self.ready.done() and self.ready.exception() is None:
            self._read_records()

    def eof_received(self) -> bool:
        if self._tls is not None:
            assert self._in is not None
            self._in.write_eof()
            if not self.ready.done():
                self._handshake()  # raises the handshake's EOF error onto ``ready``
                return False
            self._read_records()
        self._end_of_stream()
        return False

    def _end_of_stream(self) -> None:
        """The peer closed (TCP FIN or TLS close_notify): a body read to the close ends here."""
        if not self.done.done():
            try:
                self.reader.eof()
            except http1.PeerClosed:
                self._fail(_Outcome(ObsStatus.FAILED, "connection closed before the response"))
            except http1.HttpParseError as err:
                self._fail(_Outcome(ObsStatus.FAILED, f"malformed HTTP response: {err}"))
            else:
                self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closed:
            return  # we hung up (done, or given up on): nobody waits for an outcome any more
        detail = f": {exc}" if exc else ""
        if not self.ready.done():
            self.ready.set_exception(exc or ConnectionResetError("connection closed during the TLS handshake"))
        if not self.done.done():
            what = "before the response" if self.reader.status_code is None else "in the middle of the body"
            self._fail(_Outcome(ObsStatus.FAILED, f"connection closed {what}{detail}"))

    def close(self) -> None:
        """Close the connection (no close_notify: the probe is done with it); an outcome nobody awaited is
        marked retrieved (no asyncio warning)."""
        self._closed = True
        if self.transport is not None:
            self.transport.close()
        for future in (self.ready, self.done):
            if future.done() and not future.cancelled():
                future.exception()

    # ------------------------------------------------------------------------------------ internals
    def _flush(self) -> None:
        out = self._out
        if out is not None and out.pending and self.transport is not None:
            self.transport.write(out.read())

    def _handshake(self) -> None:
        assert self._tls is not None
        try:
            self._tls.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return
        except (ssl.SSLError, OSError) as err:  # verification, protocol, EOF: the caller phrases it
            self._flush()
            self.ready.set_exception(err)
            return
        self._connected()

    def _read_records(self) -> None:
        """Decrypt what arrived and feed it to the response reader."""
        assert self._tls is not None
        try:
            while not self.done.done():
                data = self._tls.read(65536)
                if not data:  # close_notify
                    self._end_of_stream()
                    break
                self._feed(data)
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):  # close_notify, or TCP closed without it
            self._end_of_stream()
        except ssl.SSLError as err:
            what = "before the response" if self.reader.status_code is None else "in the middle of the body"
            self._fail(_Outcome(ObsStatus.FAILED, f"connection closed {what}: {err}"))
        self._flush()

    def _feed(self, data: bytes) -> None:
        if self.done.done():
            return
        if self.first_byte is None:
            self.first_byte = time.perf_counter()
        try:
            finished = self.reader.feed(data)
        except http1.HttpParseError as err:
            self._fail(_Outcome(ObsStatus.FAILED, f"malformed HTTP response: {err}"))
            return
        if finished:
            self.done.set_result(None)

    def _fail(self, outcome: _Outcome) -> None:
        if not self.done.done():
            self.done.set_exception(outcome)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


async def _open(loop: asyncio.AbstractEventLoop, host: str, port: int, hop: _Hop, wire: _Wire) -> None:
    """Resolve (timed) and connect ``wire`` to the first address that accepts."""
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
        hop.address = f"[{sockaddr[0]}]:{sockaddr[1]}" if family == socket.AF_INET6 else f"{sockaddr[0]}:{sockaddr[1]}"
        try:
            if family == socket.AF_INET6 and len(sockaddr) > 3 and sockaddr[3]:
                await _connect_scoped(loop, sockaddr, wire)  # a link-local address: keep its scope
            else:
                # The loop connects a numeric address without a resolver round trip or a Python socket.
                await loop.create_connection(lambda: wire, sockaddr[0], sockaddr[1])
        except OSError as err:
            last = err
            continue
        hop.timings["connect"] = _ms(wire.connected_at - t0)
        return
    assert last is not None
    if isinstance(last, ConnectionRefusedError):
        raise _Outcome(ObsStatus.FAILED, f"connection refused ({hop.address})")
    raise _Outcome(ObsStatus.FAILED, f"cannot connect to {hop.address}: {last.strerror or last}")


async def _connect_scoped(loop: asyncio.AbstractEventLoop, sockaddr: Any, wire: _Wire) -> None:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, sockaddr)
        await loop.create_connection(lambda: wire, sock=sock)
    except BaseException:
        sock.close()
        raise


async def _tls_details(
    loop: asyncio.AbstractEventLoop, connect_host: str, port: int, name: str
) -> tuple[list[bytes], str | None]:
    """A second, non-verifying handshake that only reads the chain, so a failed verification still says why."""
    scratch = _Hop(url="", name=name)
    wire = _Wire.over_tls(loop, scratch, 0, None, tls.client_context(verify=False), name)
    try:
        await _open(loop, connect_host, port, scratch, wire)
        await wire.ready
        ssl_object = wire.ssl_object
        assert ssl_object is not None
        return tls.peer_chain(ssl_object, verified=False), ssl_object.version()
    except (_Outcome, OSError, ssl.SSLError):
        return [], None
    finally:
        wire.close()


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


async def _exchange(target: HttpTarget, url: str, hop: _Hop, route: tuple[str, int, str, str]) -> None:
    """One request and its response on a fresh connection to ``route`` (``_route``): connect, TLS for
    https, send, read. The hop records each phase as it completes; a verdict that ends the probe early is
    raised as ``_Outcome``."""
    loop = asyncio.get_running_loop()
    parts = urlsplit(url)
    connect_host, port, name, host_header = route
    request = _request_bytes(parts.path, parts.query, host_header, target.headers)
    if parts.scheme == "https":
        ctx = tls.client_context(target.ca_files)
        wire = _Wire.over_tls(loop, hop, target.max_body_bytes, request, ctx, name)
    else:
        wire = _Wire(loop, hop, target.max_body_bytes, request)
    try:
        await _open(loop, connect_host, port, hop, wire)
        if parts.scheme == "https":
            await _handshake(loop, target, wire, (connect_host, port, name), hop)
        else:
            hop.timings["tls"] = None
        await _read(wire, hop)
    finally:
        wire.close()


async def _handshake(
    loop: asyncio.AbstractEventLoop, target: HttpTarget, wire: _Wire, peer: tuple[str, int, str], hop: _Hop
) -> None:
    """Wait for the TLS handshake ``wire`` started on connecting, verified for the name in ``peer``
    (connect host, port, name): a full handshake (no session is offered for resumption), the chain
    verified against the trust store and the name against the leaf's SANs, by OpenSSL; then the chain's
    assessment (expiry, names: ``tls.assess``) lands on the hop whether or not verification passed."""
    connect_host, port, name = peer
    try:
        await wire.ready
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
    hop.timings["tls"] = _ms(wire.sent_at - wire.connected_at)
    ssl_object = wire.ssl_object
    assert ssl_object is not None
    hop.tls = tls.assess(
        name,
        tls.describe_chain(tls.peer_chain(ssl_object, verified=True)),
        verified=True,
        protocol=ssl_object.version(),
        warn_days=target.tls_warn_days,
        fail_days=target.tls_fail_days,
    )


def _request_bytes(path: str, query: str, host_header: str, extra: tuple[tuple[str, str], ...]) -> bytes:
    """The whole GET (``http1.request_bytes``); ``Connection: close`` every time."""
    target = (path or "/") + ("?" + query if query else "")
    headers = [("Host", host_header), ("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Connection", "close"), *extra]
    try:
        return http1.request_bytes(target, headers)
    except ValueError as err:
        raise ProbeError(f"cannot send the request: {err}") from None


async def _read(wire: _Wire, hop: _Hop) -> None:
    """Wait for the response (sent on connecting) to end, or reach the body cap; put it on the hop."""
    await wire.done
    response = wire.reader
    assert response.status_code is not None
    hop.timings["first_byte"] = _ms((wire.first_byte or wire.sent_at) - wire.sent_at)
    hop.status_code = response.status_code
    hop.http_version = response.http_version
    hop.headers = {k.decode(): v.decode("latin-1") for k, v in response.headers if k in _KEPT_HEADERS}
    hop.body = bytes(response.body)
    hop.truncated = response.truncated


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
                route = _route(target, url)
                hop = _Hop(url=url, name=route[2])
                hops.append(hop)
                await _exchange(target, url, hop, route)
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
