"""SMTP delivery against real aiosmtpd servers on 127.0.0.1: TLS modes, AUTH, retries, refusals."""

from __future__ import annotations

import base64
import logging
import traceback
from collections.abc import Callable
from email.message import EmailMessage

import pytest

from failover.errors import ConfigError, MailError
from failover.mail.send import RetryPolicy, send_message
from tests.fixtures.smtp import SmtpServer, free_port

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


def message(to: str = "alice@example.com") -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = "hello"
    msg["From"] = "failover@example.com"
    msg["To"] = to
    msg["Message-ID"] = "<test.1@example.com>"
    msg.set_content("line one\n.leading dot survives\n")
    return msg


def test_plain_relay_receives_the_message(smtp_server: SmtpServer) -> None:
    send_message(smtp_server.smtp(), message(), retry=FAST)

    [got] = smtp_server.received
    assert got.rcpt_tos == ["alice@example.com"]
    assert got.mail_from == "failover@example.com"
    assert got.message["Message-ID"] == "<test.1@example.com>"
    assert ".leading dot survives" in got.message.get_content()


def test_starttls_with_auth_delivers_over_a_private_ca(smtp_tls_server: SmtpServer) -> None:
    send_message(smtp_tls_server.smtp(), message(), env=smtp_tls_server.env(), retry=FAST)

    assert len(smtp_tls_server.received) == 1
    assert smtp_tls_server.auth_attempts  # AUTH happened (after STARTTLS: the server requires it)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_auth_delivers(smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory(implicit_tls=True, auth=("mailer", "pw-implicit"))
    send_message(server.smtp(), message(), env=server.env(), retry=FAST)
    assert len(server.received) == 1


def test_untrusted_certificate_is_refused_without_retry(smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory(starttls=True)
    with pytest.raises(MailError, match="certificate not trusted") as err:
        send_message(server.smtp(ca_file=None), message(), retry=FAST)
    assert not err.value.transient
    assert server.received == []


def test_server_without_starttls_is_refused_rather_than_sent_in_clear(smtp_server: SmtpServer) -> None:
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        send_message(smtp_server.smtp(starttls=True), message(), retry=FAST)
    assert smtp_server.received == []


def test_credentials_over_an_unencrypted_connection_are_refused(smtp_server: SmtpServer) -> None:
    smtp = smtp_server.smtp(username_env="SMTP_TEST_USER", password_env="SMTP_TEST_PASSWORD")
    env = {"SMTP_TEST_USER": "mailer", "SMTP_TEST_PASSWORD": "hunter2-secret"}
    with pytest.raises(ConfigError, match="refusing to send credentials") as err:
        send_message(smtp, message(), env=env, retry=FAST)
    assert "hunter2-secret" not in str(err.value)
    assert smtp_server.attempts == 0 and smtp_server.received == []


def test_missing_credential_variable_names_the_variable(smtp_tls_server: SmtpServer) -> None:
    with pytest.raises(ConfigError, match="SMTP_TEST_PASSWORD is not set"):
        send_message(smtp_tls_server.smtp(), message(), env={"SMTP_TEST_USER": "mailer"}, retry=FAST)


def test_wrong_password_fails_permanently_without_leaking_it(
    smtp_tls_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    env = {"SMTP_TEST_USER": "mailer", "SMTP_TEST_PASSWORD": "wrong-Pa55word-xyz"}
    with pytest.raises(MailError, match="authentication failed: 535") as err:
        send_message(smtp_tls_server.smtp(), message(), env=env, retry=FAST)
    assert not err.value.transient
    tried = smtp_tls_server.auth_attempts  # smtplib tries each offered mechanism once; we do not retry
    assert tried and len(tried) == len(set(tried))
    assert "wrong-Pa55word-xyz" not in str(err.value)
    assert "wrong-Pa55word-xyz" not in "".join(traceback.format_exception(err.value))
    assert "wrong-Pa55word-xyz" not in caplog.text


def test_secrets_never_reach_the_logs(smtp_tls_server: SmtpServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = smtp_tls_server
    send_message(server.smtp(), message(), env=server.env(), retry=FAST)
    assert server.password and server.password not in caplog.text
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("failover"))
    encoded = base64.b64encode(f"\0{server.username}\0{server.password}".encode()).decode()
    assert encoded not in ours and server.password not in ours
    assert server.password not in server.received[0].data.decode()


def test_server_that_refuses_then_accepts_gets_exactly_one_message(smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory(refuse_first=2)
    sleeps: list[float] = []
    send_message(server.smtp(), message(), retry=FAST, sleep=sleeps.append)
    assert server.attempts == 3
    assert len(server.received) == 1
    assert len(sleeps) == 2 and sleeps[0] <= sleeps[1] * 2  # backed off between tries


def test_transient_refusal_gives_up_after_bounded_attempts(smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory(refuse_first=100)
    with pytest.raises(MailError, match=r"451.*gave up after 4 attempts") as err:
        send_message(server.smtp(), message(), retry=FAST, sleep=lambda _s: None)
    assert err.value.transient and not err.value.maybe_delivered
    assert server.attempts == 4 and server.received == []


def test_permanent_rejection_is_not_retried(smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory(refuse_first=100, refuse_reply="554 5.7.1 Message rejected")
    with pytest.raises(MailError, match="554") as err:
        send_message(server.smtp(), message(), retry=FAST)
    assert not err.value.transient
    assert server.attempts == 1


def test_connection_refused_is_retried_then_reported() -> None:
    from failover.schema import Smtp

    smtp = Smtp(host="127.0.0.1", port=free_port(), starttls=False, timeout=2)
    sleeps: list[float] = []
    with pytest.raises(MailError, match="ConnectionRefusedError") as err:
        send_message(smtp, message(), retry=FAST, sleep=sleeps.append)
    assert err.value.transient and len(sleeps) == FAST.attempts - 1


def test_lost_reply_after_the_body_is_not_resent(smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory(reply_delay=1.5)
    with pytest.raises(MailError, match="may have been delivered") as err:
        send_message(server.smtp(timeout=0.5), message(), retry=FAST)
    assert err.value.maybe_delivered and not err.value.transient
    assert len(server.received) == 1  # the server did take it: a retry would have duplicated it
