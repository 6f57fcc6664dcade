"""What a backend raises. Every failure of a backend operation is a ``BackendError``::

    BackendError                 the operation failed (a bug, damage, or the unexpected)
    ├── ObjectNotFound           no object of that name (get, size)
    ├── ObjectExists             put of a name that already holds an object (write once)
    ├── InvalidName              the name or prefix breaks the naming rules (also a ValueError)
    ├── InvalidRange             a range that is not inside the object (also a ValueError)
    ├── TransientBackendError    retrying may help: a lost connection, a timeout, 5xx, throttling
    └── BackendUnavailable       retrying soon will not help; an operator must act: refused
                                 credentials, a missing bucket or directory, no permission, a
                                 full disk, or transient failures that outlasted every retry

Messages name the operation and the object, never a credential.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BackendUnavailable",
    "InvalidName",
    "InvalidRange",
    "ObjectExists",
    "ObjectNotFound",
    "TransientBackendError",
]


class BackendError(Exception):
    """A backend operation failed; the message says which, on what, and why."""


class ObjectNotFound(BackendError):
    """No object has this name."""


class ObjectExists(BackendError):
    """An object of this name exists already; objects are written once and never replaced."""


class InvalidName(BackendError, ValueError):
    """A name or prefix that breaks the naming rules (``backends.names``)."""


class InvalidRange(BackendError, ValueError):
    """A byte range that does not lie inside the object."""


class TransientBackendError(BackendError):
    """A failure that retrying may cure (``backends.retrying`` retries exactly these)."""


class BackendUnavailable(BackendError):
    """The backend cannot serve until an operator acts, or it failed for longer than retries."""
