"""``failover report``: files for a preview, --send through a real SMTP server, clear errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from failover.cli import cli
from failover.mail import week_of
from failover.store import Store
from failover.store.urls import ENV_VAR
from tests.fixtures.smtp import ALICE, BOB, SmtpServer, mail_config, mail_config_data, seed_week


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def write_config(tmp_path: Path, data: dict[str, Any]) -> Path:
    data = {**data, "database": str(tmp_path / "f.db")}
    path = tmp_path / "failover.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def seeded(tmp_path: Path) -> datetime:
    now = datetime.now(UTC)
    with Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
        seed_week(store, now - timedelta(minutes=5))
    return now


def test_report_writes_eml_and_html_per_owner_into_the_week_folder(
    runner: CliRunner, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    cfg = write_config(tmp_path, mail_config_data(smtp_server.smtp()))
    now = seeded(tmp_path)

    result = runner.invoke(cli, ["report", "-c", str(cfg)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "failover-reports" / week_of(mail_config(smtp_server.smtp()), now)
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{ALICE}.eml",
        f"{ALICE}.html",
        f"{BOB}.eml",
        f"{BOB}.html",
    ]
    msg = message_from_bytes((folder / f"{ALICE}.eml").read_bytes(), policy=policy.default)
    assert msg["To"] == ALICE and "Weekly readiness" in msg["Subject"]
    assert "checkout" in (folder / f"{ALICE}.html").read_text()
    assert f"wrote {folder.relative_to(tmp_path) / ALICE}.eml" in result.output
    assert smtp_server.received == []  # writing files sends nothing


def test_report_for_one_owner_into_a_chosen_dir_works_without_mail_config(runner: CliRunner, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, mail_config_data(None))
    seeded(tmp_path)

    result = runner.invoke(cli, ["report", "-c", str(cfg), "--owner", BOB, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{BOB}.eml", f"{BOB}.html"]


def test_report_send_delivers_once_per_week(runner: CliRunner, tmp_path: Path, smtp_server: SmtpServer) -> None:
    cfg = write_config(tmp_path, mail_config_data(smtp_server.smtp()))
    seeded(tmp_path)

    first = runner.invoke(cli, ["report", "-c", str(cfg), "--send"])
    assert first.exit_code == 0, first.output
    assert "sent" in first.output and ALICE in first.output and BOB in first.output
    second = runner.invoke(cli, ["report", "-c", str(cfg), "--send", "--owner", ALICE])
    assert second.exit_code == 0, second.output
    assert f"skipped {ALICE}: already delivered" in second.output
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [ALICE, BOB]


def test_report_send_failure_exits_3_with_the_reason(
    runner: CliRunner, tmp_path: Path, smtp_factory: Callable[..., SmtpServer]
) -> None:
    server = smtp_factory(refuse_first=100, refuse_reply="554 5.7.1 Relay denied")
    cfg = write_config(tmp_path, mail_config_data(server.smtp()))
    seeded(tmp_path)

    result = runner.invoke(cli, ["report", "-c", str(cfg), "--send"])
    assert result.exit_code == 3, result.output
    assert f"failed {ALICE}: SMTP 127.0.0.1:{server.port}: server replied: 554 5.7.1 Relay denied" in result.output
    again = runner.invoke(cli, ["report", "-c", str(cfg), "--send"])
    assert again.exit_code == 3 and "skipped" not in again.output  # failed sends were not recorded


def test_report_send_without_mail_config_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, mail_config_data(None))
    seeded(tmp_path)
    result = runner.invoke(cli, ["report", "-c", str(cfg), "--send"])
    assert result.exit_code == 2
    assert "--send needs a mail: section" in result.output
    assert "Traceback" not in result.output


def test_report_with_no_scores_writes_nothing_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, mail_config_data(None))
    result = runner.invoke(cli, ["report", "-c", str(cfg)])
    assert result.exit_code == 1
    assert "no scores in" in result.output and "failover check" in result.output
    assert not (tmp_path / "failover-reports").exists()


def test_report_for_an_unknown_owner_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, mail_config_data(None))
    seeded(tmp_path)
    result = runner.invoke(cli, ["report", "-c", str(cfg), "--owner", "carol@example.com"])
    assert result.exit_code == 2
    assert "no workload lists 'carol@example.com' as an owner" in result.output
