"""The weekly readiness email: which owners, which week, and exactly one delivery per owner per week.

Delivery guarantee: **claim, then send**. For each owner the store's ``mail_deliveries`` row for
(owner, ISO week) is inserted *before* the SMTP conversation; the table's unique constraint lets only
one caller win, so two daemons (or two threads, or a daemon and ``failover report --send``) never
both send. Transient SMTP failures are retried inside the claim, so a server that refuses and then
accepts gets one message. If sending fails for sure (refused, unreachable after the retries, bad
credentials) the claim is released so a later run that week can try again. If the process dies
between the claim and the server's final reply, or the connection drops after the message body went
out, the claim stays: that owner misses the week rather than getting it twice (at-most-once in that
narrow window). Send-then-record was rejected: two daemons would both send, and a crash after sending
would send again on restart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING

from failover.errors import ConfigError, MailError
from failover.mail.compose import compose, render_html, render_text
from failover.mail.digest import (
    OwnerDigest,
    WorkloadDigest,
    aware,
    build_owner_digest,
    build_workload_digest,
    check_titles,
    iso_week,
    owners_of,
    schedule_zone,
)
from failover.mail.send import RetryPolicy, preflight, send_message
from failover.schema import Config, Mail

if TYPE_CHECKING:
    from failover.store import Store
    from failover.whatif import WhatIf

__all__ = ["RenderedEmail", "WeeklyResult", "render_weekly", "send_weekly", "week_of"]

log = logging.getLogger("failover.mail")


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    owner: str
    iso_week: str
    subject: str
    message_id: str
    workloads: list[str]
    text: str
    html: str
    message: EmailMessage


@dataclass(slots=True)
class WeeklyResult:
    iso_week: str
    sent: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # owner -> why (already delivered, ...)
    failed: dict[str, str] = field(default_factory=dict)  # owner -> error text (no secrets)
    no_scores: bool = False  # the store holds no score for any configured workload: nothing was sent

    @property
    def counts(self) -> dict[str, int]:
        return {"sent": len(self.sent), "skipped": len(self.skipped), "failed": len(self.failed)}


# From: of a preview rendered without a mail: section; .invalid (RFC 2606) can never be delivered to.
_PREVIEW_MAIL = Mail.model_validate({"from": "failover@failover.invalid", "smtp": {"host": "localhost"}})


def _mail(config: Config) -> Mail:
    if config.mail is None:
        raise ConfigError("mail: not configured (add a mail: section with from: and smtp: to send the weekly email)")
    return config.mail


def week_of(config: Config, now: datetime) -> str:
    """The ISO week (``2026-W48``) of ``now`` in the mail schedule's time zone (UTC without mail config)."""
    tz = schedule_zone(config.mail.schedule.timezone if config.mail else "UTC")
    return iso_week(now, tz)


def _digests(config: Config, store: Store, now: datetime) -> tuple[dict[str, WorkloadDigest], bool]:
    """Workload name → digest, and whether any workload has a score at all."""
    tz = schedule_zone(config.mail.schedule.timezone if config.mail else "UTC")
    docs_url = config.mail.docs_url if config.mail else ""
    titles = check_titles()
    week_ago = now - timedelta(days=7)
    out: dict[str, WorkloadDigest] = {}
    any_scored = False
    names = [w.name for w in config.workloads]
    currents = store.scores_at(dict.fromkeys(names, now))
    befores = store.scores_at(dict.fromkeys(names, week_ago))
    histories = store.score_histories(names, week_ago)
    for w in config.workloads:
        current, before, history = currents[w.name], befores[w.name], histories[w.name]
        any_scored = any_scored or current is not None
        out[w.name] = build_workload_digest(
            w,
            current,
            before,
            history,
            now=now,
            tz=tz,
            docs_url=docs_url,
            titles=titles,
            stale_after_s=config.scoring.stale_after,
        )
    return out, any_scored


def _whatif(config: Config, store: Store, now: datetime) -> list[WhatIf]:
    """Each workload with each of aws, gcp and azure down, judged on the stored evidence at ``now``
    (none when nothing is inventoried yet): as stored with the scores while that still holds at
    ``now``, else computed live (``failover.whatif.stored``)."""
    from failover.whatif.stored import stored_matrix

    return stored_matrix(config, store, now=now, none_uninventoried=True)


def _selected(config: Config, owner: str | None) -> dict[str, list[str]]:
    owners = {o: [w.name for w in ws] for o, ws in owners_of(config.workloads).items()}
    if owner is None:
        return owners
    key = owner.strip().lower()
    if key not in owners:
        known = ", ".join(sorted(owners)) or "none"
        raise ConfigError(f"no workload lists {owner!r} as an owner (owners: {known})")
    return {key: owners[key]}


