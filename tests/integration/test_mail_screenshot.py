"""The HTML email renders in a real browser engine (headless Chromium). The test command installs it;
it may skip only outside CI, where it cannot be installed."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from failover.mail import render_weekly
from failover.store import Store
from tests.fixtures.smtp import ALICE, NOW, mail_config, seed_week

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.slow
def test_html_email_renders_in_headless_chromium(tmp_path: Path) -> None:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: scripts/test.sh installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
        seed_week(store)
        [email] = render_weekly(mail_config(None), store, now=NOW, owner=ALICE)
    page = tmp_path / "weekly.html"
    page.write_text(email.html, encoding="utf-8")
    shot = tmp_path / "weekly.png"
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=800,1200",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    data = shot.read_bytes()
    assert png_size(data) == (800, 1200)
    assert len(data) > 20_000  # a blank page compresses to a few kB; the email has text, bars and colour
