"""Typed probe targets: plain, picklable data (they cross process boundaries in the engine).

A target says what to probe and what to expect; it knows nothing of clouds, workloads or storage.
Relative file paths (``ca_files``) are resolved by the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from failover.equivalence import is_ip
from failover.errors import ProbeError
from probes import _jsonpath

__all__ = [
    "DEFAULT_TLS_FAIL_DAYS",
    "DEFAULT_TLS_WARN_DAYS",
    "DnsTarget",
    "HttpTarget",
    "Target",
    "TcpTarget",
    "host_port",
    "is_ip",
]

DEFAULT_TLS_WARN_DAYS = 30
DEFAULT_TLS_FAIL_DAYS = 14


class Target(Protocol):
    """What the engine reads from every target, whatever its probe: the label its observation carries,
    the endpoint the per-host limit applies to, and the target's own timeout."""

    @property
    def label(self) -> str: ...

    @property
    def host_key(self) -> str: ...

    @property
    def timeout(self) -> float: ...


def host_port(hostport: str, default_port: int | None = None) -> tuple[str, int]:
    """``host:port`` / ``[v6]:port`` / ``v6`` (with a default port) → (host, port); ProbeError if malformed."""
    text = hostport.strip()
    host, port_text = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ProbeError(f"bad address {hostport!r}: missing ']'")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ProbeError(f"bad address {hostport!r}: expected [host]:port")
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host:
        raise ProbeError(f"bad address {hostport!r}: no host")
    if not port_text:
        if default_port is None:
            raise ProbeError(f"bad address {hostport!r}: expected host:port")
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ProbeError(f"bad address {hostport!r}: port must be 1-65535")
    return host, int(port_text)


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """One HTTP(S) probe.

    With ``public_name`` set the probe connects to the URL's host and port but sends the public name as
    SNI and Host and verifies the certificate against it: what users get once DNS points the public name
    at this site. ``ca_files`` are trusted in addition to the system store.
    """

    url: str
    expect_status: tuple[int, ...] = (200,)
    expect_body: str | None = None  # substring, or /regex/
    expect_json: dict[str, Any] | None = None  # {"$.status": "ok"}
    timeout: float = 10.0
    follow_redirects: bool = False
    max_redirects: int = 5
    public_name: str | None = None
    ca_files: tuple[str, ...] = ()
    tls_warn_days: int = DEFAULT_TLS_WARN_DAYS
    tls_fail_days: int = DEFAULT_TLS_FAIL_DAYS
    max_body_bytes: int = 1 << 20
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.url)
        except ValueError:  # e.g. an unbalanced "[" (IPv6 literal)
            raise ProbeError(f"expected an http(s) URL, got {self.url!r}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProbeError(f"expected an http(s) URL, got {self.url!r}")
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as err:
            raise ProbeError(f"bad port in {self.url!r}: {err}") from None
        if self.timeout <= 0:
            raise ProbeError(f"timeout must be positive, got {self.timeout}")
        if self.public_name is not None and not self.public_name.strip():
            raise ProbeError("public name must not be empty")
        if self.tls_fail_days > self.tls_warn_days:
            raise ProbeError("tls_fail_days must not exceed tls_warn_days")
        for code in self.expect_status:
            if not 100 <= code <= 599:
                raise ProbeError(f"expected HTTP status must be 100-599, got {code}")
        if self.body_regex is not None:
            try:
                re.compile(self.body_regex)
            except re.error as err:
                raise ProbeError(f"bad body regex {self.expect_body!r}: {err}") from None
        for path in self.expect_json or {}:
            try:
                _jsonpath.parse(path)
            except ValueError as err:
                raise ProbeError(str(err)) from None

    @property
    def body_regex(self) -> str | None:
        """The pattern when ``expect_body`` is written ``/regex/``."""
        body = self.expect_body
        if body is not None and len(body) >= 2 and body.startswith("/") and body.endswith("/"):
            return body[1:-1]
        return None

    @property
    def host_key(self) -> str:
        """The endpoint actually connected to (per-host limits apply to it)."""
        parts = urlsplit(self.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return f"{parts.hostname}:{port}"

    @property
    def label(self) -> str:
        return self.url if self.public_name is None else f"{self.url} as {self.public_name}"

    @classmethod
    def from_endpoint(
        cls, endpoint: Any, *, public_name: str | None = None, ca_files: tuple[str, ...] = ()
    ) -> HttpTarget:
        """From a config ``Endpoint``; ``ca_files`` are already-resolved paths (global CA, the endpoint's)."""
        expect = endpoint.expect_status
        return cls(
            url=endpoint.url,
            expect_status=(expect,) if isinstance(expect, int) else tuple(expect),
            expect_body=endpoint.expect_body,
            expect_json=endpoint.expect_json,
            timeout=float(endpoint.timeout),
            follow_redirects=endpoint.follow_redirects,
            public_name=public_name,
            ca_files=ca_files,
        )


@dataclass(frozen=True, slots=True)
class TcpTarget:
    """Connect to host:port; optionally read a banner of up to ``banner_bytes`` within ``banner_timeout``."""

    host: str
    port: int
    timeout: float = 5.0
    banner_bytes: int = 0
    banner_timeout: float = 1.0
    expect_banner: str | None = None  # substring the banner must contain

    def __post_init__(self) -> None:
        if not self.host:
            raise ProbeError("TCP target needs a host")
        if not 0 < self.port < 65536:
            raise ProbeError(f"TCP port must be 1-65535, got {self.port}")
        if self.timeout <= 0:
            raise ProbeError(f"timeout must be positive, got {self.timeout}")
        if self.expect_banner is not None and self.banner_bytes <= 0:
            raise ProbeError("expect_banner needs banner_bytes > 0")

    @property
    def host_key(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def label(self) -> str:
        return f"tcp://[{self.host}]:{self.port}" if ":" in self.host else f"tcp://{self.host}:{self.port}"

    @classmethod
    def parse(cls, url: str, **kwargs: Any) -> TcpTarget:
        """From ``tcp://host:port``."""
        if not url.startswith("tcp://"):
            raise ProbeError(f"expected tcp://host:port, got {url!r}")
        host, port = host_port(url[len("tcp://") :].rstrip("/"))
        return cls(host=host, port=port, **kwargs)


@dataclass(frozen=True)
class DnsTarget:
    """Ask ``server`` one question (``probes.dns.probe_dns``)."""

    name: str
    rdtype: str = "A"
    server: str | None = None  # "host:port" or "host" (port 53); None = system resolver
    timeout: float = 3.0
    recursion: bool = True  # RD flag; authoritative servers ignore it, resolvers need it

    def __str__(self) -> str:
        return f"{self.name} {self.rdtype.upper()} @{self.server or 'system'}"

    @property
    def host_key(self) -> str:
        """The nameserver asked (the system resolver's servers share one key)."""
        return self.server or "default"

    @property
    def label(self) -> str:
        return str(self)  # what probe_dns reports as its target
