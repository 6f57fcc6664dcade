"""What partner users and company users share: their attributes and the account-owner rules.

Both kinds of user belong to an *account* (the partner, or one company). Within it:

- Email is a valid address, unique compared case-folded (``email_folded``, folded in Python
  so both engines agree), else 409 ``email_taken``.
- Exactly one user is the account owner: the first one created, unless the operator made one
  already. Deciding it is check-then-act, so the caller locks the account row first
  (``FOR NO KEY UPDATE`` on PostgreSQL; SQLite writers are serialised by ``BEGIN
  IMMEDIATE``); the partial unique index on the owner flag is the last line of defence.
- The owner cannot be deleted or deactivated (409 ``account_owner``), and therefore cannot
  be created inactive either.
"""

from __future__ import annotations

from typing import Any, Protocol

from cleverfox.server.kit.errors import Conflict, FieldError
from cleverfox.server.kit.references import folded
from cleverfox.server.kit.wire import Attr, Kind, Rule
from cleverfox.server.mail.addresses import is_valid_email


def _check_email(value: Any) -> FieldError | None:
    if is_valid_email(str(value)):
        return None
    return FieldError("Email", "invalid_email", "Email must be a valid e-mail address.")


PERSON_ATTRS = (
    Attr("FirstName", rule=Rule.REQUIRED, max_length=25),
    Attr("LastName", rule=Rule.REQUIRED, max_length=25),
    Attr(
        "Email",
        rule=Rule.REQUIRED,
        max_length=256,
        check=_check_email,
        doc="A bare address with no surrounding spaces; unique case-insensitively.",
    ),
    Attr("HomePhone", max_length=20),
    Attr("MobilePhone", max_length=20),
    Attr("WorkPhone", max_length=20),
    Attr("IsAccountOwner", Kind.BOOLEAN, Rule.READ_ONLY),
    Attr("IsInactive", Kind.BOOLEAN),
    Attr("AddedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
    Attr("UpdatedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
)


class Person(Protocol):
    first_name: str
    last_name: str
    email: str
    email_folded: str
    home_phone: str | None
    mobile_phone: str | None
    work_phone: str | None
    is_account_owner: bool
    is_inactive: bool


def fold_email(email: str) -> str:
    """The stored, compared form of an Email."""
    return folded(email) or ""


def email_taken(where: str) -> Conflict:
    return Conflict(f"Email is already used by another user {where}.", code="email_taken")


def check_new_owner_active(is_owner: bool, is_inactive: bool) -> None:
    """The first user becomes the owner, and the owner cannot be inactive."""
    if is_owner and is_inactive:
        raise Conflict(
            "The first user becomes the account owner, who cannot be inactive.",
            code="account_owner",
        )


def check_deactivation(person: Person, values: dict[str, Any]) -> None:
    """409 ``account_owner`` when a PUT would make the account owner inactive."""
    if person.is_account_owner and values.get("is_inactive") is True:
        raise Conflict("The account owner cannot be deactivated.", code="account_owner")


def check_deletion(person: Person) -> None:
    """409 ``account_owner`` when deleting the account owner."""
    if person.is_account_owner:
        raise Conflict("The account owner cannot be deleted.", code="account_owner")
