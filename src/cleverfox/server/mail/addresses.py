"""E-mail addresses and the published e-mail list format.

An e-mail list (a device's SendNotificationTo/Cc/Bcc, a company's notification lists) is one
string whose entries are separated by ``,`` ``;`` ``:`` or a line break (``\\r\\n``, and a lone
``\\n`` or ``\\r`` as well, since clients differ). An entry is a bare address: no display
name, no angle brackets, no quoted local part, no bracketed IP literal.

"Valid" means syntactically valid and addressable on the public internet: the domain has a
dot, its last label ends in a letter, and it is not a special-use name (``.invalid``,
``.local``, ``.localhost``, ``.test``, ``.onion``, ``.arpa``). Internationalised addresses
are accepted. Nothing is looked up in DNS. The ``email-validator`` package decides when it
is installed; otherwise a stricter-than-needed check of our own, with the same rules for the
common cases, stands in for it.
"""

from __future__ import annotations

import re
import unicodedata
from email.utils import parseaddr

__all__ = ["invalid_addresses", "is_valid_email", "split_email_list"]

try:
    # Not every installation has it; the ignore keeps mypy quiet on those that do not.
    from email_validator import (  # type: ignore[import-not-found, unused-ignore]
        EmailNotValidError,
        validate_email,
    )
except ImportError:  # pragma: no cover - depends on the environment
    _HAS_EMAIL_VALIDATOR = False
else:
    _HAS_EMAIL_VALIDATOR = True

_SEPARATORS = re.compile(r"[,;:\r\n]")
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
# RFC 5322 dot-atom; non-ASCII characters are allowed as RFC 6531 (SMTPUTF8) does.
_LOCAL_PART = re.compile(rf"[{_ATEXT}\u0080-\U0010ffff]+(?:\.[{_ATEXT}\u0080-\U0010ffff]+)*")
_HOSTNAME_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")
_MAX_ADDRESS_LENGTH = 254
_MAX_LOCAL_PART_LENGTH = 64
_MAX_DOMAIN_LENGTH = 253


def split_email_list(text: str | None) -> list[str]:
    """Return the entries of an e-mail list in their order, each trimmed, empties dropped.

    ``None`` and a blank string are the empty list. Entries are not validated or
    de-duplicated here; see ``invalid_addresses``.
    """
    if not text:
        return []
    entries = (entry.strip() for entry in _SEPARATORS.split(text))
    return [entry for entry in entries if entry]


def invalid_addresses(text: str | None) -> list[str]:
    """Return the entries of an e-mail list that are not valid addresses, in their order.

    An empty result means every entry is valid (an empty list is valid too; whether a list
    is required is the caller's rule).
    """
    return [entry for entry in split_email_list(text) if not is_valid_email(entry)]


def is_valid_email(text: str) -> bool:
    """Tell whether ``text`` is exactly one valid bare address (see the module docstring).

    Surrounding whitespace makes it invalid: callers trim before asking.
    """
    if not text or text != text.strip() or len(text) > _MAX_ADDRESS_LENGTH:
        return False
    if not _HAS_EMAIL_VALIDATOR:  # pragma: no cover - depends on the environment
        return _is_valid_without_library(text)
    try:
        validate_email(text, check_deliverability=False, strict=True)
    except EmailNotValidError:
        return False
    return True


def _is_valid_without_library(text: str) -> bool:
    """Our own check, used when ``email-validator`` is not installed."""
    if parseaddr(text) != ("", text):
        return False
    local_part, _, domain = text.rpartition("@")
    return _is_valid_local_part(local_part) and _is_valid_domain(domain)


def _is_valid_local_part(local_part: str) -> bool:
    if len(local_part) > _MAX_LOCAL_PART_LENGTH or not _LOCAL_PART.fullmatch(local_part):
        return False
    # Beyond ASCII, no control, format or space characters (invisible, or breaking lines).
    return all(c.isascii() or unicodedata.category(c)[0] not in "CZ" for c in local_part)


def _is_valid_domain(domain: str) -> bool:
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    labels = ascii_domain.split(".")
    if len(ascii_domain) > _MAX_DOMAIN_LENGTH or len(labels) < 2:
        return False
    if not all(_HOSTNAME_LABEL.fullmatch(label) for label in labels):
        return False
    if not labels[-1][-1].isalpha():
        return False
    return labels[-1] not in _SPECIAL_USE_DOMAINS
