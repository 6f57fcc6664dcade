"""How a finished mail leaves the process: the interface, and the choice the settings make.

Every transport takes an ``EmailMessage`` that carries a ``Message-ID``, a ``From`` and at
least one of ``To``/``Cc``/``Bcc``, and either delivers it or raises ``MailDeliveryError``,
whose ``retryable`` tells the caller whether trying later may succeed (the error tree is in
``errors``; the pace of retries in ``retry``). The implementations are ``SmtpTransport``
(``smtp``) and ``OutboxTransport`` (``outbox``); tests may pass any object with ``send``.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from cleverfox.server.mail.errors import MailDeliveryError
from cleverfox.server.mail.outbox import OutboxTransport
from cleverfox.server.mail.smtp import SmtpSecurity, SmtpTransport

__all__ = [
    "MailDeliveryError",
    "MailTransport",
    "OutboxTransport",
    "SmtpSecurity",
    "SmtpTransport",
    "transport_from_settings",
]


class MailTransport(Protocol):
    """Something that delivers a finished mail."""

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to every address in its To, Cc and Bcc headers.

        Returns once the mail is accepted (by the SMTP server, or durably on disk); raises
        ``MailDeliveryError`` otherwise. Bcc addresses never reach any recipient's copy.
        """
        ...


def transport_from_settings(smtp_url: str | None, outbox_dir: Path) -> MailTransport:
    """Return the transport a server's settings ask for: SMTP when a URL is set, else the outbox.

    Raises ``ValueError`` for a malformed ``smtp_url`` (see ``SmtpTransport.from_url``).
    """
    if smtp_url:
        return SmtpTransport.from_url(smtp_url)
    return OutboxTransport(outbox_dir)
