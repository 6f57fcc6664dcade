"""Enumerated values of the wire, open to values this SDK does not know yet.

Each enum is a ``str``: it compares equal to its wire spelling, and ``Frequency("daily")``
finds ``Frequency.DAILY`` (the server matches case-insensitively too). A value the SDK has
never heard of does not fail: it becomes a member-like instance of the enum holding the raw
string, with ``known`` False, so a newer server cannot break an older client.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Actor",
    "AuthenticationMode",
    "ConnectionStatus",
    "Frequency",
    "JobStatus",
    "OpenEnum",
    "SubscriptionStatus",
    "Trigger",
]


class OpenEnum(StrEnum):
    """A ``StrEnum`` that keeps unknown values instead of raising ValueError."""

    @classmethod
    def _missing_(cls, value: object) -> OpenEnum | None:
        if not isinstance(value, str):
            return None
        folded = value.casefold()
        for member in cls:
            if member.value.casefold() == folded:
                return member
        alias = cls._aliases().get(folded)
        if alias is not None:
            return cls(alias)
        unknown = str.__new__(cls, value)
        unknown._name_ = value
        unknown._value_ = value
        return unknown

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        """Other spellings the server accepts for a member (case-folded → wire value)."""
        return {}

    @property
    def known(self) -> bool:
        """True for a value this SDK defines, False for one kept from a newer server."""
        return type(self)._value2member_map_.get(self.value) is self


class Frequency(OpenEnum):
    """How often a Job runs. The wire keeps the published misspelling ``Monthy``."""

    HOURLY = "Hourly"
    DAILY = "Daily"
    WEEKLY = "Weekly"
    MONTHLY = "Monthy"
    ONE_TIME = "One Time"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"monthly": "Monthy", "onetime": "One Time"}


class JobStatus(OpenEnum):
    """Outcome of a Log; ``RUNNING`` only while the agent reports the run."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    MISSED = "Missed"


class ConnectionStatus(OpenEnum):
    """Whether a Device's agent checked in lately."""

    ONLINE = "Online"
    OFFLINE = "Offline"
    NEVER_CONNECTED = "Never Connected"


class Trigger(OpenEnum):
    """What started a run."""

    SCHEDULE = "Schedule"
    RUN_NOW = "RunNow"


class Actor(OpenEnum):
    """Who made the change an Event records."""

    API = "Api"
    AGENT = "Agent"
    SERVER = "Server"
    OPERATOR = "Operator"


class AuthenticationMode(OpenEnum):
    """How a database Job Item logs in: ``W`` the OS account, ``S`` user and password."""

    WINDOWS = "W"
    SQL = "S"


class SubscriptionStatus(OpenEnum):
    """A Subscription's state as set by the operator."""

    ACTIVE = "Active"
    INACTIVE = "Inactive"
