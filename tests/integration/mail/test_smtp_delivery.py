"""SmtpTransport against a real SMTP server on loopback: what arrives, and how it fails."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from cleverfox.server.mail import (
    JobOutcome,
    JobResult,
    MailDeliveryError,
    Recipients,
    SmtpTransport,
    job_result_message,
    new_message_id,
    transport_from_settings,
)

StartServer = Callable[..., Any]

SENDER = "CleverFox Backup <noreply@cleverfox.example>"
USER = "mailer@example.com"
PASSWORD = "s3cret: with/odd%chars"
CREDENTIALS = f"{quote(USER, safe='')}:{quote(PASSWORD, safe='')}"

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def job_mail(
    *,
    to: str = "ops@example.com, lead@example.com",
    cc: str = "audit@example.com",
    bcc: str = "hidden@example.org",
    message_id: str | None = None,
) -> EmailMessage:
    result = JobResult(
        company_name="Acme Ltd",
        device_name="PC-01",
        job_name="Nightly",
        outcome=JobOutcome.FAILED,
        time_zone=ZoneInfo("Europe/Berlin"),
        started_on=datetime(2024, 3, 1, 1, 0, tzinfo=UTC),
        error_messages="Disk full",
    )
    return job_result_message(
        result,
        message_id=message_id or new_message_id("cleverfox.example"),
        sender=SENDER,
        recipients=Recipients.from_lists(to, cc, bcc),
        date=datetime(2024, 3, 1, 2, 0, tzinfo=UTC),
    )


def delivery_error(transport: SmtpTransport, message: EmailMessage) -> MailDeliveryError:
    with pytest.raises(MailDeliveryError) as caught:
        transport.send(message)
    return caught.value


# --- what arrives --------------------------------------------------------------------------


def test_plain_smtp_delivers_bcc_in_the_envelope_only(smtp_server: StartServer) -> None:
    server = smtp_server()
    mail = job_mail()
    SmtpTransport.from_url(f"smtp://{server.host}:{server.port}").send(mail)

    [received] = server.handler.received
    assert received.mail_from == "noreply@cleverfox.example"
    assert received.rcpt_tos == [
        "ops@example.com",
        "lead@example.com",
        "audit@example.com",
        "hidden@example.org",
    ]
    assert "Bcc" not in received.message
    assert b"hidden@example.org" not in received.raw
    assert received.message["Message-ID"] == mail["Message-ID"]
    assert received.message["Subject"] == "[CleverFox Backup] Job 'Nightly' on PC-01 failed"
    assert received.message["Cc"] == "audit@example.com"


def test_sending_does_not_change_the_callers_message(smtp_server: StartServer) -> None:
    server = smtp_server()
    mail = job_mail()
    SmtpTransport.from_url(f"smtp://{server.host}:{server.port}").send(mail)
    assert mail["Bcc"] == "hidden@example.org"


def test_a_repeat_carries_the_same_message_id(smtp_server: StartServer) -> None:
    server = smtp_server()
    transport = SmtpTransport.from_url(f"smtp://{server.host}:{server.port}")
    message_id = new_message_id("cleverfox.example")
    transport.send(job_mail(message_id=message_id))
    transport.send(job_mail(message_id=message_id))
    assert [r.message["Message-ID"] for r in server.handler.received] == [message_id] * 2


def test_a_recipient_in_several_lists_gets_one_copy(smtp_server: StartServer) -> None:
    server = smtp_server()
    mail = job_mail(to="ops@example.com", cc="OPS@example.com", bcc="ops@example.com")
    SmtpTransport.from_url(f"smtp://{server.host}:{server.port}").send(mail)
    assert server.handler.received[0].rcpt_tos == ["ops@example.com"]


def test_settings_with_an_smtp_url_deliver_over_smtp(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server()
    transport = transport_from_settings(f"smtp://{server.host}:{server.port}", tmp_path)
    transport.send(job_mail())
    assert len(server.handler.received) == 1
    assert list(tmp_path.iterdir()) == []


# --- TLS -----------------------------------------------------------------------------------


def test_starttls_with_authentication(smtp_server: StartServer, certificate: Any) -> None:
    server = smtp_server(
        tls_context=certificate.server_context(), require_starttls=True, auth_required=True
    )
    url = f"smtp+starttls://{CREDENTIALS}@{server.host}:{server.port}?verify=false"
    SmtpTransport.from_url(url).send(job_mail())
    assert len(server.handler.received) == 1
    assert server.handler.auth_mechanisms


def test_starttls_verifies_the_certificate_by_default(
    smtp_server: StartServer, certificate: Any
) -> None:
    server = smtp_server(tls_context=certificate.server_context(), require_starttls=True)
    transport = SmtpTransport.from_url(f"smtp+starttls://{server.host}:{server.port}")
    assert delivery_error(transport, job_mail()).retryable
    assert server.handler.received == []


def test_starttls_accepts_a_certificate_the_context_trusts(
    smtp_server: StartServer, certificate: Any
) -> None:
    server = smtp_server(tls_context=certificate.server_context(), require_starttls=True)
    url = f"smtp+starttls://{server.host}:{server.port}"
    SmtpTransport.from_url(url, ssl_context=certificate.client_context()).send(job_mail())
    assert len(server.handler.received) == 1


def test_starttls_is_required_not_opportunistic(smtp_server: StartServer) -> None:
    server = smtp_server()  # offers no STARTTLS
    transport = SmtpTransport.from_url(f"smtp+starttls://{server.host}:{server.port}")
    delivery_error(transport, job_mail())
    assert server.handler.received == []


def test_implicit_tls(smtp_server: StartServer, certificate: Any) -> None:
    server = smtp_server(ssl_context=certificate.server_context())
    SmtpTransport.from_url(f"smtps://{server.host}:{server.port}?verify=false").send(job_mail())
    assert len(server.handler.received) == 1


def test_implicit_tls_verifies_the_certificate_by_default(
    smtp_server: StartServer, certificate: Any
) -> None:
    server = smtp_server(ssl_context=certificate.server_context())
    transport = SmtpTransport.from_url(f"smtps://{server.host}:{server.port}?timeout=5")
    assert delivery_error(transport, job_mail()).retryable
    assert server.handler.received == []


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(("mechanism", "excluded"), [("LOGIN", "PLAIN"), ("PLAIN", "LOGIN")])
def test_authentication_mechanisms(smtp_server: StartServer, mechanism: str, excluded: str) -> None:
    server = smtp_server(
        auth_required=True, auth_require_tls=False, auth_exclude_mechanism=[excluded]
    )
    SmtpTransport.from_url(f"smtp://{CREDENTIALS}@{server.host}:{server.port}").send(job_mail())
    assert server.handler.auth_mechanisms == [mechanism]
    assert len(server.handler.received) == 1


def test_wrong_credentials_are_retryable_until_an_operator_fixes_them(
    smtp_server: StartServer,
) -> None:
    server = smtp_server(auth_required=True, auth_require_tls=False)
    transport = SmtpTransport.from_url(f"smtp://{USER}:wrong@{server.host}:{server.port}")
    error = delivery_error(transport, job_mail())
    assert error.retryable
    assert error.smtp_code == 535
    assert "wrong" not in str(error)
    assert server.handler.received == []


# --- failures ------------------------------------------------------------------------------


def test_a_550_for_every_recipient_is_permanent(smtp_server: StartServer) -> None:
    refuse = "550 5.1.1 No such user"
    server = smtp_server()
    server.handler.rcpt_replies.update({"gone@example.com": refuse, "left@example.com": refuse})
    transport = SmtpTransport.from_url(f"smtp://{server.host}:{server.port}")
    error = delivery_error(
        transport, job_mail(to="gone@example.com, left@example.com", cc="", bcc="")
    )
    assert (error.retryable, error.smtp_code) == (False, 550)


def test_a_451_is_retryable(smtp_server: StartServer) -> None:
    server = smtp_server()
    server.handler.data_reply = "451 4.3.0 Try again later"
    transport = SmtpTransport.from_url(f"smtp://{server.host}:{server.port}")
    error = delivery_error(transport, job_mail())
    assert (error.retryable, error.smtp_code) == (True, 451)


def test_a_554_for_the_content_is_permanent(smtp_server: StartServer) -> None:
    server = smtp_server()
    server.handler.data_reply = "554 5.6.0 Message rejected"
    transport = SmtpTransport.from_url(f"smtp://{server.host}:{server.port}")
    error = delivery_error(transport, job_mail())
    assert (error.retryable, error.smtp_code) == (False, 554)


def test_a_temporarily_refused_recipient_makes_the_whole_mail_retryable(
    smtp_server: StartServer,
) -> None:
    server = smtp_server()
    server.handler.rcpt_replies.update(
        {"gone@example.com": "550 No such user", "busy@example.com": "452 Mailbox full"}
    )
    transport = SmtpTransport.from_url(f"smtp://{server.host}:{server.port}")
    mail = job_mail(to="gone@example.com", cc="busy@example.com", bcc="")
    assert delivery_error(transport, mail).retryable


def test_a_mail_some_recipients_accepted_counts_as_delivered(smtp_server: StartServer) -> None:
    server = smtp_server()
    server.handler.rcpt_replies["gone@example.com"] = "550 No such user"
    transport = SmtpTransport.from_url(f"smtp://{server.host}:{server.port}")
    transport.send(job_mail(to="gone@example.com", cc="ops@example.com", bcc=""))
    assert server.handler.received[0].rcpt_tos == ["ops@example.com"]


def test_a_failing_quit_after_acceptance_is_no_error(smtp_server: StartServer) -> None:
    server = smtp_server()
    server.handler.quit_reply = "554 Go away"
    SmtpTransport.from_url(f"smtp://{server.host}:{server.port}").send(job_mail())
    assert len(server.handler.received) == 1


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_refused_connection_is_retryable(closed_port: int) -> None:
    transport = SmtpTransport.from_url(f"smtp://127.0.0.1:{closed_port}?timeout=5")
    error = delivery_error(transport, job_mail())
    assert error.retryable
    assert error.smtp_code is None


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_server_that_never_answers_times_out_retryably(silent_server: int) -> None:
    transport = SmtpTransport.from_url(f"smtp://127.0.0.1:{silent_server}?timeout=0.3")
    assert delivery_error(transport, job_mail()).retryable
