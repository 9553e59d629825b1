"""Local HTTP(S) health endpoints for the demo: a private CA issuing each site a certificate for the
names it should (or, to show a defect, should not) cover, served on 127.0.0.1 with free ports."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        status, body = self.server.status, self.server.body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, tls: ssl.SSLContext | None, status: int, body: str) -> None:
        self.tls, self.status, self.body = tls, status, body
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            request.settimeout(5)
            request = self.tls.wrap_socket(request, server_side=True)
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client refusing our certificate hangs up mid-handshake: that is the point of some demos


@dataclass
class Endpoint:
    server: _Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/healthz") -> str:
        scheme = "https" if self.server.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def set_status(self, status: int) -> None:
        self.server.status = status


@dataclass
class WebSandbox:
    """Starts endpoints; ``ca_file`` is the PEM a client must trust to verify them."""

    directory: Path
    endpoints: list[Endpoint] = field(default_factory=list)
    _ca: Any = None

    def __post_init__(self) -> None:
        import trustme

        self.directory.mkdir(parents=True, exist_ok=True)
        self._ca = trustme.CA(organization_name="failover sandbox CA")
        self._ca.cert_pem.write_to_path(str(self.ca_file))

    @property
    def ca_file(self) -> Path:
        return self.directory / "sandbox-ca.pem"

    def start(self, names: list[str] | None = None, *, status: int = 200, body: str = '{"status": "ok"}') -> Endpoint:
        """An HTTPS endpoint with a certificate for ``names`` (plus 127.0.0.1), or plain HTTP with None."""
        tls = None
        if names is not None:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ca.issue_cert(*names, "127.0.0.1").configure_cert(tls)
        server = _Server(tls, status, body)
        thread = threading.Thread(target=server.serve_forever, name="sandbox-web", daemon=True)
        thread.start()
        endpoint = Endpoint(server, thread)
        self.endpoints.append(endpoint)
        return endpoint

    def stop(self) -> None:
        for e in self.endpoints:
            e.server.shutdown()
            e.server.server_close()
        self.endpoints.clear()
