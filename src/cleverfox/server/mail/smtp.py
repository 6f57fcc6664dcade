"""Delivery over SMTP: plain, STARTTLS or implicit TLS, with optional authentication."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from enum import Enum
from urllib.parse import parse_qsl, unquote, urlsplit

from cleverfox.server.mail.envelope import (
    envelope_recipients,
    envelope_sender,
    message_id_of,
    without_bcc,
)
from cleverfox.server.mail.errors import MailDeliveryError

__all__ = ["DEFAULT_TIMEOUT", "SmtpSecurity", "SmtpTransport"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


class SmtpSecurity(Enum):
    """How the SMTP connection is protected; the value is the URL scheme that asks for it."""

    PLAIN = "smtp"
    STARTTLS = "smtp+starttls"
    TLS = "smtps"

    @property
    def default_port(self) -> int:
        return {SmtpSecurity.PLAIN: 25, SmtpSecurity.STARTTLS: 587, SmtpSecurity.TLS: 465}[self]


@dataclass(frozen=True)
class _UrlOptions:
    verify: bool = True
    timeout: float = DEFAULT_TIMEOUT


class SmtpTransport:
    """Delivers each mail over its own SMTP connection.

    ``STARTTLS`` is required, never opportunistic: a server that does not offer it fails the
    delivery rather than receiving the mail (and the password) in the clear. With
    ``verify=False`` the server's certificate is not checked (self-signed test servers); an
    explicit ``ssl_context`` overrides ``verify``. Credentials on a ``PLAIN`` connection are
    sent as they are, which is for loopback relays only. ``local_hostname`` is the name
    given in EHLO (default: this host's fully qualified name).
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        security: SmtpSecurity = SmtpSecurity.PLAIN,
        username: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        verify: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if password is not None and username is None:
            raise ValueError("an SMTP password needs a user name")
        if timeout <= 0:
            raise ValueError("the SMTP timeout must be positive")
        self.host = host
        self.port = port or security.default_port
        self.security = security
        self.username = username
        self._password = password or ""
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._ssl_context = ssl_context or _client_ssl_context(verify=verify)

    @classmethod
    def from_url(cls, url: str, *, ssl_context: ssl.SSLContext | None = None) -> SmtpTransport:
        """Build a transport from ``smtp[+starttls]|smtps://[user[:password]@]host[:port]``.

        User and password are percent-decoded. Query options: ``verify=true|false``
        (default true) and ``timeout=SECONDS`` (default 30). Anything else — another scheme,
        a path, an unknown option — raises ``ValueError``, whose message never repeats the
        password.
        """
        parts = urlsplit(url)
        security = _security_of(parts.scheme)
        if not parts.hostname:
            raise ValueError("the SMTP URL names no host")
        if parts.path not in ("", "/"):
            raise ValueError("the SMTP URL must not have a path")
        options = _url_options(parts.query)
        return cls(
            parts.hostname,
            parts.port,
            security=security,
            username=None if parts.username is None else unquote(parts.username),
            password=None if parts.password is None else unquote(parts.password),
            timeout=options.timeout,
            verify=options.verify,
            ssl_context=ssl_context,
        )

    def __repr__(self) -> str:
        user = f"{self.username}@" if self.username is not None else ""
        return f"SmtpTransport({self.security.value}://{user}{self.host}:{self.port})"

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` (see ``MailTransport.send``); Bcc goes in the envelope only.

        Recipients the server refuses while it accepts others are logged, not raised: the
        mail was delivered, and sending it again would repeat it to the rest.
        """
        message_id = message_id_of(message)
        sender, recipients = envelope_sender(message), envelope_recipients(message)
        try:
            with self._session() as smtp:
                refused = smtp.send_message(without_bcc(message), sender, recipients)
        except (smtplib.SMTPException, OSError) as error:
            raise _delivery_error(error) from error
        if refused:
            log.warning("mail %s: the SMTP server refused %s", message_id, sorted(refused))

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        """Connect, secure and log in; leaving the session never raises.

        Once the server has accepted the mail, a failing QUIT must not turn the delivery
        into an error, or the caller would send the mail again.
        """
        smtp = self._connect()
        try:
            if self.security is SmtpSecurity.STARTTLS:
                smtp.starttls(context=self._ssl_context)
            if self.username is not None:
                smtp.login(self.username, self._password)
            yield smtp
        finally:
            _close_quietly(smtp)

    def _connect(self) -> smtplib.SMTP:
        if self.security is SmtpSecurity.TLS:
            return smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=self._ssl_context,
            )
        return smtplib.SMTP(
            self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
        )


def _close_quietly(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _security_of(scheme: str) -> SmtpSecurity:
    try:
        return SmtpSecurity(scheme.lower())
    except ValueError:
        schemes = ", ".join(f"{s.value}://" for s in SmtpSecurity)
        raise ValueError(f"the SMTP URL must start with one of {schemes}") from None


def _url_options(query: str) -> _UrlOptions:
    options: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in ("verify", "timeout") or name in options:
            raise ValueError(f"unknown or repeated SMTP URL option {name!r}")
        options[name] = value
    return _UrlOptions(
        verify=_parse_bool(options.get("verify", "true")),
        timeout=_parse_timeout(options.get("timeout", str(DEFAULT_TIMEOUT))),
    )


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"the SMTP URL option verify must be true or false, not {text!r}")


def _parse_timeout(text: str) -> float:
    try:
        timeout = float(text)
    except ValueError:
        raise ValueError(f"the SMTP URL option timeout must be seconds, not {text!r}") from None
    if not 0 < timeout < float("inf"):
        raise ValueError("the SMTP URL option timeout must be a positive number of seconds")
    return timeout


def _client_ssl_context(*, verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _delivery_error(error: Exception) -> MailDeliveryError:
    """Classify a failed delivery: 5xx about the mail is permanent, the rest is retryable."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        transient = any(code < 500 for code in codes)
        code = min(codes) if transient else max(codes, default=None)
        return MailDeliveryError("every recipient was refused", retryable=transient, smtp_code=code)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        # Our configuration, not the mail: every mail fails alike until an operator fixes it.
        return MailDeliveryError(
            "the SMTP server refused our credentials", retryable=True, smtp_code=error.smtp_code
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return MailDeliveryError(
            f"the SMTP server replied {error.smtp_code} {_text(error.smtp_error)}",
            retryable=error.smtp_code < 500,
            smtp_code=error.smtp_code,
        )
    return MailDeliveryError(f"{type(error).__name__}: {error}", retryable=True)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
