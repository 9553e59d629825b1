"""The request each destination type receives for one alert: pure functions, one per type.

- ``slack``: an incoming webhook message, ``text`` (the notification and fallback) plus ``blocks``
  (header, summary, fields, reasons, context), within Slack's block limits (header 150 characters,
  section text 3000, at most 10 fields).
- ``teams``: a Teams workflow webhook ("When a Teams webhook request is received"): a ``message``
  whose ``attachments`` hold one Adaptive Card (``application/vnd.microsoft.card.adaptive``, 1.4).
- ``pagerduty``: Events API v2 (``routing_key``, ``event_action`` trigger or resolve, a ``dedup_key``
  stable per workload of at most 255 characters; ``payload`` with ``summary`` of at most 1024
  characters, ``source``, ``severity``, ``timestamp``, ``custom_details``).
- ``webhook``: ``AlertEvent.to_dict()`` as JSON; with a ``secret``, the header
  ``X-Failover-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>``.

Chat text is remote text made safe (``failover.printable``; Slack's ``& < >`` escaped so a name
cannot mention @channel or forge a link); the PagerDuty and webhook bodies keep values exact.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from failover import __version__
from failover.alerts.events import AlertEvent, Event
from failover.printable import printable
from failover.schema import AlertDestination

__all__ = ["SIGNATURE_HEADER", "AlertRequest", "dedup_key", "render", "sign", "summary"]

SIGNATURE_HEADER = "X-Failover-Signature"
PAGERDUTY_SUMMARY_MAX = 1024
PAGERDUTY_DEDUP_MAX = 255
_SLACK_HEADER_MAX = 150
_SLACK_TEXT_MAX = 3000
_PD_SEVERITY = {"NOT_READY": "critical", "UNKNOWN": "error", "AT_RISK": "warning", "READY": "info"}
_EMOJI = {"READY": ":large_green_circle:", "AT_RISK": ":large_orange_circle:", "NOT_READY": ":red_circle:"}
_TEAMS_COLOR = {"READY": "Good", "AT_RISK": "Warning", "NOT_READY": "Attention", "UNKNOWN": "Attention"}


@dataclass(frozen=True)
class AlertRequest:
    """One POST: the exact body bytes and the headers (the URL is the destination's)."""

    body: bytes
    headers: dict[str, str]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _points(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}"


def summary(event: AlertEvent, destination: str = "") -> str:
    """One line saying what happened (remote parts not yet made printable)."""
    w, status = event.workload, str(event.status)
    was = (
        f"{event.previous_status} {_points(event.previous_readiness)}" if event.previous_status else "no earlier alert"
    )
    if event.event == Event.TEST:
        return f"failover test alert to {destination}: alerts reach this destination"
    if event.event == Event.RESOLVED:
        return f"{w} resolved: {status}, readiness {_points(event.readiness)} (was {was})"
    if event.event == Event.CHECK_FAILED:
        checks = ", ".join(f"{r.check} ({r.message})" for r in event.new_failures)
        return f"{w} is {status} ({_points(event.readiness)}): critical check failing: {checks}"
    if event.event == Event.SCORE_DROPPED:
        return (
            f"{w} readiness dropped from {_points(event.previous_readiness)} to {_points(event.readiness)} ({status})"
        )
    return f"{w} is {status}, readiness {_points(event.readiness)} (was {was})"


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _headers(event: AlertEvent) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"failover/{__version__}",
        "X-Failover-Event": str(event.event),
    }


def sign(body: bytes, secret: str) -> str:
    """The ``X-Failover-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def dedup_key(workload: str) -> str:
    """PagerDuty's incident key: one per workload, so a resolve closes what the trigger opened."""
    key = f"failover/{workload}"
    if len(key) > PAGERDUTY_DEDUP_MAX:
        key = "failover/sha256:" + hashlib.sha256(workload.encode("utf-8")).hexdigest()
    return key


