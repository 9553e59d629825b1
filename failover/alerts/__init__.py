"""Alerts when a workload's readiness changes: Slack, Microsoft Teams, PagerDuty and signed JSON
webhooks (``alerts:`` in the config).

- ``events``: what each destination should be told after a score (pure);
- ``payloads``: the request body per destination type (pure);
- ``deliver``: one POST with retries (httpx), claimed and logged in the store.

The daemon's workers that run them beside scoring live in ``failover.daemon.alerts``.
"""

from failover.alerts.deliver import Outcome, send_test, shown_url
from failover.alerts.events import AlertEvent, Event, Heard, decide
from failover.alerts.payloads import SIGNATURE_HEADER, render, sign

__all__ = [
    "SIGNATURE_HEADER",
    "AlertEvent",
    "Event",
    "Heard",
    "Outcome",
    "decide",
    "render",
    "send_test",
    "shown_url",
    "sign",
]
