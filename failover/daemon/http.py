"""``/healthz``, ``/metrics`` and the status pages on ``daemon.listen``: a small threaded HTTP server.

``/healthz`` and ``/metrics`` are always open (probes and Prometheus scrape them), and answer without
touching the store's pages. The status pages (``/`` and ``/workloads/<name>``) need ``Authorization:
Bearer <daemon.status_token>`` when a token is set, compared in constant time; a missing or wrong
token gets 401 with ``WWW-Authenticate``. Nothing here logs a request, so no token reaches a log.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote

from failover.daemon.logs import emit
from failover.errors import ConfigError, DaemonError, StoreError

__all__ = ["Pages", "StatusServer", "parse_listen"]

log = logging.getLogger("failover.daemon")

HealthFn = Callable[[], tuple[int, dict[str, Any]]]
MetricsFn = Callable[[str], tuple[bytes, str]]  # Accept header -> (body, content type)
_HTML = "text/html; charset=utf-8"
_TEXT = "text/plain; charset=utf-8"
# The pages load nothing from anywhere and run no script; inline styles only.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Pages(Protocol):
    """The status pages (``failover.statuspage.LivePages``)."""

    def index(self) -> str: ...

    def workload(self, name: str) -> str | None: ...


def parse_listen(value: str, *, source: str = "daemon.listen") -> tuple[str, int]:
    """``HOST:PORT``, ``[v6]:PORT`` or ``:PORT`` (all interfaces) → (host, port); port 0 picks a free one."""
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f"{source}: expected HOST:PORT like 127.0.0.1:9108, got {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ConfigError(f"{source}: write an IPv6 address in brackets, like [::1]:9108, got {value!r}")
    if host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not all(part and part.replace("-", "").isalnum() for part in host.split(".")):
                raise ConfigError(f"{source}: {host!r} is not an IP address or host name") from None
    return host, int(port_text)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        metrics: MetricsFn,
        health: HealthFn,
        pages: Pages | None,
        token: str | None,
    ) -> None:
        host = address[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.metrics, self.health, self.pages = metrics, health, pages
        self.token = token.encode() if token else None
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # scrapes every few seconds would drown the event log

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/metrics":
            text, content_type = self.server.metrics(self.headers.get("Accept", ""))
            self._send(200, text, content_type)
        elif path == "/healthz":
            status, body = self.server.health()
            self._send(status, json.dumps(body).encode() + b"\n", "application/json")
        elif self.server.pages is None:
            if path == "/":
                self._send(200, b"failover daemon: /healthz /metrics\n", _TEXT)
            else:
                self._send(404, b"not found\n", _TEXT)
        elif path == "/" or path.startswith("/workloads/"):
            if self._authorized():
                self._page(path, query)
        else:
            self._send(404, b"not found\n", _TEXT)

    def _authorized(self) -> bool:
        """True when no token is set or the request carries it; otherwise answers 401 (RFC 6750)."""
        token = self.server.token
        if token is None:
            return True
        scheme, _, given = self.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("utf-8", "replace"), token):
            return True
        challenge = 'Bearer realm="failover"'
        if scheme:
            challenge += ', error="invalid_token"'
        self._send(
            401,
            b"unauthorized: send Authorization: Bearer <daemon.status_token>\n",
            _TEXT,
            {"WWW-Authenticate": challenge},
        )
        return False

    def _page(self, path: str, query: str) -> None:
        pages = self.server.pages
        assert pages is not None
        try:
            if path == "/":
                html: str | None = pages.index()
            else:
                segment = path[len("/workloads/") :]
                if not segment:
                    names = parse_qs(query, keep_blank_values=True).get("name")
                    name = names[0] if names else None
                else:
                    name = None if "/" in segment else unquote(segment, errors="strict")
                html = pages.workload(name) if name is not None else None
        except UnicodeDecodeError:
            html = None
        except StoreError as err:
            emit(log, logging.WARNING, "http.page_failed", error=str(err))
            self._send(503, b"the database cannot be read right now: see the daemon's log\n", _TEXT)
            return
        if html is None:
            self._send(404, b"no such workload on this status page\n", _TEXT)
        else:
            self._send(200, html.encode("utf-8"), _HTML, _PAGE_HEADERS)

    do_HEAD = do_GET


class StatusServer:
    """Serves on a background thread; ``address`` is the bound (host, port), useful with port 0."""

    def __init__(
        self,
        listen: str,
        metrics: MetricsFn,
        health: HealthFn,
        pages: Pages | None = None,
        token: str | None = None,
    ) -> None:
        host, port = parse_listen(listen)
        bind = host or "0.0.0.0"
        try:
            self._server = _Server((bind, port), metrics, health, pages, token)
        except OSError as err:
            raise DaemonError(f"cannot listen on {listen}: {err.strerror or err}") from None
        self.address: tuple[str, int] = (bind, int(self._server.server_address[1]))
        self._thread = threading.Thread(target=self._server.serve_forever, name="failover-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> StatusServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
