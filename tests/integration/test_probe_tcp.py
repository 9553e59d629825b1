"""The TCP probe against real listeners on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from failover.errors import ProbeError
from failover.model import Observation, ObsStatus
from probes.targets import TcpTarget
from probes.tcp import probe_tcp
from tests.fixtures.http import TcpServer


def probe(target: TcpTarget) -> Observation:
    return asyncio.run(probe_tcp(target))


def test_open_port_is_ok_with_connect_latency(banner_server: TcpServer) -> None:
    obs = probe(TcpTarget("127.0.0.1", banner_server.port))
    assert obs.status is ObsStatus.OK
    assert obs.probe == "tcp"
    assert obs.target == f"tcp://127.0.0.1:{banner_server.port}"
    assert obs.latency_ms is not None and obs.latency_ms > 0
    assert obs.data["address"] == f"127.0.0.1:{banner_server.port}"
    assert "banner" not in obs.data


def test_closed_port_fails_with_connection_refused(closed_port: int) -> None:
    obs = probe(TcpTarget("127.0.0.1", closed_port))
    assert obs.status is ObsStatus.FAILED
    assert obs.reason == "connection refused"


def test_banner_is_read_up_to_the_limit(banner_server: TcpServer) -> None:
    obs = probe(TcpTarget("127.0.0.1", banner_server.port, banner_bytes=7))
    assert obs.status is ObsStatus.OK
    assert obs.data["banner"] == "SSH-2.0"
    assert obs.data["banner_timeout"] is False


def test_expected_banner_must_appear(banner_server: TcpServer) -> None:
    ok = probe(TcpTarget("127.0.0.1", banner_server.port, banner_bytes=64, expect_banner="SSH-2.0"))
    assert ok.status is ObsStatus.OK
    bad = probe(TcpTarget("127.0.0.1", banner_server.port, banner_bytes=64, expect_banner="SMTP"))
    assert bad.status is ObsStatus.FAILED
    assert bad.reason.startswith("banner does not contain 'SMTP'")


def test_silent_service_times_out_the_banner_but_stays_ok(silent_server: TcpServer) -> None:
    obs = probe(TcpTarget("127.0.0.1", silent_server.port, banner_bytes=16, banner_timeout=0.1))
    assert obs.status is ObsStatus.OK
    assert obs.data["banner_timeout"] is True
    assert obs.data["banner"] == ""


def test_unresolvable_host_is_an_error() -> None:
    obs = probe(TcpTarget("no-such-host.invalid", 80, timeout=3))
    assert obs.status is ObsStatus.ERROR


def test_tcp_url_parsing() -> None:
    assert TcpTarget.parse("tcp://db.internal:5432") == TcpTarget("db.internal", 5432)
    assert TcpTarget.parse("tcp://[::1]:22").host == "::1"
    for bad in ("tcp://host", "tcp://host:0", "tcp://:80", "http://h:1"):
        with pytest.raises(ProbeError):
            TcpTarget.parse(bad)
