"""`failover drill record|list` against a real SQLite store, and what the score makes of it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from failover.cli import cli
from failover.config import example_config
from failover.store import Store


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "failover.yaml"
    path.write_text(example_config().replace("sqlite:///failover.db", f"sqlite:///{tmp_path / 'f.db'}"))
    return path


def test_a_recorded_drill_is_listed_and_stored(tmp_path: Path) -> None:
    config = _config(tmp_path)
    runner = CliRunner()
    done = runner.invoke(
        cli,
        [
            "drill",
            "record",
            "checkout",
            "-c",
            str(config),
            "--recovery",
            "7m",
            "--at",
            "2026-11-20T14:00Z",
            "--notes",
            "game day",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "checkout drill of 2026-11-20 14:00 UTC, recovered in 7m" in done.output
    listed = runner.invoke(cli, ["drill", "list", "-c", str(config), "--format", "json"])
    assert json.loads(listed.output) == [
        {
            "workload": "checkout",
            "performed_at": "2026-11-20T14:00:00+00:00",
            "succeeded": True,
            "recovery_s": 420.0,
            "notes": "game day",
        }
    ]
    with Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
        assert store.latest_drills(["checkout"])["checkout"].recovery_s == 420.0


def test_drill_of_an_unknown_workload_or_bad_duration_is_a_usage_error(tmp_path: Path) -> None:
    config = _config(tmp_path)
    runner = CliRunner()
    unknown = runner.invoke(cli, ["drill", "record", "nope", "-c", str(config)])
    assert unknown.exit_code == 2 and "unknown workload 'nope'" in unknown.output
    bad = runner.invoke(cli, ["drill", "record", "checkout", "-c", str(config), "--recovery", "soon"])
    assert bad.exit_code == 2 and "--recovery" in bad.output
    assert "Traceback" not in unknown.output + bad.output
