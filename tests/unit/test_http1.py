"""The probe's HTTP/1.1 reader (probes/http1.py) on byte streams: framing by Content-Length, chunked and
close; interim responses; the limits; and every way a response can be broken, with h11's wording."""

from __future__ import annotations

import pytest

from probes.http1 import MAX_HEAD, HttpParseError, PeerClosed, ResponseReader, request_bytes


def read(*pieces: bytes, max_body: int = 1 << 20, eof: bool = False) -> ResponseReader:
    reader = ResponseReader(max_body)
    for piece in pieces:
        reader.feed(piece)
    if eof:
        reader.eof()
    return reader


def bytewise(data: bytes, max_body: int = 1 << 20) -> ResponseReader:
    """Feed one byte at a time: every state must wait for the rest correctly."""
    reader = ResponseReader(max_body)
    for i in range(len(data)):
        reader.feed(data[i : i + 1])
    return reader


def test_content_length_body_ends_the_response_without_a_close() -> None:
    r = read(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
    assert r.done and r.status_code == 200 and r.http_version == "1.1"
    assert bytes(r.body) == b"hello" and not r.truncated
    assert (b"content-type", b"text/plain") in r.headers  # names lower-cased, values as sent


def test_chunked_body_with_extensions_and_trailers_byte_by_byte() -> None:
    wire = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )
    whole = read(wire)
    assert whole.done and bytes(whole.body) == b"hello world"
    pieces = bytewise(wire)
    assert pieces.done and bytes(pieces.body) == b"hello world"


def test_chunked_wins_over_content_length() -> None:
    r = read(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
    assert r.done and bytes(r.body) == b"ok"


def test_body_without_length_runs_to_the_close() -> None:
    r = read(b"HTTP/1.0 200 OK\r\n\r\npart one, ", b"part two")
    assert not r.done
    r.eof()
    assert r.done and bytes(r.body) == b"part one, part two" and r.http_version == "1.0"


@pytest.mark.parametrize("code", [204, 304])
def test_no_body_statuses_end_at_the_head(code: int) -> None:
    r = read(f"HTTP/1.1 {code} X\r\nContent-Length: 10\r\n\r\n".encode())
    assert r.done and r.status_code == code and bytes(r.body) == b""


def test_zero_length_body_ends_at_the_head() -> None:
    assert read(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").done


def test_interim_responses_are_skipped() -> None:
    r = read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", b"HTTP/1.1 200 OK\r\n")
    assert r.status_code is None
    r.feed(b"Content-Length: 2\r\n\r\nok")
    assert r.done and r.status_code == 200 and bytes(r.body) == b"ok"


def test_bare_lf_line_ends_and_folded_headers_are_read() -> None:
    r = read(b"HTTP/1.1 200 OK\nServer: a\n  b\nContent-Length: 2\n\nok")
    assert r.done and (b"server", b"a b") in r.headers


def test_status_line_without_a_reason_is_accepted() -> None:
    assert read(b"HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n").status_code == 503


def test_a_body_past_the_cap_is_truncated_and_the_rest_not_read() -> None:
    r = read(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"x" * 60, b"y" * 40, max_body=64)
    assert r.done and r.truncated and bytes(r.body) == b"x" * 60 + b"y" * 4


def test_a_body_exactly_at_the_cap_is_not_truncated() -> None:
    r = read(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", max_body=4)
    assert r.done and not r.truncated


def test_data_after_the_response_is_ignored() -> None:
    r = read(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE")
    assert r.done and bytes(r.body) == b"ok"
    assert r.feed(b"more") is True


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"HTTP/1.1 abc\r\n\r\n", "illegal status line"),
        (b"ICY 200 OK\r\n\r\n", "illegal status line"),
        (b"HTTP/1.1 0 Zero\r\n\r\n", "illegal status line"),
        (b"HTTP/11 200 OK\r\n\r\n", "illegal status line"),
        (b"\r\n\r\n", "no response line received"),
        (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "illegal header line"),
        (b"HTTP/1.1 200 OK\r\n: x\r\n\r\n", "illegal header line"),
        (b"HTTP/1.1 200 OK\r\nX: \x00\x1b[31m\r\n\r\n", "illegal header line"),
        (b"HTTP/1.1 200 OK\r\n folded first\r\n\r\n", "continuation line at start of headers"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", "conflicting Content-Length headers"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "Only Transfer-Encoding: chunked"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n", "illegal chunk header"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY", "malformed chunk footer"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "without an upgrade request"),
    ],
)
def test_broken_responses_raise_with_the_reason(wire: bytes, message: str) -> None:
    with pytest.raises(HttpParseError, match=message):
        read(wire)


def test_an_endless_head_is_refused_past_the_limit() -> None:
    reader = ResponseReader(1024)
    with pytest.raises(HttpParseError, match="Receive buffer too long"):
        reader.feed(b"HTTP/1.1 200 " + b"A" * (MAX_HEAD + 1))


def test_a_close_before_any_byte_is_peer_closed() -> None:
    with pytest.raises(PeerClosed):
        read(eof=True)
    with pytest.raises(PeerClosed):  # interim responses only: still no response
        read(b"HTTP/1.1 100 Continue\r\n\r\n", eof=True)


@pytest.mark.parametrize(
    ("pieces", "message"),
    [
        ((b"HTTP/1.1 200 OK\r\nContent-Le",), "peer unexpectedly closed connection"),
        (
            (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok",),
            r"without sending complete message body \(received 2 bytes, expected 10\)",
        ),
        ((b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",), r"\(incomplete chunked read\)"),
        ((b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n",), "incomplete chunked read"),
    ],
)
def test_a_close_in_the_middle_is_an_error(pieces: tuple[bytes, ...], message: str) -> None:
    reader = read(*pieces)
    with pytest.raises(HttpParseError, match=message):
        reader.eof()


def test_the_request_is_a_plain_get_with_headers_in_order() -> None:
    wire = request_bytes("/healthz?full=1", [("Host", "example.com"), ("Connection", "close"), ("X-Token", " a b ")])
    assert wire == b"GET /healthz?full=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\nX-Token: a b\r\n\r\n"


@pytest.mark.parametrize(
    ("target", "headers"),
    [("/a b", []), ("/", [("Bad Name", "x")]), ("/", [("X", "a\r\nInjected: yes")]), ("/", [("X", "\x00")])],
)
def test_a_request_that_cannot_be_framed_is_refused(target: str, headers: list[tuple[str, str]]) -> None:
    with pytest.raises(ValueError, match="illegal"):
        request_bytes(target, headers)
