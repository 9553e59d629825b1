"""Exit codes mean what the README's table says: gates that cannot be switched off by odd numbers,
durations and URLs that give a usage error instead of a traceback, ``--debug`` that only adds the
traceback, and ``score``/``check`` exit codes for "nothing stored" and "inventory incomplete"."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from failover.cli import cli
from failover.model import Drill, Inventory, ScopeError
from failover.store import Store
from failover.store.urls import ENV_VAR
from tests.fixtures.smtp import mail_config_data, save_scores, score


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("FAILOVER_CONFIG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'f.db'}"


def write_config(tmp_path: Path, data: dict[str, Any] | None = None) -> Path:
    data = {**(data or mail_config_data(None)), "database": str(tmp_path / "f.db")}
    path = tmp_path / "failover.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def seed_scores(tmp_path: Path, readiness: float = 90.0) -> None:
    now = datetime.now(UTC)
    with Store.open(db_url(tmp_path)) as store:
        save_scores(
            store, [score(n, readiness, now - timedelta(minutes=1)) for n in ("checkout", "payments", "search")]
        )


def invoke(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


# ------------------------------------------------------------------------------------ --fail-under


@pytest.mark.parametrize("command", ["score", "check"])
@pytest.mark.parametrize("value", ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e999", "-0.1", "100.5", "ten"])
def test_fail_under_refuses_values_that_would_disable_the_gate(
    runner: CliRunner, tmp_path: Path, command: str, value: str
) -> None:
    write_config(tmp_path)
    result = invoke(runner, command, "--fail-under", value)
    assert result.exit_code == 2, result.output
    assert "--fail-under" in result.output and "between 0 and 100" in result.output


def test_fail_under_nan_no_longer_passes_a_low_score(runner: CliRunner, tmp_path: Path) -> None:
    write_config(tmp_path)
    seed_scores(tmp_path, readiness=10.0)
    assert invoke(runner, "score", "--fail-under", "nan").exit_code == 2
    gate = invoke(runner, "score", "--fail-under", "50")
    assert gate.exit_code == 1 and "below --fail-under 50" in gate.stderr
    assert invoke(runner, "score", "--fail-under", "0").exit_code == 0
    assert invoke(runner, "score", "--fail-under", "1e1").exit_code == 0  # 10 is not below 10


# ------------------------------------------------------------------------------------ durations


@pytest.mark.parametrize("since", ["99999999999999d", "1" + "0" * 400 + "s", "3651d", "nan", "inf", "-1d", "soon"])
def test_score_since_out_of_range_is_a_usage_error(runner: CliRunner, tmp_path: Path, since: str) -> None:
    write_config(tmp_path)
    seed_scores(tmp_path)  # the trend lookup subtracts --since from a stored time
    result = invoke(runner, "score", "--since", since)
    assert result.exit_code == 2, result.output
    assert "--since" in result.output


def test_score_since_of_ten_years_still_works(runner: CliRunner, tmp_path: Path) -> None:
    write_config(tmp_path)
    seed_scores(tmp_path)
    assert invoke(runner, "score", "--since", "3650d").exit_code == 0


@pytest.mark.parametrize("timeout", ["99999999999999d", "nan", "0", "1" + "0" * 400])
def test_probe_timeout_out_of_range_is_a_usage_error(runner: CliRunner, timeout: str) -> None:
    result = invoke(runner, "probe", "tcp://127.0.0.1:9", "--timeout", timeout)
    assert result.exit_code == 2, result.output
    assert "--timeout" in result.output


def test_drill_recovery_out_of_range_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    write_config(tmp_path)
    result = invoke(runner, "drill", "record", "checkout", "--recovery", "99999999999999d")
    assert result.exit_code == 2 and "--recovery" in result.output


# ------------------------------------------------------------------------------------ probe targets


@pytest.mark.parametrize(
    "target",
    [
        "http://[::1",
        "https://[::1/healthz",
        "http://[not-an-ip]/",
        "http://host:99999/",
        "http://host:port/",
        "http://",
        "http://exa mple.com/",
        "http://example.com\x00/",
        "tcp://[::1",
        "tcp://host:0",
        "ftp://example.com/",
    ],
)
def test_probe_of_a_malformed_url_is_a_usage_error(runner: CliRunner, target: str) -> None:
    result = invoke(runner, "probe", target)
    assert result.exit_code == 2, result.output
    assert "Error" in result.output


@pytest.mark.parametrize("server", ["not a host:port", "[::1", "127.0.0.1:0", "127.0.0.1:99999", "a..b:53"])
def test_probe_dns_server_must_be_a_host_and_port(runner: CliRunner, server: str) -> None:
    result = invoke(runner, "probe", "example.com", "--dns-server", server)
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize("name", ["not a host", "exa\x1bmple.com", ""])
def test_probe_as_name_must_be_a_host_name(runner: CliRunner, name: str) -> None:
    result = invoke(runner, "probe", "https://127.0.0.1:9/", "--as-name", name)
    assert result.exit_code == 2, result.output


# ------------------------------------------------------------------------------------ database URL


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@[::1:5432/db",
        "postgresql+nosuchdriver://u@127.0.0.1/db",
        "postgresql+psycopg2://u@127.0.0.1/db",
        "postgresql://u@127.0.0.1:99999/db",
        "postgresql://u@127.0.0.1:/db",
        "postgresql://u@bad host/db",
        "mysql://u@127.0.0.1/db",
        "garbage",
        "sqlite://host/f.db",
        "sqlite:///f.db?timeout=soon",
        "sqlite:///f%00.db",
    ],
)
@pytest.mark.parametrize("command", [("db", "current"), ("score",), ("drill", "list")])
def test_a_malformed_database_url_exits_2_naming_the_accepted_forms(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv(ENV_VAR, url)
    result = invoke(runner, *command)
    assert result.exit_code == 2, result.output
    assert "sqlite:///" in result.stderr and "postgresql://" in result.stderr
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1  # one line
    assert not (tmp_path / "garbage").exists() and not (tmp_path / "f.db").exists()


def test_a_database_url_error_never_shows_the_password(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_VAR, "postgresql://app:s3cret@[::1:5432/db")
    result = invoke(runner, "db", "current")
    assert result.exit_code == 2 and "s3cret" not in result.output


# ------------------------------------------------------------------------------------ --debug


def test_debug_keeps_the_exit_code_and_adds_the_traceback(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("workloads: 3\n")
    plain = invoke(runner, "validate", "-c", "bad.yaml")
    assert plain.exit_code == 2
    debug = runner.invoke(cli, ["--debug", "validate", "-c", "bad.yaml"])
    assert debug.exit_code == 2
    assert "Traceback" in debug.stderr and "ConfigError" in debug.stderr
    assert plain.stderr.strip() in debug.stderr


def test_debug_keeps_exit_3_for_an_operational_error(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_VAR, f"sqlite:///{tmp_path}/no/such/dir/f.db")
    write_config(tmp_path, {})
    assert invoke(runner, "score").exit_code == 3
    proc = subprocess.run(
        [sys.executable, "-m", "failover", "--debug", "score"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**_env(), ENV_VAR: f"sqlite:///{tmp_path}/no/such/dir/f.db"},
    )
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" in proc.stderr and "StoreError" in proc.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in (ENV_VAR, "FAILOVER_CONFIG")}


# ------------------------------------------------------------------------------------ score / check


def test_score_with_nothing_stored_exits_1_and_says_to_run_check(runner: CliRunner, tmp_path: Path) -> None:
    write_config(tmp_path)
    table = invoke(runner, "score")
    assert table.exit_code == 1
    assert "no scores stored yet" in table.stderr and "failover check" in table.stderr
    as_json = invoke(runner, "score", "--format", "json")
    assert as_json.exit_code == 1 and as_json.stdout.strip() == "[]"


def test_score_with_some_workloads_scored_exits_0_and_names_the_rest(runner: CliRunner, tmp_path: Path) -> None:
    write_config(tmp_path)
    with Store.open(db_url(tmp_path)) as store:
        save_scores(store, [score("checkout", 90, datetime.now(UTC))])
    result = invoke(runner, "score")
    assert result.exit_code == 0
    assert "no score yet for payments, search" in result.stderr
    assert invoke(runner, "score", "--fail-under", "50").exit_code == 1  # unscored is below any gate


def _offline_workload() -> dict[str, Any]:
    """One workload with no endpoints or DNS: a `check --no-inventory` cycle runs no probe."""
    data = mail_config_data(None)
    data["workloads"] = data["workloads"][:1]
    return data


def _store_inventory(tmp_path: Path, *, incomplete: bool) -> None:
    gaps = [ScopeError("us-west-2", "access_denied", "AccessDenied: not authorized")] if incomplete else []
    with Store.open(db_url(tmp_path)) as store:
        run = store.start_run("inventory")
        store.save_inventory(run, [Inventory("aws", "aws", incomplete=gaps), Inventory("gcp", "gcp")])


def test_check_with_an_incomplete_inventory_fails_the_gate_but_not_the_report(
    runner: CliRunner, tmp_path: Path
) -> None:
    write_config(tmp_path, _offline_workload())
    _store_inventory(tmp_path, incomplete=True)
    report = invoke(runner, "check", "--no-inventory")
    assert report.exit_code == 0
    assert "inventory of aws incomplete at us-west-2" in report.stderr
    gate = invoke(runner, "check", "--no-inventory", "--fail-under", "0")
    assert gate.exit_code == 1
    assert "gate: checkout: inventory incomplete (aws us-west-2: " in gate.stderr


def test_check_with_a_complete_inventory_passes_a_gate_it_meets(runner: CliRunner, tmp_path: Path) -> None:
    write_config(tmp_path, _offline_workload())
    _store_inventory(tmp_path, incomplete=False)
    assert invoke(runner, "check", "--no-inventory", "--fail-under", "0").exit_code == 0
    assert invoke(runner, "check", "--no-inventory", "--fail-under", "100").exit_code == 1


# ------------------------------------------------------------------------------------ drills


@pytest.mark.parametrize("delta", [timedelta(minutes=6), timedelta(days=365 * 973)])
def test_a_drill_dated_in_the_future_is_refused(runner: CliRunner, tmp_path: Path, delta: timedelta) -> None:
    write_config(tmp_path)
    at = (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = invoke(runner, "drill", "record", "checkout", "--at", at)
    assert result.exit_code == 2, result.output
    assert "--at" in result.output and "future" in result.output
    with Store.open(db_url(tmp_path)) as store:
        assert store.drills("checkout") == []


def test_a_drill_within_the_clock_skew_is_accepted(runner: CliRunner, tmp_path: Path) -> None:
    write_config(tmp_path)
    at = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    assert invoke(runner, "drill", "record", "checkout", "--at", at).exit_code == 0


@pytest.mark.parametrize("at", ["2026-13-01", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"])
def test_a_drill_time_that_is_not_a_real_time_is_a_usage_error(runner: CliRunner, tmp_path: Path, at: str) -> None:
    write_config(tmp_path)
    result = invoke(runner, "drill", "record", "checkout", "--at", at)
    assert result.exit_code == 2, result.output
    assert "--at" in result.output


@pytest.mark.parametrize("notes", ["line\x1b[2J", "two\nlines", "nul\x00"])
def test_drill_notes_with_control_characters_are_refused(runner: CliRunner, tmp_path: Path, notes: str) -> None:
    write_config(tmp_path)
    result = invoke(runner, "drill", "record", "checkout", "--notes", notes)
    assert result.exit_code == 2 and "--notes" in result.output


def test_a_stored_future_drill_does_not_hide_a_newer_failed_one(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with Store.open(db_url(tmp_path)) as store:
        store.record_drill(Drill("checkout", datetime(2999, 1, 1, tzinfo=UTC), succeeded=True, recovery_s=60))
        store.record_drill(Drill("checkout", now - timedelta(days=1), succeeded=False, notes="DNS never moved"))
        latest = store.latest_drills(["checkout"], now=now)
    assert latest["checkout"].succeeded is False
