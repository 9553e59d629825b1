"""What the local REST fakes share: a threaded HTTP server on a free loopback port, its start/stop
lifecycle, the log of requests it answered (the read-only proofs read it), and for the JSON APIs one
request handler that counts requests in flight (the bounded-concurrency proofs read it)."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Protocol, Self, TypeVar

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


Answer = tuple[int, dict[str, str], Any]  # status, extra headers, JSON body


class Fault(Protocol):
    """An injected failure: a fake's own dataclass with what it matches on and what it answers."""

    times: int | None  # how many more matching requests it answers (None: all)
    after: int  # matching requests let through before it starts

    def matches(self, where: str | None, what: str | None, /) -> bool: ...  # e.g. (subscription, route)


F = TypeVar("F", bound=Fault)


class JsonApi(LocalApi[R], Generic[R, F]):
    """A fake whose every answer is JSON. Subclasses give ``_handle`` (the routes; it gets the request's
    body, which read-only GET fakes ignore), ``_internal_error``
    (how the real service answers a server bug) and the headers the real service adds to every answer;
    injected faults (``_add_fault``, ``clear_faults``, ``_fault_for``) are kept here, counted alike."""

    content_type = "application/json"

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self._in_flight = 0
        self.max_in_flight = 0  # the most requests being answered at once: proves (bounded) concurrency
        self._faults: list[F] = []

    def _add_fault(self, fault: F) -> F:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _fault_for(self, where: str | None, what: str | None) -> F | None:
        """The fault that answers this request, if any: the first that matches and has let ``after``
        requests through; each use counts down its ``times``."""
        with self._lock:
            for f in self._faults:
                if f.matches(where, what):
                    if f.after > 0:
                        f.after -= 1
                        continue
                    if f.times is not None:
                        f.times -= 1
                    return f
        return None

    def _handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        raise NotImplementedError

    def _internal_error(self, err: Exception) -> Answer:
        raise NotImplementedError

    def _answer_headers(self) -> dict[str, str]:
        return {}

    def _serve_counted(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            return self._handle(method, path, headers, body)
        except Exception as err:  # a bug in the fake: answer like the service would, never hang the client
            return self._internal_error(err)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                sent = self.rfile.read(length) if length else b""
                status, extra, body = fake._serve_counted(self.command, self.path, self.headers, sent)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", fake.content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in {**fake._answer_headers(), **extra}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
