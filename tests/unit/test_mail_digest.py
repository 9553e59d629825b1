"""The weekly email's logic on plain data: weeks, owners, what changed, trend, subject, escaping."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from failover.errors import ConfigError
from failover.mail.compose import compose, one_line_header, render_html, subject_for
from failover.mail.digest import (
    WorkloadDigest,
    build_owner_digest,
    build_workload_digest,
    daily_trend,
    diff_reasons,
    doc_link,
    iso_week,
    owners_of,
    schedule_zone,
)
from failover.model import Score, Status
from failover.schema import Smtp
from tests.fixtures.smtp import ALICE, BOB, NOW, mail_config, reason, score

UTC_TZ = ZoneInfo("UTC")


def digest_for(
    config_workload_index: int, current: Score | None, week_ago: Score | None, history: Iterable[Score] = ()
) -> WorkloadDigest:
    config = mail_config(Smtp(host="localhost", starttls=False))
    return build_workload_digest(
        config.workloads[config_workload_index],
        current,
        week_ago,
        history,
        now=NOW,
        tz=UTC_TZ,
        docs_url="https://docs.example.com/checks.md",
        titles={"dns.ttl": "DNS TTL fits the target"},
        stale_after_s=86400,
    )


def test_iso_week_is_taken_in_the_schedule_time_zone() -> None:
    sunday_night = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert iso_week(sunday_night, ZoneInfo("UTC")) == "2026-W48"
    assert iso_week(sunday_night, ZoneInfo("Europe/Berlin")) == "2026-W49"
    assert iso_week(datetime(2027, 1, 1, 12, tzinfo=UTC), UTC_TZ) == "2026-W53"  # ISO year differs


def test_unknown_time_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"mail\.schedule\.timezone: unknown time zone 'Mars/Olympus'"):
        schedule_zone("Mars/Olympus")


def test_owners_are_grouped_case_insensitively() -> None:
    owners = owners_of(mail_config(None).workloads)
    assert {o: [w.name for w in ws] for o, ws in owners.items()} == {
        ALICE: ["checkout", "payments"],
        BOB: ["payments", "search"],
    }


def test_diff_finds_new_worse_and_fixed_by_check_and_subject() -> None:
    before = [
        reason("dns.ttl", "warn", "TTL 90", 10, "www"),
        reason("data.replica", "fail", "none", 30, "db1"),
        reason("secondary.health", "fail", "503", 40, "gcp"),
    ]
    now = [
        reason("dns.ttl", "fail", "TTL 300", 25, "www"),  # worse
        reason("data.replica", "fail", "none", 30, "db2"),  # a new subject: new, and db1 fixed
        reason("secondary.health", "fail", "503", 40, "gcp"),  # unchanged
    ]
    new, worse, fixed = diff_reasons(now, before)
    assert [(r.check, r.subject) for r in new] == [("data.replica", "db2")]
    assert [(r.check, was) for r, was in worse] == [("dns.ttl", "warn")]
    assert [(r.check, r.subject) for r in fixed] == [("data.replica", "db1")]


def test_without_a_score_a_week_ago_nothing_is_claimed_to_have_changed() -> None:
    d = digest_for(0, score("checkout", 60, NOW, [reason("dns.ttl", "fail", "x", 20)]), None)
    assert not d.compared and d.changes == [] and d.delta is None


def test_missing_score_is_unknown_never_ready() -> None:
    d = digest_for(0, None, None)
    assert d.status == Status.UNKNOWN and d.readiness is None and d.stale


def test_old_score_is_flagged_stale() -> None:
    d = digest_for(0, score("checkout", 90, NOW - timedelta(days=3)), None)
    assert d.stale and d.status == Status.READY


def test_top_reasons_are_ranked_by_points_and_link_to_their_docs() -> None:
    reasons = [reason(f"c.r{i}", "fail", f"m{i}", i) for i in range(8)] + [reason("dns.ttl", "fail", "ttl", 50)]
    d = digest_for(0, score("checkout", 10, NOW, reasons), None)
    assert [r.points for r in d.top] == [50, 7, 6, 5, 4] and d.more_reasons == 4
    assert d.top[0].title == "DNS TTL fits the target"
    assert d.top[0].doc_url == "https://docs.example.com/checks.md#dns-ttl"
    assert d.top[1].title == "c.r7"  # not in the catalogue: the id stands in


def test_doc_link_replaces_an_existing_fragment() -> None:
    assert doc_link("https://x.example/checks#top", "guardrails.same.scope") == (
        "https://x.example/checks#guardrails-same-scope"
    )


def test_daily_trend_keeps_the_last_score_of_each_day_and_marks_gaps() -> None:
    start = NOW - timedelta(days=6)
    history = [
        score("w", 10, start),
        score("w", 20, start + timedelta(hours=3)),
        score("w", 70, NOW - timedelta(hours=1)),
        score("w", 99, NOW + timedelta(hours=1)),  # after "now": ignored
    ]
    days, values = daily_trend(history, NOW, UTC_TZ)
    assert len(days) == 7 and days[-1] == NOW.date()
    assert values == [20, None, None, None, None, None, 70]


def test_subject_counts_worst_first_and_skips_zeroes() -> None:
    counts = {Status.NOT_READY: 1, Status.READY: 2}
    assert (
        subject_for("[failover]", "2026-W48", counts) == "[failover] Weekly readiness, 2026-W48: 1 NOT_READY, 2 READY"
    )


def test_header_values_are_flattened_to_one_line() -> None:
    assert one_line_header("a\r\nBcc: x@y\u2028z\x00") == "a Bcc: x@y z"
    assert len(one_line_header("x" * 500)) == 200


def test_html_escapes_every_value_and_carries_no_scripts_or_images() -> None:
    config = mail_config(Smtp(host="localhost", starttls=False))
    evil = "<script>alert('x')</script>"
    current = score("checkout", 40, NOW, [reason("dns.ttl", "fail", evil, 20, subject='"><b onmouseover=1>')])
    owner_digest = build_owner_digest(ALICE, [digest_for(0, current, None)], now=NOW, tz=UTC_TZ)
    html = render_html(owner_digest, config)
    assert evil not in html and "&lt;script&gt;" in html
    assert '"><b onmouseover' not in html
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "src=" not in lowered


def test_composed_message_has_both_parts_and_the_required_headers() -> None:
    config = mail_config(Smtp(host="localhost", starttls=False))
    owner_digest = build_owner_digest(BOB, [digest_for(2, score("search", 95, NOW), None)], now=NOW, tz=UTC_TZ)
    msg = compose(owner_digest, config, message_id="<m1@example.com>")
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["To"] == BOB and msg["Message-ID"] == "<m1@example.com>"
    assert msg["Date"] == "Thu, 26 Nov 2026 09:00:00 +0000"
    assert msg["Subject"] == "[failover] Weekly readiness, 2026-W48: 1 READY"
