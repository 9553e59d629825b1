"""The status pages in a real browser engine (headless Chromium, installed by scripts/test.sh; this
test skips only outside CI when it is missing): a screenshot of the index and of a workload page at
desktop (1280 px) and phone (360 px) width, each checked for real content, for hostile names shown as
inert text, and, on the phone, for no sideways scrolling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from failover.model import utcnow
from failover.schema import Config
from failover.statuspage import write_site
from failover.store import Store
from tests.fixtures.browser import Browser, png_pixels
from tests.fixtures.daemon import DaemonProcess, write_config
from tests.fixtures.smtp import mail_config_data
from tests.fixtures.statuspage import HOSTILE_NAME, seed_month, whatif_rows

WIDTHS = (1280, 360)
HEIGHT = 900
TOKEN = "browser-status-token-0123456789"
HOSTILE_TEXT = "evil<script>alert(1)</script>\\u202e"  # the name as a reader sees it: markup as text, bidi escaped


def shows_content(png: bytes, width: int) -> None:
    """The screenshot is the viewport's size and is not blank: many pixels off the background colour,
    in several colours (badges, text, the sparkline)."""
    w, h, rows = png_pixels(png)
    assert (w, h) == (width, HEIGHT)
    bpp = len(rows[0]) // w
    background = rows[0][:3]
    off, colours = 0, set()
    for row in rows[::3]:
        for x in range(0, w * bpp, bpp * 3):
            px = row[x : x + 3]
            colours.add(px)
            off += px != background
    samples = len(rows[::3]) * len(range(0, w * bpp, bpp * 3))
    assert off / samples > 0.05, f"only {off / samples:.1%} of the page differs from its background"
    assert len(colours) > 20


def page_facts(b: Browser) -> dict[str, Any]:
    facts: dict[str, Any] = b.evaluate(
        """({
          scripts: document.scripts.length,
          active: document.querySelectorAll('img,iframe,object,embed,form,input').length,
          handlers: [...document.querySelectorAll('*')]
            .filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
          text: document.body.innerText,
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
          innerWidth: window.innerWidth,
          cell: getComputedStyle(document.querySelector('table.stack td')).display,
          sparklines: document.querySelectorAll('svg.spark').length,
          title: document.title,
        })"""
    )
    return facts


def check_page(b: Browser, width: int, shot: Path) -> dict[str, Any]:
    png = b.screenshot()
    shot.write_bytes(png)
    shows_content(png, width)
    facts = page_facts(b)
    assert facts["innerWidth"] == width
    assert facts["scripts"] == 0 and facts["active"] == 0 and facts["handlers"] == 0  # hostile text stayed text
    assert facts["scrollWidth"] <= facts["clientWidth"], f"the page scrolls sideways at {width} px: {facts}"
    assert facts["cell"] == ("block" if width < 600 else "table-cell")  # tables become cards on a phone
    assert facts["sparklines"] >= 1
    return facts


@pytest.mark.slow
def test_static_pages_render_at_desktop_and_phone_width_with_hostile_names_inert(
    tmp_path: Path, browser: Browser
) -> None:
    data = {**mail_config_data(None), "workloads": [], "database": f"sqlite:///{tmp_path / 'f.db'}"}
    config = Config.model_validate(data)
    with Store.open(data["database"]) as store:
        seed_month(store, utcnow(), (HOSTILE_NAME, "payments", "search"))
        files = write_site(config, store, tmp_path / "site", whatif=whatif_rows(HOSTILE_NAME))
    index, hostile_page = files[0], next(f for f in files[1:] if f.name.startswith("evil"))
    for width in WIDTHS:
        browser.open(index.as_uri(), width=width, height=HEIGHT)
        facts = check_page(browser, width, tmp_path / f"index-{width}.png")
        assert HOSTILE_TEXT in facts["text"] and "If aws went down now: 1 of 2 workloads" in facts["text"]
        assert facts["title"] == "failover status"
        # the what-if matrix scrolls inside its own box, never the page
        assert browser.evaluate("getComputedStyle(document.querySelector('.scroll')).overflowX") == "auto"
        browser.open(hostile_page.as_uri(), width=width, height=HEIGHT)
        facts = check_page(browser, width, tmp_path / f"workload-{width}.png")
        assert facts["title"] == f"{HOSTILE_TEXT} · failover status"
        assert '<script>alert("pwned")</script>' in facts["text"]  # a finding's message, shown as text
        assert browser.evaluate("document.querySelectorAll('details pre').length") >= 1
        assert browser.evaluate("document.querySelector('details').open") is False  # evidence starts collapsed
        back = browser.evaluate("document.querySelector('header a').href")
        assert back == index.as_uri()


@pytest.mark.slow
def test_served_pages_render_with_the_bearer_token_and_refuse_without_it(
    tmp_path: Path, browser: Browser, daemon_factory: Callable[..., DaemonProcess]
) -> None:
    data = mail_config_data(None)
    data["database"] = f"sqlite:///{tmp_path / 'f.db'}"
    data["daemon"] = {"check_interval": "3650d", "inventory_interval": "3650d", "status_token": "${STATUS_TOKEN}"}
    with Store.open(data["database"]) as store:
        seed_month(store, utcnow())
    cfg = write_config(tmp_path / "failover.yaml", data)
    offline = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    d = daemon_factory(cfg, env={**offline, "STATUS_TOKEN": TOKEN})
    d.wait_event("daemon.started")
    root = f"http://127.0.0.1:{d.port}/"
    auth = {"Authorization": f"Bearer {TOKEN}"}

    browser.open(root, width=360, height=HEIGHT)
    assert "unauthorized" in browser.evaluate("document.body.innerText")
    for width in WIDTHS:
        browser.open(root, width=width, height=HEIGHT, headers=auth)
        facts = check_page(browser, width, tmp_path / f"served-index-{width}.png")
        assert "checkout" in facts["text"] and "NOT_READY" in facts["text"]
        link = browser.evaluate("[...document.querySelectorAll('a')].find(a => a.textContent == 'checkout').href")
        assert link == root + "workloads/checkout"
        browser.open(link, width=width, height=HEIGHT, headers=auth)
        facts = check_page(browser, width, tmp_path / f"served-workload-{width}.png")
        assert facts["title"] == "checkout · failover status" and "dns.ttl" in facts["text"]
        assert '<script>alert("pwned")</script>' in facts["text"]