def _webhook(dest: AlertDestination, event: AlertEvent) -> AlertRequest:
    body = _json(event.to_dict())
    headers = _headers(event)
    if dest.secret:
        headers[SIGNATURE_HEADER] = sign(body, dest.secret)
    return AlertRequest(body, headers)


def _pagerduty(dest: AlertDestination, event: AlertEvent) -> AlertRequest:
    assert dest.routing_key is not None  # the schema requires it
    key = dedup_key(event.workload) if event.event != Event.TEST else "failover/test"
    if event.event == Event.RESOLVED:
        body: dict[str, Any] = {"routing_key": dest.routing_key, "event_action": "resolve", "dedup_key": key}
    else:
        status = str(event.status) if event.status is not None else "READY"
        details = event.to_dict()
        details.pop("reasons")
        details["reasons"] = [f"{r.check} [{r.status}] {r.message}" for r in event.reasons]
        if event.owners:
            details["owners"] = list(event.owners)
        body = {
            "routing_key": dest.routing_key,
            "event_action": "trigger",
            "dedup_key": key,
            "client": "failover",
            "payload": {
                "summary": _clip(printable(summary(event, dest.name)), PAGERDUTY_SUMMARY_MAX),
                "source": event.workload or "failover",
                "severity": "info" if event.event == Event.TEST else _PD_SEVERITY[status],
                "timestamp": event.at.isoformat(),
                "component": event.workload or "failover",
                "class": str(event.event),
                "custom_details": details,
            },
        }
    return AlertRequest(_json(body), _headers(event))


def _slack_escape(text: object) -> str:
    """Printable, with Slack's control characters escaped (no @channel, no forged <links>)."""
    return printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack(dest: AlertDestination, event: AlertEvent) -> AlertRequest:
    status = str(event.status) if event.status is not None else ""
    line = _slack_escape(summary(event, dest.name))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(printable(summary(event, dest.name)), _SLACK_HEADER_MAX)},
        }
    ]
    if event.event != Event.TEST:
        fields = [
            ("Workload", _slack_escape(event.workload)),
            ("Status", f"{_EMOJI.get(status, ':white_circle:')} {status}"),
            ("Readiness", f"{_points(event.readiness)} (was {_points(event.previous_readiness)})"),
            ("Event", str(event.event)),
        ]
        blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields]})
        if event.reasons:
            lines = [f"• `{_slack_escape(r.check)}` {r.status}: {_slack_escape(r.message)}" for r in event.reasons]
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": _clip("\n".join(lines), _SLACK_TEXT_MAX)}}
            )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"failover · {event.at.isoformat(timespec='seconds')}"}],
        }
    )
    return AlertRequest(_json({"text": _clip(line, _SLACK_TEXT_MAX), "blocks": blocks}), _headers(event))


def _teams(dest: AlertDestination, event: AlertEvent) -> AlertRequest:
    status = str(event.status) if event.status is not None else ""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": printable(summary(event, dest.name)),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": _TEAMS_COLOR.get(status, "Default"),
        }
    ]
    if event.event != Event.TEST:
        facts = [
            ("Workload", printable(event.workload)),
            ("Status", status),
            ("Readiness", f"{_points(event.readiness)} (was {_points(event.previous_readiness)})"),
            ("Event", str(event.event)),
        ]
        body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in facts]})
        for r in event.reasons:
            body.append(
                {"type": "TextBlock", "text": f"{printable(r.check)} {r.status}: {printable(r.message)}", "wrap": True}
            )
    body.append(
        {
            "type": "TextBlock",
            "text": f"failover · {event.at.isoformat(timespec='seconds')}",
            "isSubtle": True,
            "size": "Small",
        }
    )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    message = {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }
    return AlertRequest(_json(message), _headers(event))


RENDERERS: dict[str, Callable[[AlertDestination, AlertEvent], AlertRequest]] = {
    "slack": _slack,
    "teams": _teams,
    "pagerduty": _pagerduty,
    "webhook": _webhook,
}


def render(dest: AlertDestination, event: AlertEvent) -> AlertRequest:
    return RENDERERS[dest.type](dest, event)
