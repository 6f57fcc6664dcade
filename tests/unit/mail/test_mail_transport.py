"""Reading SMTP URLs and what a message says about its envelope (no network)."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.server.mail import OutboxTransport, SmtpSecurity, SmtpTransport
from cleverfox.server.mail.envelope import envelope_recipients, envelope_sender, without_bcc
from cleverfox.server.mail.outbox import outbox_key
from cleverfox.server.mail.transport import transport_from_settings

# --- SMTP URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://mail.example.com", SmtpSecurity.PLAIN, 25),
        ("smtp+starttls://mail.example.com", SmtpSecurity.STARTTLS, 587),
        ("smtps://mail.example.com", SmtpSecurity.TLS, 465),
        ("SMTPS://mail.example.com:2465/", SmtpSecurity.TLS, 2465),
        ("smtp://127.0.0.1:2525", SmtpSecurity.PLAIN, 2525),
    ],
)
def test_scheme_chooses_security_and_default_port(
    url: str, security: SmtpSecurity, port: int
) -> None:
    transport = SmtpTransport.from_url(url)
    assert (transport.security, transport.port) == (security, port)
    assert transport.username is None


def test_credentials_are_percent_decoded() -> None:
    transport = SmtpTransport.from_url("smtp+starttls://me%40example.com:p%3As%2Fw%25d@mx:587")
    assert transport.username == "me@example.com"
    assert transport._password == "p:s/w%d"
    assert transport.host == "mx"


def test_a_user_without_password_logs_in_with_an_empty_one() -> None:
    transport = SmtpTransport.from_url("smtp://relay@mx")
    assert (transport.username, transport._password) == ("relay", "")


def test_options_verify_and_timeout() -> None:
    transport = SmtpTransport.from_url("smtps://mx?verify=false&timeout=2.5")
    assert transport.timeout == 2.5
    assert transport._ssl_context.verify_mode is ssl.CERT_NONE
    assert not transport._ssl_context.check_hostname


def test_certificates_are_verified_by_default() -> None:
    transport = SmtpTransport.from_url("smtps://mx")
    assert transport._ssl_context.verify_mode is ssl.CERT_REQUIRED
    assert transport._ssl_context.check_hostname
    assert transport.timeout == 30


def test_an_explicit_ssl_context_wins() -> None:
    context = ssl.create_default_context()
    assert SmtpTransport.from_url("smtps://mx?verify=false", ssl_context=context)._ssl_context is (
        context
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://mx",
        "smtp+ssl://mx",
        "mx:25",
        "smtp://",
        "smtp://mx/path",
        "smtp://mx:notaport",
        "smtp://mx?verify=maybe",
        "smtp://mx?timeout=soon",
        "smtp://mx?timeout=0",
        "smtp://mx?timeout=-1",
        "smtp://mx?timeout=inf",
        "smtp://mx?tls=yes",
        "smtp://mx?timeout=1&timeout=2",
    ],
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"SMTP URL|port"):
        SmtpTransport.from_url(url)


def test_errors_and_repr_never_show_the_password() -> None:
    with pytest.raises(ValueError, match="SMTP URL option") as caught:
        SmtpTransport.from_url("smtp://me:hunter2@mx?bogus=1")
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(SmtpTransport.from_url("smtp://me:hunter2@mx"))


def test_settings_without_smtp_url_use_the_outbox(tmp_path: Path) -> None:
    for url in (None, ""):
        transport = transport_from_settings(url, tmp_path / "outbox")
        assert isinstance(transport, OutboxTransport)
        assert transport.directory == tmp_path / "outbox"


def test_settings_with_smtp_url_use_smtp(tmp_path: Path) -> None:
    assert isinstance(transport_from_settings("smtp://mx", tmp_path), SmtpTransport)


# --- envelopes -----------------------------------------------------------------------------


def message(**headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Message-ID"] = "<1@example.com>"
    for name, value in headers.items():
        mail[name] = value
    mail.set_content("hello\n")
    return mail


def test_envelope_has_to_cc_and_bcc_once_each() -> None:
    mail = message(
        From="Ops <ops@example.com>",
        To="A <a@example.com>, b@example.com",
        Cc="B@example.com, c@example.com",
        Bcc="d@example.com, a@example.com",
    )
    assert envelope_sender(mail) == "ops@example.com"
    assert envelope_recipients(mail) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    ]


def test_a_mail_without_recipients_or_sender_is_a_bug() -> None:
    with pytest.raises(ValueError, match="recipient"):
        envelope_recipients(message(From="ops@example.com"))
    with pytest.raises(ValueError, match="From"):
        envelope_sender(message(To="a@example.com"))


def test_the_wire_copy_drops_bcc_and_leaves_the_original() -> None:
    mail = message(From="ops@example.com", To="a@example.com", Bcc="secret@example.com")
    wire = without_bcc(mail)
    assert "Bcc" not in wire
    assert b"secret@example.com" not in wire.as_bytes()
    assert mail["Bcc"] == "secret@example.com"


# --- outbox file names ---------------------------------------------------------------------


@given(st.text(min_size=1), st.text(min_size=1))
def test_distinct_message_ids_get_distinct_file_names(first: str, second: str) -> None:
    def core(message_id: str) -> str:
        return message_id.strip().removeprefix("<").removesuffix(">")

    if core(first) != core(second):
        assert outbox_key(first) != outbox_key(second)


@given(st.text(min_size=1, max_size=500))
def test_file_names_are_safe(message_id: str) -> None:
    key = outbox_key(message_id)
    assert 0 < len(key) <= 160
    assert all(c.isascii() and (c.isalnum() or c in "@._+-~%=") for c in key)


def test_a_usual_message_id_stays_readable() -> None:
    assert outbox_key("<20240301.1234@cleverfox.example>") == "20240301.1234@cleverfox.example"
