"""Hand one message to the SMTP server named in ``mail.smtp``: the only module here that does I/O.

Transport: implicit TLS (``tls: true``, ``smtplib.SMTP_SSL``), STARTTLS (``starttls: true``; refused
if the server does not offer it, never a silent fall back to clear text), or plain SMTP to a local
relay (``starttls: false``). Credentials are read from the environment variables the config names at
send time, used for AUTH only over an encrypted connection, and never logged, stored or put in an
exception's text.

Retries: connection failures, timeouts and 4xx replies are retried with capped exponential backoff;
5xx replies and TLS verification failures are not. A failure after the message body went out but
before the server's final reply is *ambiguous* (the server may have queued it): it is not retried,
and the error says ``maybe_delivered`` so the caller keeps its delivery record.
"""

from __future__ import annotations

import logging
import os
import random
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses, parseaddr

from failover.errors import ConfigError, MailError
from failover.schema import Smtp

__all__ = ["RetryPolicy", "check_transport", "credentials", "preflight", "send_message"]

log = logging.getLogger("failover.mail")
_DOT_LINE = re.compile(rb"(?m)^\.")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 2.0
    max_delay: float = 60.0

    def delay(self, attempt: int) -> float:
        """Backoff before retry number ``attempt`` (0-based): exponential, capped, with jitter."""
        cap = min(self.max_delay, self.base_delay * 2**attempt)
        return cap / 2 + random.uniform(0, cap / 2)


