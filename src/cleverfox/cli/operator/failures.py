"""The one line ``cleverfox`` prints for a typed error of the server's code."""

from __future__ import annotations

from cleverfox.server.kit.errors import AppError
from cleverfox.server.kit.tls import TlsConfigurationError


def describe(error: Exception) -> str | None:
    """What failed, for a person; None when ``error`` is not one the server raises on purpose
    (a bug: it is left to propagate with its traceback)."""
    if isinstance(error, TlsConfigurationError):
        return str(error)
    if isinstance(error, AppError):
        detail = " ".join(e.message for e in error.errors)
        return detail or error.message
    return None
