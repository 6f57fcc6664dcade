"""What a finished message says about its own delivery: id, sender, recipients.

The transports read the SMTP envelope from the headers, so a message is complete by itself:
Bcc addresses are in a ``Bcc`` header, which ``without_bcc`` removes from what goes on the
wire.
"""

from __future__ import annotations

import copy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

__all__ = ["envelope_recipients", "envelope_sender", "message_id_of", "without_bcc"]

_RECIPIENT_HEADERS = ("To", "Cc", "Bcc")


def message_id_of(message: EmailMessage) -> str:
    """Return the message's Message-ID; ``ValueError`` when it has none."""
    message_id = str(message.get("Message-ID", "")).strip()
    if not message_id:
        raise ValueError("a mail must carry a Message-ID")
    return message_id


def envelope_sender(message: EmailMessage) -> str:
    """Return the bare address of the message's From header; ``ValueError`` when missing."""
    sender = parseaddr(str(message.get("From", "")))[1]
    if not sender:
        raise ValueError("a mail must carry a From address")
    return sender


def envelope_recipients(message: EmailMessage) -> list[str]:
    """Return the bare addresses of To, Cc and Bcc, in that order, each once (case-folded).

    Raises ``ValueError`` when there is none.
    """
    values = [str(value) for name in _RECIPIENT_HEADERS for value in message.get_all(name, [])]
    seen: set[str] = set()
    recipients: list[str] = []
    for _, address in getaddresses(values):
        if address and address.casefold() not in seen:
            seen.add(address.casefold())
            recipients.append(address)
    if not recipients:
        raise ValueError("a mail must have at least one recipient")
    return recipients


def without_bcc(message: EmailMessage) -> EmailMessage:
    """Return a copy of ``message`` without Bcc headers, as it may go on the wire."""
    wire = copy.deepcopy(message)
    del wire["Bcc"]
    return wire
