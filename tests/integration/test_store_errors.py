"""Database URLs, SQLite settings, and failures reported as one line without a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from failover.cli import cli
from failover.errors import ConfigError, StoreError
from failover.store import Store, display_url, migrate, normalize_url, resolve_database_url


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_env_url_overrides_the_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FAILOVER_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    assert resolve_database_url(f"sqlite:///{tmp_path}/config.db") == f"sqlite:///{tmp_path}/env.db"


def test_default_is_a_file_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FAILOVER_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert resolve_database_url(None) == f"sqlite:///{tmp_path}/data/failover/failover.db"
    assert (tmp_path / "data" / "failover").is_dir()


def test_relative_sqlite_paths_are_relative_to_the_current_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert normalize_url("sqlite:///state/f.db") == f"sqlite:///{tmp_path}/state/f.db"
    assert normalize_url("f.db") == f"sqlite:///{tmp_path}/f.db"
    assert normalize_url("sqlite:////abs/f.db") == "sqlite:////abs/f.db"


def test_postgres_urls_use_psycopg_3() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"


def test_unsupported_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unsupported backend 'mysql'"):
        normalize_url("mysql://u@h/db")


def test_display_url_hides_the_password() -> None:
    assert display_url("postgresql+psycopg://app:s3cret@db.internal/failover") == (
        "postgresql+psycopg://app:***@db.internal/failover"
    )


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path}/f.db") as store, store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


def test_sqlite_in_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(f"sqlite:///{tmp_path}/no/such/dir/f.db")


def test_postgres_on_a_closed_port_is_a_store_error_without_the_password() -> None:
    url = f"postgresql://app:s3cret@127.0.0.1:{_closed_port()}/failover"
    with pytest.raises(StoreError) as info:
        Store.open(url)
    message = str(info.value)
    assert "s3cret" not in message and "app:***@127.0.0.1" in message
    assert "\n" not in message


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are not the tables you are looking for\n" * 100)
    with pytest.raises(StoreError, match="cannot"):
        Store.open(f"sqlite:///{bogus}")
    assert bogus.read_text().startswith("these are not")  # left as it was


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/no/such/dir/f.db",
        "postgresql://app:s3cret@127.0.0.1:{port}/failover",
    ],
)
def test_cli_reports_an_unopenable_database_in_one_line(url: str, tmp_path: Path) -> None:
    url = url.format(tmp=tmp_path, port=_closed_port())
    proc = subprocess.run(
        [sys.executable, "-m", "failover", "db", "upgrade", "--database", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot open database"), proc.stderr
    assert "s3cret" not in proc.stderr


def test_cli_upgrade_then_current(store_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["db", "upgrade", "--database", store_url])
    assert result.exit_code == 0, result.output
    assert f"revision {migrate.head_revision()} (head)" in result.output
    result = runner.invoke(cli, ["db", "current", "--database", store_url])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{display_url(store_url)}: revision {migrate.head_revision()} (head)"


@pytest.mark.postgres
def test_cli_current_hides_the_password(pg_database: str) -> None:
    with_password = pg_database.replace("postgres@", "postgres:s3cret@")  # trust auth ignores it
    result = CliRunner().invoke(cli, ["db", "current", "--database", with_password])
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output and "postgres:***@" in result.output


def test_cli_downgrade_to_base_empties_the_schema(store_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade", "--database", store_url]).exit_code == 0
    result = runner.invoke(cli, ["db", "downgrade", "base", "--database", store_url])
    assert result.exit_code == 0, result.output
    assert "now at revision none" in result.output
    assert "head is" in runner.invoke(cli, ["db", "current", "--database", store_url]).output


def test_cli_current_does_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["db", "current", "--database", f"sqlite:///{tmp_path}/new.db"])
    assert result.exit_code == 0 and "no database yet" in result.output
    assert not (tmp_path / "new.db").exists()


def test_cli_database_comes_from_option_then_env_then_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FAILOVER_CONFIG", raising=False)
    monkeypatch.delenv("FAILOVER_DATABASE_URL", raising=False)
    (tmp_path / "failover.yaml").write_text("database: sqlite:///from-config.db\n")
    runner = CliRunner()
    assert "from-config.db" in runner.invoke(cli, ["db", "upgrade"]).output
    assert (tmp_path / "from-config.db").exists()
    monkeypatch.setenv("FAILOVER_DATABASE_URL", f"sqlite:///{tmp_path}/from-env.db")
    assert "from-env.db" in runner.invoke(cli, ["db", "upgrade"]).output
    result = runner.invoke(cli, ["db", "upgrade", "--database", f"sqlite:///{tmp_path}/from-option.db"])
    assert "from-option.db" in result.output
