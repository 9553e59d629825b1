"""`failover init` and `failover validate`: exit codes, messages, and no tracebacks on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from failover.cli import cli
from failover.config import example_config
from tests.fixtures.config_text import BASE, line_of


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str, name: str = "failover.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_validate_subprocess_reports_located_error_without_traceback(tmp_path: Path) -> None:
    text = BASE.replace("rto: 15m", "rto: soon")
    path = write(tmp_path, text)
    proc = subprocess.run(
        [sys.executable, "-m", "failover", "validate", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"error: {path}:{line_of(text, 'rto: soon')}: workloads[0].targets.rto: "
        "expected a duration like 90s, 15m or 2h, got 'soon'\n"
    )


@pytest.mark.parametrize(
    ("edit", "needle", "expected"),
    [
        (("role: primary", "role: primary: x"), "primary: x", ":22: invalid YAML: mapping values are not allowed here"),
        (
            ("account: gcp-dr", "account: gcp-drr"),
            "gcp-drr",
            ": workloads[0].sites[1].account: unknown account 'gcp-drr' (known: aws-prod, gcp-dr)",
        ),
        (
            ("rto: 15m", "rto: soon"),
            "rto: soon",
            ": workloads[0].targets.rto: expected a duration like 90s, 15m or 2h, got 'soon'",
        ),
        (
            ("role: secondary", "role: primary"),
            "sites:",
            ": workloads[0].sites: expected exactly one primary site",
        ),
    ],
)
def test_malformed_config_exits_2_with_line_and_field(
    tmp_path: Path, edit: tuple[str, str], needle: str, expected: str
) -> None:
    text = BASE.replace(*edit)
    path = write(tmp_path, text)
    code, out, err = run("validate", "-c", str(path))
    assert code == 2
    assert out == ""
    assert f"{path}:{line_of(text, needle)}{expected}" in err
    assert "Traceback" not in err


def test_several_problems_are_listed_one_per_line(tmp_path: Path) -> None:
    text = BASE.replace("rto: 15m", "rto: soon").replace("account: gcp-dr", "account: nowhere")
    path = write(tmp_path, text)
    code, _, err = run("validate", "-c", str(path))
    assert code == 2
    assert err.splitlines() == [
        f"error: {path}: 2 problems",
        f"  - {path}:{line_of(text, 'rto: soon')}: workloads[0].targets.rto: "
        "expected a duration like 90s, 15m or 2h, got 'soon'",
        f"  - {path}:{line_of(text, 'nowhere')}: workloads[0].sites[1].account: "
        "unknown account 'nowhere' (known: aws-prod, gcp-dr)",
    ]


def test_validate_json_lists_problems_and_exits_2(tmp_path: Path) -> None:
    text = BASE.replace("rto: 15m", "rto: soon")
    path = write(tmp_path, text)
    code, out, _ = run("validate", "-c", str(path), "--format", "json")
    assert code == 2
    assert json.loads(out) == {
        "valid": False,
        "path": str(path),
        "problems": [
            f"{path}:{line_of(text, 'rto: soon')}: workloads[0].targets.rto: "
            "expected a duration like 90s, 15m or 2h, got 'soon'"
        ],
    }


def test_validate_without_any_config_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FAILOVER_CONFIG", raising=False)
    code, _, err = run("validate")
    assert code == 2
    assert "no config file: ./failover.yaml does not exist and $FAILOVER_CONFIG is not set" in err


def test_init_then_validate_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FAILOVER_CONFIG", raising=False)
    code, out, _ = run("init")
    assert code == 0
    assert out.startswith("wrote failover.yaml")
    assert (tmp_path / "failover.yaml").read_text() == example_config()

    code, out, _ = run("validate")
    assert code == 0
    assert out.splitlines()[0] == "failover.yaml: valid: 3 accounts, 1 workload, 2 sites"
    assert "workload checkout (tier 1, RTO 15m, RPO 5m): aws-east (aws us-east-1) -> gcp-central" in out

    code, out, _ = run("validate", "--format", "json")
    assert code == 0
    summary = json.loads(out)
    assert summary["valid"] is True
    assert summary["counts"] == {"accounts": 3, "workloads": 1, "sites": 2}
    assert [s["provider"] for s in summary["workloads"][0]["sites"]] == ["aws", "gcp"]


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = write(tmp_path, "mine: true\n")
    code, _, err = run("init", str(path))
    assert code == 2
    assert err == f"error: {path} already exists; use --force to overwrite it\n"
    assert path.read_text() == "mine: true\n"

    code, _, _ = run("init", str(path), "--force")
    assert code == 0
    assert path.read_text() == example_config()


def test_init_into_a_directory_writes_failover_yaml_there(tmp_path: Path) -> None:
    code, _, _ = run("init", str(tmp_path))
    assert code == 0
    assert (tmp_path / "failover.yaml").read_text() == example_config()


def test_init_into_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run("init", str(tmp_path / "no" / "such.yaml"))
    assert code == 2
    assert err == f"error: {tmp_path / 'no' / 'such.yaml'}: directory {tmp_path / 'no'} does not exist\n"


def test_validate_warns_about_unset_mail_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_USER", raising=False)
    monkeypatch.setenv("SMTP_PASSWORD", "x")
    path = write(tmp_path, example_config())
    code, _, err = run("validate", "-c", str(path))
    assert code == 0
    assert err == "warning: mail.smtp.username_env: environment variable SMTP_USER is not set here\n"
