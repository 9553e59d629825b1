"""Alerts when a workload's readiness changes: Slack, Microsoft Teams, PagerDuty and signed JSON
webhooks (``alerts:`` in the config).

- ``events``: what each destination should be told after a score (pure);
- ``payloads``: the request body per destination type (pure);
- ``deliver``: one POST with retries (httpx), claimed and logged in the store;
- ``urls``: what may be shown of a destination's URL.

The daemon's workers that run them beside scoring live in ``failover.daemon.alerts``.

The names below are imported on first use: ``failover validate`` needs only ``shown_url``, not httpx,
the store and the check catalog that delivery and events pull in (0.3-0.5 s at start-up).
"""

from typing import TYPE_CHECKING

from failover.lazy import lazy_attributes

if TYPE_CHECKING:
    from failover.alerts.deliver import Outcome, send_test
    from failover.alerts.events import AlertEvent, Event, Heard, decide
    from failover.alerts.payloads import SIGNATURE_HEADER, render, sign
    from failover.alerts.urls import shown_url

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

# name -> the module defining it
_LAZY = {
    "Outcome": "deliver",
    "send_test": "deliver",
    "AlertEvent": "events",
    "Event": "events",
    "Heard": "events",
    "decide": "events",
    "SIGNATURE_HEADER": "payloads",
    "render": "payloads",
    "sign": "payloads",
    "shown_url": "urls",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
