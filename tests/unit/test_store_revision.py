"""The schema head read from the migration scripts' declarations (``failover.store.revision``) is
Alembic's own head, and any script it cannot read with certainty sends the question to Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from failover.store import migrate
from failover.store.revision import script_head, scripts_directory


def _script(directory: Path, name: str, revision: str, down: object, **extra: object) -> None:
    lines = [f'"""{name}"""', "", f"revision: str = {revision!r}", f"down_revision: str | None = {down!r}"]
    lines += [f"{key} = {value!r}" for key, value in extra.items()]
    (directory / f"{name}.py").write_text("\n".join(lines) + "\n\ndef upgrade() -> None:\n    pass\n")


def test_the_shipped_scripts_head_is_alembics_head() -> None:
    alembic_head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert alembic_head is not None
    assert script_head(scripts_directory()) == alembic_head


def test_a_plain_chain_reads_its_last_revision(tmp_path: Path) -> None:
    _script(tmp_path, "0001_a", "0001", None)
    _script(tmp_path, "0003_c", "0003", "0002", branch_labels=None, depends_on=None)
    _script(tmp_path, "0002_b", "0002", "0001")
    assert script_head(tmp_path) == "0003"


@pytest.mark.parametrize(
    "extra_script",
    [
        pytest.param(("0003_merge", "0003", ("0002", "0001")), id="a merge"),
        pytest.param(("0003_branch", "0003", "0001"), id="two heads"),
        pytest.param(("0003_loose", "0003", "0009"), id="an unknown down revision"),
        pytest.param(("0003_again", "0002", "0002"), id="a revision declared twice"),
    ],
)
def test_anything_but_one_chain_is_left_to_alembic(tmp_path: Path, extra_script: tuple[str, str, object]) -> None:
    _script(tmp_path, "0001_a", "0001", None)
    _script(tmp_path, "0002_b", "0002", "0001")
    _script(tmp_path, *extra_script)
    assert script_head(tmp_path) is None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('revision = "0002"\n', id="no down_revision"),
        pytest.param('down_revision = "0001"\n', id="no revision"),
        pytest.param('revision = make_id()\ndown_revision = "0001"\n', id="not a literal"),
        pytest.param('revision = "0002"\ndown_revision = (\n    "0001",\n)\n', id="over several lines"),
        pytest.param('revision = "0002"\ndown_revision = "0001"\nbranch_labels = ("x",)\n', id="a branch label"),
        pytest.param('revision = "0002"\ndown_revision = "0001"\ndepends_on = "0001"\n', id="a dependency"),
        pytest.param('revision = "0002"\nrevision = "0003"\ndown_revision = "0001"\n', id="declared twice"),
    ],
)
def test_a_script_not_read_with_certainty_is_left_to_alembic(tmp_path: Path, text: str) -> None:
    _script(tmp_path, "0001_a", "0001", None)
    (tmp_path / "0002_b.py").write_text(text)
    assert script_head(tmp_path) is None


def test_no_scripts_have_no_head(tmp_path: Path) -> None:
    assert script_head(tmp_path) is None
