"""``failover whatif`` through the CLI over a real SQLite store holding the ready estate (AWS us-east-1
primary, GCP secondary, health-checked Route 53 failover records): exit codes, one-screen errors on
bad input, the JSON shape, ``--all-providers``, ``--workload``, and the score JSON's ``whatif``."""

from __future__ import annotations

import email
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from failover.cli import cli
from failover.model import Kind, Score, Status
from failover.store import Store
from failover.store.urls import ENV_VAR
from tests.factories import config_data, drop_resources, ready_inventory, ready_observations, restamped

KEYS = ["workload", "down", "survives", "serving_site", "rto_estimate_s", "rto_verdict", "rpo_exposure_s", "reasons"]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("FAILOVER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def estate(tmp_path: Path, *, observations: bool = True, **workload: Any) -> Path:
    """The config file and a store holding the ready estate (no data stores), inventoried and probed now."""
    data = {**config_data(**workload), "database": str(tmp_path / "f.db")}
    path = tmp_path / "failover.yaml"
    path.write_text(yaml.safe_dump(data))
    invs, seen = restamped(
        datetime.now(UTC),
        drop_resources(ready_inventory(), lambda r: r.kind in (Kind.DB_INSTANCE, Kind.STORAGE_BUCKET)),
        ready_observations(),
    )
    with Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
        run = store.start_run("check")
        store.save_inventory(run, invs)
        if observations:
            store.save_observations(run, seen)
        store.save_scores(run, [Score("checkout", Status.READY, 100.0, rto_estimate_s=90.0, rto_target_s=900.0)])
    return path


def invoke(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_region_outage_the_secondary_survives_exits_0(runner: CliRunner, tmp_path: Path) -> None:
    cfg = estate(tmp_path)
    result = invoke(runner, "whatif", "-c", str(cfg), "--down", "aws:us-east-1", "--format", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert list(row)[: len(KEYS)] == KEYS
    assert (row["workload"], row["down"], row["survives"], row["serving_site"]) == (
        "checkout",
        "aws:us-east-1",
        "yes",
        "gcp-central",
    )
    assert (row["rto_estimate_s"], row["rto_verdict"], row["rpo_exposure_s"], row["reasons"]) == (
        90.0,
        "within",
        0.0,
        [],
    )


def test_provider_outage_takes_route53_down_exits_1_with_reasons(runner: CliRunner, tmp_path: Path) -> None:
    cfg = estate(tmp_path)
    result = invoke(runner, "whatif", "-c", str(cfg), "--down", "aws", "--format", "json")
    assert result.exit_code == 1
    [row] = json.loads(result.stdout)
    assert row["survives"] == "no" and row["serving_site"] is None and row["rto_verdict"] == "exceeds"
    assert {"check": "dns.failover_records"}.items() <= row["reasons"][0].items()
    assert all(set(r) == {"check", "message"} for r in row["reasons"])


def test_missing_probes_are_unknown_and_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    cfg = estate(tmp_path, observations=False)
    result = invoke(runner, "whatif", "-c", str(cfg), "--down", "aws:us-east-1", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["survives"] == "unknown"


def test_all_providers_prints_the_matrix_and_sentences(runner: CliRunner, tmp_path: Path) -> None:
    cfg = estate(tmp_path)
    result = invoke(runner, "whatif", "-c", str(cfg), "--all-providers")
    assert result.exit_code == 1  # aws down takes Route 53 with it
    assert "If AWS went down now: 0 of 1 workload would be serving within target" in result.stdout
    assert "If GCP went down now: 1 of 1 workload would be serving within target" in result.stdout
    rows = json.loads(invoke(runner, "whatif", "-c", str(cfg), "--all-providers", "--format", "json").stdout)
    assert [(r["down"], r["survives"]) for r in rows] == [("aws", "no"), ("gcp", "yes"), ("azure", "yes")]


def test_comma_list_and_repeated_down_keep_order_and_drop_duplicates(runner: CliRunner, tmp_path: Path) -> None:
    cfg = estate(tmp_path)
    args = ["whatif", "-c", str(cfg), "--down", "gcp,azure", "--down", "gcp", "--format", "json", "-w", "checkout"]
    result = invoke(runner, *args)
    assert result.exit_code == 0
    assert [r["down"] for r in json.loads(result.stdout)] == ["gcp", "azure"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--down", "ibm"], "unknown provider 'ibm' (expected one of: aws, gcp, azure)"),
        (["--down", "aws:mars-1"], "unknown aws region 'mars-1' (known: us-east-1, us-west-2)"),
        (["--down", "gcp:europe-west9"], "unknown gcp region 'europe-west9' (known: us-central1)"),
        (["--down", "gcp", "-w", "nope"], "unknown workload nope (known: checkout)"),
        ([], "say what goes down: --down PROVIDER[:REGION]"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path, args: list[str], expected: str) -> None:
    cfg = estate(tmp_path)
    result = invoke(runner, "whatif", "-c", str(cfg), *args)
    assert result.exit_code == 2
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_nothing_stored_yet_says_run_check_first(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "failover.yaml"
    path.write_text(yaml.safe_dump({**config_data(), "database": str(tmp_path / "empty.db")}))
    result = invoke(runner, "whatif", "-c", str(path), "--down", "aws")
    assert result.exit_code == 2 and "failover check" in result.output


def test_score_json_gains_the_whatif_row_and_keeps_its_fields(runner: CliRunner, tmp_path: Path) -> None:
    cfg = estate(tmp_path)
    [row] = json.loads(invoke(runner, "score", "-c", str(cfg), "--format", "json").stdout)
    assert {"workload", "status", "readiness", "rto_estimate_s", "reasons", "gates", "trend"} <= set(row)
    assert [(r["down"], r["survives"]) for r in row["whatif"]] == [("aws", "no"), ("gcp", "yes"), ("azure", "yes")]
    table = invoke(runner, "score", "-c", str(cfg)).stdout
    assert "If Azure went down now: 1 of 1 workload would be serving within target" in table


def test_exit_codes_through_a_real_process(tmp_path: Path) -> None:
    cfg = estate(tmp_path)
    env_run = [sys.executable, "-m", "failover", "whatif", "-c", str(cfg)]
    ok = subprocess.run([*env_run, "--down", "gcp"], capture_output=True, text=True, check=False)
    bad = subprocess.run([*env_run, "--down", "aws"], capture_output=True, text=True, check=False)
    usage = subprocess.run([*env_run, "--down", "oracle"], capture_output=True, text=True, check=False)
    assert (ok.returncode, bad.returncode, usage.returncode) == (0, 1, 2), (ok.stderr, bad.stderr, usage.stderr)
    assert "Traceback" not in usage.stderr and "unknown provider 'oracle'" in usage.stderr


def test_weekly_email_carries_the_sentences_and_the_matrix(runner: CliRunner, tmp_path: Path) -> None:
    cfg = estate(tmp_path)
    result = invoke(runner, "report", "-c", str(cfg), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "payments@example.com.html").read_text()
    eml = (tmp_path / "out" / "payments@example.com.eml").read_bytes().decode()
    sentence = "If AWS went down now: 0 of 1 workload would be serving within target"
    assert sentence in html
    assert "If a provider went down now" in html and "aws down" in html
    text = next(
        p.get_payload(decode=True).decode()
        for p in email.message_from_string(eml).walk()
        if p.get_content_type() == "text/plain"
    )
    assert sentence in text
    assert "checkout: aws down: no; gcp down: yes (unaffected); azure down: yes (unaffected)" in text
