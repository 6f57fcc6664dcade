"""The one error of the mail layer, and when trying again may help.

::

    MailDeliveryError
      retryable=True   connection refused or lost, time-outs, TLS failures, 4xx replies,
                       a full or unwritable outbox, and our own configuration refused
                       (authentication, STARTTLS not offered)
      retryable=False  5xx replies about the mail itself (sender or every recipient
                       refused, content rejected)

A malformed message (no Message-ID, no From, no recipient) is a bug and raises
``ValueError`` instead.
"""

from __future__ import annotations

__all__ = ["MailDeliveryError"]


class MailDeliveryError(Exception):
    """The mail was not delivered: {reason}.

    ``retryable`` says whether the same mail may succeed later; ``smtp_code`` is the SMTP
    server's reply code when there was one.
    """

    def __init__(self, reason: str, *, retryable: bool, smtp_code: int | None = None) -> None:
        super().__init__(f"The mail was not delivered: {reason}.")
        self.retryable = retryable
        self.smtp_code = smtp_code
