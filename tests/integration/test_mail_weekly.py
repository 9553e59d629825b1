"""The weekly email end to end: scores in a real store (SQLite and Postgres) → a real SMTP server."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml

from failover.config import load_config
from failover.errors import ConfigError
from failover.mail import RetryPolicy, render_weekly, send_weekly
from failover.store import Store
from tests.fixtures.smtp import (
    ALICE,
    BOB,
    NOW,
    SmtpServer,
    mail_config,
    mail_config_data,
    reason,
    save_scores,
    score,
    seed_week,
)

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)


def parts(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()  # type: ignore[attr-defined]


def by_recipient(server: SmtpServer) -> dict[str, EmailMessage]:
    out = {}
    for r in server.received:
        [rcpt] = r.rcpt_tos
        out[rcpt] = r.message
    return out


def test_each_owner_gets_one_multipart_email_with_only_their_workloads(smtp_server: SmtpServer, store: Store) -> None:
    seed_week(store)
    result = send_weekly(mail_config(smtp_server.smtp()), store, now=NOW, retry=FAST)

    assert result.iso_week == "2026-W48"
    assert sorted(result.sent) == [ALICE, BOB] and not result.failed
    mails = by_recipient(smtp_server)
    assert set(mails) == {ALICE, BOB}
    alice = mails[ALICE]
    assert alice.get_content_type() == "multipart/alternative"
    assert alice["Subject"] == "[failover] Weekly readiness, 2026-W48: 2 AT_RISK"
    assert alice["Message-ID"] and alice["Date"] and alice["From"].addresses[0].addr_spec == "failover@example.com"
    text, html = parts(alice)
    for body in (text, html):
        assert "checkout" in body and "payments" in body and "search" not in body
    assert "search" in parts(mails[BOB])[0] and "checkout" not in parts(mails[BOB])[0]
    assert mails[BOB]["Subject"] == "[failover] Weekly readiness, 2026-W48: 1 AT_RISK, 1 READY"


def test_email_says_what_changed_and_what_to_fix_with_doc_links(smtp_server: SmtpServer, store: Store) -> None:
    seed_week(store)
    [alice] = render_weekly(mail_config(smtp_server.smtp()), store, now=NOW, owner=ALICE)

    checkout = alice.text.split("== payments")[0]
    assert "readiness 60/100" in checkout and "Last week: 90 (-30)" in checkout
    assert "NEW" in checkout and "TTL 300s" in checkout  # the DNS failure appeared this week
    assert "+25" in checkout and "https://docs.example.com/checks.md#dns-ttl" in checkout
    assert "estimated 10m, target 15m" in checkout
    payments = alice.text.split("== payments")[1]
    assert "FIXED" in payments and "no replica of orders-db" in payments
    assert "OVER TARGET" in payments  # 10m estimated vs a 5m target
    assert 'href="https://docs.example.com/checks.md#dns-ttl"' in alice.html
    assert "<script" not in alice.html and "<img" not in alice.html


def test_hostile_names_are_escaped_and_cannot_add_headers(smtp_server: SmtpServer, store: Store) -> None:
    evil = "<script>alert(1)</script>"
    config = mail_config(smtp_server.smtp())
    # The config refuses control characters (tests/integration/test_config_hostile.py); the mailer must not rely on
    # it, so the prefix is set past validation here.
    assert config.mail is not None
    config.mail = config.mail.model_copy(update={"subject_prefix": "[failover]\r\nBcc: victim@evil.example"})
    hostile = config.workloads[0].model_copy(update={"name": f"checkout{evil}"})
    config.workloads[0] = hostile
    bad = reason("dns.ttl", "fail", f"record {evil} has TTL 300", 20, subject='"><img src=x onerror=alert(1)>')
    save_scores(store, [score(hostile.name, 40, NOW - timedelta(hours=1), [bad])])

    result = send_weekly(config, store, now=NOW, retry=FAST)
    assert ALICE in result.sent
    msg = by_recipient(smtp_server)[ALICE]
    assert msg["Bcc"] is None
    assert "\n" not in msg["Subject"] and msg["Subject"].startswith("[failover] Bcc: victim@evil.example Weekly")
    assert all(r.rcpt_tos in ([ALICE], [BOB]) for r in smtp_server.received)
    text, html = parts(msg)
    assert evil not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert evil in text  # plain text shows it as it is; it is not HTML


def test_second_send_in_the_same_week_sends_nothing(smtp_server: SmtpServer, store: Store) -> None:
    seed_week(store)
    config = mail_config(smtp_server.smtp())
    first = send_weekly(config, store, now=NOW, retry=FAST)
    second = send_weekly(config, store, now=NOW + timedelta(days=2), retry=FAST)

    assert first.counts == {"sent": 2, "skipped": 0, "failed": 0}
    assert second.counts == {"sent": 0, "skipped": 2, "failed": 0}
    assert len(smtp_server.received) == 2
    next_week = send_weekly(config, store, now=NOW + timedelta(days=7), retry=FAST)
    assert next_week.iso_week == "2026-W49" and len(next_week.sent) == 2


def test_concurrent_senders_deliver_exactly_once_per_owner(
    smtp_server: SmtpServer, store: Store, store_factory: Callable[[], Store]
) -> None:
    seed_week(store)
    config = mail_config(smtp_server.smtp())
    stores = [store_factory() for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    results = []
    errors: list[BaseException] = []

    def run(s: Store, vantage: str) -> None:
        try:
            barrier.wait()
            results.append(send_weekly(config, s, now=NOW, vantage=vantage, retry=FAST))
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(s, f"d{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [ALICE, BOB]
    assert sum(len(r.sent) for r in results) == 2
    assert sum(len(r.skipped) for r in results) == 2 * (len(stores) - 1)


def test_refusing_server_gets_exactly_one_delivery_per_owner(
    smtp_factory: Callable[..., SmtpServer], store: Store
) -> None:
    seed_week(store)
    server = smtp_factory(refuse_first=2)
    result = send_weekly(mail_config(server.smtp()), store, now=NOW, retry=FAST)
    assert sorted(result.sent) == [ALICE, BOB]
    assert sorted(r.rcpt_tos[0] for r in server.received) == [ALICE, BOB]


def test_failed_send_is_retried_by_the_next_run(smtp_factory: Callable[..., SmtpServer], store: Store) -> None:
    seed_week(store)
    server = smtp_factory(refuse_first=FAST.attempts)  # Alice's three tries are all refused
    config = mail_config(server.smtp())
    first = send_weekly(config, store, now=NOW, retry=FAST)
    assert first.sent == [BOB] and "451" in first.failed[ALICE]
    assert not store.delivered(ALICE, "2026-W48")  # the claim was released

    second = send_weekly(config, store, now=NOW + timedelta(hours=1), retry=FAST)
    assert second.sent == [ALICE] and second.skipped == {BOB: "already delivered for 2026-W48"}
    assert sorted(r.rcpt_tos[0] for r in server.received) == [ALICE, BOB]


def test_lost_reply_keeps_the_claim_so_nobody_gets_it_twice(
    smtp_factory: Callable[..., SmtpServer], store: Store
) -> None:
    seed_week(store)
    server = smtp_factory(reply_delay=3.0)
    config = mail_config(
        server.smtp(timeout=1.0),
    )
    config.workloads[:] = [w for w in config.workloads if w.name == "checkout"]  # Alice only
    first = send_weekly(config, store, now=NOW, retry=FAST)
    assert "may have been delivered" in first.failed[ALICE]
    assert store.delivered(ALICE, "2026-W48")
    second = send_weekly(config, store, now=NOW, retry=FAST)
    assert ALICE in second.skipped
    assert len(server.received) == 1


def test_no_scores_yet_sends_nothing_and_says_so(smtp_server: SmtpServer, store: Store) -> None:
    result = send_weekly(mail_config(smtp_server.smtp()), store, now=NOW, retry=FAST)
    assert result.no_scores and result.counts == {"sent": 0, "skipped": 0, "failed": 0}
    assert smtp_server.received == [] and not store.delivered(ALICE, "2026-W48")
    assert render_weekly(mail_config(smtp_server.smtp()), store, now=NOW) == []


def test_workload_without_a_score_is_reported_unknown_not_left_out(smtp_server: SmtpServer, store: Store) -> None:
    save_scores(store, [score("payments", 85, NOW - timedelta(hours=2))])
    [alice] = render_weekly(mail_config(smtp_server.smtp()), store, now=NOW, owner=ALICE)
    assert alice.subject.endswith("1 UNKNOWN, 1 READY")
    assert "checkout" in alice.text and "no score recorded yet" in alice.text


def test_week_follows_the_schedule_time_zone(smtp_server: SmtpServer, store: Store) -> None:
    seed_week(store)
    sunday_late_utc = NOW.replace(day=29, hour=23)  # Sunday 23:00 UTC is Monday in Tokyo
    config = mail_config(smtp_server.smtp(), schedule={"timezone": "Asia/Tokyo"})
    assert render_weekly(config, store, now=sunday_late_utc)[0].iso_week == "2026-W49"
    config = mail_config(smtp_server.smtp(), schedule={"timezone": "UTC"})
    assert render_weekly(config, store, now=sunday_late_utc)[0].iso_week == "2026-W48"


def test_config_problems_stop_before_anything_is_sent(smtp_server: SmtpServer, store: Store) -> None:
    seed_week(store)
    with pytest.raises(ConfigError, match="mail: not configured"):
        send_weekly(mail_config(None), store, now=NOW)
    with pytest.raises(ConfigError, match="no workload lists"):
        render_weekly(mail_config(smtp_server.smtp()), store, now=NOW, owner="carol@example.com")
    creds = smtp_server.smtp(username_env="SMTP_TEST_USER", password_env="SMTP_TEST_PASSWORD")
    with pytest.raises(ConfigError, match="refusing to send credentials"):
        send_weekly(mail_config(creds), store, now=NOW, env={"SMTP_TEST_USER": "u", "SMTP_TEST_PASSWORD": "p"})
    assert smtp_server.received == [] and not store.delivered(ALICE, "2026-W48")


def test_relative_ca_file_is_found_next_to_the_config_file(
    smtp_tls_server: SmtpServer, store: Store, tmp_path: Path
) -> None:
    assert smtp_tls_server.ca_file
    shutil.copy(smtp_tls_server.ca_file, tmp_path / "relay-ca.pem")
    path = tmp_path / "failover.yaml"
    path.write_text(yaml.safe_dump(mail_config_data(smtp_tls_server.smtp(ca_file="relay-ca.pem"))))
    config = load_config(path)
    seed_week(store)
    result = send_weekly(config, store, now=NOW, retry=FAST, env=smtp_tls_server.env())
    assert sorted(result.sent) == [ALICE, BOB], result.failed


def test_unreadable_ca_file_stops_before_any_claim(smtp_tls_server: SmtpServer, store: Store, tmp_path: Path) -> None:
    seed_week(store)
    config = mail_config(smtp_tls_server.smtp(ca_file=str(tmp_path / "missing.pem")))
    with pytest.raises(ConfigError, match=r"mail\.smtp\.ca_file: cannot load"):
        send_weekly(config, store, now=NOW, retry=FAST, env=smtp_tls_server.env())
    assert not store.delivered(ALICE, "2026-W48") and smtp_tls_server.received == []
