"""Alerts on data: what each destination is told after a score, the payloads it gets, and the config."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from failover.alerts import AlertEvent, Event, Heard, decide, render, sign
from failover.alerts.deliver import scrub, shown_url
from failover.alerts.payloads import PAGERDUTY_DEDUP_MAX, dedup_key
from failover.model import Reason, Score, Status
from failover.schema import AlertDestination, AlertPolicy
from tests.factories import config
from tests.fixtures.config_text import BASE, line_of, problems

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WORKLOAD = config().workloads[0]
POLICY = AlertPolicy(cooldown=1800, score_drop=10)
SLACK = AlertDestination(name="chat", type="slack", url="https://hooks.slack.com/services/T0/B0/tok3n")
PAGER = AlertDestination(name="pager", type="pagerduty", routing_key="R0UT1NGKEY")


def scored(status: Status, readiness: float, minutes: float = 0, reasons: list[Reason] | None = None) -> Score:
    return Score("checkout", status, readiness, reasons=reasons or [], computed_at=NOW + timedelta(minutes=minutes))


def heard(status: Status, minutes_ago: float, readiness: float = 50.0) -> Heard:
    return Heard(status, readiness, NOW - timedelta(minutes=minutes_ago))


FAILING_HEALTH = Reason("secondary.health", "fail", "secondary answers 503", 30.0, subject="gcp-central")


# --------------------------------------------------------------------------------------- decisions


def test_a_workload_leaving_ready_triggers_at_once() -> None:
    event = decide(SLACK, POLICY, WORKLOAD, scored(Status.READY, 95), scored(Status.NOT_READY, 40), None, NOW)
    assert event is not None
    assert (event.event, event.status, event.previous_status) == (Event.STATUS_CHANGED, Status.NOT_READY, Status.READY)
    assert (event.readiness, event.previous_readiness) == (40, 95)


def test_a_ready_workload_the_destination_never_heard_of_sends_nothing() -> None:
    assert decide(SLACK, POLICY, WORKLOAD, None, scored(Status.READY, 95), None, NOW) is None


def test_an_unchanged_alerting_status_is_not_repeated() -> None:
    current = scored(Status.NOT_READY, 40)
    assert (
        decide(SLACK, POLICY, WORKLOAD, scored(Status.NOT_READY, 41), current, heard(Status.NOT_READY, 1), NOW) is None
    )


def test_a_resolve_waits_for_the_cooldown_then_goes_with_what_the_destination_heard() -> None:
    ready = scored(Status.READY, 90)
    assert decide(SLACK, POLICY, WORKLOAD, scored(Status.NOT_READY, 40), ready, heard(Status.NOT_READY, 5), NOW) is None
    later = decide(SLACK, POLICY, WORKLOAD, scored(Status.READY, 90), ready, heard(Status.NOT_READY, 31, 40.0), NOW)
    assert later is not None
    assert (later.event, later.previous_status, later.previous_readiness) == (Event.RESOLVED, Status.NOT_READY, 40.0)


def test_an_escalation_skips_the_cooldown_but_an_improvement_waits() -> None:
    worse = decide(SLACK, POLICY, WORKLOAD, None, scored(Status.NOT_READY, 30), heard(Status.AT_RISK, 1), NOW)
    assert worse is not None and worse.event == Event.STATUS_CHANGED
    assert decide(SLACK, POLICY, WORKLOAD, None, scored(Status.AT_RISK, 70), heard(Status.NOT_READY, 1), NOW) is None


def test_flapping_within_the_cooldown_costs_nothing_more() -> None:
    """Told NOT_READY a minute ago; it went READY and back: the destination already knows the truth."""
    assert (
        decide(
            SLACK,
            POLICY,
            WORKLOAD,
            scored(Status.READY, 90),
            scored(Status.NOT_READY, 40),
            heard(Status.NOT_READY, 1),
            NOW,
        )
        is None
    )


def test_min_status_not_ready_ignores_at_risk_and_resolves_when_it_falls_back_to_it() -> None:
    dest = PAGER.model_copy(update={"min_status": "NOT_READY"})
    assert decide(dest, POLICY, WORKLOAD, scored(Status.READY, 90), scored(Status.AT_RISK, 70), None, NOW) is None
    trigger = decide(dest, POLICY, WORKLOAD, scored(Status.AT_RISK, 70), scored(Status.NOT_READY, 30), None, NOW)
    assert trigger is not None and trigger.event == Event.STATUS_CHANGED
    back = decide(dest, POLICY, WORKLOAD, None, scored(Status.AT_RISK, 70), heard(Status.NOT_READY, 40), NOW)
    assert back is not None and back.event == Event.RESOLVED


def test_unknown_counts_as_alerting() -> None:
    event = decide(SLACK, POLICY, WORKLOAD, scored(Status.READY, 90), scored(Status.UNKNOWN, 0), None, NOW)
    assert event is not None and event.status == Status.UNKNOWN


def test_filters_by_workload_and_owner() -> None:
    elsewhere = SLACK.model_copy(update={"workloads": ["search"]})
    strangers = SLACK.model_copy(update={"owners": ["other@example.com"]})
    owners = SLACK.model_copy(update={"owners": ["PAYMENTS@example.com"]})
    args = (POLICY, WORKLOAD, scored(Status.READY, 90), scored(Status.NOT_READY, 30), None, NOW)
    assert decide(elsewhere, *args) is None
    assert decide(strangers, *args) is None
    assert decide(owners, *args) is not None


def test_a_newly_failing_critical_check_is_news_within_an_unchanged_status() -> None:
    before = scored(Status.NOT_READY, 45)
    after = scored(Status.NOT_READY, 44, reasons=[Reason("drift.image", "fail", "images differ", 5.0), FAILING_HEALTH])
    event = decide(SLACK, POLICY, WORKLOAD, before, after, heard(Status.NOT_READY, 60), NOW)
    assert event is not None and event.event == Event.CHECK_FAILED
    assert [r.check for r in event.new_failures] == ["secondary.health"]
    assert event.reasons[0].check == "secondary.health"  # the news first
    assert decide(SLACK, POLICY, WORKLOAD, after, after, heard(Status.NOT_READY, 60), NOW) is None  # not new any more


def test_a_failing_check_that_is_not_critical_is_no_news() -> None:
    after = scored(Status.NOT_READY, 44, reasons=[Reason("drift.image", "fail", "images differ", 5.0)])
    assert (
        decide(SLACK, POLICY, WORKLOAD, scored(Status.NOT_READY, 45), after, heard(Status.NOT_READY, 60), NOW) is None
    )


def test_a_drop_of_score_drop_points_is_sent_even_while_ready_to_chat_but_not_paged() -> None:
    event = decide(SLACK, POLICY, WORKLOAD, scored(Status.READY, 100), scored(Status.READY, 90), None, NOW)
    assert event is not None and event.event == Event.SCORE_DROPPED
    assert (event.previous_readiness, event.readiness) == (100, 90)
    assert decide(SLACK, POLICY, WORKLOAD, scored(Status.READY, 100), scored(Status.READY, 90.5), None, NOW) is None
    assert decide(PAGER, POLICY, WORKLOAD, scored(Status.READY, 100), scored(Status.READY, 80), None, NOW) is None


def test_news_within_a_status_waits_for_the_cooldown() -> None:
    before, after = scored(Status.NOT_READY, 45), scored(Status.NOT_READY, 20)
    assert decide(SLACK, POLICY, WORKLOAD, before, after, heard(Status.NOT_READY, 5), NOW) is None
    quick = SLACK.model_copy(update={"cooldown": 60.0})
    event = decide(quick, POLICY, WORKLOAD, before, after, heard(Status.NOT_READY, 5), NOW)
    assert event is not None and event.event == Event.SCORE_DROPPED


# ---------------------------------------------------------------------------------------- payloads


def event(
    kind: Event = Event.STATUS_CHANGED, workload: str = "checkout", message: str = "secondary answers 503"
) -> AlertEvent:
    reason = Reason("secondary.health", "fail", message, 30.0)
    return AlertEvent(
        kind, workload, Status.NOT_READY, Status.READY, 35.0, 92.0, (reason,), NOW, ("payments@example.com",)
    )


def test_webhook_body_is_the_documented_contract_signed_over_the_exact_bytes() -> None:
    dest = AlertDestination(name="hook", type="webhook", url="https://ops.example.com/h", secret="s3cret")
    request = render(dest, event())
    assert json.loads(request.body) == {
        "event": "status_changed",
        "workload": "checkout",
        "status": "NOT_READY",
        "previous_status": "READY",
        "readiness": 35.0,
        "previous_readiness": 92.0,
        "reasons": [{"check": "secondary.health", "status": "fail", "message": "secondary answers 503"}],
        "at": "2026-12-01T09:00:00+00:00",
    }
    expected = "sha256=" + hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Failover-Signature"] == expected == sign(request.body, "s3cret")
    unsigned = render(dest.model_copy(update={"secret": None}), event())
    assert "X-Failover-Signature" not in unsigned.headers


def test_pagerduty_trigger_and_resolve_share_a_stable_dedup_key() -> None:
    trigger = json.loads(render(PAGER, event()).body)
    resolve = json.loads(render(PAGER, event(Event.RESOLVED)).body)
    assert trigger["routing_key"] == resolve["routing_key"] == "R0UT1NGKEY"
    assert (trigger["event_action"], resolve["event_action"]) == ("trigger", "resolve")
    assert trigger["dedup_key"] == resolve["dedup_key"] == "failover/checkout"
    payload = trigger["payload"]
    assert payload["severity"] == "critical" and payload["source"] == "checkout"
    assert payload["summary"].startswith("checkout is NOT_READY")
    assert payload["custom_details"]["previous_status"] == "READY"
    assert set(resolve) == {"routing_key", "event_action", "dedup_key"}


def test_pagerduty_limits_hold_for_long_names_and_messages() -> None:
    long_name = "w" * 200
    body = json.loads(render(PAGER, event(Event.CHECK_FAILED, long_name, "x" * 5000)).body)
    assert len(body["payload"]["summary"]) <= 1024
    assert len(body["dedup_key"]) <= PAGERDUTY_DEDUP_MAX
    assert len(dedup_key("n" * 400)) <= PAGERDUTY_DEDUP_MAX and dedup_key("a") != dedup_key("b")


def test_slack_message_has_text_and_blocks_and_escapes_remote_text() -> None:
    body = json.loads(render(SLACK, event(message="<!channel> \x1b[2J & more")).body)
    assert body["text"].startswith("checkout is NOT_READY")
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "section", "context"]
    assert len(body["blocks"][0]["text"]["text"]) <= 150
    reasons = body["blocks"][2]["text"]["text"]
    assert "&lt;!channel&gt;" in reasons and "\\x1b[2J" in reasons and "&amp; more" in reasons
    assert "\x1b" not in json.dumps(body, ensure_ascii=False)


def test_teams_message_is_an_adaptive_card_attachment() -> None:
    dest = AlertDestination(name="teams", type="teams", url="https://prod.westus.logic.azure.com/workflows/abc")
    body = json.loads(render(dest, event()).body)
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"].startswith("checkout is NOT_READY")
    assert {"title": "Status", "value": "NOT_READY"} in card["body"][1]["facts"]


def test_urls_are_shown_by_host_and_errors_are_scrubbed_of_every_hidden_value() -> None:
    url = "https://hooks.slack.com/services/T0/B0/tok3n?x=1"
    assert shown_url(url) == "https://hooks.slack.com/…"
    text = scrub(f"ConnectError: cannot reach {url} with R0UT1NGKEY; path /services/T0/B0/tok3n", [url, "R0UT1NGKEY"])
    assert "tok3n" not in text and "R0UT1NGKEY" not in text


# ------------------------------------------------------------------------------------------ config


def with_alerts(alerts: str) -> str:
    return BASE + alerts


def test_alert_destinations_parse_with_env_values() -> None:
    from failover.config import config_from_text

    text = with_alerts(
        "alerts:\n"
        "  - {name: chat, type: slack, url: '${SLACK_URL}', workloads: [checkout], min_status: AT_RISK}\n"
        "  - {name: pager, type: pagerduty, routing_key: '${PD_KEY}', cooldown: 5m}\n"
        "alert_policy: {score_drop: 15, cooldown: 10m, attempts: 3, backoff: 500ms, timeout: 5s}\n"
    )
    cfg = config_from_text(text, env={"SLACK_URL": "https://hooks.slack.com/services/T/B/x", "PD_KEY": "k" * 32})
    chat, pager = cfg.alerts
    assert chat.endpoint == "https://hooks.slack.com/services/T/B/x"
    assert pager.endpoint == "https://events.pagerduty.com/v2/enqueue" and pager.cooldown == 300
    assert (cfg.alert_policy.score_drop, cfg.alert_policy.cooldown, cfg.alert_policy.backoff) == (15, 600, 0.5)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("{name: p, type: pagerduty}", "alerts[0]: a pagerduty destination needs routing_key"),
        ("{name: s, type: slack}", "alerts[0]: a slack destination needs url"),
        ("{name: t, type: teams, url: 'https://x.example.com/w', secret: abc}", "secret: only for type: webhook"),
        ("{name: s, type: sms, url: 'https://x.example.com/'}", "alerts[0].type: expected one of slack, teams"),
        ("{name: w, type: webhook, url: 'https://x.example.com/', min_status: READY}", "alerts[0].min_status"),
    ],
)
def test_bad_destinations_are_located(entry: str, expected: str) -> None:
    text = with_alerts(f"alerts:\n  - {entry}\n")
    [problem] = problems(text)
    assert problem.startswith(f"cfg.yaml:{line_of(text, entry[:12])}: ")
    assert expected in problem


def test_duplicate_destinations_and_unknown_workloads_are_located() -> None:
    text = with_alerts(
        "alerts:\n"
        "  - {name: chat, type: slack, url: 'https://hooks.example.com/a'}\n"
        "  - name: chat\n"
        "    type: webhook\n"
        "    url: https://hooks.example.com/b\n"
        "    workloads: [checkout, chekout]\n"
    )
    found = problems(text)
    assert f"cfg.yaml:{line_of(text, '- name: chat')}: alerts[1].name: duplicate alert destination name 'chat'" in found
    where = f"cfg.yaml:{line_of(text, 'workloads: [checkout, chekout]')}: alerts[1].workloads[1]"
    assert any(p.startswith(f"{where}: unknown workload 'chekout'") for p in found)


def test_a_malformed_webhook_url_is_refused_without_echoing_it() -> None:
    text = with_alerts("alerts:\n  - {name: s, type: slack, url: 'hooks.slack.com/services/T/B/sekrit'}\n")
    [problem] = problems(text)
    assert "expected an http(s) URL" in problem and "sekrit" not in problem
