"""``/healthz`` and ``/metrics`` on ``daemon.listen``: a small threaded HTTP server, nothing else."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from failover.errors import ConfigError, DaemonError

__all__ = ["StatusServer", "parse_listen"]

HealthFn = Callable[[], tuple[int, dict[str, Any]]]
MetricsFn = Callable[[str], tuple[bytes, str]]  # Accept header -> (body, content type)


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

    def __init__(self, address: tuple[str, int], metrics: MetricsFn, health: HealthFn) -> None:
        host = address[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.metrics, self.health = metrics, health
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # scrapes every few seconds would drown the event log

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            text, content_type = self.server.metrics(self.headers.get("Accept", ""))
            self._send(200, text, content_type)
        elif path == "/healthz":
            status, body = self.server.health()
            self._send(status, json.dumps(body).encode() + b"\n", "application/json")
        elif path == "/":
            self._send(200, b"failover daemon: /healthz /metrics\n", "text/plain; charset=utf-8")
        else:
            self._send(404, b"not found\n", "text/plain; charset=utf-8")

    do_HEAD = do_GET


class StatusServer:
    """Serves on a background thread; ``address`` is the bound (host, port), useful with port 0."""

    def __init__(self, listen: str, metrics: MetricsFn, health: HealthFn) -> None:
        host, port = parse_listen(listen)
        bind = host or "0.0.0.0"
        try:
            self._server = _Server((bind, port), metrics, health)
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
