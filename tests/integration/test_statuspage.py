"""The status pages through the real things: ``failover report --html`` on a stored SQLite estate,
the daemon's HTTP server (a subprocess) with and without ``daemon.status_token``, and the trend read
on SQLite and Postgres."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import pytest
from click.testing import CliRunner

from failover.cli import cli
from failover.model import utcnow
from failover.store import Store
from failover.store.urls import ENV_VAR
from tests.fixtures.daemon import DaemonProcess, write_config
from tests.fixtures.smtp import mail_config_data
from tests.fixtures.statuspage import HOSTILE_NAME, seed_month

TOKEN = "s3cret-status-token-0123456789abcdef"
# The daemon's jobs must leave the seeded scores alone while a test reads them: intervals far longer
# than any test, and cloud calls that cannot leave the machine (no credentials, a refused local port).
QUIET = {"check_interval": "3650d", "inventory_interval": "3650d"}
OFFLINE = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}


class _Links(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def estate(
    tmp_path: Path,
    *,
    workloads: bool = True,
    names: tuple[str, ...] = ("checkout", "payments", "search"),
    **daemon: Any,
) -> Path:
    data = mail_config_data(None)
    if not workloads:
        data["workloads"] = []
    data["database"] = f"sqlite:///{tmp_path / 'f.db'}"
    data["daemon"] = {**QUIET, **daemon}
    with Store.open(data["database"]) as store:
        seed_month(store, utcnow(), names)
    return write_config(tmp_path / "failover.yaml", data)


# -- failover report --html ------------------------------------------------------------------


def test_report_html_writes_an_index_and_a_page_per_workload_with_relative_links(
    runner: CliRunner, tmp_path: Path
) -> None:
    cfg = estate(tmp_path)
    result = runner.invoke(cli, ["report", "-c", str(cfg), "--html", "site"])
    assert result.exit_code == 0, result.output
    assert "wrote site/index.html and 3 workload page(s)" in result.output
    site = tmp_path / "site"
    assert sorted(p.name for p in (site / "workloads").iterdir()) == ["checkout.html", "payments.html", "search.html"]
    index = (site / "index.html").read_text()
    links = [h for h in _Links(index).hrefs if not h.startswith("https://")]
    assert links == ["workloads/payments.html", "workloads/checkout.html", "workloads/search.html"]  # worst first
    for href in links:
        page = (site / href).read_text()
        assert _Links(page).hrefs[0] == "../index.html"
        assert (site / "workloads" / "../index.html").resolve() == (site / "index.html").resolve()
    checkout = (site / "workloads" / "checkout.html").read_text()
    assert "Readiness over 30 days: 90 → 60" in index  # the month's trend, from the stored history
    assert "payments" in index and "5 days without a score" in index
    assert "&gt; 20m / 15m" in index and "over target" in index
    assert "dns.ttl" in checkout and "<details><summary>evidence</summary>" in checkout
    assert "script" not in _Links(index).tags + _Links(checkout).tags
    assert not list(tmp_path.glob("failover-reports*"))  # no email written


def test_report_html_without_workloads_in_the_config_shows_every_stored_one_in_safe_files(
    runner: CliRunner, tmp_path: Path
) -> None:
    cfg = estate(tmp_path, workloads=False, names=(HOSTILE_NAME, "payments", "search"))
    result = runner.invoke(cli, ["report", "-c", str(cfg), "--html", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "site" / "workloads").iterdir())
    assert len(files) == 3 and all(re.fullmatch(r"[A-Za-z0-9._~-]+\.html", f) for f in files)
    index = (tmp_path / "site" / "index.html").read_text()
    assert "evil&lt;script&gt;alert(1)&lt;/script&gt;\\u202e" in index
    for href in _Links(index).hrefs:
        if not href.startswith("https://"):
            assert (tmp_path / "site" / href.replace("%7E", "~")).exists()


def test_report_html_with_no_scores_writes_nothing_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    data = {**mail_config_data(None), "database": f"sqlite:///{tmp_path / 'f.db'}"}
    cfg = write_config(tmp_path / "failover.yaml", data)
    result = runner.invoke(cli, ["report", "-c", str(cfg), "--html", "site"])
    assert result.exit_code == 1 and "no scores in" in result.output
    assert not (tmp_path / "site").exists()


def test_report_html_does_not_combine_with_the_email_flags(runner: CliRunner, tmp_path: Path) -> None:
    cfg = estate(tmp_path)
    for extra in (["--send"], ["--out", "x"], ["--owner", "alice@example.com"]):
        result = runner.invoke(cli, ["report", "-c", str(cfg), "--html", "site", *extra])
        assert result.exit_code == 2, result.output
        assert "--html writes the status pages alone" in result.output and "Traceback" not in result.output


# -- the daemon ------------------------------------------------------------------------------


def get(d: DaemonProcess, path: str, token: str | None = None, method: str = "GET") -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(f"http://127.0.0.1:{d.port}{path}", method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def test_daemon_serves_the_index_and_workload_pages_beside_healthz_and_metrics(
    tmp_path: Path, daemon_factory: Callable[..., DaemonProcess]
) -> None:
    d = daemon_factory(estate(tmp_path), env=OFFLINE)
    d.wait_event("daemon.started")
    status, headers, index = get(d, "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["Content-Security-Policy"] and headers["Cache-Control"] == "no-store"
    assert "Readiness over 30 days: 90 → 60" in index
    hrefs = [h for h in _Links(index).hrefs if h.startswith("workloads/")]
    assert hrefs == ["workloads/payments", "workloads/checkout", "workloads/search"]  # worst first
    status, _, page = get(d, "/" + hrefs[1])
    assert status == 200 and '<h1 class="name">checkout</h1>' in page
    assert urljoin(f"http://x/{hrefs[1]}", _Links(page).hrefs[0]) == "http://x/"
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page and "\x1b" not in page
    assert get(d, "/workloads/nope")[0] == 404
    assert get(d, "/workloads/" + quote("checkout/../search", safe=""))[0] == 404
    assert get(d, "/workloads/%ff")[0] == 404
    assert get(d, "/elsewhere")[0] == 404
    status, _, _ = get(d, "/", method="HEAD")
    assert status == 200
    assert d.healthz()[0] in (200, 503) and "failover_build_info" in d.metrics()


def test_a_status_token_guards_the_pages_but_not_healthz_or_metrics_and_never_reaches_the_log(
    tmp_path: Path, daemon_factory: Callable[..., DaemonProcess]
) -> None:
    d = daemon_factory(estate(tmp_path, status_token="${STATUS_TOKEN}"), env={**OFFLINE, "STATUS_TOKEN": TOKEN})
    d.wait_event("daemon.started")
    for path in ("/", "/workloads/checkout"):
        status, headers, body = get(d, path)
        assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="failover"'
        assert "checkout" not in body
        status, headers, _ = get(d, path, token=TOKEN[:-1] + "X")
        assert status == 401 and 'error="invalid_token"' in headers["WWW-Authenticate"]
        assert get(d, path, token=TOKEN)[0] == 200
    status, _, _ = get(d, "/")  # a Basic or empty header is no token either
    assert status == 401
    assert get(d, "/metrics")[0] == 200 and get(d, "/healthz")[0] in (200, 503)
    d.terminate()
    assert TOKEN not in d.log_path.read_text()


def test_a_token_written_in_the_file_stops_the_daemon_with_exit_2(
    tmp_path: Path, daemon_factory: Callable[..., DaemonProcess]
) -> None:
    d = daemon_factory(estate(tmp_path, status_token=TOKEN), env=OFFLINE)
    assert d.proc.wait(30) == 2
    log = d.log_path.read_text()
    assert "daemon.status_token: a token written in the file is not allowed" in log and TOKEN not in log


# -- the trend read --------------------------------------------------------------------------


def test_daily_readiness_reads_each_days_last_score_for_every_workload_in_one_query(store_url: str) -> None:
    now = utcnow()
    with Store.open(store_url) as store:
        seed_month(store, now)
        run = store.start_run("check")
        from tests.fixtures.smtp import score

        late = now - timedelta(minutes=1)
        store.save_scores(run, [score("search", 10.0, late)])  # a second score today: the day's last wins
        daily = store.daily_readiness(now - timedelta(days=29, hours=now.hour, minutes=now.minute + 10))
        one = store.daily_readiness(now - timedelta(days=40), "payments")
    assert set(daily) == {"checkout", "payments", "search"}
    assert len(daily["checkout"]) == 30 and len(daily["payments"]) == 25
    assert daily["search"][-1] == (late.date(), 10.0)
    assert [d for d, _ in daily["checkout"]] == sorted(d for d, _ in daily["checkout"])
    assert set(one) == {"payments"} and one["payments"] == daily["payments"]
