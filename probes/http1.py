"""The HTTP/1.1 the probe speaks: a GET request's bytes and a strict, bounded reader of the response.

It replaces h11 on the probe path, where h11's general state machine cost more CPU per probe than the
rest of the request/response handling together. The grammar is h11's (RFC 9110/9112 as h11 reads it:
the same status-line, header-field and chunk-header patterns, bare-LF line ends tolerated, obsolete
line folding joined, a 16 KiB cap on an incomplete head), so the same responses are accepted, and the
errors read as h11's did. Framing follows RFC 9112 section 6.3 for a response to GET: 1xx responses are
skipped (a 101 is an error: no upgrade was asked for), 204 and 304 have no body, Transfer-Encoding:
chunked wins over Content-Length, and without either the body runs to the connection's close.
"""

from __future__ import annotations

import re

__all__ = ["MAX_HEAD", "HttpParseError", "PeerClosed", "ResponseReader", "request_bytes"]

# An unfinished status line, header block or chunk header larger than this is an error (h11's default).
MAX_HEAD = 16 * 1024

_VCHAR_OR_OBS = rb"[^\x00\s]"
_TOKEN = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_STATUS_LINE = re.compile(rb"HTTP/([0-9]\.[0-9]) ([0-9]{3})(?: ((?:[ \t]|" + _VCHAR_OR_OBS + rb")*))?")
_FIELD = re.compile(
    rb"(" + _TOKEN + rb"):[ \t]*((?:" + _VCHAR_OR_OBS + rb"+(?:[ \t]+" + _VCHAR_OR_OBS + rb"+)*)?)[ \t]*"
)
_CHUNK_HEADER = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;.*)?[ \t]*\r\n")
_CONTENT_LENGTH = re.compile(rb"[0-9]+")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_FOLD = re.compile(rb"[ \t]+")
_REQUEST_TARGET = re.compile(r"[\x21-\x7e]+")
_FIELD_NAME = re.compile(_TOKEN.decode())
_FIELD_VALUE = re.compile(r"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?")
_CONTENT_LENGTH_MAX_DIGITS = 20  # h11's bound: a longer number is refused outright

# Reader states.
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _TO_CLOSE, _DONE = range(8)


class HttpParseError(Exception):
    """The response does not parse; the message says where (h11's wording)."""


class PeerClosed(Exception):
    """The peer closed the connection before sending any response."""


def request_bytes(target: str, headers: list[tuple[str, str]]) -> bytes:
    """``GET target HTTP/1.1`` with ``headers`` in order; ProbeError-worthy input raises ValueError."""
    if not _REQUEST_TARGET.fullmatch(target):
        raise ValueError(f"illegal request target {target!r}")
    lines = [f"GET {target} HTTP/1.1"]
    for name, value in headers:
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError(f"illegal header name {name!r}")
        value = value.strip(" \t")
        if not _FIELD_VALUE.fullmatch(value):
            raise ValueError(f"illegal header value {value!r}")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _header_lines(block: bytes) -> list[bytes]:
    """Lines of a head or trailer block (up to, not including, the blank line): CRLF or bare LF."""
    lines = block.split(b"\n")
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _fields(lines: list[bytes]) -> list[tuple[bytes, bytes]]:
    """Header lines as (lower-cased name, value), obsolete folding joined, each line validated."""
    folded: list[bytes] = []
    for line in lines:
        match = _FOLD.match(line)
        if match:
            if not folded:
                raise HttpParseError("continuation line at start of headers")
            folded[-1] += b" " + line[match.end() :]
        else:
            folded.append(line)
    fields: list[tuple[bytes, bytes]] = []
    for line in folded:
        field = _FIELD.fullmatch(line)
        if field is None:
            raise HttpParseError(f"illegal header line: {line!r}")
        fields.append((field.group(1).lower(), field.group(2)))
    return fields