def _render(config: Config, store: Store, now: datetime, owner: str | None) -> tuple[str, list[RenderedEmail], bool]:
    if config.mail is None:  # a preview (``failover report`` without mail:): render with the defaults
        config = config.model_copy(update={"mail": _PREVIEW_MAIL})
    mail = _mail(config)
    now = aware(now)
    tz = schedule_zone(mail.schedule.timezone)
    week = iso_week(now, tz)
    selected = _selected(config, owner)
    digests, any_scored = _digests(config, store, now)
    whatif = _whatif(config, store, now) if any_scored else []
    domain = mail.from_.rsplit("@", 1)[1]
    emails: list[RenderedEmail] = []
    for addr, names in sorted(selected.items()):
        digest: OwnerDigest = build_owner_digest(addr, (digests[n] for n in names), now=now, tz=tz, whatif=whatif)
        message_id = make_msgid(idstring=f"weekly.{week}", domain=domain)
        text, html = render_text(digest, config), render_html(digest, config)
        msg = compose(digest, config, message_id=message_id, text=text, html=html)
        emails.append(
            RenderedEmail(
                owner=addr,
                iso_week=week,
                subject=str(msg["Subject"]),
                message_id=message_id,
                workloads=[w.name for w in digest.workloads],
                text=text,
                html=html,
                message=msg,
            )
        )
    return week, emails, any_scored


def render_weekly(config: Config, store: Store, *, now: datetime, owner: str | None = None) -> list[RenderedEmail]:
    """Every owner's email for the ISO week of ``now`` (one owner with ``owner``), sorted by address.

    Without a ``mail:`` section the emails are still rendered (a preview) with the default settings.

    Returns ``[]`` when the store holds no score for any configured workload (nothing to report yet);
    a workload without a score among scored ones is shown as UNKNOWN, never left out.
    """
    _, emails, any_scored = _render(config, store, now, owner)
    return emails if any_scored else []


def send_weekly(
    config: Config,
    store: Store,
    *,
    now: datetime,
    vantage: str = "",
    owner: str | None = None,
    retry: RetryPolicy | None = None,
    env: Mapping[str, str] | None = None,
) -> WeeklyResult:
    """Send the week's email to every owner (or ``owner``) not yet delivered for the ISO week of ``now``.

    Safe to call from several processes at once: the store's (owner, week) claim decides who sends.
    Raises ``ConfigError`` before sending anything when the mail config cannot work (no mail section,
    credentials over clear text, a credential variable unset, an unreadable ca_file); per-owner send
    failures are reported in the result, not raised.
    """
    mail = _mail(config)
    ca_file = _ca_file(config)
    preflight(mail.smtp, ca_file=ca_file, env=env)  # fail once, before any claim, not once per owner
    week, emails, any_scored = _render(config, store, now, owner)
    result = WeeklyResult(iso_week=week)
    if not any_scored:
        result.no_scores = True
        log.warning("weekly email %s not sent: no workload has a score yet", week)
        return result
    for email in emails:
        _deliver_one(email, mail, store, result, vantage=vantage, ca_file=ca_file, retry=retry, env=env)
    log.info("weekly email %s: %s", week, ", ".join(f"{n} {k}" for k, n in result.counts.items()))
    return result


def _ca_file(config: Config) -> str | None:
    assert config.mail is not None
    chosen = config.mail.smtp.ca_file or config.tls.ca_file
    return str(config.resolve_path(chosen)) if chosen else None


def _deliver_one(
    email: RenderedEmail,
    mail: Mail,
    store: Store,
    result: WeeklyResult,
    *,
    vantage: str,
    ca_file: str | None,
    retry: RetryPolicy | None,
    env: Mapping[str, str] | None,
) -> None:
    if store.delivered(email.owner, email.iso_week):
        result.skipped[email.owner] = f"already delivered for {email.iso_week}"
        return
    if not store.record_delivery(email.owner, email.iso_week, email.message_id, vantage):
        result.skipped[email.owner] = f"already delivered for {email.iso_week} (claimed by another sender)"
        return
    try:
        send_message(mail.smtp, email.message, ca_file=ca_file, env=env, retry=retry)
    except MailError as err:
        result.failed[email.owner] = str(err)
        if err.maybe_delivered:
            log.error("weekly email to %s may or may not have arrived; not resending: %s", email.owner, err)
        else:
            store.release_delivery(email.owner, email.iso_week, email.message_id)
            log.error("weekly email to %s failed; it will be retried on the next run: %s", email.owner, err)
        return
    except Exception as err:  # a bug mid-send: whether it went out is unknown, so keep the claim
        result.failed[email.owner] = f"unexpected {type(err).__name__} while sending: {err}"
        log.exception("weekly email to %s: unexpected error; not resending this week", email.owner)
        return
    result.sent.append(email.owner)
