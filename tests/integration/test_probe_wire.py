"""The HTTP probe's own connection handling (TLS on memory BIOs, probes/http1.py reading the response)
against scripted peers on 127.0.0.1 (``failover.sandbox.hostile``): plain ones, and a TLS one that
completes a real handshake (trustme CA) and then says exactly what a test scripts. Framing
(chunked, Content-Length, to the close with and without close_notify), truncation, broken status lines,
handshakes that stop halfway or never start, and timeouts by phase."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from failover.model import Observation, ObsStatus
from failover.sandbox.hostile import HOLD, HostileHttp, http_head
from probes.http import probe_http
from probes.targets import HttpTarget

CHUNKED = http_head(b"HTTP/1.1 200 OK", [(b"Transfer-Encoding", b"chunked")]) + b"3\r\nall\r\n3\r\n ok\r\n0\r\n\r\n"


def probe(target: HttpTarget) -> Observation:
    return asyncio.run(probe_http(target))


@pytest.fixture(scope="module")
def tls_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileHttp]:
    """A TLS peer completing a real handshake (trustme CA), then playing what a test scripts."""
    ca = trustme.CA()
    ca_file = Path(tmp_path_factory.mktemp("wire"), "ca.pem")
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with HostileHttp.start(tls=context, ca_file=str(ca_file)) as server:
        yield server


@pytest.fixture
def peer(tls_peer: HostileHttp) -> Iterator[HostileHttp]:
    tls_peer.script, tls_peer.notify, tls_peer.mode = [], True, "script"
    yield tls_peer


def tls_target(peer: HostileHttp, **kwargs: object) -> HttpTarget:
    return HttpTarget(peer.url(), ca_files=(peer.ca_file,), timeout=2.0, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ plain HTTP
def test_a_chunked_body_is_read_and_matched(hostile_http: HostileHttp) -> None:
    hostile_http.script = [CHUNKED]
    obs = probe(HttpTarget(hostile_http.url(), expect_body="all ok"))
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.data["body_bytes"] == 6 and obs.data["http_version"] == "1.1"


def test_a_body_delimited_by_the_close_is_read(hostile_http: HostileHttp) -> None:
    hostile_http.script = [b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall", b" ok"]
    obs = probe(HttpTarget(hostile_http.url(), expect_body="all ok"))
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.data["http_version"] == "1.0" and obs.data["headers"] == {"server": "old"}


def test_a_response_cut_short_fails_saying_how_much_came(hostile_http: HostileHttp) -> None:
    hostile_http.script = [http_head(b"HTTP/1.1 200 OK", [(b"Content-Length", b"10")]) + b"ok"]
    obs = probe(HttpTarget(hostile_http.url()))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == (
        "malformed HTTP response: peer closed connection without sending complete message body "
        "(received 2 bytes, expected 10)"
    )


def test_a_bad_status_line_fails_as_malformed(hostile_http: HostileHttp) -> None:
    hostile_http.script = [b"HTTP/1.1 abc\r\n\r\n"]
    obs = probe(HttpTarget(hostile_http.url()))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason.startswith("malformed HTTP response: illegal status line")


def test_a_close_without_a_response_fails(hostile_http: HostileHttp) -> None:
    hostile_http.script = []
    obs = probe(HttpTarget(hostile_http.url()))
    assert (obs.status, obs.reason) == (ObsStatus.FAILED, "connection closed before the response")
    assert obs.data["status_code"] is None and obs.latency_ms is None


def test_a_silent_server_times_out_waiting_for_the_response(hostile_http: HostileHttp) -> None:
    hostile_http.script = [HOLD]
    obs = probe(HttpTarget(hostile_http.url(), timeout=0.3))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == f"timed out after 0.3s waiting for the response (127.0.0.1:{hostile_http.port})"


def test_a_body_past_the_cap_is_truncated_not_waited_for(hostile_http: HostileHttp) -> None:
    hostile_http.script = [http_head(b"HTTP/1.1 200 OK", [(b"Content-Length", b"100000000")]) + b"x" * 5000, HOLD]
    obs = probe(HttpTarget(hostile_http.url(), max_body_bytes=1000, timeout=2.0))
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.data["body_bytes"] == 1000 and obs.data["body_truncated"] is True


# ------------------------------------------------------------------------------------------------- TLS
def test_tls_chunked_response_with_close_notify(peer: HostileHttp) -> None:
    peer.script = [CHUNKED]
    obs = probe(tls_target(peer, expect_body="all ok"))
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.data["tls"]["verified"] is True and obs.data["tls"]["protocol"] == "TLSv1.3"
    timings = obs.data["timings_ms"]
    assert timings["tls"] > 0 and timings["first_byte"] >= 0


@pytest.mark.parametrize("notify", [True, False])
def test_tls_body_to_the_close_with_or_without_close_notify(peer: HostileHttp, notify: bool) -> None:
    peer.script, peer.notify = [b"HTTP/1.1 200 OK\r\n\r\nall", b" ok"], notify
    obs = probe(tls_target(peer, expect_body="all ok"))
    assert obs.status is ObsStatus.OK, obs.reason
    assert obs.data["body_bytes"] == 6


def test_tls_response_cut_short_fails(peer: HostileHttp) -> None:
    peer.script = [http_head(b"HTTP/1.1 200 OK", [(b"Content-Length", b"10")]) + b"ok"]
    obs = probe(tls_target(peer))
    assert obs.status is ObsStatus.FAILED
    assert "received 2 bytes, expected 10" in obs.reason


def test_tls_bad_status_line_fails_as_malformed(peer: HostileHttp) -> None:
    peer.script = [b"SSH-2.0-OpenSSH\r\n\r\n"]
    obs = probe(tls_target(peer))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason.startswith("malformed HTTP response: illegal status line")


def test_a_peer_that_drops_the_handshake_fails_not_passes(peer: HostileHttp) -> None:
    peer.mode = "drop"
    obs = probe(tls_target(peer))
    assert obs.status is ObsStatus.FAILED
    assert "TLS handshake" in obs.reason or "connection" in obs.reason, obs.reason
    assert obs.data["status_code"] is None


def test_a_peer_that_never_answers_the_hello_times_out_in_the_handshake(peer: HostileHttp) -> None:
    peer.mode = "silent"
    obs = probe(HttpTarget(peer.url(), ca_files=(peer.ca_file,), timeout=0.3))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason.startswith("timed out after 0.3s in the TLS handshake (127.0.0.1:")


def test_every_probe_handshakes_afresh(peer: HostileHttp) -> None:
    """No session is offered for resumption: each probe verifies and reports the chain itself."""
    peer.script = [CHUNKED]
    first, second = probe(tls_target(peer)), probe(tls_target(peer))
    for obs in (first, second):
        assert obs.status is ObsStatus.OK, obs.reason
        assert obs.data["tls"]["verified"] is True and obs.data["tls"]["chain_length"] >= 1
        assert obs.data["timings_ms"]["tls"] > 0