class ResponseReader:
    """Feed it the response's bytes as they arrive (``feed``) and the close (``eof``); ``feed`` says
    True once the response is complete or the body reached ``max_body`` (the rest is not read:
    ``truncated``). Errors raise ``HttpParseError``; a close before any byte raises ``PeerClosed``."""

    __slots__ = (
        "_buf",
        "_max_body",
        "_remaining",
        "_state",
        "body",
        "headers",
        "http_version",
        "status_code",
        "truncated",
    )

    def __init__(self, max_body: int) -> None:
        self._buf = b""
        self._max_body = max_body
        self._remaining = 0
        self._state = _HEAD
        self.status_code: int | None = None
        self.http_version: str | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.truncated = False

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes) -> bool:
        if self._state == _DONE:
            return True
        self._buf = self._buf + data if self._buf else data
        while self._buf and self._state != _DONE:
            if not self._step():
                if len(self._buf) > MAX_HEAD and self._state in (_HEAD, _CHUNK_SIZE, _TRAILER):
                    raise HttpParseError("Receive buffer too long")
                break
        if self._state == _LENGTH and self._remaining == 0:
            self._state = _DONE
        return self._state == _DONE

    def eof(self) -> None:
        """The peer closed: completes a body read to the close, else raises why the response is short."""
        state = self._state
        if state in (_DONE, _TO_CLOSE):
            self._state = _DONE
            return
        if self._buf:
            raise HttpParseError("peer unexpectedly closed connection")
        if state == _HEAD:
            if self.status_code is None:
                raise PeerClosed
            raise HttpParseError("peer unexpectedly closed connection")
        if state == _LENGTH:
            expected = len(self.body) + self._remaining
            raise HttpParseError(
                "peer closed connection without sending complete message body "
                f"(received {len(self.body)} bytes, expected {expected})"
            )
        raise HttpParseError("peer closed connection without sending complete message body (incomplete chunked read)")

    # ------------------------------------------------------------------------------------- states
    def _step(self) -> bool:
        """Consume what the current state can from the buffer; False when it needs more bytes."""
        state = self._state
        if state == _HEAD:
            return self._head()
        if state in (_LENGTH, _CHUNK_DATA, _TO_CLOSE):
            return self._body()
        if state == _CHUNK_SIZE:
            end = self._buf.find(b"\r\n")
            if end < 0:
                return False
            line, self._buf = self._buf[: end + 2], self._buf[end + 2 :]
            match = _CHUNK_HEADER.fullmatch(line)
            if match is None:
                raise HttpParseError(f"illegal chunk header: {line!r}")
            self._remaining = int(match.group(1), 16)
            self._state = _CHUNK_DATA if self._remaining else _TRAILER
            return True
        if state == _CHUNK_END:
            if len(self._buf) < 2:
                if b"\r\n".startswith(self._buf):
                    return False
                raise HttpParseError(f"malformed chunk footer: {self._buf!r} (expected b'\\r\\n')")
            if self._buf[:2] != b"\r\n":
                raise HttpParseError(f"malformed chunk footer: {self._buf[:2]!r} (expected b'\\r\\n')")
            self._buf = self._buf[2:]
            self._state = _CHUNK_SIZE
            return True
        if state == _TRAILER:
            block = self._block()
            if block is None:
                return False
            _fields(block)
            self._state = _DONE
            return True
        return False

    def _block(self) -> list[bytes] | None:
        """The next head block's lines (consumed through its blank line), [] for an immediate blank line."""
        buf = self._buf
        if buf[:1] == b"\n":
            self._buf = buf[1:]
            return []
        if buf[:2] == b"\r\n":
            self._buf = buf[2:]
            return []
        match = _BLANK_LINE.search(buf)
        if match is None:
            return None
        self._buf = buf[match.end() :]
        return _header_lines(buf[: match.start()])

    def _head(self) -> bool:
        lines = self._block()
        if lines is None:
            return False
        if not lines:
            raise HttpParseError("no response line received")
        status = _STATUS_LINE.fullmatch(lines[0])
        if status is None:
            raise HttpParseError(f"illegal status line: {lines[0]!r}")
        code = int(status.group(2))
        fields = _fields(lines[1:])
        if code < 200:
            if code == 101:
                raise HttpParseError("101 Switching Protocols without an upgrade request")
            return True  # an interim response: the final one follows
        self.status_code = code
        self.http_version = status.group(1).decode()
        self.headers = fields
        self._state = self._framing(code, fields)
        return True

    def _framing(self, code: int, fields: list[tuple[bytes, bytes]]) -> int:
        chunked = False
        length: bytes | None = None
        for i, (name, value) in enumerate(fields):
            if name == b"content-length":
                values = {v.strip() for v in value.split(b",")}
                if len(values) != 1:
                    raise HttpParseError("conflicting Content-Length headers")
                value = values.pop()
                if not _CONTENT_LENGTH.fullmatch(value) or len(value) > _CONTENT_LENGTH_MAX_DIGITS:
                    raise HttpParseError("bad Content-Length")
                if length is not None and length != value:
                    raise HttpParseError("conflicting Content-Length headers")
                length = value
                fields[i] = (name, value)
            elif name == b"transfer-encoding":
                if chunked:
                    raise HttpParseError("multiple Transfer-Encoding headers")
                if value.lower() != b"chunked":
                    raise HttpParseError("Only Transfer-Encoding: chunked is supported")
                chunked = True
        if code in (204, 304):
            self._remaining = 0
            return _LENGTH
        if chunked:
            return _CHUNK_SIZE
        if length is not None:
            self._remaining = int(length)
            return _LENGTH
        return _TO_CLOSE

    def _body(self) -> bool:
        buf = self._buf
        if self._state == _TO_CLOSE:
            data, self._buf = buf, b""
        else:
            data, self._buf = buf[: self._remaining], buf[self._remaining :]
            self._remaining -= len(data)
            if self._remaining == 0:
                self._state = _CHUNK_END if self._state == _CHUNK_DATA else _DONE
        room = self._max_body - len(self.body)
        if len(data) > room:
            self.body += data[:room]
            self.truncated = True
            self._state = _DONE
            return True
        self.body += data
        return True