def credentials(smtp: Smtp, env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """(username, password) from the environment variables named by the config, or None for no AUTH."""
    if not smtp.username_env and not smtp.password_env:
        return None
    env = os.environ if env is None else env
    if not (smtp.username_env and smtp.password_env):
        missing = "password_env" if smtp.username_env else "username_env"
        raise ConfigError(f"mail.smtp: {missing} is not set (username_env and password_env go together)")
    user, password = env.get(smtp.username_env), env.get(smtp.password_env)
    for name, value, key in ((smtp.username_env, user, "username_env"), (smtp.password_env, password, "password_env")):
        if not value:
            raise ConfigError(f"mail.smtp.{key}: environment variable {name} is not set or empty")
    assert user is not None and password is not None
    return user, password


def check_transport(smtp: Smtp) -> None:
    """Refuse a configuration that would send credentials in clear text."""
    encrypted = smtp.tls or smtp.starttls
    if (smtp.username_env or smtp.password_env) and not encrypted:
        raise ConfigError(
            f"mail.smtp: refusing to send credentials to {smtp.host}:{smtp.port} over an unencrypted "
            "connection; set starttls: true (or tls: true), or remove username_env/password_env for a local relay"
        )


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as err:
        raise ConfigError(f"mail.smtp.ca_file: cannot load {ca_file!r}: {err.strerror or err}") from None


def preflight(smtp: Smtp, *, ca_file: str | None = None, env: Mapping[str, str] | None = None) -> None:
    """Raise ``ConfigError`` now for what would fail every send: clear-text credentials, an unset
    credential variable, an unreadable CA file. Connects to nothing."""
    check_transport(smtp)
    credentials(smtp, env)
    if smtp.tls or smtp.starttls:
        _tls_context(ca_file or smtp.ca_file)


def _reply_text(resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    text = " ".join(text.split())
    return text[:200]


def _classify(err: BaseException, where: str) -> MailError:
    """Map an smtplib/socket failure to a MailError; ``transient`` says whether another try may help."""
    if isinstance(err, MailError):
        if err.maybe_delivered:
            return MailError(f"{where}: {err}", maybe_delivered=True)
        return err
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in err.recipients.values()]
        replies = "; ".join(f"{rcpt}: {code} {_reply_text(msg)}" for rcpt, (code, msg) in err.recipients.items())
        return MailError(f"{where}: recipient refused ({replies})", transient=all(400 <= c < 500 for c in codes))
    if isinstance(err, smtplib.SMTPResponseException):
        code = err.smtp_code
        what = "authentication failed" if isinstance(err, smtplib.SMTPAuthenticationError) else "server replied"
        return MailError(f"{where}: {what}: {code} {_reply_text(err.smtp_error)}", transient=400 <= code < 500)
    if isinstance(err, smtplib.SMTPNotSupportedError):
        return MailError(f"{where}: {err}")
    if isinstance(err, ssl.SSLCertVerificationError):
        return MailError(f"{where}: TLS certificate not trusted: {err.verify_message} (see mail.smtp.ca_file)")
    if isinstance(err, smtplib.SMTPServerDisconnected | ssl.SSLError | OSError):
        return MailError(f"{where}: {type(err).__name__}: {err}".rstrip(": "), transient=True)
    return MailError(f"{where}: {type(err).__name__}: {err}")


def _send_data(client: smtplib.SMTP, payload: bytes) -> None:
    """DATA by hand, so a failure after the body went out can be told apart from one before it."""
    code, resp = client.docmd("DATA")
    if code != 354:
        raise smtplib.SMTPDataError(code, resp)
    body = _DOT_LINE.sub(b"..", payload)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    client.send(body + b".\r\n")
    try:
        code, resp = client.getreply()
    except (OSError, smtplib.SMTPServerDisconnected) as err:
        raise MailError(
            f"connection lost waiting for the server's reply to the message ({type(err).__name__}); "
            "it may have been delivered, so it is not retried",
            maybe_delivered=True,
        ) from None
    if code != 250:
        raise smtplib.SMTPDataError(code, resp)


def _attempt(smtp: Smtp, msg: EmailMessage, ctx: ssl.SSLContext | None, creds: tuple[str, str] | None) -> None:
    client: smtplib.SMTP
    if smtp.tls:
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=ctx)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    with client:
        client.ehlo()
        if not smtp.tls and smtp.starttls:
            if not client.has_extn("starttls"):
                raise MailError(
                    f"{smtp.host}:{smtp.port} does not offer STARTTLS; refusing to send in clear text "
                    "(set starttls: false only for a trusted local relay)"
                )
            client.starttls(context=ctx)
            client.ehlo()
        if creds is not None:
            client.login(creds[0], creds[1])
        sender = parseaddr(str(msg["From"]))[1]
        rcpts = [addr for _, addr in getaddresses([str(v) for v in msg.get_all("To", [])]) if addr]
        code, resp = client.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, resp, sender)
        refused = {}
        for rcpt in rcpts:
            code, resp = client.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, resp)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
        _send_data(client, msg.as_bytes(policy=SMTP))


def send_message(
    smtp: Smtp,
    msg: EmailMessage,
    *,
    ca_file: str | None = None,
    env: Mapping[str, str] | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Deliver ``msg`` to the configured server, retrying transient failures; raise MailError otherwise.

    ``ca_file`` (already resolved against the config file's directory) wins over ``smtp.ca_file``.
    """
    retry = retry or RetryPolicy()
    check_transport(smtp)
    creds = credentials(smtp, env)
    ctx = _tls_context(ca_file or smtp.ca_file) if (smtp.tls or smtp.starttls) else None
    where = f"SMTP {smtp.host}:{smtp.port}"
    for attempt in range(max(1, retry.attempts)):
        try:
            _attempt(smtp, msg, ctx, creds)
        except Exception as raw:
            err = _classify(raw, where)
            if not err.transient or attempt == retry.attempts - 1:
                if err.transient:
                    err = MailError(f"{err} (gave up after {retry.attempts} attempts)", transient=True)
                raise err from None
            wait = retry.delay(attempt)
            log.warning("%s; retrying in %.1fs (attempt %d of %d)", err, wait, attempt + 2, retry.attempts)
            sleep(wait)
        else:
            log.info("sent %s to %s via %s:%d", msg["Message-ID"], msg["To"], smtp.host, smtp.port)
            return
