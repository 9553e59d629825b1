"""Remote text never reaches a terminal raw: names and tags from clouds, HTTP headers, certificate
fields and drill notes are shown with their control characters escaped in every table, line and the
weekly email's text part, while JSON output keeps the exact value."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from failover.cli import cli
from failover.daemon.logs import JsonFormatter, TextFormatter, emit
from failover.mail import render_weekly
from failover.model import Drill
from failover.printable import escape_json_controls, printable
from failover.sandbox.azure import FakeArm
from failover.store import Store
from failover.store.urls import ENV_VAR
from tests.fixtures.hostile import HostileHttp
from tests.fixtures.smtp import ALICE, NOW, mail_config, reason, save_scores, score

EVIL_NAME = "payments-evil\x1b[31m"
EVIL_TAG = "\x1b]0;pwned\x07"
EVIL_HEADER = "\x1b[2J"
EVIL_LOCATION = "/moved\x1b]0;owned\x07\x9b2J"
SUB = "sub-1"


def raw_control(text: str) -> list[str]:
    """Raw control characters a terminal would act on (newline and tab are layout)."""
    return [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain name", "plain name"),
        ("café-ü", "café-ü"),
        (EVIL_NAME, "payments-evil\\x1b[31m"),
        ("a\nb\r\tc\x00", "a\\nb\\r\\tc\\x00"),
        ("\x7f\x9b", "\\x7f\\x9b"),
        ("abc\u202edcba", "abc\\u202edcba"),
        ("line\u2028sep", "line\\u2028sep"),
    ],
)
def test_printable_escapes_every_control_character(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert raw_control(printable(raw)) == []


def test_printable_can_keep_our_own_line_breaks() -> None:
    assert printable("one\x1b[0m\ntwo", keep_newlines=True) == "one\\x1b[0m\ntwo"


def test_json_escaping_keeps_the_exact_value() -> None:
    value = {"name": "evil\x9b2J\u202e" + EVIL_NAME}
    dumped = escape_json_controls(json.dumps(value, ensure_ascii=False))
    assert raw_control(dumped) == [] and "\u202e" not in dumped
    assert json.loads(dumped) == value


# ------------------------------------------------------------------------------------------ the CLI
@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("FAILOVER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "400")  # wide tables: the strings looked for stay on one line
    return CliRunner()


@pytest.fixture
def estate(fake_arm: FakeArm, hostile_http: HostileHttp, tmp_path: Path) -> Path:
    """An Azure estate with a hostile VM name and tag, and a secondary endpoint whose server answers a
    redirect with escapes in Location and Server."""
    fake_arm.add_resource_group(SUB, "rg-east", location="eastus")
    fake_arm.add_resource_group(SUB, "rg-west", location="westus")
    fake_arm.add_vm(SUB, "rg-east", EVIL_NAME, size="Standard_D2s_v3", tags={"app": "shop", "note": EVIL_TAG})
    fake_arm.add_vm(SUB, "rg-west", "web-dr", size="Standard_D2s_v3", location="westus", tags={"app": "shop"})
    head = f"HTTP/1.1 302 Found\r\nServer: {EVIL_HEADER}\r\nLocation: {EVIL_LOCATION}\r\nContent-Length: 0\r\n\r\n"
    hostile_http.script = [head.encode("latin-1")]
    config = {
        "database": f"sqlite:///{tmp_path / 'f.db'}",
        "accounts": [
            {
                "name": "az",
                "provider": "azure",
                "subscriptions": [SUB],
                "endpoint": fake_arm.url,
                "credentials": "anonymous",
                "timeout": "5s",
            }
        ],
        "workloads": [
            {
                "name": "shop",
                "owners": [ALICE],
                "sites": [
                    {
                        "name": "east",
                        "role": "primary",
                        "account": "az",
                        "regions": ["eastus"],
                        "select": {"tags": {"app": "shop"}},
                    },
                    {
                        "name": "west",
                        "role": "secondary",
                        "account": "az",
                        "regions": ["westus"],
                        "select": {"tags": {"app": "shop"}},
                        "endpoints": [{"url": hostile_http.url("/healthz")}],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "failover.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def shown_safely(result: Result) -> str:
    text = result.stdout + result.stderr
    assert raw_control(text) == [], [hex(ord(c)) for c in raw_control(text)]
    return text


def test_inventory_table_escapes_names_and_json_keeps_them(runner: CliRunner, estate: Path) -> None:
    table = runner.invoke(cli, ["inventory", "-c", str(estate), "--no-store"])
    assert table.exit_code == 0, table.output
    assert "payments-evil\\x1b[31m" in shown_safely(table)
    as_json = runner.invoke(cli, ["inventory", "-c", str(estate), "--no-store", "--format", "json"])
    rows = json.loads(as_json.stdout)
    evil = next(r for r in rows if r["name"] == EVIL_NAME)
    assert evil["tags"]["note"] == EVIL_TAG


def test_check_and_explain_show_a_hostile_redirect_escaped(runner: CliRunner, estate: Path) -> None:
    check = runner.invoke(cli, ["check", "-c", str(estate)])
    assert check.exit_code in (0, 1), check.output
    assert "/moved\\x1b]0;owned\\x07\\x9b2J" in shown_safely(check)
    explain = runner.invoke(cli, ["explain", "shop", "-c", str(estate)])
    assert explain.exit_code == 0, explain.output
    assert "/moved\\x1b]0;owned\\x07\\x9b2J" in shown_safely(explain)
    as_json = runner.invoke(cli, ["explain", "shop", "-c", str(estate), "--format", "json"])
    reasons = [f["reason"] for f in json.loads(as_json.stdout)["findings"]]
    assert any(EVIL_LOCATION in r for r in reasons)


def test_probe_table_escapes_server_header_and_json_keeps_it(runner: CliRunner, hostile_http: HostileHttp) -> None:
    hostile_http.script = [f"HTTP/1.1 200 OK\r\nServer: {EVIL_HEADER}\r\nContent-Length: 2\r\n\r\nok".encode()]
    table = runner.invoke(cli, ["probe", hostile_http.url()])
    assert table.exit_code == 0, table.output
    assert "\\x1b[2J" in shown_safely(table)
    as_json = runner.invoke(cli, ["probe", hostile_http.url(), "--format", "json"])
    assert json.loads(as_json.stdout)["data"]["headers"]["server"] == EVIL_HEADER


def test_drill_list_escapes_notes(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    config = tmp_path / "failover.yaml"
    config.write_text(yaml.safe_dump({"database": f"sqlite:///{db}"}))
    with Store.open(f"sqlite:///{db}") as store:
        store.record_drill(Drill("shop", datetime.now(UTC) - timedelta(days=1), True, 300.0, "ok \x1b[2J\x1b]0;x\x07"))
    table = runner.invoke(cli, ["drill", "list", "-c", str(config)])
    assert table.exit_code == 0, table.output
    assert "ok \\x1b[2J\\x1b]0;x\\x07" in shown_safely(table)
    as_json = runner.invoke(cli, ["drill", "list", "-c", str(config), "--format", "json"])
    assert json.loads(as_json.stdout)[0]["notes"] == "ok \x1b[2J\x1b]0;x\x07"


# ------------------------------------------------------------------------------- email and logs
def test_weekly_email_text_part_escapes_remote_text(store: Store) -> None:
    bad = reason("secondary.health", "fail", f"VM {EVIL_NAME} answered {EVIL_LOCATION}", 20, subject=EVIL_NAME)
    save_scores(store, [score("checkout", 40, NOW - timedelta(hours=1), [bad])])
    [email] = render_weekly(mail_config(None), store, now=NOW, owner=ALICE)
    plain = email.message.get_body(preferencelist=("plain",))
    assert plain is not None
    text = plain.get_content()  # type: ignore[attr-defined]
    assert raw_control(text) == []
    assert "payments-evil\\x1b[31m" in text and "/moved\\x1b]0;owned\\x07\\x9b2J" in text
    assert raw_control(email.html) == []


def _format(formatter: logging.Formatter, **fields: Any) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    log = logging.getLogger("failover.test.printable")
    log.addHandler(handler)
    log.propagate = False
    try:
        emit(log, logging.WARNING, "inventory.gap", f"scope {EVIL_NAME}\nforged line", **fields)
    finally:
        log.removeHandler(handler)
    return stream.getvalue()


def test_text_log_line_is_one_printable_line() -> None:
    line = _format(TextFormatter(), resource=EVIL_NAME, header=EVIL_HEADER)
    assert raw_control(line) == [] and line.count("\n") == 1
    assert "payments-evil\\x1b[31m" in line


def test_json_log_keeps_the_exact_values() -> None:
    line = _format(JsonFormatter(), resource=EVIL_NAME, location=EVIL_LOCATION)
    assert raw_control(line.rstrip("\n")) == []
    record = json.loads(line)
    assert record["resource"] == EVIL_NAME and record["location"] == EVIL_LOCATION
