"""``failover probe``: one probe by hand, its output and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from failover.cli import cli
from failover.sandbox.dns import AuthoritativeServer
from tests.fixtures.http import PUBLIC_NAME, Site, TcpServer, TlsSites


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["probe", *args])


def test_ok_probe_prints_a_table_and_exits_0(http_site: Site) -> None:
    result = run(http_site.url("/ok"))
    assert result.exit_code == 0, result.output
    assert "HTTP 200 in" in result.output
    assert "timings_ms.connect" in result.output


def test_failed_probe_exits_1_with_the_observation_as_json(closed_port: int) -> None:
    result = run(f"http://127.0.0.1:{closed_port}/", "--format", "json")
    assert result.exit_code == 1
    obs = json.loads(result.output)
    assert obs["probe"] == "http"
    assert obs["status"] == "failed"
    assert obs["reason"].startswith("connection refused")
    assert set(obs) >= {"target", "latency_ms", "observed_at", "data"}


def test_unexpected_status_exits_1_and_expected_one_exits_0(http_site: Site) -> None:
    assert run(http_site.url("/status/503")).exit_code == 1
    assert run(http_site.url("/status/503"), "--expect-status", "503", "--expect-status", "200").exit_code == 0


def test_body_and_json_expectations(http_site: Site) -> None:
    assert run(http_site.url("/json"), "--expect-json", "$.status=ok", "--expect-json", "$.version=3").exit_code == 0
    result = run(http_site.url("/json"), "--expect-json", "$.version=4", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.output)["reason"] == "$.version is 3 (expected 4)"
    assert run(http_site.url("/ok"), "--expect-body", "/build [0-9]+/").exit_code == 0


def test_as_name_with_ca_file_verifies_the_public_name(tls_sites: TlsSites) -> None:
    ok = run(tls_sites.valid.url(), "--as-name", PUBLIC_NAME, "--ca-file", tls_sites.ca_file, "--format", "json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["data"]["tls"]["verified"] is True
    wrong = run(tls_sites.wrong_name.url(), "--as-name", PUBLIC_NAME, "--ca-file", tls_sites.ca_file)
    assert wrong.exit_code == 1
    assert "does not cover" in wrong.output


def test_warn_exits_0(tls_sites: TlsSites) -> None:
    result = run(tls_sites.soon.url(), "--ca-file", tls_sites.ca_file, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["status"] == "warn"


def test_global_ca_file_comes_from_the_config(tls_sites: TlsSites, tmp_path: Path) -> None:
    config = tmp_path / "failover.yaml"
    config.write_text(f"tls:\n  ca_file: {tls_sites.ca_file}\n")
    result = run(tls_sites.valid.url(), "-c", str(config))
    assert result.exit_code == 0, result.output
    assert run(tls_sites.valid.url()).exit_code == 1  # without it the test CA is not trusted


def test_tcp_target(banner_server: TcpServer, closed_port: int) -> None:
    result = run(f"tcp://127.0.0.1:{banner_server.port}", "--banner", "7", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["data"]["banner"] == "SSH-2.0"
    assert run(f"tcp://127.0.0.1:{closed_port}").exit_code == 1


def test_dns_name_with_server_and_type() -> None:
    zone = {"example.test": [("www", 60, "A", "192.0.2.1"), ("www", 60, "AAAA", "2001:db8::1")]}
    with AuthoritativeServer(zone) as server:
        ok = run("www.example.test", "--dns-server", server.address, "--type", "AAAA", "--format", "json")
        missing = run("nope.example.test", "--dns-server", server.address, "--timeout", "2s")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["probe"] == "dns"
    assert missing.exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.com/"], "unsupported scheme"),
        (["tcp://example.com"], "expected host:port"),
        (["example.com", "--as-name", "x.example.com"], "--as-name cannot be used with DNS targets"),
        (["tcp://h:1", "--expect-status", "200"], "--expect-status cannot be used with TCP targets"),
        (["http://127.0.0.1/", "--dns-server", "127.0.0.1:53"], "--dns-server cannot be used with HTTP targets"),
        (["example.com", "--dns-server", "127.0.0.1:99999"], "port must be 1-65535"),
        (["example.com", "--type", "BOGUS"], "bad DNS question"),
        (["http://127.0.0.1/", "--timeout", "soon"], "expected a duration"),
        (["http://127.0.0.1/", "--expect-body", "/[/"], "bad body regex"),
        (["http://127.0.0.1/", "--expect-json", "$.a[*]=1"], "unsupported JSON path"),
        (["http://127.0.0.1/", "--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
