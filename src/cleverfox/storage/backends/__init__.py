"""Backends: dumb storage of named, write-once objects (``Backend`` in ``base``).

``local`` keeps them in a directory (the embedded default), ``s3`` in a bucket of any
S3-compatible service (imported only when used: botocore is heavy); ``RetryingBackend``
wraps either with backoff. ``open_backend(settings)`` builds the one the settings name.
Errors: ``backends.errors``. Names: ``backends.names``.
"""

from cleverfox.storage.backends.base import Backend, ObjectInfo, Payload
from cleverfox.storage.backends.errors import (
    BackendError,
    BackendUnavailable,
    InvalidName,
    InvalidRange,
    ObjectExists,
    ObjectNotFound,
    TransientBackendError,
)
from cleverfox.storage.backends.local import LocalBackend
from cleverfox.storage.backends.opening import open_backend, open_unretried
from cleverfox.storage.backends.retrying import RetryingBackend

__all__ = [
    "Backend",
    "BackendError",
    "BackendUnavailable",
    "InvalidName",
    "InvalidRange",
    "LocalBackend",
    "ObjectExists",
    "ObjectInfo",
    "ObjectNotFound",
    "Payload",
    "RetryingBackend",
    "TransientBackendError",
    "open_backend",
    "open_unretried",
]
