"""The server's mail layer, free of any database.

It owns what a mail is and how it leaves the process: the published e-mail list format
(``addresses``), the mails the server writes (``messages``), the ways they are delivered
(``transport``: the interface and the settings' choice; ``smtp``, ``outbox``; ``envelope``
reads the recipients from the headers), the one error (``errors``) and the pace of retries
(``retry``).
Deciding *when* a mail is due and recording that it was sent (the Log's
Notification…ProcessedOn, the Notification Sent/Failed Events) belong to the services that
call it.

Delivery is at most once per Message-ID from this layer's side: the caller generates the
Message-ID (``new_message_id``), persists it before sending, and reuses it on a repeat after a
crash, so a repeat is recognisable by its recipients and the outbox keeps one file per id.
"""

from cleverfox.server.mail.addresses import invalid_addresses, is_valid_email, split_email_list
from cleverfox.server.mail.messages import (
    InviteeKind,
    JobOutcome,
    JobResult,
    Recipients,
    invitation_message,
    job_result_message,
    new_message_id,
)
from cleverfox.server.mail.retry import MAX_ATTEMPTS, next_attempt_delay, should_give_up
from cleverfox.server.mail.transport import (
    MailDeliveryError,
    MailTransport,
    OutboxTransport,
    SmtpSecurity,
    SmtpTransport,
    transport_from_settings,
)

__all__ = [
    "MAX_ATTEMPTS",
    "InviteeKind",
    "JobOutcome",
    "JobResult",
    "MailDeliveryError",
    "MailTransport",
    "OutboxTransport",
    "Recipients",
    "SmtpSecurity",
    "SmtpTransport",
    "invalid_addresses",
    "invitation_message",
    "is_valid_email",
    "job_result_message",
    "new_message_id",
    "next_attempt_delay",
    "should_give_up",
    "split_email_list",
    "transport_from_settings",
]
