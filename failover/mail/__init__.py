"""The weekly readiness email: digest (pure) → compose (pure) → send (SMTP) → weekly (who, when, once).

The daemon calls ``send_weekly``; ``failover report`` calls ``render_weekly`` or ``send_weekly``.
"""

from failover.mail.send import RetryPolicy
from failover.mail.weekly import RenderedEmail, WeeklyResult, render_weekly, send_weekly, week_of

__all__ = ["RenderedEmail", "RetryPolicy", "WeeklyResult", "render_weekly", "send_weekly", "week_of"]
