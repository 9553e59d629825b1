"""The HTML email renders in a real browser engine (headless Chromium). The test command installs it;
it may skip only outside CI, where it cannot be installed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from failover.mail import render_weekly
from failover.store import Store
from tests.fixtures.browser import png_size, require_chromium
from tests.fixtures.smtp import ALICE, NOW, mail_config, seed_week


@pytest.mark.slow
def test_html_email_renders_in_headless_chromium(tmp_path: Path) -> None:
    chromium = require_chromium()
    with Store.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
        seed_week(store)
        [email] = render_weekly(mail_config(None), store, now=NOW, owner=ALICE)
    page = tmp_path / "weekly.html"
    page.write_text(email.html, encoding="utf-8")
    shot = tmp_path / "weekly.png"
    subprocess.run(
        [
            chromium,
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
