"""What the local REST fakes of GCP and Azure share: a threaded HTTP server on a free loopback port,
its start/stop lifecycle, and the log of requests it answered (the read-only proofs read it)."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Self, TypeVar

R = TypeVar("R")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | OSError):
            return  # a client that gave up (timeout) or failed TLS: expected in tests, not worth a traceback
        super().handle_error(request, client_address)


class LocalApi(Generic[R]):
    """Base of the fakes. Subclasses give ``_handler()`` and may adapt the server in ``_prepare``."""

    name = "local-api"
    scheme = "http"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._lock = threading.Lock()
        self._requests: list[R] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def _prepare(self, server: ThreadingHTTPServer) -> None:
        """Hook before serving (TLS wrapping)."""

    def _cleanup(self) -> None:
        """Hook after stopping."""

    def start(self) -> Self:
        if self._server is None:
            server = QuietServer((self._host, 0), self._handler())
            self._prepare(server)
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"{self.scheme}://{self._host}:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[R]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()
