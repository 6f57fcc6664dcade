"""The mails the server writes: job results and invitations.

Builders are pure: everything a mail says — its Message-ID, sender, recipients and Date
included — comes from the caller, so building the same mail twice gives the same message.
The caller makes the Message-ID once (``new_message_id``) and stores it before the first
attempt, so that a repeat after a crash carries the same id.

Bcc addresses are written in a ``Bcc`` header of the returned message; the transports put
them in the SMTP envelope and never in what a recipient receives.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from enum import Enum, StrEnum

from cleverfox.server.mail.addresses import is_valid_email, split_email_list

__all__ = [
    "PRODUCT_NAME",
    "InviteeKind",
    "JobOutcome",
    "JobResult",
    "Recipients",
    "invitation_message",
    "job_result_message",
    "new_message_id",
]

PRODUCT_NAME = "CleverFox Backup"

_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
_DOMAIN = re.compile(r"[^<>@\s]+")
_LABEL_WIDTH = 11


def new_message_id(domain: str) -> str:
    """Return a new, globally unique ``<…@domain>`` Message-ID for the caller to store."""
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a domain for a Message-ID: {domain!r}")
    return f"<{uuid.uuid4().hex}@{domain}>"


@dataclass(frozen=True)
class Recipients:
    """Who receives a mail: To (at least one), Cc and Bcc bare addresses.

    ``ignored`` names the entries ``from_lists`` left out because they are not valid
    addresses (stored lists were validated on input, but rules can tighten).
    """

    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    ignored: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.to:
            raise ValueError("a mail needs at least one To address")
        invalid = [a for a in (*self.to, *self.cc, *self.bcc) if not is_valid_email(a)]
        if invalid:
            raise ValueError(f"not valid e-mail addresses: {', '.join(invalid)}")

    @classmethod
    def from_lists(
        cls, to: str | None, cc: str | None = None, bcc: str | None = None
    ) -> Recipients:
        """Read the published e-mail lists, dropping invalid entries (named in ``ignored``).

        Raises ``ValueError`` when no valid To address remains.
        """
        lists = [split_email_list(text) for text in (to, cc, bcc)]
        valid = [tuple(a for a in entries if is_valid_email(a)) for entries in lists]
        ignored = tuple(a for entries in lists for a in entries if not is_valid_email(a))
        return cls(valid[0], valid[1], valid[2], ignored=ignored)


class JobOutcome(StrEnum):
    """How a job's run ended, as a Log's JobStatus says it."""

    COMPLETED = "Completed"
    FAILED = "Failed"
    MISSED = "Missed"

    @property
    def phrase(self) -> str:
        return {"Completed": "completed", "Failed": "failed", "Missed": "was missed"}[self.value]


@dataclass(frozen=True, kw_only=True)
class JobResult:
    """What a job-result mail reports, taken from one Log.

    Times may be aware (converted to ``time_zone``) or naive (already the device's local
    time, as a Log stores them). ``time_zone_label`` is how the device's zone is shown
    (its TimeZoneId); it defaults to the zone's IANA key. ``error_messages`` is the Log's
    text, one message a line.
    """

    company_name: str
    device_name: str
    job_name: str
    outcome: JobOutcome
    time_zone: tzinfo
    time_zone_label: str | None = None
    scheduled_on: datetime | None = None
    started_on: datetime | None = None
    completed_on: datetime | None = None
    error_messages: str = ""
    log_id: int | None = None


def job_result_message(
    result: JobResult, *, message_id: str, sender: str, recipients: Recipients, date: datetime
) -> EmailMessage:
    """Build the completed/failed/missed mail for one Log.

    Subject: ``[CleverFox Backup] Job 'Nightly' on PC-01 failed``. The plain-text body
    names company, device, job and status, the times in the device's local time, and the
    error messages. Raises ``ValueError`` for a malformed Message-ID, sender or naive date.
    """
    subject = f"Job '{_one_line(result.job_name)}' on {_one_line(result.device_name)} "
    subject += result.outcome.phrase
    body = [f"{subject}.", "", *_job_facts(result), *_job_errors(result), *_footer()]
    message = _headers(message_id=message_id, sender=sender, recipients=recipients, date=date)
    return _with_content(message, subject=subject, lines=body)


def _job_facts(result: JobResult) -> list[str]:
    facts = [
        ("Company", _one_line(result.company_name)),
        ("Device", _one_line(result.device_name)),
        ("Job", _one_line(result.job_name)),
        ("Status", result.outcome.value),
    ]
    zone_label = result.time_zone_label or getattr(result.time_zone, "key", None)
    times = ("Scheduled", result.scheduled_on), ("Started", result.started_on)
    for name, moment in (*times, ("Completed", result.completed_on)):
        if moment is not None:
            facts.append((name, _local_time(moment, result.time_zone, zone_label)))
    if result.log_id is not None:
        facts.append(("Log", str(result.log_id)))
    return [f"{name + ':':<{_LABEL_WIDTH}} {value}" for name, value in facts]


def _job_errors(result: JobResult) -> list[str]:
    messages = [_one_line(line) for line in result.error_messages.splitlines() if line.strip()]
    if not messages:
        return []
    return ["", "Errors:", *(f"  {message}" for message in messages)]


def _footer() -> list[str]:
    return [
        "",
        "-- ",
        f"{PRODUCT_NAME}: this address is in the device's notification settings.",
    ]


def _local_time(moment: datetime, zone: tzinfo, zone_label: str | None) -> str:
    local = moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)
    label = zone_label or local.tzname() or ""
    return f"{local:%Y-%m-%d %H:%M:%S} ({label})" if label else f"{local:%Y-%m-%d %H:%M:%S}"


class InviteeKind(Enum):
    """Whose user the invited person becomes."""

    PARTNER_USER = "partner"
    COMPANY_USER = "company"


def invitation_message(
    *,
    message_id: str,
    sender: str,
    date: datetime,
    email: str,
    first_name: str,
    organisation_name: str,
    kind: InviteeKind,
    sign_in_url: str | None = None,
) -> EmailMessage:
    """Build the mail that tells a new partner or company user about their account.

    Sent to ``email`` alone. ``organisation_name`` is the partner's or the company's name.
    Raises ``ValueError`` for an invalid address, Message-ID, sender or a naive date.
    """
    organisation = _one_line(organisation_name)
    subject = f"You have been added to {organisation}"
    role = "a partner user" if kind is InviteeKind.PARTNER_USER else "a user"
    if sign_in_url:
        how_to_sign_in = f"Sign in at {_one_line(sign_in_url)}"
    else:
        how_to_sign_in = "Your administrator will tell you how to sign in."
    body = [
        f"Hello {_one_line(first_name)},",
        "",
        f"you have been added as {role} of {organisation} on {PRODUCT_NAME}.",
        how_to_sign_in,
        "",
        "If you did not expect this mail, you can ignore it.",
    ]
    recipients = Recipients((email,))
    message = _headers(message_id=message_id, sender=sender, recipients=recipients, date=date)
    return _with_content(message, subject=subject, lines=body)


def _headers(
    *, message_id: str, sender: str, recipients: Recipients, date: datetime
) -> EmailMessage:
    """Return a message with the envelope-like headers set, after checking them."""
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"not a Message-ID: {message_id!r}")
    if not is_valid_email(parseaddr(sender)[1]):
        raise ValueError(f"not a sender address: {sender!r}")
    if date.tzinfo is None:
        raise ValueError("a mail's Date must carry a time zone")
    message = EmailMessage()
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(date)
    message["From"] = _one_line(sender)
    _set_recipients(message, recipients)
    # Ask auto-responders (RFC 3834; Exchange) not to answer a machine.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    return message


def _with_content(message: EmailMessage, *, subject: str, lines: list[str]) -> EmailMessage:
    message["Subject"] = f"[{PRODUCT_NAME}] {_one_line(subject)}"
    message.set_content("\n".join(lines) + "\n")
    return message


def _set_recipients(message: EmailMessage, recipients: Recipients) -> None:
    lists = {"To": recipients.to, "Cc": recipients.cc, "Bcc": recipients.bcc}
    for header, addresses in lists.items():
        if addresses:
            message[header] = ", ".join(addresses)


def _one_line(text: str) -> str:
    """Return ``text`` with control characters (line breaks included) as single spaces.

    Names come from API users; a line break would forge headers or body lines.
    """
    cleaned = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    return " ".join(cleaned.split())
